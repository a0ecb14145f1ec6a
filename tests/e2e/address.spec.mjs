// The address bar says what is open (src/ui/address.rs): examples, lessons and their steps each
// make a history entry that Back undoes, a reload comes back to the same step with the edits, and
// the menus show what is open.
import { test, expect } from "@playwright/test";
import { editor } from "./editor.mjs";
import { guard } from "./guard.mjs";

test("choose, reload, Back: examples, a lesson and its steps are history entries", async ({ page }) => {
  const problems = guard(page);
  // Any dialog here would be a bug: nothing replaces the visitor's own work.
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
  await page.goto("./");
  await expect(page).toHaveURL(/\/#example=seed-hbone$/);
  await expect(page.locator("#examples")).toHaveValue("seed-hbone");

  await page.selectOption("#examples", "egress");
  await expect(page).toHaveURL(/#example=egress$/);
  await expect(editor(page)).toHaveValue(/name: client-egress/);

  await page.selectOption("#lessons", "probes");
  await expect(page).toHaveURL(/#lesson=probes&step=1$/);
  await expect(page.locator(".lesson-step")).toContainText("Step 1 of 4");
  await expect(page.locator("#examples")).toHaveValue("seed-deny-ingress");
  await page.locator("#lesson-next").click();
  await expect(page).toHaveURL(/#lesson=probes&step=2$/);

  // An edit, then a reload: the same step and the edit (not the lesson's example afresh).
  const edited = (await editor(page).inputValue()) + "# my note\n";
  await editor(page).fill(edited);
  await expect.poll(() => page.evaluate(() => localStorage.getItem("ambient-netpol.text"))).toContain("# my note");
  await page.reload();
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
  await expect(editor(page)).toHaveValue(edited);
  await expect(page.locator("#lessons")).toHaveValue("probes");
  // The text is no longer the example: the examples menu says so, and choosing it would reload it.
  await expect(page.locator("#examples")).toHaveValue("");

  // Back: the step before, with the edit kept.
  await page.goBack();
  await expect(page).toHaveURL(/#lesson=probes&step=1$/);
  await expect(page.locator(".lesson-step")).toContainText("Step 1 of 4");
  await expect(editor(page)).toHaveValue(edited);
  // Back: the example as it was before the lesson, the lesson closed.
  await page.goBack();
  await expect(page).toHaveURL(/#example=egress$/);
  await expect(page.locator(".lesson")).toHaveCount(0);
  await expect(editor(page)).toHaveValue(/name: client-egress/);
  await expect(page.locator("#lessons")).toHaveValue("");
  await expect(page.locator("#examples")).toHaveValue("egress");
  // Back to the first example, Forward to the second.
  await page.goBack();
  await expect(page).toHaveURL(/#example=seed-hbone$/);
  await expect(editor(page)).toHaveValue(/port: 9090/);
  await page.goForward();
  await expect(editor(page)).toHaveValue(/name: client-egress/);
  await expect(page.locator("#examples")).toHaveValue("egress");
  expect(problems).toEqual([]);
});

test("Back brings back the visitor's own text that an example replaced", async ({ page }) => {
  await page.goto("./");
  await editor(page).fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mine\n");
  await expect(page.locator("#examples")).toHaveValue("");
  await page.selectOption("#examples", "waypoint");
  await expect(editor(page)).toHaveValue(/istio-waypoint/);
  await page.goBack();
  await expect(editor(page)).toHaveValue(/name: mine/);
  await expect(page.locator(".status")).toContainText("Analysed 1 object in 1 document");
  // The same example again after an edit: a new entry at the same address, which Back undoes.
  await page.goForward();
  await expect(editor(page)).toHaveValue(/istio-waypoint/);
  const edited = (await editor(page).inputValue()).replace("port: 9090", "port: 9091");
  await editor(page).fill(edited);
  await page.selectOption("#examples", "waypoint");
  await expect(editor(page)).toHaveValue(/port: 9090/);
  await expect(page).toHaveURL(/#example=waypoint$/);
  await page.goBack();
  await expect(editor(page)).toHaveValue(edited);
  await expect(page).toHaveURL(/#example=waypoint$/);
});

test("the steps of a lesson share the text: Back and Forward keep its edits", async ({ page }) => {
  await page.goto("./");
  await page.selectOption("#lessons", "hbone");
  await page.locator("#lesson-next").click();
  await expect(page).toHaveURL(/#lesson=hbone&step=2$/);
  await page.goBack();
  await expect(page.locator(".lesson-step")).toContainText("Step 1 of 4");
  const edited = (await editor(page).inputValue()) + "# mine\n";
  await editor(page).fill(edited);
  await page.goForward();
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
  await expect(editor(page)).toHaveValue(edited);
  await page.goBack();
  await expect(page.locator(".lesson-step")).toContainText("Step 1 of 4");
  await expect(editor(page)).toHaveValue(edited);
});

test("another example chosen during a lesson: the lesson stays, the address says both, Back returns", async ({ page }) => {
  await page.goto("./#lesson=hbone&step=4");
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4");
  await page.selectOption("#examples", "egress");
  await expect(page).toHaveURL(/#lesson=hbone&step=4&example=egress$/);
  await expect(editor(page)).toHaveValue(/name: client-egress/);
  await expect(page.locator("#lessons")).toHaveValue("hbone");
  await page.reload();
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4");
  await expect(editor(page)).toHaveValue(/name: client-egress/);
  await page.goBack();
  await expect(page).toHaveURL(/#lesson=hbone&step=4$/);
  await expect(editor(page)).toHaveValue(/port: 9090/);
});

test("the lessons menu follows: a deep link shows its lesson, Close and Reset clear it, and it can be chosen again", async ({ page }) => {
  await page.goto("./#lesson=hbone&step=3");
  await expect(page.locator(".lesson-step")).toContainText("Step 3 of 4");
  await expect(page.locator("#lessons")).toHaveValue("hbone");
  await page.locator("#lesson-close").click();
  await expect(page.locator(".lesson")).toHaveCount(0);
  await expect(page.locator("#lessons")).toHaveValue("");
  await expect(page).toHaveURL(/#example=seed-hbone$/);
  // The same lesson again: it opens (the menu did not keep its title).
  await page.selectOption("#lessons", "hbone");
  await expect(page.locator(".lesson-step")).toContainText("Step 1 of 4");
  await page.locator("#lesson-next").click();
  // Reset closes the lesson too.
  await page.locator("#reset").click();
  await expect(page.locator(".lesson")).toHaveCount(0);
  await expect(page.locator("#lessons")).toHaveValue("");
  await expect(page).toHaveURL(/#example=seed-hbone$/);
  // Back undoes the Reset: the lesson's step.
  await page.goBack();
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
});

test("Previous and Next look disabled where they do nothing", async ({ page }) => {
  await page.goto("./#lesson=waypoint&step=1");
  const prev = page.locator("#lesson-prev");
  const next = page.locator("#lesson-next");
  await expect(prev).toBeDisabled();
  const look = (button) => button.evaluate((el) => [getComputedStyle(el).opacity, getComputedStyle(el).borderStyle, getComputedStyle(el).cursor]);
  expect(await look(prev)).toEqual(["0.45", "dashed", "not-allowed"]);
  expect(await look(next)).toEqual(["1", "solid", "pointer"]);
});

test("arrowing through the closed Examples menu browses; Enter (or leaving it) opens the one reached", async ({ page }) => {
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  const before = await page.evaluate(() => history.length);
  await page.locator("#examples").focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
  await expect(page.locator("#examples")).toHaveValue("seed-allow-probes");
  // Nothing was loaded on the way.
  await page.waitForTimeout(300);
  await expect(editor(page)).toHaveValue(/port: 9090/);
  await expect(page).toHaveURL(/#example=seed-hbone$/);
  await page.keyboard.press("Enter");
  await expect(editor(page)).toHaveValue(/deny-ingress-allow-kubelet-healthprobes/);
  await expect(page).toHaveURL(/#example=seed-allow-probes$/);
  expect(await page.evaluate(() => history.length)).toBe(before + 1);
  // Browsing, then Tab away: the one reached opens.
  await page.locator("#examples").focus();
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Tab");
  await expect(editor(page)).toHaveValue(/name: deny-ingress\n/);
  // Back: the example before.
  await page.goBack();
  await expect(editor(page)).toHaveValue(/deny-ingress-allow-kubelet-healthprobes/);
});
