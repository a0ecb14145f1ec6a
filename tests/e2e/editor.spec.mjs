// The editor on a long text: the textarea holds only a window of lines around the view, and
// everything a user does still acts on the whole text (typing anywhere, moving the caret past
// the window, Ctrl+Home/End, select all with copy, cut, typing and paste, undo and redo).
import { test, expect } from "@playwright/test";
import { finding as findingOf, showTab } from "./results.mjs";
import { guard } from "./guard.mjs";
import { editor, pasteAll, wholeText } from "./editor.mjs";

const LINE = 19.5;
const numbered = (n) => Array.from({ length: n }, (_, i) => `# line ${i + 1}`).join("\n") + "\n";
const lineOf = (text, needle) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

/** Where the view is: the scroller's first line, and what the gutter and highlight draw. */
const view = (page) =>
  page.evaluate(() => {
    const scroller = document.querySelector(".editor-body");
    const area = document.getElementById("yaml-input");
    return {
      firstInView: Math.max(0, Math.floor((scroller.scrollTop - 8) / 19.5)) + 1,
      gutterFirst: Number(document.querySelector(".gutter pre").textContent.split("\n")[0]),
      highlightFirst: document.querySelector(".highlight .hl-line").textContent,
      windowLines: area.value.split("\n").length,
      windowFirst: area.value.split("\n")[0],
      areaTop: area.getBoundingClientRect().top - area.parentElement.getBoundingClientRect().top,
    };
  });

test("a long text is windowed, and typing, moving and undo act on the whole text", async ({ page }) => {
  const problems = guard(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  const text = numbered(60_000);
  await pasteAll(page, text);
  expect(await wholeText(page)).toBe(text);
  // The textarea holds a few hundred lines, not 60,000.
  const pasted = await view(page);
  expect(pasted.windowLines).toBeLessThan(1_000);

  // Scrolled to the middle: gutter and colours follow, the window holds the view.
  await page.locator(".editor-body").evaluate((s) => (s.scrollTop = 8 + 19.5 * 29_999));
  await expect(page.locator(".gutter pre")).toContainText("30000");
  const middle = await view(page);
  expect(middle.firstInView).toBe(30_000);
  expect(middle.gutterFirst).toBe(30_000);
  expect(middle.highlightFirst).toBe("# line 30000");
  const windowFirst = Number(middle.windowFirst.replace("# line ", ""));
  expect(windowFirst).toBeLessThan(30_000);
  expect(windowFirst + middle.windowLines).toBeGreaterThan(30_040);
  expect(Math.abs(middle.areaTop - (8 + (windowFirst - 1) * LINE))).toBeLessThan(1);

  // A click on a line in view puts the caret there.
  const box = await page.locator(".editor-body").boundingBox();
  await page.mouse.click(box.x + 300, box.y + 8 + LINE * 5.5);
  await page.keyboard.type("X");
  let whole = await wholeText(page);
  expect(lineOf(whole, "X")).toBe(30_005);
  expect(whole.split("\n")[30_004]).toBe("# line 30005X");

  // The caret walks past the window's edge; the window follows it.
  for (let i = 0; i < 600; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.type("Y");
  whole = await wholeText(page);
  expect(lineOf(whole, "Y")).toBe(30_605);

  // Ctrl+End reaches the end of the whole text, Ctrl+Home its start.
  await editor(page).evaluate((el) => el.setSelectionRange(0, 0));
  await page.keyboard.press("Control+End");
  await page.keyboard.type("END");
  whole = await wholeText(page);
  expect(whole.endsWith("# line 60000\nEND")).toBe(true);
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Control+z");
  whole = await wholeText(page);
  expect(whole.endsWith("# line 60000\n")).toBe(true);
  await page.keyboard.press("Control+Home");
  expect((await view(page)).firstInView).toBe(1);
  await page.keyboard.type("START ");
  expect((await wholeText(page)).startsWith("START # line 1\n")).toBe(true);

  // Select all, then type: the whole text is replaced; undo brings it all back, redo again.
  await page.keyboard.press("Control+a");
  await page.keyboard.type("short");
  expect(await wholeText(page)).toBe("short");
  await editor(page).evaluate((el) => el.setSelectionRange(5, 5));
  await page.keyboard.press("Control+z");
  whole = await wholeText(page);
  expect(whole.startsWith("START # line 1\n")).toBe(true);
  expect(whole.length).toBe(text.length + "XYSTART ".length);
  await page.keyboard.press("Control+Shift+z");
  expect(await wholeText(page)).toBe("short");
  expect(problems).toEqual([]);
});

test("cut of a whole long text empties the editor and puts it all on the clipboard", async ({ page }) => {
  await page.goto("./");
  const text = numbered(10_000);
  await pasteAll(page, text);
  const cut = await editor(page).evaluate((el) => {
    el.select();
    const data = new DataTransfer();
    el.dispatchEvent(new ClipboardEvent("cut", { clipboardData: data, bubbles: true, cancelable: true }));
    return data.getData("text/plain");
  });
  expect(cut).toBe(text);
  await expect(editor(page)).toHaveValue("");
  await expect(page.locator(".status")).toContainText("0 objects");
});

test("Clear and a loaded example can be undone", async ({ page }) => {
  await page.goto("./");
  await pasteAll(page, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mine\n");
  await page.click("#clear");
  await expect(editor(page)).toHaveValue("");
  await editor(page).focus();
  await page.keyboard.press("Control+z");
  await expect(editor(page)).toHaveValue(/name: mine/);
  await page.selectOption("#examples", "seed-hbone");
  await expect(editor(page)).toHaveValue(/port: 9090/);
  await editor(page).focus();
  await page.keyboard.press("Control+z");
  await expect(editor(page)).toHaveValue(/name: mine/);
});

test("a finding deep in a long text: its line button selects that line and shows it", async ({ page }) => {
  await page.goto("./");
  const text = numbered(50_000) + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: [broken\n";
  await pasteAll(page, text);
  // (The example's findings are on screen until the new text is analysed.)
  const line = page.locator(".finding.error .line", { hasText: /\d{5}/ }).first();
  await expect(line).toBeVisible({ timeout: 20_000 });
  const target = Number((await line.textContent()).match(/\d+/)[0]);
  expect(target).toBeGreaterThan(50_000);
  await line.click();
  await expect(editor(page)).toBeFocused();
  const selected = await editor(page).evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toBe(text.split("\n")[target - 1]);
  const { firstInView } = await view(page);
  expect(target).toBeGreaterThanOrEqual(firstInView);
  expect(target).toBeLessThan(firstInView + 30);
  // The gutter marks it where the line is drawn.
  const marker = page.locator(".gutter .marker.error");
  await expect(marker).toHaveAttribute("style", `top: ${8 + (target - 1) * LINE}px`);
});

test("a selection past the window's edge, and a caret scrolled away from, stay where they were", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  await pasteAll(page, numbered(60_000));
  await page.keyboard.press("Control+Home");
  // Shift+Down over 400 lines, past the window's first end: it grows to hold the selection.
  const { windowLines } = await view(page);
  expect(windowLines).toBeLessThan(400);
  for (let i = 0; i < 400; i++) await page.keyboard.press("Shift+ArrowDown");
  const selected = await editor(page).evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toBe(numbered(400));
  // Scrolled far away with the wheel, then a key: the caret comes back into view first.
  await page.keyboard.press("ArrowRight");
  const box = await page.locator(".editor-body").boundingBox();
  await page.mouse.move(box.x + 200, box.y + 200);
  for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 3_000);
  await expect.poll(() => view(page).then((v) => v.firstInView)).toBeGreaterThan(5_000);
  // (Wheel scrolling is animated: let it end before the key.)
  let last = -1;
  await expect.poll(async () => last === (last = (await view(page)).firstInView), { intervals: [200] }).toBe(true);
  await page.keyboard.type("Q");
  expect(lineOf(await wholeText(page), "Q")).toBe(401);
  const { firstInView } = await view(page);
  expect(firstInView).toBeLessThan(401);
  expect(firstInView).toBeGreaterThan(401 - 40);
});

test("Page Down and Page Up move the caret a page, with the view, in short and long texts", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  for (const n of [1_500, 60_000]) {
    await pasteAll(page, numbered(n));
    await page.keyboard.press("Control+Home");
    const height = await page.locator(".editor-body").evaluate((s) => s.clientHeight);
    const pageLines = Math.floor(height / LINE) - 1;
    for (let i = 0; i < 3; i++) await page.keyboard.press("PageDown");
    await page.keyboard.type("P");
    expect(lineOf(await wholeText(page), "P")).toBe(1 + 3 * pageLines);
    const { firstInView } = await view(page);
    expect(firstInView).toBeGreaterThan(3 * pageLines - 5);
    expect(firstInView).toBeLessThanOrEqual(1 + 3 * pageLines);
    // Shift+Page Up selects a page of lines upwards from the caret.
    await page.keyboard.press("Shift+PageUp");
    const selected = await editor(page).evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
    expect(selected.split("\n").length).toBe(pageLines + 1);
  }
});

/** The editor's horizontal state: the scroller's and the textarea's scrollLeft, where line 1's
 * first character and the caret are drawn, and the gutter's right edge (all in viewport px). */
const horizontal = (page) =>
  page.evaluate(() => {
    const scroller = document.querySelector(".editor-body");
    const area = document.getElementById("yaml-input");
    const gutter = document.querySelector(".gutter").getBoundingClientRect();
    // Line 1's first character as the highlight layer draws it.
    const first = document.querySelector(".highlight .hl-line");
    const range = document.createRange();
    const node = document.createTreeWalker(first, NodeFilter.SHOW_TEXT).nextNode();
    range.setStart(node, 0);
    range.setEnd(node, 1);
    const char = range.getBoundingClientRect();
    // The caret: its column in the textarea's value, placed like the highlight's characters.
    const before = area.value.slice(0, area.selectionStart);
    const column = before.length - before.lastIndexOf("\n") - 1;
    const code = document.querySelector(".code-area").getBoundingClientRect();
    const padding = parseFloat(getComputedStyle(area).paddingLeft);
    return {
      scrollerLeft: scroller.scrollLeft,
      areaLeft: area.scrollLeft,
      charLeft: char.left,
      caretLeft: code.left + padding + column * char.width - area.scrollLeft,
      gutterRight: gutter.right,
      viewRight: scroller.getBoundingClientRect().left + scroller.clientWidth,
      column,
    };
  });

test("the start of every line stays visible: End then Home, and a caret near the line start", async ({ page }) => {
  const problems = guard(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  await page.selectOption("#examples", "multi-namespace");
  await expect(editor(page)).toHaveValue(/^# A two-namespace shop/);
  const box = await page.locator(".editor-body").boundingBox();
  // Line 1 (a comment of 97 characters) is wider than the editor.
  await page.mouse.click(box.x + 120, box.y + 8 + LINE / 2);
  expect(await editor(page).evaluate((el) => el.value.slice(0, el.selectionStart).includes("\n"))).toBe(false);

  // End: the view scrolls right to the caret, and the caret is on screen.
  await page.keyboard.press("End");
  let h = await horizontal(page);
  expect(h.column).toBe(97);
  expect(h.scrollerLeft + h.areaLeft).toBeGreaterThan(0);
  expect(h.caretLeft).toBeGreaterThanOrEqual(h.gutterRight);
  expect(h.caretLeft).toBeLessThanOrEqual(h.viewRight);

  // Home: back to the very start; the first character and the caret are right of the gutter.
  await page.keyboard.press("Home");
  h = await horizontal(page);
  expect(h.column).toBe(0);
  expect(h.scrollerLeft).toBe(0);
  expect(h.areaLeft).toBe(0);
  expect(h.charLeft).toBeGreaterThanOrEqual(h.gutterRight);
  expect(h.caretLeft).toBeGreaterThanOrEqual(h.gutterRight);

  // Walking left from the end, the caret never hides behind the gutter.
  await page.keyboard.press("End");
  for (let i = 0; i < 97; i++) {
    await page.keyboard.press("ArrowLeft");
    if (i % 8 === 0 || i > 88) {
      h = await horizontal(page);
      expect(h.caretLeft, `column ${h.column}`).toBeGreaterThanOrEqual(h.gutterRight);
    }
  }
  expect((await horizontal(page)).scrollerLeft).toBe(0);

  // Line 2 (short) from the end of line 1: Down keeps the start in view.
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowDown");
  h = await horizontal(page);
  expect(h.caretLeft).toBeGreaterThanOrEqual(h.gutterRight);
  expect(problems).toEqual([]);
});

// Two destinations whose port lists the fix keeps with an AuthorizationPolicy each: two extra
// documents.
const twoPolicies = ["a", "b"]
  .map(
    (app) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${app}, namespace: shop}
spec:
  podSelector: {matchLabels: {app: ${app}}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: 9090}]
`,
  )
  .join("---\n");

test("the extra documents are one block: one copy and one download of them all, each document opens on its own", async ({ page, context }) => {
  const problems = guard(page);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("./");
  await pasteAll(page, twoPolicies);
  await showTab(page, "Corrected YAML");
  const block = page.locator(".extras");
  await expect(block.locator("h3")).toHaveText("Extra documents (2)");
  const docs = block.locator(".extra");
  await expect(docs).toHaveCount(2);
  await expect(docs.locator("summary")).toHaveText([
    "AuthorizationPolicy allow-ambient-ports-a",
    "AuthorizationPolicy allow-ambient-ports-b",
  ]);
  // One copy and one download for the block, none per document.
  await expect(page.locator("#copy-extras")).toHaveCount(1);
  await expect(page.locator("#download-extras")).toHaveCount(1);
  await expect(docs.locator("button")).toHaveCount(0);

  // Closed at first; each opens on its own.
  const texts = docs.locator(".extra-text");
  await expect(texts.nth(0)).toBeHidden();
  await expect(texts.nth(1)).toBeHidden();
  await docs.nth(1).locator("summary").click();
  await expect(texts.nth(1)).toBeVisible();
  await expect(texts.nth(1)).toContainText("app: b");
  await expect(texts.nth(0)).toBeHidden();
  await docs.nth(1).locator("summary").click();
  await expect(texts.nth(1)).toBeHidden();

  // The download: every document, in order, separated by `---`, for one `kubectl apply -f`.
  const each = await texts.evaluateAll((pres) => pres.map((p) => p.textContent));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-extras")]);
  expect(download.suggestedFilename()).toBe("extras.yaml");
  const yaml = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  expect(yaml).toBe(each.join("---\n"));
  const documents = yaml.split(/^---$/m);
  expect(documents).toHaveLength(2);
  for (const doc of documents) {
    expect(doc.trim().startsWith("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy")).toBe(true);
  }
  // The copy: the same text.
  await page.click("#copy-extras");
  await expect(page.locator(".extras-note")).toHaveText("Extra documents copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(yaml);

  // One document: the title says so; the block goes when there is none.
  await pasteAll(page, twoPolicies.split("---\n")[0]);
  await expect(block.locator("h3")).toHaveText("Extra document (1)");
  await pasteAll(page, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  await expect(block).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("files pasted without `---`: INP006 at the second object, its objects analysed, and the fix's diff inserts the marker", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  const namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
  await pasteAll(page, namespace + "# b.yaml\n" + twoPolicies.split("---\n")[1]);
  const finding = findingOf(page, "INP006");
  await expect(finding).toBeVisible();
  // (Backticks are drawn as code.)
  await expect(finding).toContainText("NetworkPolicy b starts at line 6");
  await expect(finding).toContainText("without a --- line");
  // The policy of the second file is analysed (its HBONE finding), not hidden by a syntax error.
  await expect(findingOf(page, "AMB001")).toBeVisible();
  await expect(findingOf(page, "INP001")).toHaveCount(0);
  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: /^\+---\s*$/ })).toHaveCount(1);
  expect(problems).toEqual([]);
});

test("a finding's line button on a line wider than the editor shows the line's start", async ({ page }) => {
  const problems = guard(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("./");
  const peer = "a".repeat(150);
  await pasteAll(
    page,
    `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: wide, namespace: shop}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: ${peer}}}}]
    ports: [{port: 8080}]
`,
  );
  const finding = findingOf(page, "AMB001");
  await expect(finding).toBeVisible();
  await finding.getByRole("button", { name: /line 7/ }).click();
  await expect(editor(page)).toBeFocused();
  const selected = await editor(page).evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toBe(`  - from: [{podSelector: {matchLabels: {app: ${peer}}}}]`);
  const h = await page.evaluate(() => document.querySelector(".editor-body").scrollLeft);
  expect(h).toBe(0);
  expect(problems).toEqual([]);
});
