//! The CI report formats (`check --format github|junit|gitlab|markdown`), `--fail-on` and the
//! refusal of input with nothing to analyse, run through the CLI on every fixture case and
//! compared with `--format json` of the same run: the same findings, in each format's rules.
//! (The JUnit output is also validated against the JUnit XSD in tests/data/junit by
//! `scripts/ci-tests`, with Python's xmlschema.)

#[path = "support/files.rs"]
mod files;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    files::sorted(root)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

/// The case's input files, in name order, and its extra flags.
fn case_args(case: &Path) -> Vec<String> {
    let mut args: Vec<String> = std::fs::read_to_string(case.join("args"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut inputs: Vec<String> = std::fs::read_dir(case)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json"))
        .collect();
    inputs.sort();
    args.extend(inputs);
    args
}

fn check(dir: &Path, args: &[String], extra: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("check")
        .args(extra)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The findings of a case as `--format json` gives them.
fn json_findings(dir: &Path, args: &[String]) -> Vec<serde_json::Value> {
    let out = check(dir, args, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    value["findings"].as_array().unwrap().clone()
}

fn message_with_fix(finding: &serde_json::Value) -> String {
    let message = finding["message"].as_str().unwrap().to_string();
    match finding["fix"].as_str() {
        Some(fix) => format!("{message}\nfix: {fix}"),
        None => message,
    }
}

/// Undoes the runner's escaping (`%25`, `%0D`, `%0A`, `%3A`, `%2C`); panics on any other `%`.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .expect("an escape has two hex digits");
        out.push(match code {
            "25" => '%',
            "0D" => '\r',
            "0A" => '\n',
            "3A" => ':',
            "2C" => ',',
            other => panic!("unknown escape %{other} in {text:?}"),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// One parsed workflow command: its name, properties and message, unescaped.
struct WorkflowCommand {
    name: String,
    properties: BTreeMap<String, String>,
    message: String,
}

/// Parses `::name key=value,key=value::message` as the Actions runner does, checking on the way
/// that the escaped text holds no raw character that would end a part early.
fn parse_command(line: &str) -> WorkflowCommand {
    let rest = line.strip_prefix("::").expect("a command starts with ::");
    let (head, message) = rest.split_once("::").expect("a command has ::message");
    assert!(
        !message.contains('\r') && !message.contains('\n'),
        "{line:?}"
    );
    let (name, properties) = head.split_once(' ').unwrap_or((head, ""));
    let properties = properties
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p.split_once('=').expect("key=value");
            assert!(!value.contains(':'), "raw `:` in a property: {line:?}");
            (key.to_string(), unescape(value))
        })
        .collect();
    WorkflowCommand {
        name: name.to_string(),
        properties,
        message: unescape(message),
    }
}

#[test]
fn github_commands_round_trip_every_finding_of_every_case() {
    let mut commands_seen = 0;
    for case in cases() {
        let args = case_args(&case);
        let findings = json_findings(&case, &args);
        let out = check(&case, &args, &["--format", "github"]);
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let (last, commands) = lines.split_last().expect("a summary line");
        assert!(last.contains(" info in "), "{}: {last}", case.display());
        assert_eq!(commands.len(), findings.len(), "{}", case.display());
        // Errors first, then warnings, then notices; within each, the report's order.
        let mut expected: Vec<&serde_json::Value> = findings.iter().collect();
        let rank = |f: &serde_json::Value| match f["severity"].as_str().unwrap() {
            "error" => 0,
            "warning" => 1,
            _ => 2,
        };
        expected.sort_by_key(|f| rank(f));
        for (line, finding) in commands.iter().zip(expected) {
            let command = parse_command(line);
            let name = match finding["severity"].as_str().unwrap() {
                "info" => "notice",
                other => other,
            };
            assert_eq!(command.name, name, "{line}");
            assert_eq!(command.message, message_with_fix(finding), "{line}");
            let code = finding["code"].as_str().unwrap();
            assert!(
                command.properties["title"].starts_with(&format!("{code}: ")),
                "{line}"
            );
            match finding["file"].as_str() {
                Some(file) => {
                    assert_eq!(command.properties["file"], file);
                    assert_eq!(command.properties["line"], finding["line"].to_string());
                    assert_eq!(command.properties["col"], finding["column"].to_string());
                }
                None => assert!(!command.properties.contains_key("file"), "{line}"),
            }
            commands_seen += 1;
        }
    }
    assert!(commands_seen > 100, "{commands_seen} commands");
}

#[test]
fn github_escapes_percent_colon_and_comma_in_file_names() {
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/client-to-server-app-port");
    let dir = tempdir("github-names");
    let odd = "100%, a:b.yaml";
    std::fs::copy(case.join("app.yaml"), dir.join(odd)).unwrap();
    let out = check(&dir, &[odd.to_string()], &["--format", "github"]);
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=100%25%2C a%3Ab.yaml,line=57,col=5,title=AMB001%3A "),
        "{first}"
    );
    assert_eq!(parse_command(first).properties["file"], odd);
}

#[test]
fn junit_has_one_case_per_policy_and_failures_by_threshold() {
    let mut policies_seen = 0;
    for case in cases() {
        let args = case_args(&case);
        let findings = json_findings(&case, &args);
        for (fail_on, failing) in [
            ("error", &["error"][..]),
            ("warning", &["error", "warning"][..]),
            ("never", &[][..]),
        ] {
            let out = check(&case, &args, &["--format", "junit", "--fail-on", fail_on]);
            let xml = text(&out.stdout);
            let doc = roxmltree::Document::parse(&xml)
                .unwrap_or_else(|e| panic!("{}: {e}\n{xml}", case.display()));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "testsuites");
            let cases: Vec<roxmltree::Node> = root
                .descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let number = |node: roxmltree::Node, attr: &str| -> usize {
                node.attribute(attr).unwrap().parse().unwrap()
            };
            assert_eq!(number(root, "tests"), cases.len());
            let failed: Vec<&roxmltree::Node> = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .collect();
            assert_eq!(number(root, "failures"), failed.len(), "{}", case.display());
            for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
                let own = suite.children().filter(|n| n.has_tag_name("testcase"));
                assert_eq!(number(suite, "tests"), own.count());
            }
            // Each failure is one finding at or above the threshold, with its code as type.
            let failures: Vec<(String, String)> = cases
                .iter()
                .flat_map(|c| c.children().filter(|n| n.has_tag_name("failure")))
                .map(|f| {
                    (
                        f.attribute("type").unwrap().to_string(),
                        f.attribute("message").unwrap().to_string(),
                    )
                })
                .collect();
            let mut expected: Vec<(String, String)> = findings
                .iter()
                .filter(|f| failing.contains(&f["severity"].as_str().unwrap()))
                .map(|f| {
                    (
                        f["code"].as_str().unwrap().to_string(),
                        f["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let mut got = failures.clone();
            got.sort();
            expected.sort();
            assert_eq!(got, expected, "{} --fail-on {fail_on}", case.display());
            // Every policy a finding names is a test case of its kind.
            let named: BTreeSet<(String, String)> = cases
                .iter()
                .map(|c| {
                    (
                        c.attribute("classname").unwrap().to_string(),
                        c.attribute("name").unwrap().to_string(),
                    )
                })
                .collect();
            for finding in &findings {
                if let Some(policy) = finding["policy"].as_str() {
                    let kind = finding["policy_kind"].as_str().unwrap().to_string();
                    assert!(
                        named.contains(&(kind, policy.to_string())),
                        "{}: {policy} has no test case",
                        case.display()
                    );
                }
            }
            // A Cilium policy is one case, under its own kind (its allow rules are evaluated
            // with the NetworkPolicies, but it is not one).
            for (kind, name) in &named {
                if kind.starts_with("Cilium") {
                    assert!(
                        !named.contains(&("NetworkPolicy".to_string(), name.clone())),
                        "{}: {name} is a NetworkPolicy case too",
                        case.display()
                    );
                }
            }
            if fail_on == "error" {
                policies_seen += named.iter().filter(|(kind, _)| kind != "input").count();
            }
        }
    }
    assert!(policies_seen > 60, "{policies_seen} policies");
}

#[test]
fn junit_counts_policies_without_findings_as_passed() {
    // The fixture's policy `shop/server` has findings; a second policy, `shop/open`, none.
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/client-to-server-app-port");
    let open = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}
";
    let input = std::fs::read_to_string(case.join("app.yaml")).unwrap() + open;
    let dir = tempdir("junit-pass");
    std::fs::write(dir.join("p.yaml"), input).unwrap();
    let out = check(&dir, &["p.yaml".into()], &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = text(&out.stdout);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<(String, bool)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            (
                c.attribute("name").unwrap().to_string(),
                c.children().any(|n| n.has_tag_name("failure")),
            )
        })
        .collect();
    assert_eq!(
        cases,
        vec![("shop/server".into(), true), ("shop/open".into(), false)],
        "{xml}"
    );
}

#[test]
fn gitlab_issues_have_the_code_quality_fields_and_unique_fingerprints() {
    let mut issues_seen = 0;
    for case in cases() {
        let args = case_args(&case);
        let findings = json_findings(&case, &args);
        let out = check(&case, &args, &["--format", "gitlab"]);
        let issues: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(issues.len(), findings.len(), "{}", case.display());
        let mut fingerprints = BTreeSet::new();
        for (issue, finding) in issues.iter().zip(&findings) {
            assert_eq!(issue["check_name"], finding["code"]);
            assert_eq!(issue["description"], message_with_fix(finding).as_str());
            let severity = issue["severity"].as_str().unwrap();
            assert!(
                ["info", "minor", "major", "critical", "blocker"].contains(&severity),
                "{severity}"
            );
            let fingerprint = issue["fingerprint"].as_str().unwrap();
            assert!(
                fingerprints.insert(fingerprint.to_string()),
                "{}",
                case.display()
            );
            let path = issue["location"]["path"].as_str().unwrap();
            assert!(case.join(path).is_file(), "{}: {path}", case.display());
            let begin = issue["location"]["lines"]["begin"].as_u64().unwrap();
            assert!(begin >= 1);
            if let Some(line) = finding["line"].as_u64() {
                assert_eq!(begin, line);
            }
            issues_seen += 1;
        }
    }
    assert!(issues_seen > 100, "{issues_seen} issues");
}

#[test]
fn gitlab_fingerprints_survive_a_run_again_and_lines_moving() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/several-files");
    let dir = tempdir("gitlab-moves");
    let args = case_args(&case);
    for name in &args {
        std::fs::copy(case.join(name), dir.join(name)).unwrap();
    }
    let issues = || -> Vec<(String, String, u64)> {
        let out = check(&dir, &args, &["--format", "gitlab"]);
        let value: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mut issues: Vec<(String, String, u64)> = value
            .iter()
            .map(|i| {
                (
                    i["fingerprint"].as_str().unwrap().to_string(),
                    i["location"]["path"].as_str().unwrap().to_string(),
                    i["location"]["lines"]["begin"].as_u64().unwrap(),
                )
            })
            .collect();
        issues.sort();
        issues
    };
    let before = issues();
    assert!(before.len() >= 2, "{before:?}");
    assert_eq!(
        issues(),
        before,
        "the same input gives the same fingerprints"
    );
    // Three comment lines on top of every file: the findings move down, their fingerprints stay.
    for name in &args {
        let path = dir.join(name);
        let old = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("# moved\n# down\n# three lines\n{old}")).unwrap();
    }
    let after = issues();
    assert_eq!(after.len(), before.len());
    for ((f1, p1, l1), (f2, p2, l2)) in before.iter().zip(&after) {
        assert_eq!((f1, p1), (f2, p2));
        assert_eq!(*l2, l1 + 3);
    }
}

#[test]
fn markdown_summary_has_counts_and_a_row_per_error_and_warning() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/input-findings-mixed");
    let args = case_args(&case);
    let findings = json_findings(&case, &args);
    let out = check(&case, &args, &["--format", "markdown"]);
    let md = text(&out.stdout);
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count();
    let counts = format!(
        "| {} | {} | {} |",
        count("error"),
        count("warning"),
        count("info")
    );
    assert!(md.contains(&counts), "{md}");
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| :x: error |") || l.starts_with("| :warning: warning |"))
        .collect();
    assert_eq!(rows.len(), count("error") + count("warning"), "{md}");
    // Six cells a row: no `|` of a message broke out of its cell.
    for row in rows {
        let cells = row.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 7, "{row}");
    }
    assert!(
        md.contains(&format!("{} info findings", count("info"))),
        "{md}"
    );
}

#[test]
fn fail_on_decides_the_exit_status() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let status = |case: &str, extra: &[&str]| {
        let case = fixtures.join(case);
        check(&case, &case_args(&case), extra).status.code()
    };
    // Errors and warnings.
    assert_eq!(status("client-to-server-app-port", &[]), Some(1));
    assert_eq!(
        status("client-to-server-app-port", &["--fail-on", "error"]),
        Some(1)
    );
    assert_eq!(
        status("client-to-server-app-port", &["--fail-on", "never"]),
        Some(0)
    );
    // A warning only.
    assert_eq!(status("endport-covers-15008", &[]), Some(0));
    assert_eq!(
        status("endport-covers-15008", &["--fail-on", "warning"]),
        Some(1)
    );
    // Information only.
    assert_eq!(
        status("dns-egress-auto-mode", &["--fail-on", "warning"]),
        Some(0)
    );
    // Unusable input stays 2 whatever the threshold.
    let missing = check(
        &fixtures,
        &["no-such-file.yaml".into()],
        &["--fail-on", "never"],
    );
    assert_eq!(missing.status.code(), Some(2));
    let bad = check(&fixtures, &[], &["--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

fn check_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let _ = pipe.write_all(input.as_bytes());
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
fn input_with_nothing_to_analyse_exits_2_unless_allowed() {
    for (input, says) in [
        ("", "<stdin> is empty"),
        ("\n# only a comment\n---\n", "<stdin> is empty"),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
            "only 1 of kinds it ignores",
        ),
    ] {
        let out = check_stdin(&[], input);
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("nothing to check") && stderr.contains(says),
            "{input:?}: {stderr}"
        );
        assert!(stderr.contains("--allow-empty"), "{stderr}");
        // The report is still written first.
        assert!(text(&out.stdout).contains("in 0 objects"), "{input:?}");
        let allowed = check_stdin(&["--allow-empty"], input);
        assert_eq!(allowed.status.code(), Some(0), "{input:?}");
        assert!(allowed.stderr.is_empty(), "{}", text(&allowed.stderr));
    }
    // A directory whose manifests hold nothing either.
    let dir = tempdir("empty-dir");
    std::fs::write(dir.join("empty.yaml"), "").unwrap();
    let out = check(&dir, &["empty.yaml".into()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("empty.yaml is empty"));
    // Input that fails already (a syntax error, no object) keeps its exit status 1.
    let broken = check_stdin(&[], "kind: [\n");
    assert_eq!(broken.status.code(), Some(1));
}

#[test]
fn a_terminal_on_standard_input_is_told_what_the_command_waits_for() {
    // `script` (util-linux) runs the command on a pseudo-terminal; its own standard input is
    // empty, so the command reads end-of-file after the message.
    let script = Command::new("script")
        .args(["-q", "-e", "-c", &format!("{BIN} check"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs: it gives the CLI a terminal");
    let all = format!("{}{}", text(&script.stdout), text(&script.stderr));
    assert!(
        all.contains("reading manifests from standard input (end with Ctrl-D)"),
        "{all}"
    );
    // Not said when standard input is a pipe.
    let piped = check_stdin(&["--allow-empty"], "");
    assert!(!text(&piped.stderr).contains("reading manifests"));
}

/// A fresh directory under the target dir.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn junit_lists_every_calico_policy_as_a_case() {
    // Three GlobalNetworkPolicies: `security.block-metadata` has no finding, so it passes.
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico-ordered-policies");
    let args = case_args(&case);
    let out = check(&case, &args, &["--format", "junit"]);
    let xml = text(&out.stdout);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let calico: Vec<(String, bool)> = doc
        .descendants()
        .filter(|n| n.attribute("classname") == Some("GlobalNetworkPolicy (Calico)"))
        .map(|c| {
            (
                c.attribute("name").unwrap().to_string(),
                c.children().any(|n| n.has_tag_name("failure")),
            )
        })
        .collect();
    let names: Vec<&str> = calico.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "security.block-metadata",
            "api-allow-frontend",
            "shop-deny-rest"
        ],
        "{xml}"
    );
    assert!(
        !calico[0].1,
        "no finding names security.block-metadata: {xml}"
    );
}
