// dist/ is static files that work from any sub-path, and deep links open one example.
import { test, expect } from "@playwright/test";
import { finding, openGroup, showTab } from "./results.mjs";
import { guard } from "./guard.mjs";

// The ports of playwright.config.mjs (E2E_PORT moves both).
const PORT = Number(process.env.E2E_PORT || 4173);
const SUB_PATH = `http://127.0.0.1:${PORT + 1}/docs/ambient-netpol/`;
const SHARE_LINK = new RegExp(`^http://127\\.0\\.0\\.1:${PORT}/#share=`);

test("the build served from a sub-path works, worker included", async ({ page }) => {
  const problems = guard(page);
  await page.goto(SUB_PATH);
  await expect(page.locator(".status")).toContainText("Analysed 1 object in");
  await expect(page.locator(".finding").first()).toBeVisible();
  await expectAbout(page, "AMB001");
  expect(problems).toEqual([]);
});

test.describe("without the rule documents", () => {
  // The page's own requests only, none answered by the service worker.
  test.use({ serviceWorkers: "block" });

  test("a rule document that cannot be fetched says where else to read it", async ({ page }) => {
    await page.route("**/rules/*.md", (route) => route.abort());
    await page.goto("./");
    await openGroup(page, "AMB001");
    const about = page.locator('.finding-group[data-code="AMB001"] details.explanation').first();
    await about.locator("summary").click();
    await expect(about.locator(".doc")).toContainText("ambient-netpol check --explain AMB001");
    // The group still says what the rule finds: its first paragraph is built in.
    await expect(page.locator('.finding-group[data-code="AMB001"] .group-why')).toContainText("15008");
  });
});

/** Opens "About CODE" in its group: the rule's document, fetched from rules/CODE.md beside the
 * page (the wasm carries its first paragraph only), is drawn. */
async function expectAbout(page, code) {
  await openGroup(page, code);
  const about = page.locator(`.finding-group[data-code="${code}"] details.explanation`).first();
  await about.locator("summary").click();
  await expect(about.locator(".doc h4").first()).toHaveText("What it does");
  await expect(about.locator(".doc")).toContainText("Why it matters under ambient");
}

test("#example=<id> opens that example", async ({ page }) => {
  await page.goto("./#example=waypoint");
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/gatewayClassName: istio-waypoint/);
  await expect(finding(page, "AMB005")).toBeVisible();
});

test("a deep link asks before replacing work the visitor saved", async ({ page }) => {
  await page.goto("./");
  await page.getByLabel("Manifests (YAML or JSON)").fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my-work\n");
  await expect.poll(() => page.evaluate(() => localStorage.getItem("ambient-netpol.text"))).toContain("my-work");
  // A link followed on the open page asks; declining keeps the work.
  const asked = page.waitForEvent("dialog");
  await page.evaluate(() => { location.hash = "example=egress"; });
  const dialog = await asked;
  expect(dialog.message()).toContain("Replace the text you were working on?");
  await dialog.dismiss();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/name: my-work/);
  // Opening the link afresh asks again; accepting loads the example.
  page.once("dialog", (dialog) => dialog.accept());
  await page.reload();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/client-egress/);
});

test("a share link round-trips the text and the settings, and a damaged one says so", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("./");
  await page.getByLabel("Manifests (YAML or JSON)").fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"shared-ünïcode\"\n");
  await page.selectOption("#setting-cni", "ovn-kubernetes");
  await page.locator("#share").click();
  await expect(page.locator(".share-message")).toContainText("Link copied");
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(SHARE_LINK);

  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/name: "shared-ünïcode"/);
  await expect(other.locator("#setting-cni")).toHaveValue("ovn-kubernetes");

  const broken = await context.newPage();
  await broken.goto("./#share=" + "x".repeat(40));
  await expect(broken.locator(".banner")).toContainText("share link is damaged");
});

test("embed mode hides the chrome, and its full-page link keeps the state", async ({ page }) => {
  await page.goto("./?embed#example=waypoint");
  await expect(page.locator(".app-header")).toHaveCount(0);
  await expect(page.locator(".settings")).toHaveCount(0);
  await expect(finding(page, "AMB005")).toBeVisible();
  await showTab(page, "Paths");
  await expect(page.locator("svg.paths")).toBeVisible();
  // The example as it is: a link to it.
  const link = page.locator(".embed-bar a");
  await expect(link).toHaveAttribute("href", `http://127.0.0.1:${PORT}/#example=waypoint`);
  // Edited: a link that carries the text.
  const input = page.getByLabel("Manifests (YAML or JSON)");
  await input.fill((await input.inputValue()).replace("port: 9090", "port: 9091"));
  await expect(link).toHaveAttribute("href", SHARE_LINK);
  await page.goto(await link.getAttribute("href"));
  await expect(page.locator(".app-header")).toBeVisible();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/gatewayClassName: istio-waypoint[\s\S]*port: 9091/);
});

test("after one visit the page reloads and analyses with the network gone", async ({ page, context }) => {
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The first visit's page is not controlled yet; a reload is, and fills the cache.
  await page.reload();
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
  await context.setOffline(true);
  const started = Date.now();
  await page.reload();
  await page.selectOption("#examples", "seed-deny-ingress");
  await expect(finding(page, "AMB003")).toBeVisible();
  console.log(`offline reload to findings: ${Date.now() - started} ms`);
  // The rule documents and the lessons' text were kept too, though none was opened online.
  await expectAbout(page, "AMB003");
  await page.selectOption("#lessons", "probes");
  await expect(page.locator(".lesson .doc")).toContainText("Today");
  await context.setOffline(false);
});

test("print view: the findings and the corrected YAML, without the editor", async ({ page }) => {
  await page.goto("./#example=multi-namespace");
  await expect(page.locator(".finding").first()).toBeVisible();
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".editor")).toBeHidden();
  await expect(page.locator(".settings")).toBeHidden();
  await expect(page.locator(".findings")).toBeVisible();
  await expect(page.locator(".diff-text")).toBeVisible();
  const pdf = await page.pdf({ format: "A4" });
  expect(pdf.length).toBeGreaterThan(10_000);
});

test("measure: first load and offline reload (transfer and time)", async ({ page, context }) => {
  let bytes = 0;
  page.on("response", async (response) => {
    try {
      bytes += (await response.body()).length;
    } catch {}
  });
  const started = Date.now();
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  console.log(`first load: ${bytes} bytes transferred (uncompressed bodies), ${Date.now() - started} ms to findings`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
  await context.setOffline(true);
  const offline = Date.now();
  await page.reload();
  await expect(page.locator(".status")).toContainText("Analysed");
  console.log(`offline reload: ${Date.now() - offline} ms to findings`);
  await context.setOffline(false);
});

test("the page's assets have hashed names (cacheable), and the service worker lists them", async ({ page, request }) => {
  await page.goto("./");
  const html = await (await request.get("./")).text();
  expect(html).toMatch(/href="\.\/main-[0-9a-f]{12,16}\.css"/);
  expect(html).toMatch(/from '\.\/playground-[0-9a-f]{12,16}\.js'/);
  const sw = await (await request.get("./sw.js")).text();
  expect(sw).toMatch(/"\.\/playground-[0-9a-f]{12,16}_bg\.wasm"/);
  expect(sw).toMatch(/const CACHE = "ambient-netpol-[0-9a-f]{12}"/);
});

test.describe("when the page cannot start", () => {
  // The page's own requests, none answered by a service worker from an earlier test.
  test.use({ serviceWorkers: "block" });

  test("a browser without WebAssembly SIMD is told why, not shown a blank page", async ({ page }) => {
    // A browser without SIMD: its validator refuses any module with a SIMD instruction.
    await page.addInitScript(() => {
      const validate = WebAssembly.validate;
      WebAssembly.validate = (bytes) => !new Uint8Array(bytes).includes(253) && validate(bytes);
    });
    await page.goto("./");
    const banner = page.getByRole("alert");
    await expect(banner).toContainText("This browser cannot run the playground");
    await expect(banner).toContainText("WebAssembly with SIMD");
    await expect(banner).toContainText("ambient-netpol check");
  });

  test("a module that fails to download says so", async ({ page }) => {
    await page.route("**/*_bg.wasm", (route) => route.fulfill({ status: 404, body: "not found" }));
    await page.goto("./");
    const banner = page.getByRole("alert");
    await expect(banner).toContainText("The page could not start");
    await expect(banner).toContainText("Reload it to try again");
  });

  test("a page that starts shows no start banner, even after a later rejection", async ({ page }) => {
    await page.goto("./");
    await expect(page.locator(".status")).toContainText("Analysed");
    await page.evaluate(() => {
      Promise.reject(new Error("later"));
    });
    await page.waitForTimeout(200);
    await expect(page.locator(".banner.start")).toHaveCount(0);
  });
});
