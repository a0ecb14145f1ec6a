// Where the page's main thread spends a paste of a large cluster between the worker's first
// answer and the findings painted: a Chromium performance trace (the DevTools timeline and the
// V8 sampling profiler) of PASTES pastes, summarised per paste from the page's own marks
// (`ambient-netpol:decoded`, the first answer decoded; `ambient-netpol:edit-to-findings`, the
// findings painted). Prints, per paste, the window's main-thread time by trace event (JS,
// style, layout, paint, GC) and the functions with the most self time in it (named when the
// wasm keeps its names: `wasm-opt -Oz -g` on target/wasm-bindgen/release/playground_bg.wasm,
// the dist's wasm replaced by it and its `integrity` in index.html updated).
// Usage: node benches/page-trace.mjs URL CLUSTER.yaml [PASTES] [TRACE_OUT.json]
// (URL serves a build, e.g. `node tests/e2e/serve-dist.mjs 8190 DIST`; CHROME_PATH as for the
// browser tests.)
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "@playwright/test";

const [url, file, pastesArg, out] = process.argv.slice(2);
if (!url || !file) {
  console.error("usage: node benches/page-trace.mjs URL CLUSTER.yaml [PASTES] [TRACE_OUT.json]");
  process.exit(2);
}
const text = readFileSync(file, "utf8");
const pastes = Number(pastesArg || 3);
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

const TOP = new Set(["RunTask", "ThreadControllerImpl::RunTask"]);
const KINDS = [
  "FunctionCall", "v8.callFunction", "EvaluateScript", "RunMicrotasks", "TimerFire", "FireAnimationFrame",
  "EventDispatch", "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit",
  "MinorGC", "MajorGC", "V8.GC_SCAVENGER", "BlinkGC.AtomicPhase", "ParseHTML", "HitTest",
];

for (let p = 0; p < pastes; p++) {
  await page.goto(url);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator(".status", { hasText: "Analysed" }).waitFor();
  await page.waitForTimeout(500);
  await page.evaluate(() => performance.clearMeasures());
  await browser.startTracing(page, {
    categories: [
      "devtools.timeline",
      "disabled-by-default-devtools.timeline",
      "blink.user_timing",
      "v8.execute",
      "disabled-by-default-v8.cpu_profiler",
      "v8",
    ],
  });
  await page.getByLabel("Manifests (YAML or JSON)").evaluate((el, value) => {
    el.focus({ preventScroll: true });
    el.select();
    const data = new DataTransfer();
    data.setData("text/plain", value);
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
  await page.waitForFunction(
    () => performance.getEntriesByName("ambient-netpol:edit-to-findings").length > 0,
    null,
    { timeout: 120_000, polling: 20 },
  );
  await page.waitForTimeout(200);
  const shown = await page.evaluate(() => {
    const m = performance.getEntriesByName("ambient-netpol:edit-to-findings")[0];
    return { start: m.startTime, duration: m.duration };
  });
  const trace = JSON.parse((await browser.stopTracing()).toString());
  if (out) writeFileSync(out.replace(".json", `-${p}.json`), JSON.stringify(trace));
  const events = trace.traceEvents ?? trace;
  // The renderer's main thread: where the page's marks are.
  const marks = events.filter((e) => e.cat?.includes("blink.user_timing") && e.name?.startsWith("ambient-netpol:"));
  const mainTid = marks[0]?.tid;
  const pid = marks[0]?.pid;
  const markTs = (name) => marks.filter((e) => e.name === name).map((e) => e.ts).sort((a, b) => a - b);
  const edit = markTs("ambient-netpol:edit")[0];
  const decoded = markTs("ambient-netpol:decoded")[0];
  const received = markTs("ambient-netpol:received")[0];
  // The measure's end: the edit's mark plus its duration.
  const end = edit + shown.duration * 1000;
  const onMain = events.filter((e) => e.pid === pid && e.tid === mainTid && e.ph === "X" && e.ts + (e.dur ?? 0) > received && e.ts < end);
  const clip = (e) => (Math.min(e.ts + e.dur, end) - Math.max(e.ts, received)) / 1000;
  const byKind = {};
  for (const e of onMain) {
    if (KINDS.includes(e.name)) byKind[e.name] = (byKind[e.name] ?? 0) + clip(e);
  }
  const busy = onMain.filter((e) => TOP.has(e.name)).reduce((s, e) => s + clip(e), 0);
  // The sampling profiler's chunks (the main thread's), self time per function in the window.
  const nodes = new Map();
  const self = new Map();
  // The main thread's profile (the worker has its own, of the same process).
  const profile = events.find((e) => e.pid === pid && e.tid === mainTid && e.name === "Profile");
  let t = profile?.args?.data?.startTime ?? null;
  for (const e of events.filter((e) => e.pid === pid && e.name === "ProfileChunk" && e.id === profile?.id)) {
    const data = e.args?.data ?? {};
    for (const n of data.cpuProfile?.nodes ?? []) nodes.set(`${e.id}:${n.id}`, n);
    const samples = data.cpuProfile?.samples ?? [];
    const deltas = data.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      if (t < received || t > end) continue;
      const n = nodes.get(`${e.id}:${samples[i]}`);
      const name = n ? `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url?.split("/").pop() ?? ""}` : "?";
      self.set(name, (self.get(name) ?? 0) + 1);
    }
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([n, c]) => `${((c / total) * 100).toFixed(1)}% ${n}`);
  console.log(
    JSON.stringify(
      {
        paste: p + 1,
        shown_ms: Math.round(shown.duration),
        received_ms: Math.round((received - edit) / 1000),
        decoded_ms: Math.round((decoded - edit) / 1000),
        window_ms: Math.round((end - received) / 1000),
        main_thread_busy_ms: Math.round(busy),
        by_event_ms: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Math.round(v)])),
        samples: total,
        top_self: top,
      },
      null,
      1,
    ),
  );
}
await browser.close();
