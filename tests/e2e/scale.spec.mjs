// The page at real-application scale (issue 15): Online Boutique and kube-prometheus pasted as
// a user pastes them, at 1280x900 and at 400 px: the page stays within three screens, the
// findings are grouped and filterable, the diagram is one action away, the keyboard reaches
// every tab and finding, and axe-core finds nothing.
import { test, expect } from "@playwright/test";
import { createRequire } from "node:module";
import { guard } from "./guard.mjs";
import { pasteAll } from "./editor.mjs";
import { APPS, appText } from "./apps.mjs";

const SIZES = [
  { width: 1280, height: 900 },
  { width: 400, height: 900 },
];

async function openApp(page, app) {
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  await pasteAll(page, appText(app));
  await expect(page.locator(".status")).toContainText(/Analysed \d{2,} objects/);
}

for (const app of APPS) {
  for (const size of SIZES) {
    test(`${app} at ${size.width} px: within three screens, grouped findings, diagram one action away`, async ({ browser }) => {
      const page = await browser.newPage({ viewport: size });
      const problems = guard(page);
      await openApp(page, app);
      // The findings view is open: at most three viewport heights.
      await expect(page.getByRole("tab", { name: /^Findings/ })).toHaveAttribute("aria-selected", "true");
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      expect(height, `page height ${height}`).toBeLessThanOrEqual(3 * size.height);
      // One entry per code: fewer groups than findings, each group's findings share its code.
      const total = Number((await page.getByRole("tab", { name: /^Findings/ }).textContent()).match(/\d+/)[0]);
      const groups = page.locator(".finding-group");
      const groupCount = await groups.count();
      expect(groupCount).toBeGreaterThan(0);
      expect(groupCount).toBeLessThan(total);
      // Errors first, infos collapsed.
      const severities = await groups.evaluateAll((gs) => gs.map((g) => ["error", "warning", "info"].find((s) => g.classList.contains(s))));
      expect([...severities].sort((a, b) => ["error", "warning", "info"].indexOf(a) - ["error", "warning", "info"].indexOf(b))).toEqual(severities);
      for (const info of await page.locator(".finding-group.info").all()) {
        expect(await info.evaluate((d) => d.open)).toBe(false);
      }
      // The diagram after one action from the top.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.getByRole("tab", { name: "Paths" }).click();
      await expect(page.locator("#panel-paths svg.paths, #panel-paths .matrix").first()).toBeVisible();
      await expect(page.locator("#panel-findings")).toBeHidden();
      expect(problems).toEqual([]);
      await page.close();
    });
  }
}

test("Online Boutique: input findings summarised by kind; severity and text filters", async ({ page }) => {
  await openApp(page, "online-boutique");
  const inp002 = page.locator('.finding-group[data-code="INP002"]');
  await expect(inp002.locator(".kinds")).toHaveText(/^ignored: \d+ ServiceAccount/);
  // Severity toggles: hiding errors hides their groups, and says so in the button's state.
  const errors = page.locator(".finding-filters .count.error");
  await expect(page.locator(".finding-group.error").first()).toBeVisible();
  await errors.click();
  await expect(errors).toHaveAttribute("aria-pressed", "false");
  await expect(page.locator(".finding-group.error")).toHaveCount(0);
  await errors.click();
  // A text filter: only the AMB001 findings that mention cartservice stay.
  const all = await page.locator('.finding-group[data-code="AMB001"] .finding').count();
  await page.getByLabel(/Filter findings/).fill("amb001 cartservice");
  await expect(page.locator(".finding-group")).toHaveCount(1);
  const rows = page.locator('.finding-group[data-code="AMB001"] .finding');
  const kept = await rows.count();
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(all);
  for (const row of await rows.all()) await expect(row).toContainText("cartservice");
  await page.getByLabel(/Filter findings/).fill("no-such-thing");
  await page.getByRole("button", { name: "Show all findings" }).click();
  await expect(page.getByLabel(/Filter findings/)).toHaveValue("");
  // The line button of a grouped finding moves the editor to its line.
  await page.locator('.finding-group[data-code="AMB001"] .finding .line').first().click();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toBeFocused();
});

test("the keyboard reaches every tab (arrow keys) and every finding of an open group (Tab)", async ({ page }) => {
  await openApp(page, "online-boutique");
  const findingsTab = page.getByRole("tab", { name: /^Findings/ });
  await findingsTab.focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "Paths" })).toBeFocused();
  await expect(page.getByRole("tab", { name: "Paths" })).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: /^Corrected YAML/ })).toBeFocused();
  await page.keyboard.press("Home");
  await expect(findingsTab).toBeFocused();
  await expect(findingsTab).toHaveAttribute("aria-selected", "true");
  // Tab from the tab list walks every focusable control of the open groups, in order.
  const wanted = await page.locator(".finding-group[open] .finding .line").count();
  expect(wanted).toBeGreaterThan(10);
  let reached = 0;
  for (let i = 0; i < 400 && reached < wanted; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.matches(".finding-group[open] .finding .line"))) reached++;
  }
  expect(reached).toBe(wanted);
  // A closed group opens from the keyboard.
  const info = page.locator(".finding-group.info").first();
  await info.locator("summary.group-summary").focus();
  await page.keyboard.press("Enter");
  expect(await info.evaluate((d) => d.open)).toBe(true);
});

test.describe("accessibility at real scale", () => {
  // axe-core is injected as a script, which the page's own CSP rightly forbids.
  test.use({ bypassCSP: true });
  for (const app of APPS) {
    test(`${app}: no axe-core violation in any tab, light and dark`, async ({ page }) => {
      const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
      await openApp(page, app);
      await page.addScriptTag({ path: axePath });
      for (const scheme of ["light", "dark"]) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const tab of [/^Findings/, "Paths", /^Corrected YAML/]) {
          await page.getByRole("tab", { name: tab }).click();
          const result = await page.evaluate(() =>
            window.axe.run(document, { exclude: [["#yaml-input"]], resultTypes: ["violations"] }),
          );
          const summary = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
          expect(summary, `${scheme} ${tab}`).toEqual([]);
        }
      }
    });
  }
});
