// The playground: examples, findings, paths, the corrected YAML, settings, autosave, safety and
// layout, in Debian's Chromium.
import { test, expect } from "@playwright/test";
import { guard } from "./guard.mjs";
import { editor, pasteAll } from "./editor.mjs";
import { finding, openGroup, showTab } from "./results.mjs";

async function loadExample(page, id) {
  await page.goto("./");
  await page.selectOption("#examples", id);
  await expect(page.locator(".status")).toContainText("Analysed");
}

test("seed 1: AMB001, a blocked HBONE edge, and a diff that adds 15008 and keeps 9090", async ({ page }) => {
  const problems = guard(page);
  await loadExample(page, "seed-hbone");
  await expect(finding(page, "AMB001", "error")).toBeVisible();
  await showTab(page, "Paths");
  const blocked = page.locator(".edge.hbone.blocked");
  await expect(blocked.first()).toBeVisible();
  await expect(blocked.first()).toContainText("15008/TCP");
  await showTab(page, "Corrected YAML");
  const diff = page.locator(".diff-text");
  await expect(diff.locator(".add", { hasText: "- port: 15008" })).toBeVisible();
  await expect(diff).toContainText("port: 9090");
  await expect(diff.locator(".del")).toHaveCount(0);
  // After the fix the tunnel is open.
  await showTab(page, "Paths");
  await page.getByRole("button", { name: "After the fix" }).click();
  await expect(page.locator(".edge.hbone.allowed").first()).toBeVisible();
  await expect(page.locator(".edge.hbone.blocked")).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("seed 3: the deny-all blocks probes; Cilium makes it an error and the fix admits the SNAT address", async ({ page }) => {
  await loadExample(page, "seed-deny-ingress");
  await expect(finding(page, "AMB003", "warning")).toBeVisible();
  await showTab(page, "Paths");
  await expect(page.locator(".edge.probe.blocked")).toBeVisible();
  await showTab(page, "Corrected YAML");
  await expect(page.locator(".diff-text .add", { hasText: "cidr: 169.254.7.127/32" })).toBeVisible();
  await page.selectOption("#setting-cni", "cilium");
  await expect(page.locator(".extra summary", { hasText: "CiliumClusterwideNetworkPolicy" })).toBeVisible();
  await showTab(page, "Findings");
  await expect(finding(page, "AMB003", "error")).toBeVisible();
  // istio-cni's useHostIPForProbeSnat: the probes keep the node's IP.
  await page.locator("#setting-host-ip").check();
  await expect(finding(page, "AMB003")).toHaveCount(0);
});

test("seeds 2 and 4 have no error", async ({ page }) => {
  for (const id of ["seed-hbone-corrected", "seed-allow-probes"]) {
    await loadExample(page, id);
    await expect(page.locator(".count.error")).toHaveText("0 errors");
  }
});

test("teaching examples show their finding", async ({ page }) => {
  for (const [id, code] of [["egress", "AMB002"], ["waypoint", "AMB005"], ["named-probe-port", "AMB003"], ["multi-namespace", "AMB001"]]) {
    await loadExample(page, id);
    await expect(finding(page, code).first()).toBeVisible();
  }
});

test("copy and download give the fixed YAML", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await loadExample(page, "seed-hbone");
  await showTab(page, "Corrected YAML");
  await page.locator("#copy-fixed").click();
  await expect(page.locator(".fix-note")).toHaveText("Fixed YAML copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain("- port: 15008");
  expect(copied).toContain("- port: 9090");
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download-fixed").click()]);
  expect(download.suggestedFilename()).toBe("fixed.yaml");
  const fs = await import("node:fs/promises");
  expect(await fs.readFile(await download.path(), "utf8")).toBe(copied);
  const [diff] = await Promise.all([page.waitForEvent("download"), page.locator("#download-diff").click()]);
  expect(await fs.readFile(await diff.path(), "utf8")).toMatch(/^--- a\/playground.yaml\n\+\+\+ b\/playground.yaml\n@@/);
});

test("a reload keeps the text and the settings; Reset restores the example", async ({ page }) => {
  await page.goto("./");
  await editor(page).fill("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kept\n");
  await page.selectOption("#setting-cni", "calico");
  await expect.poll(() => page.evaluate(() => localStorage.getItem("ambient-netpol.text"))).toContain("name: kept");
  await page.reload();
  await expect(editor(page)).toHaveValue(/name: kept/);
  await expect(page.locator("#setting-cni")).toHaveValue("calico");
  await page.locator("#reset").click();
  await expect(editor(page)).toHaveValue(/port: 9090/);
  await expect(page.locator("#setting-cni")).toHaveValue("generic");
});

test("markup in the YAML stays text, in findings and in the diagram", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  const hostile = "<img src=x onerror=window.pwned=1>";
  await editor(page).fill(`apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "${hostile}"
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: "${hostile}"
  ingress:
  - ports:
    - port: 9090
`);
  await expect(finding(page, "AMB001")).toBeVisible();
  await expect(page.locator(".finding").first()).toContainText(hostile);
  await expect(page.locator("svg.paths")).toContainText("img src");
  expect(await page.locator("img").count()).toBe(0);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();
  expect(problems).toEqual([]);
});

test("no horizontal overflow at 400 px", async ({ page }) => {
  await page.setViewportSize({ width: 400, height: 800 });
  // seed-hbone: a finding's subject longer than the panel ends in an ellipsis.
  for (const id of ["multi-namespace", "seed-hbone"]) {
    await loadExample(page, id);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, id).toBeLessThanOrEqual(0);
  }
});

test("the keyboard reaches every main action", async ({ page }) => {
  await loadExample(page, "seed-hbone");
  // Tab from the top: examples, lessons, reset, share, theme, the settings (its summary, then each), then the editor
  // (no Tab past it: in the editor, Tab indents the text).
  await page.locator("#examples").focus();
  const order = [];
  for (let i = 0; i < 16; i++) {
    await page.keyboard.press("Tab");
    order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className || document.activeElement.tagName));
    if (order.at(-1) === "yaml-input") break;
  }
  for (const id of ["reset", "theme", "setting-cni", "setting-mode", "setting-fix-style", "setting-snat", "setting-host-ip", "setting-proxy-hbone", "yaml-input"]) {
    expect(order).toContain(id);
  }
  // A finding's line button moves the editor; Enter works like a click.
  await page.locator(".finding.error .line").focus();
  await page.keyboard.press("Enter");
  await expect(editor(page)).toBeFocused();
  // A diagram edge takes focus and explains itself.
  await showTab(page, "Paths");
  await page.locator(".edge.hbone").first().focus();
  await expect(page.locator(".edge-explanation")).toContainText("HBONE tunnel");
  // The theme toggle cycles with the keyboard.
  await page.locator("#theme").focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
});

test("dropped and opened files load, several as several documents", async ({ page }) => {
  await page.goto("./");
  const a = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dropped-a\n";
  const b = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dropped-b\n";
  const transfer = await page.evaluateHandle(([a, b]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([a], "a.yaml", { type: "text/yaml" }));
    dt.items.add(new File([b], "b.yaml", { type: "text/yaml" }));
    return dt;
  }, [a, b]);
  await page.locator(".editor-body").dispatchEvent("drop", { dataTransfer: transfer });
  await expect(editor(page)).toHaveValue(/# a.yaml\n[\s\S]*name: dropped-a\n---\n# b.yaml\n[\s\S]*name: dropped-b/);
  await expect(page.locator(".status")).toContainText("Analysed 2 objects in 2 documents");

  // A Windows file (CRLF): its lines are the editor's lines, and typing works after it.
  const crlf = a.replace("dropped-a", "opened-c").replaceAll("\n", "\r\n");
  await page.locator("#file-input").setInputFiles({ name: "c.yaml", mimeType: "text/yaml", buffer: Buffer.from(crlf) });
  await expect(editor(page)).toHaveValue("# c.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: opened-c\n");
  await expect(page.locator(".status")).toContainText("Analysed 1 object in 1 document");
  await editor(page).press("Control+End");
  await page.keyboard.type("  labels: {a: b}\n");
  await expect(editor(page)).toHaveValue(/name: opened-c\n  labels: \{a: b\}\n$/);
  await page.locator("#clear").click();
  await expect(editor(page)).toHaveValue("");
});

test("Tab indents in the editor, Esc then Tab leaves it; finding lines are marked in the gutter", async ({ page }) => {
  await loadExample(page, "seed-hbone");
  await expect(page.locator(".gutter .marker.error")).toHaveCount(1);
  const top = await page.locator(".gutter .marker.error").evaluate((el) => parseFloat(el.style.top));
  expect(top).toBeCloseTo(8 + 4 * 19.5, 0); // line 5
  await editor(page).click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("Tab");
  await expect(editor(page)).toHaveValue(/^  apiVersion/);
  await expect(editor(page)).toBeFocused();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  await expect(editor(page)).not.toBeFocused();
});

test("the Content-Security-Policy allows the page and its worker, and no foreign connection", async ({ page }) => {
  const violations = [];
  await page.exposeFunction("reportViolation", (v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await loadExample(page, "multi-namespace");
  await expect(finding(page, "AMB001")).toBeVisible();
  expect(violations).toEqual([]);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("default-src 'none'");
  // A script that tried to send the text away (here to another origin on loopback) is stopped.
  const outcome = await page.evaluate(() => fetch("http://127.0.0.2:9/steal").then(() => "sent", () => "blocked"));
  expect(outcome).toBe("blocked");
  await expect.poll(() => violations.some((v) => v.startsWith("connect-src"))).toBe(true);
});

test("side by side, the corrected YAML lines up with the input", async ({ page }) => {
  await loadExample(page, "seed-hbone");
  await showTab(page, "Corrected YAML");
  await page.locator("#side-by-side").check();
  const added = page.locator(".side-by-side .row", { has: page.locator("pre.add", { hasText: "- port: 15008" }) });
  await expect(added).toHaveCount(1);
  await expect(added.locator("pre.gap")).toHaveCount(1);
  const context = page.locator(".side-by-side .row", { has: page.locator("pre.ctx", { hasText: "- port: 9090" }) });
  await expect(context.locator("pre.ctx")).toHaveCount(2);
});

test.describe("accessibility", () => {
  // axe-core is injected as a script, which the page's own CSP rightly forbids.
  test.use({ bypassCSP: true });

  test("accessibility: no axe-core violation (contrast, labels, roles) in light and dark", async ({ page }) => {
    const { createRequire } = await import("node:module");
    const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await loadExample(page, "multi-namespace");
      await expect(finding(page, "AMB001")).toBeVisible();
      await page.addScriptTag({ path: axePath });
      const result = await page.evaluate(async () =>
        // The textarea's own text is transparent on purpose (the highlight layer draws it).
        window.axe.run(document, { exclude: [["#yaml-input"]], resultTypes: ["violations"] }),
      );
      const violations = result.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
      expect(violations, scheme).toEqual([]);
    }
  });
});

test("the gutter numbers only the lines on screen, level with the text", async ({ page }) => {
  await page.goto("./");
  const lines = Array.from({ length: 3000 }, (_, i) => `# line ${i + 1}`);
  await pasteAll(page, lines.join("\n") + "\n");
  await page.locator(".editor-body").evaluate((s) => (s.scrollTop = 19.5 * 1234));
  const numbers = page.locator(".gutter pre");
  await expect(numbers).toContainText("1235");
  const shown = (await numbers.textContent()).trim().split("\n").map(Number);
  expect(shown.length).toBeLessThan(60);
  const top = await page.locator(".editor-body").evaluate((s) => s.scrollTop);
  expect(shown[0]).toBe(Math.floor((top - 8) / 19.5) + 1);
  // Each number sits level with its line of text.
  const [number, line] = await Promise.all([numbers.boundingBox(), page.locator(".highlight").boundingBox()]);
  expect(Math.abs(number.y - line.y)).toBeLessThan(1);
  await expect(page.locator(".highlight .hl-line").first()).toHaveText(`# line ${shown[0]}`);
  // The gutter is as wide as the largest number, not only the ones drawn.
  const gutter = await page.locator(".gutter").boundingBox();
  await editor(page).fill("a: 1\n");
  expect((await page.locator(".gutter").boundingBox()).width).toBeLessThan(gutter.width);
});

test("long lists show the first 50 findings of a group and the first 400 diff lines, and all on request", async ({ page }) => {
  // 60 namespaces with one port-restricted policy each: 60 AMB001 errors, a long diff.
  const text = Array.from(
    { length: 60 },
    (_, i) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: ns-${i}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {}}]
    ports:
    - port: 8080
---
`,
  ).join("");
  await page.goto("./");
  await editor(page).evaluate((el, value) => {
    el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, text);
  await expect(page.locator(".counts .error")).toHaveText("60 errors");
  const errors = page.locator(".finding.error");
  await expect(errors).toHaveCount(50);
  const more = page.locator('.finding-group[data-code="AMB001"]').getByRole("button", { name: "Show 10 more" });
  await more.focus();
  await page.keyboard.press("Enter");
  await expect(errors).toHaveCount(60);
  await expect(more).toHaveCount(0);

  await showTab(page, "Corrected YAML");
  const diffLines = page.locator(".diff-text > span");
  await expect(diffLines).toHaveCount(400);
  const whole = page.getByRole("button", { name: /Show the whole diff \(\d+ more lines\)/ });
  const total = 400 + Number(/\((\d+) more/.exec(await whole.textContent())[1]);
  await whole.click();
  await expect(diffLines).toHaveCount(total);
  // One AuthorizationPolicy per destination: 20 drawn, the rest on request.
  const extras = page.locator(".extra");
  await expect(extras).toHaveCount(20);
  await page.getByRole("button", { name: "Show 40 more extra documents" }).click();
  await expect(extras).toHaveCount(60);
  // Copy and download always carry everything, whatever is drawn.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-diff")]);
  const diff = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  expect(diff.split("\n").filter((l) => l !== "").length).toBe(total);
});

test("an extra document follows the edit that changes it under the same name", async ({ page }) => {
  await loadExample(page, "seed-hbone");
  await showTab(page, "Corrected YAML");
  const extra = page.locator(".extra-text").first();
  await expect(extra).toContainText('"9090"');
  await editor(page).fill((await editor(page).inputValue()).replace("port: 9090", "port: 9091"));
  await expect(extra).toContainText('"9091"');
  await expect(extra).not.toContainText('"9090"');
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("#download-extras"),
  ]);
  const yaml = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  expect(yaml).toContain('"9091"');
});

test("files pasted without `---`: INP006 says so and one click inserts the separators", async ({ page }) => {
  const problems = guard(page);
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  const two = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
# the second file
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports:
    - port: 9090
`;
  await pasteAll(page, two);
  const group = page.locator('.finding-group[data-code="INP006"]');
  await expect(group).toBeVisible();
  await expect(group.locator(".finding .line")).toHaveText("line 6");
  // Both objects are analysed although the separator is missing: the policy's AMB001 is there.
  await expect(finding(page, "AMB001")).toHaveCount(1);
  await group.getByRole("button", { name: /Insert the missing/ }).click();
  await expect(editor(page)).toHaveValue(/name: shop\n---\n# the second file\napiVersion: networking/);
  await expect(group).toHaveCount(0);
  await expect(finding(page, "AMB001")).toHaveCount(1);
  // Undoable like any outside edit.
  await editor(page).press("Control+z");
  await expect(editor(page)).toHaveValue(two);
  expect(problems).toEqual([]);
});
