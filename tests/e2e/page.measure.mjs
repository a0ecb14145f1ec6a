// The page's speed on a large input, measured in Chromium with the page's own performance marks
// (`ambient-netpol:edit` at each input event, `ambient-netpol:edit-to-findings` once the newest
// findings are painted). Not a test: `benches/page.sh` runs it and BENCHMARKS.md records the
// figures. CLUSTER and CLUSTER_XL name the generator's L and XL clusters; NATIVE_CHECK_MS and
// NATIVE_DIFF_MS are the release CLI's `check` and `check --diff` of CLUSTER, measured by
// benches/page.sh in the same run.
import { readFileSync, writeFileSync } from "node:fs";
import { test, expect } from "@playwright/test";

const cluster = readFileSync(process.env.CLUSTER, "utf8");
import { editor, pasteAll } from "./editor.mjs";
import { bigCluster } from "./clusters.mjs";
const TYPED = 9;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const analysed = (page) =>
  page.waitForFunction(
    () =>
      performance.getEntriesByName("ambient-netpol:edit-to-findings").length > 0 &&
      /Analysed [0-9]{4,} objects/.test(document.querySelector(".status")?.textContent ?? ""),
    null,
    { timeout: 120_000, polling: 10 },
  );
const measured = (page) =>
  page.evaluate(() => performance.getEntriesByName("ambient-netpol:edit-to-findings")[0].duration);

/** Event Timing entries (input events slower than 16 ms, from the event to the next paint). */
async function observeEvents(page) {
  await page.evaluate(() => {
    window.__events = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__events.push({ name: e.name, duration: e.duration });
    }).observe({ type: "event", durationThreshold: 16 });
  });
}
/** Latency of each of `typed` keystrokes: those Event Timing did not report took under 16 ms
 * (counted as 16, an upper bound). */
const keyLatencies = async (page, typed) => {
  const slow = (await page.evaluate(() => window.__events))
    .filter((e) => e.name === "keydown")
    .map((e) => e.duration);
  return [...slow, ...Array(Math.max(0, typed - slow.length)).fill(16)];
};
const BURST = "abcdefghijkl";

/** Types one character at a time, waiting for each edit's findings. */
async function typeAndMeasure(page) {
  const times = [];
  for (let i = 0; i < TYPED; i++) {
    await page.evaluate(() => performance.clearMeasures());
    await page.keyboard.type("x");
    await analysed(page);
    times.push(await measured(page));
  }
  return times;
}

/** The status line's "in X ms" (`Analysis::millis`). */
const statusMillis = (status) => Number(/in ([0-9.]+) ms/.exec(status)[1]);
const PASTES = Number(process.env.PASTES || 5);

// Paste of the whole cluster, PASTES times on a fresh page (with a timeline of the page's marks:
// request posted, each answer received and decoded, findings shown): the findings shown (the page's measure
// and the status line then: the worker's time to the findings), then the complete analysis (the
// worker's last answer, with the checked fix and the diff: the same work as the CLI's `check`).
test("L cluster pasted, repeated", async ({ page }) => {
  const runs = [];
  for (let i = 0; i < PASTES; i++) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto("./");
    // Start from the example, not from the text the last paste left saved.
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await expect(page.locator(".status")).toContainText("Analysed");
    await page.waitForTimeout(300);
    await page.evaluate(() => {
      performance.clearMeasures();
      performance.clearMarks("ambient-netpol:answer");
      // Every mark from the paste on (the page keeps only the newest of a name).
      window.__marks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__marks.push([e.name.replace("ambient-netpol:", ""), e.startTime]);
      }).observe({ type: "mark" });
    });
    await pasteAll(page, cluster);
    const shown = await page.waitForFunction(
      () =>
        performance.getEntriesByName("ambient-netpol:edit-to-findings").length > 0 &&
        /Analysed [0-9]{4,} objects/.test(document.querySelector(".status")?.textContent ?? "") &&
        document.querySelector(".status").textContent,
      null,
      { timeout: 120_000, polling: 10 },
    );
    const findingsStatus = await shown.jsonValue();
    const paste = await measured(page);
    await page.waitForFunction(
      () =>
        performance.getEntriesByName("ambient-netpol:answer").length > 0 &&
        !document.body.textContent.includes("Checking the fix"),
      null,
      { timeout: 120_000, polling: 10 },
    );
    await page.waitForTimeout(100);
    const complete = statusMillis(await page.locator(".status").textContent());
    // The page's marks in milliseconds after the paste: request posted, each answer received
    // and decoded, the findings painted.
    const timeline = await page.evaluate(() => {
      const marks = window.__marks;
      const edit = marks.find(([n]) => n === "edit")?.[1] ?? 0;
      const shown = performance.getEntriesByName("ambient-netpol:edit-to-findings")[0];
      const out = marks.filter(([n]) => n !== "edit").map(([n, t]) => `${n} ${Math.round(t - edit)}`);
      if (shown) out.push(`shown ${Math.round(shown.duration)}`);
      return out.join(", ");
    });
    runs.push({ paste_to_findings_ms: Math.round(paste), worker_findings_ms: statusMillis(findingsStatus), worker_complete_ms: complete, timeline });
  }
  const native = Number(process.env.NATIVE_CHECK_MS) || null;
  const nativeDiff = Number(process.env.NATIVE_DIFF_MS) || null;
  const pick = (k) => median(runs.map((r) => r[k]));
  const ratio = (ms, of) => of && Math.round((ms / of) * 100) / 100;
  const result = {
    native_check_ms: native,
    native_check_diff_ms: nativeDiff,
    runs,
    median_paste_to_findings_ms: pick("paste_to_findings_ms"),
    median_worker_findings_ms: pick("worker_findings_ms"),
    median_worker_complete_ms: pick("worker_complete_ms"),
    // The same work on each side: the findings against `check`, the checked fix and its diff
    // against `check --diff`.
    worker_findings_over_native_check: ratio(pick("worker_findings_ms"), native),
    worker_complete_over_native_diff: ratio(pick("worker_complete_ms"), nativeDiff),
  };
  console.log(JSON.stringify(result, null, 2));
  if (process.env.MEASURE_OUT) writeFileSync(process.env.MEASURE_OUT.replace(".json", "-pastes.json"), JSON.stringify(result, null, 2));
});

test("L cluster in the page", async ({ page, browser }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");

  // Paste the whole cluster over the example (select all, a paste event).
  await page.evaluate(() => performance.clearMeasures());
  const started = Date.now();
  await pasteAll(page, cluster);
  await analysed(page);
  const paste = await measured(page);
  const pasteWall = Date.now() - started;
  const status = await page.locator(".status").textContent();
  const worker = Number(/in ([0-9.]+) ms/.exec(status)[1]);

  // Typing inside the text: a namespace name near the top.
  await page.waitForTimeout(500);
  await editor(page).evaluate((el) => {
    el.focus();
    el.setSelectionRange(40, 40);
  });
  const first = await typeAndMeasure(page); // the first keystrokes after a paste cost Chromium more
  const typed = await typeAndMeasure(page);

  // Typing latency while analyses run (each keystroke starts one): a burst at 60 ms intervals.
  await observeEvents(page);
  await page.keyboard.type(BURST, { delay: 60 });
  await page.waitForTimeout(1500);
  const pageKeys = await keyLatencies(page, BURST.length);

  // The same burst in a bare textarea holding the same text: Chromium's own cost.
  const bare = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await bare.setContent(
    '<textarea wrap="off" spellcheck="false" style="width:640px;height:600px;font:13px monospace;white-space:pre"></textarea>',
  );
  await bare.locator("textarea").evaluate((el, value) => (el.value = value), cluster);
  await bare.waitForTimeout(1500);
  await bare.locator("textarea").evaluate((el) => {
    el.focus();
    el.setSelectionRange(40, 40);
  });
  await observeEvents(bare);
  await bare.keyboard.type(BURST, { delay: 60 });
  await bare.waitForTimeout(1500);
  const bareKeys = await keyLatencies(bare, BURST.length);

  const native = Number(process.env.NATIVE_CHECK_MS) || null;
  const result = {
    bytes: cluster.length,
    status,
    native_check_ms: native,
    worker_ms: worker,
    worker_over_native: native && Math.round((worker / native) * 100) / 100,
    paste_to_findings_ms: Math.round(paste),
    paste_wall_ms: pasteWall,
    first_typed_to_findings_ms: first.map(Math.round),
    typed_to_findings_ms: typed.map(Math.round),
    typed_to_findings_median_ms: Math.round(median(typed)),
    key_latency_page_ms: { median: median(pageKeys), max: Math.max(...pageKeys), keys: pageKeys.map(Math.round) },
    key_latency_bare_textarea_ms: { median: median(bareKeys), max: Math.max(...bareKeys), keys: bareKeys.map(Math.round) },
  };
  console.log(JSON.stringify(result, null, 2));
  if (process.env.MEASURE_OUT) writeFileSync(process.env.MEASURE_OUT, JSON.stringify(result, null, 2));
  expect(typed.length).toBe(TYPED);
});

/** One frame: resolves once the next frame is painted. */
const nextFrame = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const start = performance.now();
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start)));
      }),
  );

test("huge pastes: XL and 20 MB", async ({ page }) => {
  const cases = [["XL", readFileSync(process.env.CLUSTER_XL, "utf8")], ["20 MB", bigCluster(20 * 1024 * 1024)]];
  const results = [];
  for (const [name, text] of cases) {
    await page.goto("./");
    await expect(page.locator(".status")).toContainText("Analysed");
    const started = Date.now();
    const handler = await pasteAll(page, text);
    const frame = await nextFrame(page);
    const objects = (text.match(/^kind: /gm) || []).length;
    const done = page.locator(".status", { hasText: `Analysed ${objects} objects` });
    await done.or(page.locator(".banner", { hasText: "was stopped" })).waitFor({ timeout: 120_000 });
    results.push({
      paste: name,
      bytes: text.length,
      objects,
      paste_handler_ms: Math.round(handler),
      next_frame_after_ms: Math.round(frame),
      paste_to_findings_ms: Date.now() - started,
      status: (await done.count()) ? await done.textContent() : "stopped at the budget",
    });
  }
  console.log(JSON.stringify(results, null, 2));
  if (process.env.MEASURE_OUT) writeFileSync(process.env.MEASURE_OUT.replace(".json", "-paste.json"), JSON.stringify(results, null, 2));
});
