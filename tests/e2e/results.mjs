// Shared by the browser tests: the results beside the editor (src/ui/results.rs), as a user
// reaches them: a tab, then a group of findings.

/** The findings with this code (in its group), of one severity if given. */
export const finding = (page, code, severity = "") =>
  page.locator(`.finding-group[data-code="${code}"] .finding${severity ? "." + severity : ""}`);

/** Shows one tab of the results: "Findings", "Paths" or "Corrected YAML". */
export async function showTab(page, name) {
  await page.getByRole("tab", { name: new RegExp(`^${name}`) }).click();
}

/** Opens the group of findings of a code (information starts collapsed). */
export async function openGroup(page, code) {
  await showTab(page, "Findings");
  const group = page.locator(`.finding-group[data-code="${code}"]`).first();
  if (!(await group.evaluate((d) => d.open))) await group.locator("summary.group-summary").click();
}
