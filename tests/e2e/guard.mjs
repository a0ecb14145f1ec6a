// Shared by the browser tests: collects console errors, page errors and requests that leave
// 127.0.0.1, so a test can assert that there were none.
export function guard(page) {
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.protocol.startsWith("http") && url.hostname !== "127.0.0.1") {
      problems.push(`request left the origin: ${req.url()}`);
    }
  });
  return problems;
}
