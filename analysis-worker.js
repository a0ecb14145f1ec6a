// The analysis worker: the page's own wasm module, run in a worker, where its `main` serves
// analyses instead of mounting the page (src/main.rs). The page posts the module it compiled,
// so the wasm is downloaded and compiled once. scripts/post-build.mjs writes the build's hashed
// name of the JS glue here.
import init from "./playground.js";

self.onmessage = (event) => {
  self.onmessage = null;
  // main() sets the handler for the analysis requests and posts "ready".
  init({ module_or_path: event.data });
};
