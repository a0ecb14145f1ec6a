// Hostile input in the page: a YAML bomb and a 20 MB paste never freeze the page or lose the
// text; an analysis that overruns its budget is stopped with a reason and the next edit works.
import { readFileSync } from "node:fs";
import { test, expect } from "@playwright/test";
import { finding } from "./results.mjs";
import { guard } from "./guard.mjs";
import { editor, pasteAll as paste, wholeText } from "./editor.mjs";
import { bigCluster } from "./clusters.mjs";

const hostile = (name) => readFileSync(new URL(`../hostile/${name}`, import.meta.url), "utf8");
const SMALL = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: after\n";

test("a pasted YAML bomb is a located error; the page stays usable", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  const bomb = hostile("billion-laughs.yaml");
  await editor(page).fill(bomb);
  const error = finding(page, "INP001", "error").filter({ hasText: "expands to more than" });
  await expect(error).toBeVisible();
  await expect(editor(page)).toHaveValue(bomb);
  await editor(page).fill(SMALL);
  await expect(page.locator(".status")).toContainText("1 object in");
  expect(problems).toEqual([]);
});

test("a 20 MB paste keeps the text, and the analysis ends or is stopped with a reason", async ({ page }) => {
  test.setTimeout(150_000);
  const problems = guard(page);
  await page.goto("./");
  const text = bigCluster(20 * 1024 * 1024);
  await paste(page, text);
  // Either outcome is a working page: findings for the whole text, or the budget's message.
  const objects = (text.match(/^kind: /gm) || []).length;
  const analysed = page.locator(".status", { hasText: `Analysed ${objects} objects` });
  const stopped = page.locator(".banner", { hasText: "was stopped" });
  await expect(analysed.or(stopped)).toBeVisible({ timeout: 120_000 });
  if (await stopped.isVisible()) {
    await expect(stopped).toContainText("Your text is kept");
  }
  // The textarea holds a window of it; the editor keeps all of it.
  expect(await editor(page).evaluate((el) => el.value.length)).toBeLessThan(100_000);
  expect((await wholeText(page)).length).toBe(text.length);
  // Past the storage quota the autosave cannot keep it, and the page says so.
  await expect(page.locator(".banner", { hasText: "too large for the browser to keep" })).toBeVisible();
  // The (new) worker answers the next edit.
  await paste(page, SMALL);
  await expect(page.locator(".status")).toContainText("1 object in");
  await expect(stopped).toHaveCount(0);
  await expect(page.locator(".banner", { hasText: "too large" })).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("typing fast on a large text: one analysis at a time, and the last one is of the newest text", async ({ page }) => {
  test.setTimeout(90_000);
  const problems = guard(page);
  await page.goto("./");
  const text = bigCluster(300 * 1024);
  const objects = (text.match(/^kind: /gm) || []).length;
  await paste(page, text);
  await expect(page.locator(".status")).toContainText(`Analysed ${objects} objects`, { timeout: 60_000 });
  // A large text's findings come before its fix's check: wait for the second answer too, so
  // every answer counted below is to a request counted below.
  await expect(page.getByText("Checking the fix")).toHaveCount(0, { timeout: 60_000 });
  // Follow the requests to the worker and its answers from here on (the page marks each).
  await page.evaluate(() => {
    window.__worker = { requests: 0, answers: 0, inFlight: 0, maxInFlight: 0 };
    new PerformanceObserver((list) => {
      const w = window.__worker;
      for (const mark of list.getEntries().sort((a, b) => a.startTime - b.startTime)) {
        if (mark.name === "ambient-netpol:request") w.requests++, w.inFlight++;
        if (mark.name === "ambient-netpol:answer") w.answers++, w.inFlight--;
        w.maxInFlight = Math.max(w.maxInFlight, w.inFlight);
      }
    }).observe({ type: "mark" });
  });
  await editor(page).focus();
  await page.keyboard.press("Control+End");
  const comment = "# typed fast";
  // Keystrokes further apart than the debounce: each one is a request of its own.
  await page.keyboard.type(comment, { delay: 40 });
  await page.keyboard.insertText("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: typed-last}\n");
  const edits = comment.length + 1;
  const last = page.locator(".status", { hasText: `Analysed ${objects + 1} objects` });
  await expect(last).toBeVisible({ timeout: 30_000 });
  // No answer to an older text arrives after it.
  await page.waitForTimeout(1500);
  await expect(last).toBeVisible();
  // Never more than one request at the worker; edits made while it was busy waited and were
  // replaced by newer ones, so it analysed fewer texts than there were edits.
  const worker = await page.evaluate(() => window.__worker);
  expect(worker.maxInFlight).toBe(1);
  expect(worker.requests).toBeGreaterThan(0);
  expect(worker.requests).toBeLessThan(edits);
  expect(worker.answers).toBe(worker.requests);
  expect(problems).toEqual([]);
});

test.describe("a worker that fails", () => {
  // Playwright cannot route requests a service worker answers.
  test.use({ serviceWorkers: "block" });

  test("is stopped at the budget: the page says why, keeps the text, and a new worker takes the next edit", async ({ page }) => {
    test.setTimeout(90_000);
    const problems = guard(page);
    // The first worker says it is ready and then never answers, as a worker stuck in an
    // analysis would; the one that replaces it is the real one.
    await page.route("**/analysis-worker.js", (route) =>
      route.fulfill({ contentType: "text/javascript", body: 'postMessage("ready"); onmessage = () => {};' }),
      { times: 1 },
    );
    await page.goto("./");
    const stopped = page.locator(".banner", { hasText: "was stopped" });
    await expect(stopped).toBeVisible({ timeout: 45_000 });
    await expect(stopped).toContainText("took longer than 30 s");
    await expect(stopped).toContainText("Your text is kept");
    // Nothing was analysed before: the page does not claim to be analysing, nor to show findings.
    await expect(stopped).toContainText("Edit the text to analyse it again.");
    await expect(page.locator(".status")).toHaveText("Not analysed: see the message at the top.");
    await expect(page.locator(".findings .empty", { hasText: "Analysing" })).toHaveCount(0);
    await expect(editor(page)).toHaveValue(/port: 9090/);
    if (process.env.SCREENSHOTS) {
      for (const width of [1280, 400]) {
        await page.setViewportSize({ width, height: 800 });
        await page.screenshot({ path: `../../docs/screenshots/analysis-stopped-${width}.png` });
      }
    }
    await paste(page, SMALL);
    await expect(page.locator(".status")).toContainText("1 object in");
    await expect(stopped).toHaveCount(0);
    expect(problems).toEqual([]);
  });

  test("a crashed analysis says so with its message; a new worker takes the next edit", async ({ page }) => {
    // The worker's panic hook posts "panic: " and the message; a stand-in does only that, on the
    // first request (the page's first message is its wasm module; a request is an array).
    await page.route("**/analysis-worker.js", (route) =>
      route.fulfill({
        contentType: "text/javascript",
        body: 'postMessage("ready"); onmessage = (e) => { if (Array.isArray(e.data)) postMessage("panic: index out of bounds (stand-in)"); };',
      }),
      { times: 1 },
    );
    await page.goto("./");
    const crashed = page.locator(".banner", { hasText: "crashed" });
    await expect(crashed).toContainText("The analyser crashed on this text. Your text is kept.");
    await expect(crashed).toContainText("index out of bounds (stand-in)");
    await paste(page, SMALL);
    await expect(page.locator(".status")).toContainText("1 object in");
    await expect(crashed).toHaveCount(0);
  });
});
