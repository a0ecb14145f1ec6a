// Browser tests of the playground: Debian's Chromium (CHROME_PATH, set by scripts/test), the
// release build in dist/ served on loopback. No browser is downloaded.
import { defineConfig } from "@playwright/test";

// E2E_DIST and E2E_PORT serve another build on other ports (e.g. next to a build in progress
// in dist/); scripts/test uses the defaults.
const PORT = Number(process.env.E2E_PORT || 4173);
const DIST = process.env.E2E_DIST || "../../dist";

export default defineConfig({
  testDir: ".",
  timeout: 30_000,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  // `benches/page.sh` runs the page's measurements (`*.measure.mjs`) instead of the tests, one
  // at a time and with more time (after the defaults above, so it overrides them).
  ...(process.env.MEASURE ? { testMatch: "**/*.measure.mjs", workers: 1, timeout: 300_000 } : {}),
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    launchOptions: {
      executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // V8 flags for a measurement, e.g. JS_FLAGS=--no-liftoff (BENCHMARKS.md, session 14).
        ...(process.env.JS_FLAGS ? [`--js-flags=${process.env.JS_FLAGS}`] : []),
      ],
    },
  },
  webServer: [
    {
      command: `node serve-dist.mjs ${PORT} ${DIST}`,
      url: `http://127.0.0.1:${PORT}/`,
      reuseExistingServer: false,
      timeout: 20_000,
    },
    {
      // The same build under a sub-path, as a docs site would host it.
      command: `node serve-dist.mjs ${PORT + 1} ${DIST} /docs/ambient-netpol/`,
      url: `http://127.0.0.1:${PORT + 1}/docs/ambient-netpol/`,
      reuseExistingServer: false,
      timeout: 20_000,
    },
  ],
});
