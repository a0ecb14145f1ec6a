// dist/ is static files that work from any sub-path, and deep links open one example.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";

const SUB_PATH = "http://127.0.0.1:4174/docs/ambient-netpol/";

test("the build served from a sub-path works, worker included", async ({ page }) => {
  const problems = guard(page);
  await page.goto(SUB_PATH);
  await expect(page.locator(".status")).toContainText("Analysed 1 objects");
  await expect(page.locator(".finding").first()).toBeVisible();
  expect(problems).toEqual([]);
});

test("#example=<id> opens that example", async ({ page }) => {
  await page.goto("./#example=waypoint");
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/gatewayClassName: istio-waypoint/);
  await expect(page.locator(".finding .code", { hasText: /^AMB005$/ })).toBeVisible();
});

test("a deep link asks before replacing work the visitor saved", async ({ page }) => {
  await page.goto("./");
  await page.getByLabel("Manifests (YAML or JSON)").fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my-work\n");
  await expect.poll(() => page.evaluate(() => localStorage.getItem("ambient-netpol.text"))).toContain("my-work");
  page.once("dialog", (dialog) => dialog.dismiss());
  await page.goto("./#example=egress");
  await page.reload();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/name: my-work/);
  page.once("dialog", (dialog) => dialog.accept());
  await page.reload();
  await expect(page.getByLabel("Manifests (YAML or JSON)")).toHaveValue(/client-egress/);
});
