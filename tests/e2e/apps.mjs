// The real applications of tests/data/realworld (README.md there says where they come from and
// under which licence), as a user pastes them: every file of the folder, one after another,
// separated by `---`.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../data/realworld/", import.meta.url));

export const APPS = ["online-boutique", "kube-prometheus"];

/** The manifests of one application folder, in file-name order. */
export function appText(name) {
  return readdirSync(ROOT + name)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => readFileSync(`${ROOT}${name}/${f}`, "utf8"))
    .join("\n---\n");
}
