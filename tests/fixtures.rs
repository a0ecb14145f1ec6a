//! Fixture cases: `tests/fixtures/<case>/` holds input files (read in name order), an optional
//! `args` file (extra `check` flags) and an `expect` file (codes that must appear with their
//! severity, `!CODE` for codes that must not). Each case runs through the CLI and its text
//! output, diff and extra documents are compared with a reviewed snapshot
//! (`tests/snapshots/fixtures__<case>.snap`; `cargo insta review` after a deliberate change).

#[path = "support/files.rs"]
mod files;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    files::sorted(root)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

/// The case's input files, in name order.
fn inputs(case: &Path) -> Vec<String> {
    let mut inputs: Vec<String> = std::fs::read_dir(case)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json"))
        .collect();
    inputs.sort();
    inputs
}

fn run(case: &Path, format: &str) -> (i32, String) {
    let inputs = inputs(case);
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let output = Command::new(BIN)
        .current_dir(case)
        .arg("check")
        .args(["--format", format])
        .args(args.split_whitespace())
        .args(if format == "text" {
            vec!["--diff"]
        } else {
            vec![]
        })
        .args(&inputs)
        .output()
        .expect("the CLI runs");
    assert!(
        output.stderr.is_empty(),
        "{}: {}",
        case.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn fixtures() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} fixture cases", cases.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    settings.set_snapshot_path("snapshots");
    let _guard = settings.bind_to_scope();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (code, json) = run(&case, "json");
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let found: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expect = std::fs::read_to_string(case.join("expect")).unwrap_or_default();
        for line in expect.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(code) = line.strip_prefix('!') {
                assert!(
                    !found.iter().any(|(c, _)| c == code),
                    "{name}: {code} must not appear: {found:?}"
                );
            } else {
                let (code, severity) = line.split_once(' ').unwrap();
                assert!(
                    found.iter().any(|(c, s)| c == code && s == severity),
                    "{name}: expected {line}: {found:?}"
                );
            }
        }
        let has_error = found.iter().any(|(_, s)| s == "error");
        assert_eq!(code, i32::from(has_error), "{name}: exit status");

        let (_, text) = run(&case, "text");
        let mut snapshot = format!("exit: {code}\n{text}");
        for extra in report["extras"].as_array().unwrap() {
            snapshot.push_str(&format!(
                "=== extra: {} ===\n{}",
                extra["name"].as_str().unwrap(),
                extra["yaml"].as_str().unwrap()
            ));
        }
        insta::assert_snapshot!(name, snapshot);
    }
}

/// `check` in text without an output that carries the fix (no `--fix`, `--diff`, `--write`,
/// `--extras`) does not check the fix: it prints the same findings, extra documents, notes and
/// exit status as with the fix made and checked, for every fixture case, but for what the check
/// adds (INT001, a second round's notes and documents).
#[test]
fn check_without_the_fix_finds_the_same() {
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let run = |fix: bool| {
            let output = Command::new(BIN)
                .current_dir(&case)
                .arg("check")
                .args(args.split_whitespace())
                .args(fix.then_some("--fix=/dev/null"))
                .args(inputs(&case))
                .output()
                .expect("the CLI runs");
            (
                output.status.code(),
                String::from_utf8(output.stdout).unwrap(),
            )
        };
        let ((with_code, with), (without_code, without)) = (run(true), run(false));
        // The findings (a line and its `fix:` line each) and the count of those a fix removes:
        // not the notes, nor the summary (INT001 changes it).
        let findings = |text: &str| -> Vec<String> {
            let mut lines: Vec<&str> = text.lines().collect();
            lines.pop();
            lines
                .into_iter()
                .filter(|l| {
                    !l.starts_with("note: ")
                        && !l.starts_with("extra documents")
                        && !l.contains(" INT001 ")
                })
                .map(str::to_string)
                .collect()
        };
        assert_eq!(findings(&without), findings(&with), "{name}");
        let notes = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("note: ") || l.starts_with("extra documents"))
                .filter(|l| !l.ends_with(ambient_netpol::UNCHECKED))
                .map(str::to_string)
                .collect()
        };
        if !with.contains("in a second round") && !with.contains(" INT001 ") {
            assert_eq!(notes(&without), notes(&with), "{name}");
        }
        if !with.contains(" INT001 ") {
            assert_eq!(without_code, with_code, "{name}");
            assert_eq!(
                without.lines().last(),
                with.lines().last(),
                "{name}: the summary"
            );
        }
    }
}
