// A static file server for the built page (dist/), on loopback only, for the browser tests.
// Usage: node serve-dist.mjs PORT [DIST_DIR] [BASE_PATH]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";

const port = Number(process.argv[2] ?? 4173);
const root = resolve(process.argv[3] ?? new URL("../../dist", import.meta.url).pathname);
const base = process.argv[4] ?? "/";
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
};

createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
  if (!path.startsWith(base)) {
    res.writeHead(404).end("not found");
    return;
  }
  let rel = normalize(path.slice(base.length)).replace(/^(\.\.[/\\])+/, "");
  if (rel === "" || rel.endsWith("/") || rel === ".") rel = join(rel, "index.html");
  try {
    const body = await readFile(join(root, rel));
    res.writeHead(200, { "content-type": types[extname(rel)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
}).listen(port, "127.0.0.1", () => console.log(`serving ${root} at http://127.0.0.1:${port}${base}`));
