// Copying says truthfully what happened (src/ui/copy.rs): without navigator.clipboard (a page
// served over plain http) the copy command does it; where the browser refuses both, the text is
// selected for Ctrl+C and nothing claims it was copied. Notes of success fade.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { showTab } from "./results.mjs";

/** The clipboard as another page of the site reads it. */
async function clipboard(context) {
  const reader = await context.newPage();
  await reader.goto("./analysis-worker.js");
  const text = await reader.evaluate(() => navigator.clipboard.readText());
  await reader.close();
  return text;
}

const NO_CLIPBOARD_API = () => {
  delete Navigator.prototype.clipboard;
};
const COPY_COMMAND_REFUSED = () => {
  document.execCommand = () => false;
};
const WRITE_REFUSED = () => {
  navigator.clipboard.writeText = () => Promise.reject(new DOMException("Write permission denied.", "NotAllowedError"));
};

test("without navigator.clipboard, Share link copies with the copy command, and says so", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.addInitScript(NO_CLIPBOARD_API);
  const problems = guard(page);
  await page.goto("./#example=egress");
  await expect(page.locator(".status")).toContainText("Analysed");
  expect(await page.evaluate(() => "clipboard" in navigator)).toBe(false);
  await page.locator("#share").click();
  await expect(page.locator(".share-message")).toContainText("Link copied");
  expect(await clipboard(context)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#example=egress$/);
  await expect(page.locator("#share")).toBeFocused();
  expect(problems).toEqual([]);
});

test("without a clipboard and without the copy command, the link is selected for Ctrl+C", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.addInitScript(NO_CLIPBOARD_API);
  await page.addInitScript(COPY_COMMAND_REFUSED);
  const problems = guard(page);
  await page.goto("./#example=egress");
  await page.locator("#share").click();
  const note = page.locator(".share-message .note-text");
  await expect(note).toContainText("The browser did not let the page copy the link: it is selected below");
  await expect(note).not.toContainText("Link copied");
  const box = page.locator(".share-message .copy-box");
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(/#example=egress$/);
  const [start, end, length] = await box.evaluate((el) => [el.selectionStart, el.selectionEnd, el.value.length]);
  expect([start, end]).toEqual([0, length]);
  // The keyboard's copy is the visitor's own: it works, and then the note says so.
  await page.keyboard.press("Control+c");
  await expect(note).toContainText("Link copied");
  expect(await clipboard(context)).toMatch(/#example=egress$/);
  // Moving on closes the box.
  await page.locator("#theme").focus();
  await expect(box).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("where writing is refused, neither Share link nor Copy fixed YAML claims a copy", async ({ page }) => {
  await page.addInitScript(WRITE_REFUSED);
  await page.addInitScript(COPY_COMMAND_REFUSED);
  const problems = guard(page);
  await page.goto("./#example=seed-hbone");
  await page.locator("#share").click();
  await expect(page.locator(".share-message")).toContainText("did not let the page copy the link");
  await expect(page.locator(".share-message")).not.toContainText("Link copied");
  // Escape closes the box and its note (which cover the page's top for as long as they stay).
  await page.keyboard.press("Escape");
  await expect(page.locator(".share-message .copy-box")).toHaveCount(0);
  await expect(page.locator(".share-message .note-text")).toBeEmpty();

  await showTab(page, "Corrected YAML");
  await page.locator("#copy-fixed").click();
  const notes = page.locator(".fix-note");
  await expect(notes).toContainText("The browser did not let the page copy the fixed YAML");
  await expect(notes).not.toContainText("Fixed YAML copied");
  const box = notes.locator(".copy-box");
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(/- port: 15008\n/);
  expect(problems).toEqual([]);
});

for (const width of [1280, 400]) {
  test(`at ${width} px the note does not move the buttons, and fades`, async ({ page, context }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.setViewportSize({ width, height: 800 });
    await page.goto("./");
    await expect(page.locator(".status")).toContainText("Analysed");
    const place = async () => Promise.all(["#share", "#embed-code", "#theme"].map((b) => page.locator(b).boundingBox()));
    const before = await place();
    await page.locator("#share").click();
    const note = page.locator(".share-message .note-text");
    await expect(note).toContainText("Link copied");
    await expect(note).toBeInViewport();
    expect(await place()).toEqual(before);
    if (width === 1280) {
      // One row: Share link, Copy embed code and Theme.
      expect(new Set(before.map((b) => b.y)).size).toBe(1);
    }
    await expect(note).toBeEmpty({ timeout: 8000 });
  });
}

test.describe("accessibility", () => {
  test.use({ bypassCSP: true });

  test("the note and the box to copy from pass axe-core", async ({ page }) => {
    const { createRequire } = await import("node:module");
    const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    await page.addInitScript(NO_CLIPBOARD_API);
    await page.addInitScript(COPY_COMMAND_REFUSED);
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto("./#example=egress");
      await page.locator("#embed-code").click();
      await expect(page.locator(".share-message .copy-box")).toBeFocused();
      await page.addScriptTag({ path: axePath });
      const result = await page.evaluate(async () =>
        window.axe.run(document, { exclude: [["#yaml-input"]], resultTypes: ["violations"] }),
      );
      const violations = result.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
      expect(violations, scheme).toEqual([]);
    }
  });
});
