// Embeds for docs writers (EMBEDDING.md): `embed` with any value but 0/false, `theme`, `view`,
// `#lesson=`, a layout that shows the key finding in a 700x500 and a 400x500 frame, an unknown
// id that says so, and "Copy embed code", whose snippet works in a docs page.
import { test, expect } from "@playwright/test";
import { editor } from "./editor.mjs";
import { guard } from "./guard.mjs";

const PORT = Number(process.env.E2E_PORT || 4173);
const ORIGIN = `http://127.0.0.1:${PORT}`;

/** The summary and the first group of findings are whole in the frame, and the frame does not scroll. */
async function keyFindingInView(page, height) {
  await expect(page.locator(".summary")).toContainText("Once enrolled");
  await expect(page.locator(".summary")).toBeInViewport({ ratio: 1 });
  await expect(page.locator(".finding-group .group-summary").first()).toBeInViewport({ ratio: 1 });
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(height);
}

test.describe("at 700x500", () => {
  test.use({ viewport: { width: 700, height: 500 } });

  test("any embed value but 0 or false embeds, with the key finding in view", async ({ page }) => {
    const problems = guard(page);
    for (const query of ["?embed", "?embed=1", "?embed=true", "?embed=", "?embed=yes"]) {
      await page.goto(`./${query}#example=seed-hbone`);
      await expect(page.locator(".embed-bar"), query).toBeVisible();
      await expect(page.locator(".app-header")).toHaveCount(0);
      await keyFindingInView(page, 500);
      // The editor is there, beside the results, and takes the frame's height.
      const box = await page.locator(".editor-body").boundingBox();
      expect(box.height).toBeGreaterThan(250);
    }
    for (const query of ["?embed=0", "?embed=false"]) {
      await page.goto(`./${query}#example=seed-hbone`);
      await expect(page.locator(".app-header"), query).toBeVisible();
      await expect(page.locator(".embed-bar")).toHaveCount(0);
    }
    expect(problems).toEqual([]);
  });

  test("theme=light in a dark system, theme=dark in a light one", async ({ page }) => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto("./?embed=1#example=seed-hbone");
    await expect(page.locator(".summary")).toContainText("Once enrolled");
    expect(await background()).toBe("rgb(13, 17, 23)");
    await page.goto("./?embed=1&theme=light#example=seed-hbone");
    await expect(page.locator(".summary")).toContainText("Once enrolled");
    expect(await background()).toBe("rgb(255, 255, 255)");
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto("./?embed=1&theme=dark#example=seed-hbone");
    await expect(page.locator(".summary")).toContainText("Once enrolled");
    expect(await background()).toBe("rgb(13, 17, 23)");
  });

  test("view= opens on the paths or the corrected YAML", async ({ page }) => {
    await page.goto("./?embed=1&view=paths#example=egress");
    await expect(page.getByRole("tab", { name: "Paths" })).toHaveAttribute("aria-selected", "true");
    await expect(page.locator("svg.paths")).toBeInViewport();
    await page.goto("./?embed=1&view=fix#example=seed-hbone");
    await expect(page.getByRole("tab", { name: /^Corrected YAML/ })).toHaveAttribute("aria-selected", "true");
    await expect(page.locator(".diff-text .add", { hasText: "- port: 15008" })).toBeInViewport();
  });

  test("an unknown example or lesson says so (and shows the first example)", async ({ page }) => {
    await page.goto("./?embed=1#example=no-such-example");
    await expect(page.getByRole("alert")).toContainText('asks for an example "no-such-example", which this playground does not have');
    await expect(page.getByRole("alert")).toContainText("seed-hbone");
    await expect(editor(page)).toHaveValue(/port: 9090/);
    await page.goto("./?embed=1#lesson=no-such-lesson&step=2");
    await expect(page.getByRole("alert")).toContainText('asks for a lesson "no-such-lesson"');
    await page.goto("./#example=no-such-example");
    await expect(page.locator(".app-header")).toBeVisible();
    await expect(page.getByRole("alert")).toContainText('"no-such-example"');
  });

  test("#lesson= works in an embed; its steps rewrite the address without adding history", async ({ page }) => {
    await page.goto("./?embed=1#lesson=probes&step=2");
    await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
    await expect(page.locator(".lesson")).toContainText("169.254.7.127");
    await expect(editor(page)).toHaveValue(/name: deny-ingress/);
    const entries = await page.evaluate(() => history.length);
    await page.locator("#lesson-next").click();
    await expect(page.locator(".lesson-step")).toContainText("Step 3 of 4");
    await expect(page).toHaveURL(/\?embed=1#lesson=probes&step=3$/);
    // A docs page's Back button is the reader's: the embed adds no entries to it.
    expect(await page.evaluate(() => history.length)).toBe(entries);
    const full = await page.locator(".embed-bar a").getAttribute("href");
    expect(full).toBe(`${ORIGIN}/#lesson=probes&step=3`);
  });
});

test("at 400x500 the key finding is in view too", async ({ page }) => {
  await page.setViewportSize({ width: 400, height: 500 });
  for (const id of ["seed-hbone", "multi-namespace"]) {
    await page.goto(`./?embed=1#example=${id}`);
    await expect(page.locator(".summary")).toContainText("Once enrolled");
    await expect(page.locator(".summary")).toBeInViewport({ ratio: 1 });
    await expect(page.locator(".finding-group .group-summary").first()).toBeInViewport({ ratio: 1 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, id).toBeLessThanOrEqual(0);
  }
});

test("Copy embed code: an iframe of what is shown, which works in a docs page", async ({ page, context }) => {
  // (The docs page below is the test's own, not from a server on loopback: it may frame one.)
  await context.grantPermissions(["clipboard-read", "clipboard-write", "local-network-access"]);
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("./#lesson=probes&step=2");
  await expect(page.locator(".lesson-step")).toContainText("Step 2 of 4");
  await page.locator("#embed-code").click();
  await expect(page.locator(".share-message")).toContainText("Embed code copied");
  const code = await page.evaluate(() => navigator.clipboard.readText());
  const src = `${ORIGIN}/?embed=1&amp;theme=light&amp;view=paths#lesson=probes&amp;step=2`;
  expect(code.startsWith(`<iframe src="${src}" title="ambient-netpol: the lesson &quot;`), code).toBe(true);
  expect(code.endsWith(`&quot;" style="width: 100%; height: 500px; border: 0" loading="lazy"></iframe>`), code).toBe(true);

  // The snippet pasted into a docs page (of another origin, as a docs site is), with the reader's
  // system dark.
  await page.route("**/guide.html", (route) =>
    route.fulfill({ contentType: "text/html", body: `<!doctype html><title>Guide</title><main style="width: 700px">${code}</main>` }),
  );
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`http://127.0.0.1:${PORT + 1}/guide.html`);
  const frame = page.frameLocator("iframe");
  await expect(frame.locator(".lesson-step")).toContainText("Step 2 of 4");
  await expect(frame.getByRole("tab", { name: "Paths" })).toHaveAttribute("aria-selected", "true");
  await expect(frame.locator("html")).toHaveAttribute("data-theme", "light");
  const box = await page.locator("iframe").boundingBox();
  expect([box.width, box.height]).toEqual([700, 500]);

  // Edited text goes into the snippet, so the docs page shows exactly that.
  await page.goto("./#example=egress");
  await editor(page).fill((await editor(page).inputValue()).replace("port: 9090", "port: 9091"));
  await page.locator("#embed-code").click();
  await expect(page.locator(".share-message")).toContainText("Embed code copied");
  const edited = await page.evaluate(() => navigator.clipboard.readText());
  expect(edited).toMatch(/theme=dark&amp;view=findings#share=/);
});

test.describe("accessibility", () => {
  // axe-core is injected as a script, which the page's own CSP rightly forbids.
  test.use({ bypassCSP: true, viewport: { width: 700, height: 500 } });

  test("the embed, with a lesson, passes axe-core in light and dark", async ({ page }) => {
    const { createRequire } = await import("node:module");
    const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    for (const theme of ["light", "dark"]) {
      await page.goto(`./?embed=1&theme=${theme}#lesson=hbone&step=4`);
      await expect(page.locator(".exercise")).toBeVisible();
      await page.addScriptTag({ path: axePath });
      const result = await page.evaluate(async () =>
        // The textarea's own text is transparent on purpose (the highlight layer draws it).
        window.axe.run(document, { exclude: [["#yaml-input"]], resultTypes: ["violations"] }),
      );
      const violations = result.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
      expect(violations, theme).toEqual([]);
    }
  });
});
