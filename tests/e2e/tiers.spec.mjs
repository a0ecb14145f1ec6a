// Cluster-wide policies (issue 17): the example "A cluster-wide guard rail blocks HBONE", its
// finding on the ClusterNetworkPolicy's rule, the blocked tunnel naming the rule that decides it,
// and the fix in the ClusterNetworkPolicy's own shape.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { editor } from "./editor.mjs";
import { finding, showTab } from "./results.mjs";

test("a ClusterNetworkPolicy guard rail: the finding, the deciding rule on the path, and the fix", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  await page.selectOption("#examples", "cluster-guard-rail");
  await expect(page.locator(".status")).toContainText("Analysed");
  await expect(editor(page)).toHaveValue(/kind: ClusterNetworkPolicy/);

  const amb001 = finding(page, "AMB001", "error");
  await expect(amb001).toHaveCount(1);
  await expect(amb001).toContainText("shop-guard");

  await showTab(page, "Paths");
  const blocked = page.locator(".edge.hbone.blocked");
  await expect(blocked).toHaveCount(1);
  await expect(blocked).toHaveAttribute("aria-label", /from web\/frontend to shop\/api/);
  await blocked.focus();
  const details = page.locator(".diagram-details");
  await expect(details).toContainText("ClusterNetworkPolicy `shop-guard` (Admin tier, priority 10) ingress rule 2 (`deny-web`)");
  await expect(details.locator(".detail-finding .code")).toHaveText("AMB001");

  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: "number: 15008" })).toBeVisible();
  await expect(page.locator(".diff-text .del")).toHaveCount(0);
  await showTab(page, "Paths");
  await page.getByRole("button", { name: "After the fix" }).click();
  await expect(page.locator(".edge.hbone.blocked")).toHaveCount(0);
  expect(problems).toEqual([]);
});
