//! Records the commit the command-line tool is built from, for `ambient-netpol --version`, and
//! writes what the page carries of the texts it fetches when they are opened: the first
//! paragraph of each rule's documentation (`summaries.rs`) and each lesson's outline
//! (`lessons/<id>.md`).
//!
//! `AMBIENT_NETPOL_COMMIT` in the environment wins (a build from a source archive, without
//! git); otherwise `git rev-parse HEAD`; without git, or outside a repository, `unknown`. Only
//! the CLI (feature `cli`) asks git: the page's build reruns this script only when a rule's
//! documentation or a lesson changes.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=AMBIENT_NETPOL_COMMIT");
    let given = std::env::var("AMBIENT_NETPOL_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let commit = match given {
        Some(commit) => commit,
        None if std::env::var_os("CARGO_FEATURE_CLI").is_some() => {
            git_commit().unwrap_or_else(|| "unknown".into())
        }
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=AMBIENT_NETPOL_COMMIT={commit}");
    // Run by hand (tests/shell.rs asks it the commit), the script has no OUT_DIR to write to.
    if let Some(out) = std::env::var_os("OUT_DIR") {
        summaries(Path::new(&out));
        lesson_outlines(Path::new(&out));
    }
}

/// `OUT_DIR/lessons/<id>.md` for each `lessons/<id>.md`: the lesson without its steps' text,
/// that is its `# ` title, `example:` and `goal:` lines, and each step's `## ` title and
/// `path:` line. The page's lesson list, links and exercise checks read these; it fetches the
/// whole lesson (`lessons/<id>.md` beside it) when one is opened.
fn lesson_outlines(out_dir: &Path) {
    println!("cargo:rerun-if-changed=lessons");
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("lessons");
    let out = out_dir.join("lessons");
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
    for entry in std::fs::read_dir(&dir).expect("lessons/ is readable") {
        let path = entry.expect("lessons/ is readable").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a UTF-8 lesson");
        let mut outline = String::new();
        let mut in_steps = false;
        let mut after_title = false;
        for line in text.lines() {
            let keep = if line.starts_with("## ") {
                in_steps = true;
                true
            } else if in_steps {
                // A step's `path:` line comes first after its title (blank lines between).
                after_title && line.starts_with("path:")
            } else {
                ["# ", "example:", "goal:"]
                    .iter()
                    .any(|p| line.starts_with(p))
            };
            if keep {
                outline.push_str(line);
                outline.push('\n');
            }
            if line.starts_with("## ") {
                after_title = true;
            } else if !line.trim().is_empty() {
                after_title = false;
            }
        }
        let name = path.file_name().expect("a file name");
        std::fs::write(out.join(name), outline).expect("OUT_DIR is writable");
    }
}

/// `OUT_DIR/summaries.rs`: `(CODE, first paragraph)` for each `src/rules/docs/<CODE>.md`, the
/// first paragraph that is not a heading, as `Code::summary` gives it. The page shows that much
/// with each group of findings and fetches the whole document when it is opened, so its wasm
/// carries the summaries only (BENCHMARKS.md "Size").
fn summaries(out_dir: &Path) {
    println!("cargo:rerun-if-changed=src/rules/docs");
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("src/rules/docs");
    let mut docs: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/rules/docs is readable")
        .map(|entry| entry.expect("src/rules/docs is readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut out = String::from("&[\n");
    for path in docs {
        let code = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name");
        let text = std::fs::read_to_string(&path).expect("a UTF-8 document");
        let first = text
            .split("\n\n")
            .map(str::trim)
            .find(|p| !p.is_empty() && !p.starts_with('#'))
            .unwrap_or_default();
        out.push_str(&format!("    ({code:?}, {first:?}),\n"));
    }
    out.push(']');
    std::fs::write(out_dir.join("summaries.rs"), out).expect("OUT_DIR is writable");
}

/// The output of a git command run in the package's directory, when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(args)
        .current_dir(&dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// HEAD's commit (12 hex digits), and the files whose change means HEAD moved: HEAD itself (a
/// checkout), the branch it names (a commit) and the packed refs. Only files that exist are
/// named: cargo reruns a script on every build while a file it watches is missing.
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            let path = Path::new(&dir).join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}
