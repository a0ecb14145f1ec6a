// Writes the README's screenshots (docs/screenshots/) when SCREENSHOTS=1; skipped otherwise.
//   SCREENSHOTS=1 npx playwright test screenshots   (from tests/e2e, after a release build)
// SHOTS=<part of a name> writes only those (e.g. SHOTS=ingress-gateway).
import { test, expect } from "@playwright/test";
import { pasteAll } from "./editor.mjs";
import { appText } from "./apps.mjs";
import { showTab } from "./results.mjs";

const shots = [
  { name: "playground-1280-light", width: 1280, scheme: "light", example: "multi-namespace" },
  { name: "playground-1280-dark", width: 1280, scheme: "dark", example: "seed-hbone" },
  { name: "playground-400-light", width: 400, scheme: "light", example: "seed-hbone" },
  { name: "playground-400-dark", width: 400, scheme: "dark", example: "seed-deny-ingress" },
  { name: "ingress-gateway-1280", width: 1280, scheme: "light", example: "ingress-gateway" },
  { name: "ingress-gateway-400", width: 400, height: 800, scheme: "dark", example: "ingress-gateway" },
  // Real applications (tests/data/realworld), pasted whole: the first screen, as a user sees it.
  { name: "online-boutique-1280", width: 1280, scheme: "light", app: "online-boutique", screen: true },
  { name: "online-boutique-paths-1280", width: 1280, scheme: "light", app: "online-boutique", tab: "Paths", screen: true },
  { name: "online-boutique-400", width: 400, scheme: "light", app: "online-boutique" },
  { name: "kube-prometheus-1280", width: 1280, scheme: "dark", app: "kube-prometheus", screen: true },
  { name: "kube-prometheus-paths-1280", width: 1280, scheme: "dark", app: "kube-prometheus", tab: "Paths", screen: true },
  { name: "kube-prometheus-400", width: 400, scheme: "dark", app: "kube-prometheus" },
  // The CNIs' own policies: Cilium's findings, Calico's blocked tunnel and the rule that blocks it.
  { name: "cilium-l7-1280", width: 1280, scheme: "light", example: "cilium-l7", screen: true },
  { name: "calico-ordered-paths-1280", width: 1280, scheme: "light", example: "calico-ordered", tab: "Paths", screen: true },
  // The HBONE lesson's exercise: 9090 replaced by 15008 (AMB001 is gone, and it is not the fix),
  // then the fix.
  { name: "exercise-refused-1280", width: 1280, height: 1000, scheme: "light", lesson: "hbone", edit: ["port: 9090", "port: 15008"], verdict: ".exercise.todo", screen: true },
  { name: "exercise-done-1280", width: 1280, height: 1000, scheme: "light", lesson: "hbone", edit: ["      protocol: TCP\n", "      protocol: TCP\n    - port: 15008\n      protocol: TCP\n"], verdict: ".exercise.done", screen: true },
];

for (const shot of shots) {
  test(`screenshot ${shot.name}`, async ({ browser }) => {
    test.skip(!process.env.SCREENSHOTS, "set SCREENSHOTS=1 to write docs/screenshots");
    test.skip(!shot.name.includes(process.env.SHOTS ?? ""), `not in SHOTS=${process.env.SHOTS}`);
    const page = await browser.newPage({ viewport: { width: shot.width, height: shot.height ?? 900 }, colorScheme: shot.scheme });
    await page.goto("./");
    if (shot.lesson) {
      await page.goto(`./#lesson=${shot.lesson}&step=4`);
      await expect(page.locator(".exercise.todo")).toBeVisible();
      const text = await page.getByLabel("Manifests (YAML or JSON)").inputValue();
      await page.getByLabel("Manifests (YAML or JSON)").fill(text.replace(...shot.edit));
      await expect(page.locator(shot.verdict)).toBeVisible();
    } else if (shot.app) {
      await expect(page.locator(".status")).toContainText("Analysed");
      await pasteAll(page, appText(shot.app));
      await expect(page.locator(".status")).toContainText(/Analysed \d{2,} objects/);
      // The editor at its first line, as after opening the files.
      await page.getByLabel("Manifests (YAML or JSON)").press("Control+Home");
    } else {
      await page.selectOption("#examples", shot.example);
      await page.locator(".status", { hasText: "Analysed" }).waitFor();
    }
    if (shot.tab) await showTab(page, shot.tab);
    await page.waitForTimeout(300);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `../../docs/screenshots/${shot.name}.png`, fullPage: !shot.screen });
    await page.close();
  });
}

// An embed as a docs page shows it (EMBEDDING.md): a light page with a 700x500 frame, the
// reader's system dark; `theme=light` keeps the embed as light as the page.
test("screenshot embed-700x500-light", async ({ browser }) => {
  const name = "embed-700x500-light";
  test.skip(!process.env.SCREENSHOTS, "set SCREENSHOTS=1 to write docs/screenshots");
  test.skip(!name.includes(process.env.SHOTS ?? ""), `not in SHOTS=${process.env.SHOTS}`);
  const port = Number(process.env.E2E_PORT || 4173);
  const context = await browser.newContext({ viewport: { width: 820, height: 780 }, colorScheme: "dark" });
  // The docs page here is the test's own (not from a server on loopback): let it frame one.
  await context.grantPermissions(["local-network-access"]);
  const page = await context.newPage();
  const docs = `<!doctype html><html lang="en"><title>Ambient and NetworkPolicy</title>
    <body style="margin: 0; background: #fff; color: #222; font: 16px/1.6 Georgia, serif">
    <main style="width: 700px; margin: 0 auto; padding: 24px 0">
    <h1 style="font-size: 26px; margin: 0 0 8px">Ambient and Kubernetes NetworkPolicy</h1>
    <p style="margin: 0 0 16px">Once a namespace is enrolled, ztunnel carries traffic to its pods as HBONE on port 15008.
    A policy that admits only the application's port blocks it. Edit the policy below and watch the finding go.</p>
    <iframe src="http://127.0.0.1:${port}/?embed=1&amp;theme=light#example=seed-hbone"
      title="ambient-netpol: the example Seed 1" style="width: 100%; height: 500px; border: 1px solid #ccc" loading="lazy"></iframe>
    <p style="margin: 12px 0 0; color: #555">The playground runs in your browser; nothing is uploaded.</p>
    </main></body></html>`;
  await page.route("**/guide.html", (route) => route.fulfill({ contentType: "text/html", body: docs }));
  await page.goto(`http://127.0.0.1:${port + 1}/guide.html`);
  await expect(page.frameLocator("iframe").locator(".summary")).toContainText("Once enrolled");
  await page.waitForTimeout(300);
  await page.screenshot({ path: `../../docs/screenshots/${name}.png` });
  await context.close();
});
