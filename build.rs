//! Records the commit the command-line tool is built from, for `ambient-netpol --version`.
//!
//! `AMBIENT_NETPOL_COMMIT` in the environment wins (a build from a source archive, without
//! git); otherwise `git rev-parse HEAD`; without git, or outside a repository, `unknown`. Only
//! the CLI (feature `cli`) asks git: the page's build never reruns this script.

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
