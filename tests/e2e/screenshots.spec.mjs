// Writes the README's screenshots (docs/screenshots/) when SCREENSHOTS=1; skipped otherwise.
//   SCREENSHOTS=1 npx playwright test screenshots   (from tests/e2e, after a release build)
// SHOTS=<part of a name> writes only those (e.g. SHOTS=ingress-gateway).
import { test } from "@playwright/test";

const shots = [
  { name: "playground-1280-light", width: 1280, scheme: "light", example: "multi-namespace" },
  { name: "playground-1280-dark", width: 1280, scheme: "dark", example: "seed-hbone" },
  { name: "playground-400-light", width: 400, scheme: "light", example: "seed-hbone" },
  { name: "playground-400-dark", width: 400, scheme: "dark", example: "seed-deny-ingress" },
  { name: "ingress-gateway-1280", width: 1280, scheme: "light", example: "ingress-gateway" },
  { name: "ingress-gateway-400", width: 400, height: 800, scheme: "dark", example: "ingress-gateway" },
];

for (const shot of shots) {
  test(`screenshot ${shot.name}`, async ({ browser }) => {
    test.skip(!process.env.SCREENSHOTS, "set SCREENSHOTS=1 to write docs/screenshots");
    test.skip(!shot.name.includes(process.env.SHOTS ?? ""), `not in SHOTS=${process.env.SHOTS}`);
    const page = await browser.newPage({ viewport: { width: shot.width, height: shot.height ?? 900 }, colorScheme: shot.scheme });
    await page.goto("./");
    await page.selectOption("#examples", shot.example);
    await page.locator(".status", { hasText: "Analysed" }).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `../../docs/screenshots/${shot.name}.png`, fullPage: true });
    await page.close();
  });
}
