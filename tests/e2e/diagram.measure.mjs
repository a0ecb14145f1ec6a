// The path diagram's speed in Chromium (issue 15: Online Boutique drawn <= 50 ms after the
// findings). Not a test: `MEASURE=1 npx playwright test diagram.measure` runs it (benches/page.sh
// runs every *.measure.mjs) and prints JSON for BENCHMARKS.md.
//
// The page marks `ambient-netpol:diagram-start` when the diagram starts its work (filters,
// layout, SVG) and measures `ambient-netpol:diagram` once the frame after it is painted. After a
// paste the findings and the diagram are painted in the same frame, so that figure holds the
// whole frame (editor, findings, diff); switching the view redraws the diagram alone, which is
// what the diagram adds after the findings.
import { writeFileSync } from "node:fs";
import { test, expect } from "@playwright/test";
import { appText } from "./apps.mjs";
import { pasteAll } from "./editor.mjs";
import { showTab } from "./results.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const diagram = (page) => page.evaluate(() => performance.getEntriesByName("ambient-netpol:diagram").map((e) => e.duration));

test("the diagram of Online Boutique and kube-prometheus: after the findings, and redrawn alone", async ({ page }) => {
  const out = {};
  for (const name of ["online-boutique", "kube-prometheus"]) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto("./");
    await expect(page.locator(".status")).toContainText("Analysed");
    await page.evaluate(() => performance.clearMeasures());
    await pasteAll(page, appText(name));
    await expect(page.locator(".status")).toContainText(/Analysed [0-9]{2,} objects/);
    await expect.poll(async () => (await diagram(page)).length).toBeGreaterThan(0);
    const frame = (await diagram(page))[0];
    const findings = await page.evaluate(() => performance.getEntriesByName("ambient-netpol:edit-to-findings").map((e) => e.duration)[0]);
    // The diagram alone: each view switch redraws it (filters, layout, SVG, paint).
    await showTab(page, "Paths");
    const alone = [];
    for (let i = 0; i < 7; i++) {
      for (const view of ["Today", "After the fix", "After enrolling"]) {
        await page.evaluate(() => performance.clearMeasures("ambient-netpol:diagram"));
        await page.getByRole("button", { name: view }).click();
        await expect.poll(async () => (await diagram(page)).length).toBeGreaterThan(0);
        alone.push((await diagram(page))[0]);
      }
    }
    out[name] = {
      nodes: await page.locator("svg.paths .node").count(),
      edges: await page.locator("svg.paths .edge").count(),
      "paste to findings painted (ms)": Math.round(findings),
      "diagram start to painted, in the findings' frame (ms)": Math.round(frame),
      "diagram redrawn alone, median of 21 (ms)": Math.round(median(alone)),
      "diagram redrawn alone, worst (ms)": Math.round(Math.max(...alone)),
    };
  }
  console.log(JSON.stringify(out, null, 2));
  if (process.env.MEASURE_OUT) writeFileSync(process.env.MEASURE_OUT.replace(/\.json$/, "-diagram.json"), JSON.stringify(out, null, 2));
});
