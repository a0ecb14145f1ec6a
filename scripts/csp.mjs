// Trunk post-build hook: adds a Content-Security-Policy to dist/index.html that allows only the
// page's own files, Trunk's inline loader (by its hash), wasm compilation and the page's own
// worker, and no connection anywhere but the page's origin.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("csp.mjs runs as a Trunk post_build hook (TRUNK_STAGING_DIR is not set)");
  process.exit(1);
}
const file = join(dir, "index.html");
const html = await readFile(file, "utf8");
const hashes = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map(
  (m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`,
);
if (hashes.length === 0) {
  console.error("csp.mjs: no inline loader script found in index.html");
  process.exit(1);
}
const policy = [
  "default-src 'none'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(" ")}`,
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}">`;
await writeFile(file, html.replace(/<head>/, `<head>\n    ${meta}`));
console.log(`csp.mjs: Content-Security-Policy with ${hashes.length} script hash(es)`);
