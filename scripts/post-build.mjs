// Trunk post-build hook, on the staged dist/:
// 1. adds a Content-Security-Policy to index.html that allows only the page's own files, Trunk's
//    inline loader (by its hash), wasm compilation and the page's own worker, and no connection
//    anywhere but the page's origin;
// 2. writes the build's file names (hashed for caching, but the rule documents) into the service
//    worker's cache list;
// 3. writes the hashed name of the page's JS glue into the analysis worker's script, which runs
//    the page's own wasm module.
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("post-build.mjs runs as a Trunk post_build hook (TRUNK_STAGING_DIR is not set)");
  process.exit(1);
}
const file = join(dir, "index.html");
const html = await readFile(file, "utf8");
const hashes = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map(
  (m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`,
);
if (hashes.length === 0) {
  console.error("post-build.mjs: no inline loader script found in index.html");
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
console.log(`post-build.mjs: Content-Security-Policy with ${hashes.length} script hash(es)`);

// Files in folders too (the rule documents, rules/<CODE>.md, which the page fetches when one is
// opened), as URL paths.
const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join("/"))
  .filter((f) => f !== "sw.js")
  .sort();
const sw = join(dir, "sw.js");
const list = JSON.stringify(["./", ...files.map((f) => `./${f}`)]);
const script = await readFile(sw, "utf8");
const replaced = script.replace(/const FILES = \[[\s\S]*?\];/, `const FILES = ${list};`);
if (replaced === script) {
  console.error("post-build.mjs: no FILES list found in sw.js");
  process.exit(1);
}
// A new cache name per build, so an old build's files are dropped when the new one activates.
const version = createHash("sha256").update(list).digest("hex").slice(0, 12);
await writeFile(sw, replaced.replace(/const CACHE = "[^"]*";/, `const CACHE = "ambient-netpol-${version}";`));
console.log(`post-build.mjs: service worker caches ${files.length + 1} entries`);

const glue = (await readdir(dir)).find((f) => /^playground-[0-9a-f]+\.js$/.test(f));
const workerFile = join(dir, "analysis-worker.js");
const workerScript = await readFile(workerFile, "utf8");
const pointed = workerScript.replace(/from "\.\/playground\.js";/, `from "./${glue}";`);
if (!glue || pointed === workerScript) {
  console.error("post-build.mjs: no playground-<hash>.js, or no glue import in analysis-worker.js");
  process.exit(1);
}
await writeFile(workerFile, pointed);
console.log(`post-build.mjs: analysis-worker.js imports ./${glue}`);
