// Lessons: deep links open a step, steps drive the diagram and mark the path their text names,
// and each exercise is done by its fix only. The lessons are read from lessons/*.md (their steps'
// `path:` lines, their `goal:`), the fixes and wrong edits from tests/data/lessons.json, which
// the page's native tests (src/ui/lessons.rs) run too.
import { readFileSync } from "node:fs";
import { test, expect } from "@playwright/test";
import { editor } from "./editor.mjs";

const DATA = JSON.parse(readFileSync(new URL("../data/lessons.json", import.meta.url), "utf8"));
const LESSONS = Object.keys(DATA).filter((id) => !id.startsWith("//"));
const VIEWS = ["Today", "After enrolling", "After the fix", "After enrolling"];

/** A lesson file's goal and its steps' `path:` lines ("hbone blocked" ...). */
function lessonFile(id) {
  const text = readFileSync(new URL(`../../lessons/${id}.md`, import.meta.url), "utf8");
  const goal = text.match(/^goal:\s*(.+)$/m)[1].trim();
  const steps = text.split(/^## /m).slice(1).map((s) => s.split("\n")[1].match(/^path: (\w+) (\w+)/)?.slice(1) ?? null);
  return { goal, steps };
}

/** The example with `edits` ({find, replace}, each once, in order) made. */
function edited(text, edits) {
  for (const { find, replace } of edits) {
    expect(text, `"${find}" is in the text`).toContain(find);
    text = text.replace(find, () => replace);
  }
  return text;
}

/** The example with the lesson's fix, where the fix's text goes, how much of the example it
 * replaces (nothing for an insertion after `after`, the first `find` for a replacement). */
function withFix(example, id) {
  const { after, insert, find, replace } = DATA[id].fix;
  const [at, removed, text] =
    find === undefined ? [example.indexOf(after) + after.length, 0, insert] : [example.indexOf(find), find.length, replace];
  expect(example, "the fix's place is in the example").toContain(find ?? after);
  return { text: example.slice(0, at) + text + example.slice(at + removed), at, removed, insert: text };
}

/** Whether the element is (at least partly) in the window: a straight path has a box with no
 * height, which Playwright's visibility checks take for hidden. */
const inWindow = (locator) =>
  locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.bottom >= 0 && r.right >= 0 && r.top <= window.innerHeight && r.left <= window.innerWidth && r.width + r.height > 0;
  });

async function openExercise(page, id) {
  await page.goto(`./#lesson=${id}&step=4`);
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4: Exercise");
  // The example as it is: the finding is still there.
  await expect(page.locator(".exercise.todo")).toContainText("is still reported");
  return editor(page).inputValue();
}

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
  await expect(page.getByRole("button", { name: "Today", exact: true })).toHaveAttribute("aria-pressed", "true");
});

test("the exercise says what is missing, then that the learner's edit is the fix", async ({ page }) => {
  await page.goto("./");
  await page.selectOption("#lessons", "hbone");
  for (let i = 0; i < 3; i++) await page.locator("#lesson-next").click();
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4: Exercise");
  await expect(page.locator(".exercise.todo")).toContainText("line 5: AMB001 is still reported");
  const fixed = (await editor(page).inputValue()).replace(
    "      protocol: TCP\n",
    "      protocol: TCP\n    - port: 15008\n      protocol: TCP\n",
  );
  await editor(page).fill(fixed);
  const done = page.locator(".exercise.done");
  await expect(done).toContainText("Done: your edit is the fix.");
  // It says what was checked, and points to nothing left to compare.
  await expect(done).toContainText("AMB001 is gone");
  await expect(done).toContainText("still allowed: TCP 9090 from any source to default/my-app");
  await expect(done).not.toContainText("Corrected YAML");
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
  await expect(page.locator(".exercise.todo")).toContainText("line 75: AMB001 is still reported");
  const rule = "    - port: 8080\n      protocol: TCP\n";
  const text = await editor(page).inputValue();
  expect(text).toContain(rule);
  await editor(page).fill(text.replace(rule, rule + "    - port: 15008\n      protocol: TCP\n"));
  await expect(page.locator(".exercise.done")).toContainText("AMB001 is gone");
});

for (const id of LESSONS) {
  test(`${id}: the exercise refuses what is not the fix, and takes the fix`, async ({ page }) => {
    const { goal } = lessonFile(id);
    const example = await openExercise(page, id);
    const todo = page.locator(".exercise.todo");
    const done = page.locator(".exercise.done");
    const fixed = withFix(example, id).text;
    const refused = async (text, says) => {
      await editor(page).fill(text);
      await expect(todo).toContainText(says);
      await expect(done).toHaveCount(0);
    };
    await refused("", "is no longer in the text");
    await refused(`${fixed}\nkey: [unclosed\n`, "the YAML does not parse (INP001)");
    for (const wrong of DATA[id].wrong) {
      const start = wrong.fix ? fixed : example;
      await refused(edited(start, wrong.edits), wrong.says);
    }
    // Another example loaded in the middle of the exercise.
    await editor(page).fill(example);
    await expect(todo).toContainText("is still reported");
    const other = id === "hbone" ? "seed-deny-ingress" : "seed-hbone";
    await page.selectOption("#examples", other);
    await expect(todo).toContainText("is no longer in the text");
    await expect(done).toHaveCount(0);
    // The fix.
    await editor(page).fill(fixed);
    await expect(done).toContainText(`${goal} is gone`);
    await expect(todo).toHaveCount(0);
  });

  test(`${id}: typing the fix character by character, the exercise is done only once it is complete`, async ({ page }) => {
    const example = await openExercise(page, id);
    const { text: fixed, at, removed, insert } = withFix(example, id);
    // Every change of the exercise's verdict, with the editor's text at that moment.
    await page.evaluate(() => {
      const area = document.querySelector("textarea");
      window.verdicts = [];
      const record = () => {
        const verdict = document.querySelector(".exercise");
        window.verdicts.push({ verdict: verdict ? verdict.className : "", text: area.value });
      };
      new MutationObserver(record).observe(document.querySelector(".lesson"), {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    });
    // (A replacement types over the text it replaces: the first key replaces the selection.)
    await editor(page).evaluate((el, [at, end]) => {
      el.focus();
      el.setSelectionRange(at, end);
    }, [at, at + removed]);
    await editor(page).pressSequentially(insert, { delay: 30 });
    await expect(editor(page)).toHaveValue(fixed);
    await expect(page.locator(".exercise.done")).toBeVisible();
    const verdicts = await page.evaluate(() => window.verdicts);
    const early = verdicts.filter((v) => v.verdict.includes("done") && v.text !== fixed);
    expect(early, "Done shown before the fix was complete").toEqual([]);
    // The check answered while the fix was being typed (the test would pass vacuously otherwise).
    const partial = new Set(verdicts.filter((v) => v.verdict.includes("todo") && v.text !== example && v.text !== fixed).map((v) => v.text));
    expect(partial.size, "verdicts on partly typed texts").toBeGreaterThan(3);
  });

  test(`${id}: each step shows its view and marks the path its text names`, async ({ page }) => {
    const { steps } = lessonFile(id);
    for (let step = 1; step <= 3; step++) {
      await page.goto(`./#lesson=${id}&step=${step}`);
      await expect(page.locator(".lesson-step")).toContainText(`Step ${step} of 4`);
      const view = VIEWS[step - 1];
      // The step's text (fetched from lessons/<id>.md beside the page) names the view.
      await expect(page.locator(".lesson .doc")).toContainText(view);
      await expect(page.getByRole("button", { name: view, exact: true })).toHaveAttribute("aria-pressed", "true");
      const [kind, verdict] = steps[step - 1];
      const marked = page.locator(`svg.paths .edge.lesson-path`);
      await expect(marked.first()).toBeAttached();
      // Every marked path is of the kind and verdict the step names, and none other is marked.
      const classes = await marked.evaluateAll((edges) => edges.map((e) => e.getAttribute("class")));
      for (const c of classes) expect(c).toMatch(new RegExp(`\\bedge ${kind} ${verdict}\\b`));
      await expect(page.locator(`svg.paths .edge.${kind}.${verdict}:not(.lesson-path)`)).toHaveCount(0);
      await expect(page.locator(".lesson-path-note")).toContainText(`In the diagram (${view}), marked: the ${verdict}`);
      // On a wide screen the text and the path are side by side, both in view.
      await expect(page.locator(".lesson .doc")).toBeInViewport();
      expect(await inWindow(marked.first()), "the marked path is in the window").toBe(true);
    }
  });
}

test("on a narrow screen the step's diagram comes right below its text, and the path is brought into view", async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 400, height: 800 } });
  await page.goto("./#lesson=hbone&step=2");
  const marked = page.locator("svg.paths .edge.hbone.blocked.lesson-path");
  await expect(marked).toHaveCount(1);
  const lesson = await page.locator(".lesson").boundingBox();
  const diagram = await page.locator(".diagram").boundingBox();
  const editorBox = await page.locator(".editor").boundingBox();
  // The results follow the lesson, the editor comes after them.
  expect(diagram.y).toBeGreaterThan(lesson.y + lesson.height);
  expect(diagram.y - (lesson.y + lesson.height)).toBeLessThan(400);
  expect(editorBox.y).toBeGreaterThan(diagram.y);
  expect(await inWindow(marked), "the marked path is below the window before").toBe(false);
  await page.getByRole("button", { name: "Show it in the diagram" }).click();
  await expect(marked).toBeFocused();
  expect(await inWindow(marked), "the marked path is in the window").toBe(true);
  await expect(page.locator(".edge-explanation")).toContainText("HBONE tunnel from");
  // The exercise's step keeps the editor right below its text.
  await page.goto("./#lesson=hbone&step=4");
  await expect(page.locator(".lesson-step")).toContainText("Step 4 of 4");
  const text = await page.locator(".lesson").boundingBox();
  const editorNow = await page.locator(".editor").boundingBox();
  const results = await page.locator(".results").boundingBox();
  expect(editorNow.y).toBeLessThan(results.y);
  expect(editorNow.y - (text.y + text.height)).toBeLessThan(200);
  await page.close();
});
