// Shared by the browser tests: the editor as a user drives it. A long text sits in the textarea
// only as a window of lines, so the whole text is read the way a user gets it out: select all,
// copy.
export const editor = (page) => page.getByLabel("Manifests (YAML or JSON)");

/** Select all, then paste `text` (a clipboard paste event, as Ctrl+V sends it); resolves to
 * the milliseconds the page took to handle the event. */
export const pasteAll = (page, text) =>
  editor(page).evaluate((el, value) => {
    el.focus({ preventScroll: true });
    el.select();
    const data = new DataTransfer();
    data.setData("text/plain", value);
    const start = performance.now();
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    return performance.now() - start;
  }, text);

/** The whole text: select all, copy, then put the selection back as it was. */
export const wholeText = (page) =>
  editor(page).evaluate((el) => {
    const [start, end, direction] = [el.selectionStart, el.selectionEnd, el.selectionDirection];
    el.focus({ preventScroll: true });
    el.select();
    const data = new DataTransfer();
    el.dispatchEvent(new ClipboardEvent("copy", { clipboardData: data, bubbles: true, cancelable: true }));
    el.setSelectionRange(start, end, direction);
    // Nothing handled the copy when the textarea holds the whole text: its value is the text.
    return data.getData("text/plain") || el.value;
  });
