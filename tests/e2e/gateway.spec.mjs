// Istio gateways send HBONE to ambient pods (issue 13): the ingress-gateway example, the gateway
// node in the diagram, and the "Istio proxies send HBONE" setting (ENABLE_HBONE), which a
// reload and a share link keep.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { editor } from "./editor.mjs";
import { finding, openGroup, showTab } from "./results.mjs";

async function loadExample(page, id) {
  await page.goto("./");
  await page.selectOption("#examples", id);
  await expect(page.locator(".status")).toContainText("Analysed");
}

const setting = (page) => page.locator("#setting-proxy-hbone");

test("the ingress-gateway example: AMB001 on the policy's rule and a gateway node whose tunnel is blocked", async ({ page }) => {
  const problems = guard(page);
  await loadExample(page, "ingress-gateway");
  await expect(editor(page)).toHaveValue(/name: istio-ingressgateway/);
  await expect(setting(page)).toBeChecked();
  const amb001 = finding(page, "AMB001", "error");
  await expect(amb001).toHaveCount(1);
  await expect(amb001.locator(".line")).toHaveText("line 75");
  await openGroup(page, "AMB008");
  await expect(finding(page, "AMB008", "info")).toBeVisible();

  await showTab(page, "Paths");
  // The gateway is a node of its own kind: class, shape, marker, legend.
  const gateway = page.locator("svg.paths .node.gateway");
  await expect(gateway).toHaveCount(1);
  await expect(gateway).toContainText("istio-ingressgateway");
  await expect(gateway).toContainText("Istio gateway proxy");
  await expect(gateway.locator("path.shape")).toHaveCount(1);
  await expect(gateway).not.toHaveClass(/\bambient\b/);
  await expect(page.locator(".legend-node.gateway")).toContainText("Istio gateway proxy");

  // After enrolling: the gateway's tunnel to frontend (15008) is blocked by the frontend policy.
  const blocked = page.locator(".edge.hbone.blocked");
  await expect(blocked).toHaveCount(1);
  await expect(blocked).toContainText("15008/TCP");
  await expect(blocked).toHaveAttribute("aria-label", /from istio-ingress\/istio-ingressgateway to shop\/frontend/);
  // The fix adds 15008 to that rule; after it the tunnel is open.
  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: "- port: 15008" })).toBeVisible();
  await expect(page.locator(".diff-text .del")).toHaveCount(0);
  await showTab(page, "Paths");
  await page.getByRole("button", { name: "After the fix" }).click();
  await expect(page.locator(".edge.hbone.blocked")).toHaveCount(0);
  await expect(page.locator(".edge.hbone.allowed").first()).toBeVisible();
  // Today: plain NetworkPolicy, the gateway reaches frontend on 8080.
  await page.getByRole("button", { name: "Today" }).click();
  await expect(page.locator(".edge.app.allowed").first()).toContainText("8080");
  expect(problems).toEqual([]);
});

test("the gateway node takes keyboard focus and says what it is", async ({ page }) => {
  await loadExample(page, "ingress-gateway");
  await showTab(page, "Paths");
  const gateway = page.locator("svg.paths .node.gateway");
  await expect(gateway).toHaveAttribute("tabindex", "0");
  await expect(gateway).toHaveAttribute("aria-label", /Istio gateway proxy, not captured by ambient/);
  await gateway.focus();
  await expect(gateway).toBeFocused();
  await expect(page.locator(".edge-explanation")).toContainText("istio-ingress/istio-ingressgateway: Istio gateway proxy");
  // Every node does the same: the app's pods say they are enrolled.
  await page.locator("svg.paths .node.workload", { hasText: "frontend" }).focus();
  await expect(page.locator(".edge-explanation")).toContainText("shop/frontend: workload, in the ambient mesh");
  // Tab goes on from a node to the next node or path.
  await page.keyboard.press("Tab");
  await expect(page.locator("svg.paths :is(.node, .edge):focus")).toHaveCount(1);
});

test("unticking 'Istio proxies send HBONE' removes AMB001, and a reload keeps it unticked", async ({ page }) => {
  await loadExample(page, "ingress-gateway");
  await expect(finding(page, "AMB001")).toHaveCount(1);
  await setting(page).uncheck();
  await expect(finding(page, "AMB001")).toHaveCount(0);
  // Once enrolled the gateway keeps 8080: no tunnel is drawn, its plain path is, and says why.
  await showTab(page, "Paths");
  await expect(page.locator(".edge.hbone")).toHaveCount(0);
  const plain = page.locator(".edge.app.allowed");
  await expect(plain).toHaveCount(1);
  await expect(plain).toContainText("TCP 8080");
  await plain.focus();
  await expect(page.locator(".edge-explanation")).toContainText("not tunneled once enrolled: it keeps TCP 8080");
  await expect.poll(() => page.evaluate(() => localStorage.getItem("ambient-netpol.settings"))).toContain("proxyhbone=0");

  await page.reload();
  await expect(page.locator(".status")).toContainText("Analysed");
  await expect(editor(page)).toHaveValue(/name: istio-ingressgateway/);
  await expect(setting(page)).not.toBeChecked();
  await expect(finding(page, "AMB001")).toHaveCount(0);

  // Ticked again: the gateway tunnels, AMB001 is back; Reset restores the default (on).
  await setting(page).check();
  await expect(finding(page, "AMB001")).toHaveCount(1);
  await setting(page).uncheck();
  await page.locator("#reset").click();
  await expect(setting(page)).toBeChecked();
});

test("a share link carries the setting to a browser that never saw it", async ({ page, context, browser }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await loadExample(page, "ingress-gateway");
  await setting(page).uncheck();
  await expect(finding(page, "AMB001")).toHaveCount(0);
  await page.locator("#share").click();
  await expect(page.locator(".share-message")).toContainText("Link copied");
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toContain("#share=");

  // A fresh context: no local storage, so what it shows comes from the link.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  await expect(other.locator(".status")).toContainText("Analysed");
  await expect(editor(other)).toHaveValue(/name: istio-ingressgateway/);
  await expect(other.locator("#setting-proxy-hbone")).not.toBeChecked();
  await expect(finding(other, "AMB008")).toHaveCount(1);
  await expect(finding(other, "AMB001")).toHaveCount(0);
  await fresh.close();
  // Without the link, a browser starts with the default: on.
  const another = await browser.newContext();
  const plain = await another.newPage();
  await plain.goto(link.split("#")[0] + "#example=ingress-gateway");
  await expect(plain.locator("#setting-proxy-hbone")).toBeChecked();
  await expect(finding(plain, "AMB001")).toHaveCount(1);
  await another.close();
});

test.describe("accessibility", () => {
  // axe-core is injected as a script, which the page's own CSP rightly forbids.
  test.use({ bypassCSP: true });

  test("the gateway node and its legend pass axe-core (contrast, names, roles) in light and dark", async ({ page }) => {
    const { createRequire } = await import("node:module");
    const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await loadExample(page, "ingress-gateway");
      await showTab(page, "Paths");
      await expect(page.locator("svg.paths .node.gateway")).toHaveCount(1);
      await page.addScriptTag({ path: axePath });
      const result = await page.evaluate(async () =>
        window.axe.run([".diagram", ".settings"], { resultTypes: ["violations"] }),
      );
      const violations = result.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
      expect(violations, scheme).toEqual([]);
    }
  });
});
