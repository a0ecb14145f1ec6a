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
