// Istio's security policy (issue 18): the examples "Coming from sidecars" (AMB010) and "STRICT
// mTLS refuses a client outside the mesh" (AMB012). The CNI lets these connections through, so
// the diagram draws them refused by ztunnel (dotted, not dashed), names the policy that refuses
// them, and links the finding.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { editor } from "./editor.mjs";
import { finding, showTab } from "./results.mjs";

// The sidecar-era policy's fix edits it (targetRefs to the Service and a waypoint): its refused
// path is one the fix opens. STRICT mTLS has no automatic fix: its path stays refused.
for (const { example, code, from, to, policy, kind, status } of [
  { example: "sidecar-l7", code: "AMB010", from: "shop/web", to: "shop/api", policy: "AuthorizationPolicy shop/api-readers", kind: "hbone", status: "fixed" },
  { example: "strict-mtls", code: "AMB012", from: "ingress-nginx/ingress-nginx-controller", to: "shop/web", policy: "PeerAuthentication istio-system/default", kind: "app", status: "refused" },
]) {
  test(`${example}: ${code}, and the path the CNI lets through drawn refused by ztunnel`, async ({ page }) => {
    const problems = guard(page);
    await page.goto("./");
    await page.selectOption("#examples", example);
    await expect(page.locator(".status")).toContainText("Analysed");
    await expect(editor(page)).toHaveValue(/security\.istio\.io/);
    await expect(finding(page, code, "error")).toHaveCount(1);

    await showTab(page, "Paths");
    await page.getByRole("button", { name: "After enrolling" }).click();
    const refused = page.locator(`.edge.${kind}.blocked.by-ztunnel.status-${status}`);
    await expect(refused).toHaveCount(1);
    await expect(refused).toHaveAttribute("aria-label", new RegExp(`from ${from} to ${to}`));
    // Drawn unlike a CNI-blocked path: dotted.
    const dashes = await refused.locator(".line").evaluate((el) => getComputedStyle(el).strokeDasharray);
    expect(dashes).toMatch(/^1\.5px,? 4px$/);
    await refused.focus();
    const details = page.locator(".diagram-details");
    await expect(details).toContainText("ztunnel refuses it");
    await expect(details).toContainText(policy);
    await expect(details.locator(".detail-finding .code")).toHaveText(code);
    // The CNI-blocked style stays the CNI's: nothing here is blocked by a NetworkPolicy.
    await expect(page.locator(".edge.blocked:not(.by-ztunnel)")).toHaveCount(0);
    await expect(page.locator(".legend-item.refused")).toHaveText("refused by ztunnel");
    expect(problems).toEqual([]);
  });
}
