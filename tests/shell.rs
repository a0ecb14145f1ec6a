//! What the CLI gives the shell: completion scripts (`completions bash|zsh|fish|powershell`),
//! manual pages (`man`, `man check`) and `--version` with the commit (build.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the CLI runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn tempdir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("shell-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bash_completion_parses_and_completes_commands_and_flags() {
    let out = run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let dir = tempdir("bash");
    let script = dir.join("ambient-netpol.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Loaded, it completes the commands and `check`'s flags.
    let complete = |words: &str| -> String {
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             f=$(complete -p ambient-netpol | sed -E 's/.*-F ([^ ]+).*/\\1/'); \
             \"$f\" ambient-netpol \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").arg("-c").arg(probe).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = complete("ambient-netpol ''");
    for command in ["check", "connectivity", "explain", "completions", "man"] {
        assert!(commands.lines().any(|l| l == command), "{commands}");
    }
    let flags = complete("ambient-netpol check --fa");
    assert!(flags.lines().any(|l| l == "--fail-on"), "{flags}");
    let values = complete("ambient-netpol check --format ''");
    for format in ["github", "junit", "gitlab", "sarif"] {
        assert!(values.lines().any(|l| l == format), "{values}");
    }
}

#[test]
fn zsh_fish_and_powershell_scripts_name_the_commands() {
    for (shell, marker) in [
        ("zsh", "#compdef ambient-netpol"),
        ("fish", "complete -c ambient-netpol"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("fail-on") && script.contains("connectivity"),
            "{shell}"
        );
    }
    // zsh's and fish's own parsers, where the machine has them.
    for (shell, check) in [("zsh", ["-n"]), ("fish", ["--no-execute"])] {
        if Command::new(shell).arg("--version").output().is_ok() {
            let dir = tempdir(shell);
            let file = dir.join("completion");
            std::fs::write(&file, run(&["completions", shell]).stdout).unwrap();
            let parsed = Command::new(shell).args(check).arg(&file).output().unwrap();
            assert!(parsed.status.success(), "{shell}");
        }
    }
    let bad = run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Structural checks of a roff man page: a title first, the usual sections, indentation
/// requests that pair up, and no line a roff request would misread.
fn assert_roff(page: &str, title: &str) {
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        first.is_some_and(|l| l.starts_with(&format!(".TH {title} 1"))),
        "{}",
        &page[..page.len().min(300)]
    );
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS"] {
        assert!(
            page.lines().any(|l| l == format!(".SH {section}")),
            "{title}: no {section}"
        );
    }
    let opened = page.lines().filter(|l| l.starts_with(".RS")).count();
    let closed = page.lines().filter(|l| l.starts_with(".RE")).count();
    assert_eq!(opened, closed, "{title}: .RS/.RE");
    // A text line starting with `'` or `.` that is not a request is read as one.
    for line in page.lines() {
        if let Some(request) = line.strip_prefix('.') {
            let name: String = request
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                [
                    "TH", "SH", "SS", "TP", "IP", "PP", "LP", "P", "RS", "RE", "B", "I", "BR",
                    "IR", "RB", "RI", "BI", "IB", "br", "sp", "ie", "el", "nh", "ad", "fi", "nf",
                    "in", "ti", "ds", "de", "UR", "UE", "MT", "ME", "SY", "YS", "OP", "EX", "EE",
                ]
                .contains(&name.as_str()),
                "{title}: unknown request `.{name}` in {line:?}"
            );
        }
    }
}

#[test]
fn man_pages_are_valid_roff() {
    let main = run(&["man"]);
    assert_eq!(main.status.code(), Some(0));
    let page = stdout(&main);
    assert_roff(&page, "ambient-netpol");
    assert!(page.contains("connectivity"));
    let check = run(&["man", "check"]);
    let check_page = stdout(&check);
    assert_roff(&check_page, "ambient-netpol-check");
    assert!(check_page.contains("fail\\-on"), "options are listed");
    assert_eq!(run(&["man", "no-such-command"]).status.code(), Some(2));

    // groff, where the machine has it: every warning is an error.
    if Command::new("groff").arg("--version").output().is_ok() {
        for page in [&page, &check_page] {
            let dir = tempdir("groff");
            let file = dir.join("page.1");
            std::fs::write(&file, page).unwrap();
            let out = Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "groff: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn version_names_the_commit() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let version = stdout(&out);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_string());
    let commit = std::env::var("AMBIENT_NETPOL_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or(head)
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        version.trim(),
        format!(
            "ambient-netpol {} (commit {commit})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// The build script, as cargo built it for this package (any of its builds).
fn build_script() -> PathBuf {
    let build = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("debug/build");
    std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ambient-netpol-")
        })
        .map(|p| p.join("build-script-build"))
        .find(|p| p.is_file())
        .expect("cargo built build.rs")
}

#[test]
fn without_git_the_commit_is_unknown_or_as_given() {
    let script = build_script();
    let commit = |env: &[(&str, &str)], dir: &Path| -> String {
        let out = Command::new(&script)
            .env_clear()
            .env("CARGO_FEATURE_CLI", "1")
            .env("CARGO_MANIFEST_DIR", dir)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("cargo:rustc-env=AMBIENT_NETPOL_COMMIT="))
            .expect("the script sets the variable")
            .to_string()
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // No git on PATH.
    assert_eq!(commit(&[("PATH", "")], repo), "unknown");
    // Not a repository.
    let plain = tempdir("not-a-repo");
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(
        commit(
            &[
                ("PATH", &path),
                (
                    "GIT_CEILING_DIRECTORIES",
                    plain.parent().unwrap().to_str().unwrap()
                )
            ],
            &plain
        ),
        "unknown"
    );
    // Given by the environment (a build from a source archive).
    assert_eq!(
        commit(
            &[("PATH", ""), ("AMBIENT_NETPOL_COMMIT", "0123456789ab")],
            repo
        ),
        "0123456789ab"
    );
}
