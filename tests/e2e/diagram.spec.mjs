// The path diagram at real-application scale (issue 15): Online Boutique and kube-prometheus
// (tests/data/realworld) pasted whole, at 1280 x 900 and at 400 px: labels never overlap, every
// blocked path of the findings is an edge that explains itself and leads to its finding, the
// keyboard reaches every edge, zoom and filters work, axe-core stays clean; the matrix for
// more workloads than a drawing can hold.
import { readFileSync } from "node:fs";
import { test, expect } from "@playwright/test";
import { appText } from "./apps.mjs";
import { guard } from "./guard.mjs";
import { editor, pasteAll } from "./editor.mjs";
import { bigCluster, guardedCluster } from "./clusters.mjs";
import { showTab } from "./results.mjs";

const APPS = { "online-boutique": appText("online-boutique"), "kube-prometheus": appText("kube-prometheus") };
const SIZES = [
  { width: 1280, height: 900 },
  { width: 400, height: 900 },
];
const BLOCKING = ["AMB001", "AMB002", "AMB003", "AMB005"];

async function paste(page, text) {
  await page.goto("./");
  await expect(page.locator(".status")).toContainText("Analysed");
  await pasteAll(page, text);
  await expect(page.locator(".status")).toContainText(/Analysed [0-9]{2,} objects/, { timeout: 15_000 });
  await showTab(page, "Paths");
  await expect(page.locator("svg.paths")).toBeVisible();
}

/** Pairs of SVG text labels whose boxes overlap (by more than half a pixel). */
const overlappingLabels = (page) =>
  page.locator("svg.paths").evaluate((svg) => {
    const boxes = [...svg.querySelectorAll("text")].map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }));
    const out = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i].r, boxes[j].r];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) out.push(`${boxes[i].text} / ${boxes[j].text}`);
      }
    }
    return out;
  });

/** The blocked-path findings, as the findings panel lists them (code, policy, workload). */
const blockingFindings = (page) =>
  page.locator(".finding").evaluateAll(
    (items, codes) =>
      items
        .map((li) => ({ code: li.closest(".finding-group").dataset.code, subject: li.querySelector(".subject")?.textContent ?? "" }))
        .filter((f) => codes.includes(f.code)),
    BLOCKING,
  );

for (const [name, text] of Object.entries(APPS)) {
  for (const size of SIZES) {
    test(`${name} at ${size.width} px: no two labels overlap, names are whole or visibly cut`, async ({ page }) => {
      const problems = guard(page);
      await page.setViewportSize(size);
      await paste(page, text);
      expect(await overlappingLabels(page)).toEqual([]);
      // Every label fits its node's box, and a cut one ends with an ellipsis and has the full id
      // in its title.
      const nodes = await page.locator("svg.paths .node").evaluateAll((gs) =>
        gs.map((g) => {
          const shape = g.querySelector(".shape").getBoundingClientRect();
          const label = g.querySelector("text.label");
          const r = label.getBoundingClientRect();
          return { title: g.querySelector("title").textContent, label: label.textContent, inside: r.left >= shape.left - 0.5 && r.right <= shape.right + 0.5 };
        }),
      );
      expect(nodes.length).toBeGreaterThan(8);
      for (const n of nodes) {
        expect(n.inside, n.label).toBe(true);
        const id = n.title.split(":")[0];
        if (!n.label.endsWith("…")) expect(id === "kubelet" || id.includes(n.label) || n.label.includes("(")).toBe(true);
      }
      // Nothing is written along the edges: their port and policy are in the panel.
      await expect(page.locator("svg.paths .edge text")).toHaveCount(0);
      expect(problems).toEqual([]);
    });
  }

  test(`${name}: every blocked path of the findings is an edge, and focusing it explains it`, async ({ page }) => {
    await paste(page, text);
    const findings = await blockingFindings(page);
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      // The subject is "policy → workload", or one name when they are the same: the edge goes
      // to (or, for AMB002, from) the workload.
      const [policy, workload = policy] = f.subject.split(" → ");
      const kind = f.code === "AMB003" ? "probe" : "hbone";
      const edges = page.locator(`svg.paths .edge.${kind}.blocked`).filter({
        has: page.locator("title", { hasText: f.code === "AMB002" ? `from ${workload} ` : `to ${workload} ` }),
      });
      expect(await edges.count(), `${f.code} ${f.subject}`).toBeGreaterThan(0);
      await edges.first().focus();
      const panel = page.locator(".diagram-details");
      await expect(panel.locator(".edge-explanation")).toContainText(kind === "probe" ? "Kubelet probe" : "HBONE tunnel");
      await expect(panel).toContainText(policy);
      await expect(panel.locator(".detail-finding .code")).toHaveText(/AMB00[1235]/);
    }
  });

  test(`${name}: the keyboard reaches every edge; Enter selects its finding and the policy line`, async ({ page }) => {
    await paste(page, text);
    const total = await page.locator("svg.paths .edge").count();
    expect(total).toBeGreaterThan(10);
    // From the drawing's scrolling box, Tab walks the nodes, then the edges.
    await page.locator(".diagram-scroll").focus();
    const reached = new Set();
    for (let i = 0; i < total + 40 && reached.size < total; i++) {
      await page.keyboard.press("Tab");
      const label = await page.evaluate(() => (document.activeElement.closest("svg.paths .edge") ? document.activeElement.getAttribute("aria-label") : null));
      if (label) reached.add(label);
    }
    expect(reached.size).toBe(new Set(await page.locator("svg.paths .edge").evaluateAll((es) => es.map((e) => e.getAttribute("aria-label")))).size);
    // Enter on a blocked edge: the panel shows its finding, the editor goes to the policy line.
    const blocked = page.locator("svg.paths .edge.blocked").first();
    await blocked.focus();
    await page.keyboard.press("Enter");
    const line = page.locator(".diagram-details .detail-line");
    await expect(line).toHaveText(/line \d+/);
    await expect(editor(page)).toBeFocused();
    const n = Number((await line.textContent()).replace("line ", ""));
    const caretLine = await editor(page).evaluate((el) => el.value.slice(0, el.selectionStart).split("\n").length);
    expect(caretLine).toBe(n);
  });
}

test("Online Boutique: senders left of receivers, one namespace box, the panel's buttons", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await paste(page, APPS["online-boutique"]);
  const x = (name) => page.locator("svg.paths .node", { has: page.locator("title", { hasText: `default/${name}:` }) }).evaluate((g) => g.getBoundingClientRect().left);
  expect(await x("loadgenerator")).toBeLessThan(await x("frontend"));
  expect(await x("frontend")).toBeLessThan(await x("checkoutservice"));
  expect(await x("checkoutservice")).toBeLessThan(await x("paymentservice"));
  await expect(page.locator("svg.paths .namespace")).toHaveText(["default"]);
  // The panel's "line N" moves the editor; "Show the finding" asks the page to show it.
  await page.locator("svg.paths .edge.hbone.blocked").first().focus();
  await page.locator(".diagram-details .detail-line").click();
  await expect(editor(page)).toBeFocused();
  await expect(page.locator(".diagram-details .detail-reveal")).toBeVisible();
});

test("filters: by status and by namespace; an empty result says so", async ({ page }) => {
  await paste(page, APPS["kube-prometheus"]);
  const edges = page.locator("svg.paths .edge");
  const all = await edges.count();
  await page.locator(".status-filter.unchanged input").uncheck();
  await expect.poll(() => edges.count()).toBeLessThan(all);
  expect(await page.locator("svg.paths .edge.allowed").count()).toBe(0);
  await page.locator(".status-filter.blocked input").uncheck();
  // The fix opens every blocked path: after the fix they are "fixed".
  await page.getByRole("button", { name: "After the fix" }).click();
  expect(await edges.count()).toBeGreaterThan(0);
  await expect(page.locator("svg.paths .edge.blocked")).toHaveCount(0);
  await page.locator(".status-filter.fixed input").uncheck();
  await expect(page.locator(".diagram .empty")).toContainText("No path passes these filters");
  await page.locator(".namespace-filter select").selectOption("monitoring");
  for (const s of ["blocked", "fixed", "unchanged"]) await page.locator(`.status-filter.${s} input`).check();
  await expect.poll(() => edges.count()).toBeGreaterThan(0);
});

test("zoom: +, − and Fit change the drawing's size; at 400 px a sign says it scrolls", async ({ page }) => {
  await page.setViewportSize({ width: 400, height: 900 });
  await paste(page, APPS["online-boutique"]);
  const svg = page.locator("svg.paths");
  const width = async () => Number(await svg.getAttribute("width"));
  const start = await width();
  await expect(page.locator(".scroll-sign")).toBeVisible();
  await expect(page.locator(".scroll-sign")).toHaveClass(/shown/);
  await page.locator(".zoom-in").click();
  expect(await width()).toBeGreaterThan(start);
  await page.locator(".zoom-out").click();
  await page.locator(".zoom-out").click();
  expect(await width()).toBeLessThan(start);
  await page.locator(".zoom-fit").click();
  const box = await page.locator(".diagram-scroll").boundingBox();
  expect(await width()).toBeLessThanOrEqual(box.width);
  // No horizontal overflow of the page itself.
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
});

test("lessons' examples: whole names, a waypoint named once, my-app visible", async ({ page }) => {
  await page.goto("./#example=waypoint");
  await expect(page.locator(".status")).toContainText("Analysed");
  await showTab(page, "Paths");
  const waypoint = page.locator("svg.paths .node.waypoint");
  await expect(waypoint).toHaveCount(1);
  await expect(waypoint.locator("text.label")).not.toHaveText(/waypoint waypoint/);
  expect(await overlappingLabels(page)).toEqual([]);
  await page.setViewportSize({ width: 400, height: 900 });
  await page.goto("./#lesson=probes&step=2");
  await expect(page.locator(".status")).toContainText("Analysed");
  await expect(page.locator("svg.paths")).toContainText("my-app");
  expect(await overlappingLabels(page)).toEqual([]);
});

test("above the graph's limit the paths are a matrix, whose cells explain themselves", async ({ page }) => {
  // tests/e2e/data/cluster-s.yaml: `cargo run --release --example gen-cluster -- S 3`.
  const yaml = readFileSync(new URL("./data/cluster-s.yaml", import.meta.url), "utf8");
  await page.goto("./");
  await pasteAll(page, yaml);
  await expect(page.locator(".status")).toContainText("Analysed 73 objects", { timeout: 10_000 });
  await showTab(page, "Paths");
  // Within the limit: drawn whole, every path, none hidden.
  const drawn = await page.locator("svg.paths .edge").count();
  if (drawn === 0) {
    await expect(page.locator(".matrix")).toBeVisible();
  } else {
    expect(await page.locator("svg.paths .edge.allowed").count()).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Matrix" }).click();
  }
  const cells = page.locator(".matrix .cell");
  await expect(cells.first()).toBeVisible();
  expect(await page.locator(".matrix .cell.blocked").count()).toBeGreaterThan(0);
  // One Tab stop; arrows move; the panel follows.
  await page.locator(".matrix .cell[tabindex='0']").focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowDown");
  await expect(page.locator(".matrix .cell:focus")).toHaveAttribute("data-cell", "1-1");
  await expect(page.locator(".diagram-details .edge-explanation")).toContainText(" to ");
  await page.locator(".matrix .cell.blocked").first().focus();
  await expect(page.locator(".diagram-details .edge-explanation")).toContainText("blocked");
  await expect(page.locator(".diagram-details .detail-finding .code")).toHaveText(/AMB00[1235]/);
});

test("past 300 workloads (the L cluster) the paths are a matrix of namespaces, not 'no paths'", async ({ page }) => {
  test.setTimeout(120_000);
  // CLUSTER_L: the generator's L (benches/page.sh writes it); by default clusters.mjs's, with
  // about 500 namespaces of one workload each.
  const l = process.env.CLUSTER_L ? readFileSync(process.env.CLUSTER_L, "utf8") : bigCluster(450_000);
  await page.goto("./");
  await pasteAll(page, l);
  await expect(page.locator(".status")).toContainText(/Analysed [0-9]{3,} objects/, { timeout: 90_000 });
  await showTab(page, "Paths");
  const matrix = page.locator(".namespace-matrix .matrix");
  await expect(matrix).toBeVisible();
  await expect(page.locator(".diagram .empty")).toHaveCount(0);
  await expect(page.locator(".diagram .note")).toContainText(/\d+ workloads: too many pairs/);
  // Virtualised: far fewer cells in the page than in the matrix.
  const [rows, cols] = (await matrix.locator(".corner").textContent()).match(/\d+/g).map(Number);
  expect(rows * cols).toBeGreaterThan(100);
  const drawn = await matrix.locator(".cell").count();
  expect(drawn).toBeGreaterThan(0);
  if (rows * cols > 2000) expect(drawn).toBeLessThan(rows * cols);
  await matrix.locator(".cell.blocked").first().focus();
  await expect(page.locator(".diagram-details .edge-explanation")).toContainText("blocked once enrolled");
  // Scrolled far, the cells in sight are drawn.
  await page.locator(".namespace-matrix .matrix-scroll").evaluate((el) => el.scrollTo(el.scrollWidth, el.scrollHeight));
  await expect(matrix.locator(`.cell[data-cell="${rows - 1}-${cols - 1}"]`)).toHaveCount(1);
});

// The matrix measures the box it scrolls in to draw the cells in sight; while its tab is hidden
// that box has no size, and a measure then drew only the overscan's 4 x 4 cells until scrolled.
for (const size of SIZES) {
  test(`the matrix of namespaces is drawn in full view as soon as its tab opens (${size.width} px)`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize(size);
    await page.goto("./");
    await pasteAll(page, guardedCluster(450_000));
    await expect(page.locator(".status")).toContainText(/Analysed [0-9]{3,} objects/, { timeout: 90_000 });
    // The complete analysis too: nothing redraws the matrix after the tab opens.
    await expect(page.getByRole("tab", { name: /^Corrected YAML ●/ })).toBeVisible({ timeout: 90_000 });
    await page.waitForTimeout(200);
    await showTab(page, "Paths");
    const scroller = page.locator(".namespace-matrix .matrix-scroll");
    // The first frame painted after the click, no scroll.
    const seen = await scroller.evaluate(
      (el) =>
        new Promise((resolve) =>
          requestAnimationFrame(() =>
            setTimeout(() => {
              const [rows, cols] = el.querySelector(".corner").textContent.match(/\d+/g).map(Number);
              const cells = [...el.querySelectorAll(".cell")].map((c) => c.dataset.cell);
              resolve({ rows, cols, width: el.clientWidth, height: el.clientHeight, cells });
            }),
          ),
        ),
    );
    // The cells in sight: right of the row headings (170 px), below the column headings (130 px).
    const inSight = (extent, head, n) => Math.min(n, Math.ceil((extent - head) / 22));
    const rows = inSight(seen.height, 130, seen.rows);
    const cols = inSight(seen.width, 170, seen.cols);
    expect(rows * cols).toBeGreaterThan(16);
    expect(seen.cells.length).toBeGreaterThanOrEqual(rows * cols);
    expect(seen.cells).toContain(`${rows - 1}-${cols - 1}`);
    if (process.env.SCREENSHOTS) {
      await page.locator("#panel-paths").screenshot({ path: `../../docs/screenshots/namespace-matrix-${size.width}.png` });
    }
  });
}

test("the matrix of namespaces says which layer blocks: a cluster-wide guard rail or the namespaces' NetworkPolicies", async ({ page }) => {
  test.setTimeout(120_000);
  // CLUSTER_L_TIERS: the generator's L with cluster-wide policies (`cargo run --release --example
  // gen-cluster -- L 1 100`); by default clusters.mjs's, about 500 namespaces of one workload
  // each, ten of them behind an Admin-tier ClusterNetworkPolicy.
  const given = process.env.CLUSTER_L_TIERS;
  const text = given ? readFileSync(given, "utf8") : guardedCluster(450_000);
  await page.goto("./");
  await pasteAll(page, text);
  await expect(page.locator(".status")).toContainText(/Analysed [0-9]{3,} objects/, { timeout: 90_000 });
  await showTab(page, "Paths");
  const matrix = page.locator(".namespace-matrix .matrix");
  await expect(matrix).toBeVisible();
  // The legend's key of each layer's letter.
  await expect(page.locator(".matrix-legend .layer-key", { hasText: "Admin tier" }).locator(".cell.blocked")).toHaveText("A");
  await expect(page.locator(".matrix-legend .layer-key", { hasText: "NetworkPolicy" }).locator(".cell.blocked")).toHaveText("N");
  // A cell the Admin tier blocks: its mark, its label and title, the details panel.
  const guarded = matrix.locator('.cell.blocked[data-marks*="A"]').first();
  await expect(guarded).toBeVisible();
  await expect(guarded).toHaveAttribute("aria-label", /: \d+ workload pairs blocked once enrolled: (.*, )?\d+ by the Admin tier/);
  await expect(guarded).toHaveAttribute("title", /by the Admin tier/);
  await guarded.focus();
  await expect(page.locator(".diagram-details .edge-explanation")).toContainText("by the Admin tier");
  if (!given) {
    // The generated cluster: a guarded namespace's cells are the Admin tier's alone, the other
    // namespaces' their NetworkPolicies'; the folded namespaces (the first row and column) hold
    // both, and their cells say how many pairs each blocks.
    await expect(matrix.locator('.cell.blocked[data-marks="A"]').first()).toHaveAttribute(
      "aria-label",
      /^.+ to ns-[0-9]: (\d+) workload pairs blocked once enrolled: \1 by the Admin tier$/,
    );
    await expect(matrix.locator('.cell.blocked[data-marks="N"]').first()).toHaveAttribute(
      "aria-label",
      /^.+ to ns-[0-9]{2,}: (\d+) workload pairs blocked once enrolled: \1 by NetworkPolicy$/,
    );
    await expect(matrix.locator('.cell[data-cell="0-0"]')).toHaveAttribute("data-marks", "AN");
    await expect(matrix.locator('.cell[data-cell="0-0"]')).toHaveAttribute(
      "aria-label",
      /^\d+ other namespaces to \d+ other namespaces: \d+ workload pairs blocked once enrolled: \d+ by the Admin tier, \d+ by NetworkPolicy$/,
    );
    // From the keyboard: the arrow keys move along the first row to a NetworkPolicy cell, and
    // the panel says so.
    await matrix.locator(".cell[tabindex='0']").focus();
    let found = false;
    for (let i = 0; i < 12 && !found; i++) {
      await page.keyboard.press("ArrowRight");
      found = /blocked once enrolled: \d+ by NetworkPolicy\.$/.test(await page.locator(".diagram-details .edge-explanation").textContent());
    }
    expect(found).toBe(true);
    await expect(matrix.locator(".cell:focus")).toHaveAttribute("data-marks", "N");
  }
  // The grid shrinks to one namespace's row while a far cell is active: the Tab stop stays in
  // it, and Enter on it explains it.
  await matrix.locator(".cell[tabindex='0']").focus();
  await page.keyboard.press("End");
  for (let i = 0; i < 3; i++) await page.keyboard.press("PageDown");
  await expect(matrix.locator(".cell:focus")).not.toHaveAttribute("data-cell", /^[0-9]-/);
  await page.locator(".namespace-filter select").selectOption({ index: 2 });
  const stop = matrix.locator(".cell[tabindex='0']");
  await expect(stop).toHaveCount(1);
  await stop.focus();
  await page.keyboard.press("Enter");
  await expect(page.locator(".diagram-details .edge-explanation")).toContainText("blocked once enrolled");
});

test.describe("accessibility", () => {
  // axe-core is injected as a script, which the page's own CSP rightly forbids.
  test.use({ bypassCSP: true });

  test("the matrix of namespaces with its layers' marks passes axe-core in light and dark", async ({ page }) => {
    test.setTimeout(120_000);
    const { createRequire } = await import("node:module");
    const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
    await page.goto("./");
    await pasteAll(page, guardedCluster(450_000));
    await expect(page.locator(".status")).toContainText(/Analysed [0-9]{3,} objects/, { timeout: 90_000 });
    await showTab(page, "Paths");
    await expect(page.locator('.namespace-matrix .cell[data-marks="AN"]').first()).toBeVisible();
    await page.addScriptTag({ path: axePath });
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      const result = await page.evaluate(async () => window.axe.run([".diagram"], { resultTypes: ["violations"] }));
      const summary = result.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
      expect(summary, scheme).toEqual([]);
    }
  });

  for (const [name, text] of Object.entries(APPS)) {
    test(`${name}: the diagram passes axe-core in light and dark, graph and matrix`, async ({ page }) => {
      const { createRequire } = await import("node:module");
      const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
      for (const scheme of ["light", "dark"]) {
        await page.emulateMedia({ colorScheme: scheme });
        await paste(page, text);
        await page.locator("svg.paths .edge.blocked").first().focus();
        await page.addScriptTag({ path: axePath });
        const run = () => page.evaluate(async () => window.axe.run([".diagram"], { resultTypes: ["violations"] }));
        const show = (r) => r.violations.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(" ")} ${v.nodes[0].failureSummary}`);
        expect(show(await run()), `${scheme} graph`).toEqual([]);
        await page.getByRole("button", { name: "Matrix" }).click();
        await expect(page.locator(".matrix .cell").first()).toBeVisible();
        expect(show(await run()), `${scheme} matrix`).toEqual([]);
      }
    });
  }
});
