// The worker's path (request in, `protocol::run`, serde-wasm-bindgen out) of one or more page
// builds in node's V8, without a browser, interleaved so that a noisy machine treats each build
// alike. Each build's module is instantiated as the analysis worker instantiates it; its `main`
// sees no window and serves analyses, here to a stand-in `postMessage`.
// Usage: node benches/worker-node.mjs CLUSTER.yaml RUNS DIST...
// With NATIVE=path/to/ambient-netpol, each round also runs that CLI's `check` (the work of the
// findings) and `check --diff` (the work of the complete analysis) on the same file, interleaved
// with the builds, and prints each build's medians over them: issue 15's ratios, measured alike.
// With MAX_RATIO=N too, it exits 1 when a build's ratio is above N (scripts/test's guard).
// Prints per build the minimum and median of: the first answer (the findings, on a large text),
// the last analysis (the complete analysis, the checked fix: the work of the CLI's `check`; the
// diff too before session 12), when the diff was posted, and the whole call including
// serialisation, and that call's CPU time (`process.cpuUsage`, user and system: on a shared
// machine it moves less than the wall time, which counts the time other processes hold the
// cores). For a CPU profile: node --cpu-prof (a build whose wasm keeps its names:
// wasm-opt -Oz -g on target/wasm-bindgen/release/playground_bg.wasm).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";

const [file, runsArg, ...dirs] = process.argv.slice(2);
if (!file || !dirs.length) {
  console.error("usage: node benches/worker-node.mjs CLUSTER.yaml RUNS DIST...");
  process.exit(2);
}
const runs = Number(runsArg);
let answers = [];
let posted = [];
globalThis.postMessage = (m) => {
  answers.push(m);
  posted.push(performance.now());
};
const workers = [];
for (const dir of dirs.map((d) => resolve(d))) {
  const glue = readdirSync(dir).find((f) => /^playground-[0-9a-f]+\.js$/.test(f));
  const wasm = readdirSync(dir).find((f) => /^playground-[0-9a-f]+_bg\.wasm$/.test(f));
  const bindings = await import(`${dir}/${glue}?${dir}`);
  await bindings.default({ module_or_path: readFileSync(`${dir}/${wasm}`) });
  workers.push(globalThis.onmessage);
}
const text = readFileSync(file, "utf8");
const results = dirs.map(() => ({ first: [], last: [], diff: [], call: [], cpu: [] }));
const native = { check: [], diff: [] };
// The CLI's wall time, start to exit (it exits 1: the cluster has errors).
const cli = (...args) => {
  const start = performance.now();
  try {
    execFileSync(process.env.NATIVE, ["check", ...args, file], { stdio: "ignore" });
  } catch (e) {
    if (e.status !== 1) throw e;
  }
  return performance.now() - start;
};
for (let i = 0; i < runs; i++) {
  if (process.env.NATIVE) {
    native.check.push(cli());
    native.diff.push(cli("--diff"));
  }
  workers.forEach((onmessage, d) => {
    answers = [];
    posted = [];
    const start = performance.now();
    const cpu = process.cpuUsage();
    // The request as an array (`Request::to_js`); before, an object.
    onmessage({ data: [i + 1, text, "", null] });
    if (!answers.length) onmessage({ data: { id: i + 1, text, settings: "" } });
    results[d].call.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    results[d].cpu.push((used.user + used.system) / 1000);
    // Each answer is a `protocol::Answer` as JSON text, its time in microseconds (before, the
    // analysis itself as an object); since session 12 a large text's diff comes last, alone, as
    // text ("diff ID\n..."), after the checked fix.
    const millis = (m) => (typeof m === "string" ? JSON.parse(m).analysis.millis / 1000 : (m.analysis ?? m).millis);
    const json = answers.filter((m) => typeof m !== "string" || m.startsWith("{"));
    results[d].first.push(millis(json[0]));
    results[d].last.push(millis(json[json.length - 1]));
    // When the diff was posted (with or after the checked fix), from the request.
    results[d].diff.push(posted[posted.length - 1] - start);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figures = (xs) => ({ min: Math.round(Math.min(...xs)), median: Math.round(median(xs)) });
const ratio = (xs, ys) => Math.round((median(xs) / median(ys)) * 100) / 100;
if (process.env.NATIVE) {
  console.log(JSON.stringify({ native: process.env.NATIVE, check_ms: figures(native.check), check_diff_ms: figures(native.diff) }));
}
dirs.forEach((dir, d) => {
  const r = results[d];
  const over = process.env.NATIVE && { findings_over_check: ratio(r.first, native.check), complete_over_check_diff: ratio(r.last, native.diff) };
  console.log(JSON.stringify({ build: dir, findings_ms: figures(r.first), complete_ms: figures(r.last), diff_posted_ms: figures(r.diff), call_ms: figures(r.call), call_cpu_ms: figures(r.cpu), ...over }));
  const limit = Number(process.env.MAX_RATIO);
  if (over && limit && Math.max(...Object.values(over)) > limit) {
    console.error(`FAIL: the worker of ${dir} is more than ${limit}x slower than the native CLI`);
    process.exitCode = 1;
  }
});
