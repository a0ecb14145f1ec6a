// Lessons: deep links open a step, steps drive the diagram, the exercise notices the fix.
import { test, expect } from "@playwright/test";
import { editor } from "./editor.mjs";

test("#lesson=<id>&step=<n> opens that step with its example and diagram view", async ({ page }) => {
  await page.goto("./#lesson=probes&step=2");
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
  await expect(page.locator(".lesson")).toContainText("169.254.7.127");
  await expect(editor(page)).toHaveValue(/name: deny-ingress/);
  // A lesson talks about the diagram: its tab is the one shown.
  await expect(page.getByRole("tab", { name: "Paths" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("button", { name: "After enrolling" })).toHaveAttribute("aria-pressed", "true");
  await page.locator("#lesson-next").click();
  await expect(page.getByRole("button", { name: "After the fix" })).toHaveAttribute("aria-pressed", "true");
  await page.locator("#lesson-prev").click();
  await page.locator("#lesson-prev").click();
  await expect(page.getByRole("button", { name: "Today" })).toHaveAttribute("aria-pressed", "true");
});

test("the exercise says when the learner's edit fixes the finding", async ({ page }) => {
  await page.goto("./");
  await page.selectOption("#lessons", "hbone");
  for (let i = 0; i < 3; i++) await page.locator("#lesson-next").click();
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4: Exercise");
  await expect(page.locator(".exercise.todo")).toContainText("AMB001 is still reported (line 5)");
  const fixed = (await editor(page).inputValue()).replace(
    "      protocol: TCP\n",
    "      protocol: TCP\n    - port: 15008\n      protocol: TCP\n",
  );
  await editor(page).fill(fixed);
  await expect(page.locator(".exercise.done")).toContainText("AMB001 is gone");
});

test("the ingress-gateway lesson: the gateway's tunnel, and the exercise done by adding 15008 to its rule", async ({ page }) => {
  await page.goto("./#lesson=ingress-gateway&step=2");
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
  await expect(page.locator(".lesson")).toContainText("port 15008");
  await expect(editor(page)).toHaveValue(/name: istio-ingressgateway/);
  await expect(page.getByRole("button", { name: "After enrolling" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("svg.paths .node.gateway")).toHaveCount(1);
  await expect(page.locator(".edge.hbone.blocked")).toContainText("15008/TCP");
  await page.locator("#lesson-next").click();
  await page.locator("#lesson-next").click();
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4: Exercise");
  await expect(page.locator(".exercise.todo")).toContainText("AMB001 is still reported (line 75)");
  const rule = "    - port: 8080\n      protocol: TCP\n";
  const text = await editor(page).inputValue();
  expect(text).toContain(rule);
  await editor(page).fill(text.replace(rule, rule + "    - port: 15008\n      protocol: TCP\n"));
  await expect(page.locator(".exercise.done")).toContainText("AMB001 is gone");
});
