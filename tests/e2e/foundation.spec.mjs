// The page loads, shows the seed example, and re-analyses as the user types.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { finding as findingOf } from "./results.mjs";

test("loads with the seed example and no console error or foreign request", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  const editor = page.getByLabel("Manifests (YAML or JSON)");
  await expect(editor).toHaveValue(/port: 9090/);
  await expect(editor).toHaveValue(/app.kubernetes.io\/name: my-app/);
  await expect(page.locator(".status")).toContainText("Analysed 1 object in");
  expect(problems).toEqual([]);
});

test("a YAML syntax error shows INP001 on the right line within a second", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  const editor = page.getByLabel("Manifests (YAML or JSON)");
  await expect(page.locator(".status")).toContainText("Analysed");
  // Line 4 of the new text holds an unclosed flow sequence.
  await editor.fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: [a, b\n  name: x\n");
  const finding = findingOf(page, "INP001");
  await expect(finding).toBeVisible({ timeout: 1000 });
  const text = await finding.textContent();
  const line = Number(/line (\d+)/.exec(text)[1]);
  expect(line).toBeGreaterThanOrEqual(4);
  expect(line).toBeLessThanOrEqual(5);
  await expect(page.locator(".count.error")).toHaveText("1 error");
  expect(problems).toEqual([]);
});

test("clicking a finding selects its line in the editor", async ({ page }) => {
  await page.goto("./");
  const editor = page.getByLabel("Manifests (YAML or JSON)");
  await editor.fill("a: 1\nb: 2\nc: [\n");
  await findingOf(page, "INP001").getByRole("button", { name: /line/ }).click();
  const selected = await editor.evaluate((el) => el.value.slice(0, el.selectionStart).split("\n").length);
  expect(selected).toBe(4);
  await expect(editor).toBeFocused();
});

test("valid input without problems says so plainly", async ({ page }) => {
  await page.goto("./");
  await page.getByLabel("Manifests (YAML or JSON)").fill(
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
  );
  await expect(page.getByText("No findings")).toBeVisible();
});
