// Cilium's and Calico's own policies (issues 19 and 20): each example sets its CNI, its findings
// name the CNI's policy and rule, the blocked tunnel is drawn with the rule that decides it, and
// the corrected YAML adds 15008 in the CNI's own shape.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { editor } from "./editor.mjs";
import { finding, showTab } from "./results.mjs";

test("Cilium: the example sets the CNI, AMB009 on the L7 rule, 15008 added as a toPorts entry", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  await expect(page.locator("#setting-cni")).toHaveValue("generic");
  await page.selectOption("#examples", "cilium-l7");
  await expect(page.locator("#setting-cni")).toHaveValue("cilium");
  await expect(editor(page)).toHaveValue(/kind: CiliumNetworkPolicy/);
  await expect(page.locator(".status")).toContainText("Analysed");

  await expect(finding(page, "AMB001", "error")).toContainText("CiliumNetworkPolicy shop/backend-api");
  await expect(finding(page, "AMB009", "warning")).toContainText("L7 rules (http)");
  // On Cilium the SNAT address is `world`: the probe finding says so.
  await expect(finding(page, "AMB003", "error")).toContainText("shop/backend");

  await showTab(page, "Paths");
  const blocked = page.locator(".edge.hbone.blocked");
  await expect(blocked).toHaveCount(1);
  await blocked.focus();
  await expect(page.locator(".diagram-details")).toContainText("CiliumNetworkPolicy");

  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: 'port: "15008"' })).toBeVisible();
  await expect(page.locator(".diff-text .add", { hasText: "169.254.7.127/32" })).toBeVisible();
  await expect(page.locator(".diff-text .del")).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("Calico: the example sets the CNI, AMB001 names the Allow and the later Deny, 15008 added to the Allow rule", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  await page.selectOption("#examples", "calico-ordered");
  await expect(page.locator("#setting-cni")).toHaveValue("calico");
  await expect(editor(page)).toHaveValue(/kind: GlobalNetworkPolicy/);
  await expect(page.locator(".status")).toContainText("Analysed");

  const amb001 = finding(page, "AMB001", "error");
  await expect(amb001).toHaveCount(1);
  await expect(amb001).toContainText("api-allow-frontend");
  await expect(amb001).toContainText("shop-deny-rest");

  await showTab(page, "Paths");
  const blocked = page.locator(".edge.hbone.blocked");
  await expect(blocked).toHaveCount(1);
  await blocked.focus();
  await expect(page.locator(".diagram-details")).toContainText("Calico GlobalNetworkPolicy `shop-deny-rest` (tier `default`, order 300) ingress rule 2 (Deny)");

  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: "- 15008" })).toBeVisible();
  await expect(page.locator(".diff-text .del")).toHaveCount(0);
  await showTab(page, "Paths");
  await page.getByRole("button", { name: "After the fix" }).click();
  await expect(page.locator(".edge.hbone.blocked")).toHaveCount(0);
  expect(problems).toEqual([]);
});
