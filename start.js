// Runs before the page's wasm: a browser that cannot compile the module, or a module that fails
// to download or start, gets a message saying so instead of a blank page. Plain JavaScript, no
// dependencies (the wasm is what failed).
(() => {
  const say = (text) => {
    const show = () => {
      if (document.querySelector(".banner.start")) return;
      const banner = document.createElement("div");
      banner.className = "banner start";
      banner.setAttribute("role", "alert");
      banner.textContent = text;
      document.body.prepend(banner);
    };
    if (document.body) show();
    else addEventListener("DOMContentLoaded", show);
  };
  const cli = "The command-line tool (ambient-netpol check) makes the same checks.";
  // The smallest module with a SIMD instruction (i8x16.popcnt of a splat): the page's module is
  // built with WebAssembly SIMD (.cargo/config.toml).
  const simd = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253,
    15, 253, 98, 11,
  ]);
  if (typeof WebAssembly !== "object" || !WebAssembly.validate(simd)) {
    say(
      "This browser cannot run the playground: it needs WebAssembly with SIMD " +
        "(Chrome or Edge 91, Firefox 89, Safari 16.4, or newer). " + cli,
    );
    return;
  }
  // Trunk's loader awaits the module's download and start in a module script: a failure there
  // is an error (or a rejection) nobody handles. Once the page has started, its own handlers
  // take over.
  const failed = (event) =>
    say(
      `The page could not start (${event.reason ?? event.error ?? event.message}). Reload it ` +
        `to try again; if that fails, the page's files may be incomplete on this server. ${cli}`,
    );
  addEventListener("error", failed);
  addEventListener("unhandledrejection", failed);
  addEventListener("TrunkApplicationStarted", () => {
    removeEventListener("error", failed);
    removeEventListener("unhandledrejection", failed);
  });
})();
