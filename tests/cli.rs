//! The command-line contract (DOMAIN.md section 6): inputs, output shapes and exit status.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    // The CLI may exit before reading (bad arguments), which closes the pipe: not a test failure.
    let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    drop(pipe);
    child.wait_with_output().expect("the CLI finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("output is UTF-8")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).expect("--format json prints one JSON object")
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
const BROKEN: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: [a\n";

#[test]
fn reads_standard_input_when_no_path_is_given() {
    let out = run(&["check"], Some(NAMESPACE));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 object (1 document)"));

    let dash = run(&["check", "-", "--format", "json"], Some(BROKEN));
    assert_eq!(dash.status.code(), Some(1));
    assert_eq!(json(&dash)["findings"][0]["file"], "<stdin>");
}

#[test]
fn error_findings_exit_1_with_compiler_style_lines() {
    let dir = tempdir("broken");
    let file = dir.join("broken.yaml");
    std::fs::write(&file, BROKEN).unwrap();
    let out = run(&["check", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    let prefix = format!("{}:", file.display());
    assert!(first.starts_with(&prefix), "{first}");
    assert!(
        first.contains(": INP001 error: YAML syntax error"),
        "{first}"
    );
}

#[test]
fn directories_are_read_recursively_in_name_order() {
    let dir = tempdir("tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("b.yml"), NAMESPACE.replace("shop", "b")).unwrap();
    std::fs::write(
        dir.join("sub/a.json"),
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "b"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("a.yaml"), BROKEN).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest: [").unwrap();
    let out = run(&["check", dir.to_str().unwrap(), "--format", "json"], None);
    assert_eq!(out.status.code(), Some(1));
    let value = json(&out);
    let files: Vec<String> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            Path::new(f["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(files, ["a.yaml", "a.json"]);
    assert_eq!(value["summary"]["documents"], 3);
}

#[test]
fn real_world_folders_are_read_without_input_errors() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/realworld/kube-prometheus"
    );
    let out = run(&["check", dir, "--format", "json"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "ambient errors expected: {}",
        stdout(&out)
    );
    let value = json(&out);
    // The operator's custom resources are the only ignored kinds in that folder.
    let ignored: Vec<&str> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "INP002")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(ignored.len(), 2, "{ignored:?}");
    assert!(ignored.iter().any(|m| m.starts_with("Prometheus `k8s`")));
    assert_eq!(value["summary"]["objects"], 15);
    let input_errors = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "INP001" || f["code"] == "INP003")
        .count();
    assert_eq!(input_errors, 0);
    let input_errors = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "INP001" || f["code"] == "INP003")
        .count();
    assert_eq!(input_errors, 0);
}

#[test]
fn missing_paths_and_bad_arguments_exit_2_with_a_reason() {
    let out = run(&["check", "/no/such/file.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/file.yaml") && err.contains("cannot read"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = run(&["check", "--format", "xml"], Some(NAMESPACE));
    assert_eq!(out.status.code(), Some(2));

    let empty = tempdir("empty");
    let out = run(&["check", empty.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no *.yaml"));
}

#[test]
fn non_utf8_input_is_a_located_error() {
    let dir = tempdir("latin1");
    let file = dir.join("latin1.yaml");
    std::fs::write(&file, b"a: 1\nb: caf\xe9\n").unwrap();
    let out = run(&["check", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latin1.yaml:2: not UTF-8"), "{err}");
}

#[test]
fn keep_going_reports_unreadable_files_and_analyses_the_rest() {
    let dir = tempdir("keep-going");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, b"\xff\xfe").unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, BROKEN).unwrap();
    let missing = dir.join("missing.yaml");
    let args = [
        "check",
        "--format",
        "json",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
        missing.to_str().unwrap(),
    ];

    let stopped = run(&args, None);
    assert_eq!(stopped.status.code(), Some(2));
    assert!(stopped.stdout.is_empty());

    let mut with_flag = args.to_vec();
    with_flag.push("--keep-going");
    let out = run(&with_flag, None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a skipped file still fails the run"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:1: not UTF-8") && err.contains("missing.yaml: cannot read"));
    assert_eq!(err.matches("(skipped)").count(), 2, "{err}");
    let value = json(&out);
    assert_eq!(
        value["summary"]["errors"], 1,
        "the readable file is analysed"
    );
}

#[test]
fn json_output_shape() {
    let out = run(
        &["check", "--format", "json"],
        Some(&format!("{BROKEN}---\n{NAMESPACE}")),
    );
    let value = json(&out);
    let finding = &value["findings"][0];
    for key in [
        "code", "severity", "policy", "workload", "message", "line", "fixable", "file", "document",
        "column",
    ] {
        assert!(finding.get(key).is_some(), "missing {key} in {finding}");
    }
    assert_eq!(finding["document"], 1);
    assert_eq!(value["summary"]["objects"], 1);
    assert_eq!(value["summary"]["errors"], 1);
}

/// A fresh directory under the target dir (no temp-dir crate needed for a few files).
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SEED_HBONE: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
spec:
  ingress:
  - ports:
    - port: 9090
      protocol: TCP
  podSelector:
    matchLabels:
      app.kubernetes.io/name: my-app
";

const MY_APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: my-app}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: my-app}
    spec:
      containers: [{name: app, ports: [{containerPort: 9090}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client}
spec:
  template:
    metadata:
      labels: {app: client}
    spec:
      containers: [{name: app}]
";

#[test]
fn connectivity_of_the_seed_example_in_json_and_text() {
    let input = format!("{SEED_HBONE}---\n{MY_APP}");
    let out = run(&["connectivity", "--format", "json"], Some(&input));
    assert_eq!(out.status.code(), Some(0));
    let rows = json(&out);
    let pair = |src: &str, dst: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["src"] == src && r["dst"] == dst)
            .map(|r| r["conn"].as_str().unwrap().to_string())
    };
    assert_eq!(
        pair("default/client", "default/my-app").as_deref(),
        Some("TCP 9090")
    );
    assert_eq!(
        pair("default/my-app", "default/client").as_deref(),
        Some("All Connections")
    );
    assert_eq!(
        pair("0.0.0.0-255.255.255.255", "default/my-app").as_deref(),
        Some("TCP 9090")
    );
    assert_eq!(rows[0]["src_kind"], "External");

    let text = stdout(&run(&["connectivity"], Some(&input)));
    assert!(text.starts_with("SOURCE"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("default/client [Deployment]")
                && l.contains("default/my-app [Deployment]")
                && l.ends_with("TCP 9090")),
        "{text}"
    );
}

#[test]
fn explain_names_the_policy_and_rule() {
    let input = format!("{SEED_HBONE}---\n{MY_APP}");
    let out = run(
        &[
            "explain",
            "--from",
            "default/client",
            "--to",
            "default/my-app",
            "--port",
            "15008/TCP",
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    // The header names the port asked for, and the whole set allowed today as such.
    assert!(
        text.starts_with(
            "default/client -> default/my-app: 15008/TCP blocked (allowed today: TCP 9090)\n"
        ),
        "{text}"
    );
    assert!(text.contains("isolated by default/<unnamed-1>"), "{text}");
    assert!(
        text.contains("ingress rule 1 (line 5) admits TCP 9090"),
        "{text}"
    );
    assert!(text.contains("15008/TCP: blocked"), "{text}");

    let out = run(
        &[
            "explain",
            "--from",
            "10.0.0.1",
            "--to",
            "default/my-app",
            "--port",
            "9090",
            "--format",
            "json",
        ],
        Some(&input),
    );
    let value = json(&out);
    assert_eq!(value["allowed"], "TCP 9090");
    assert_eq!(value["port"]["port"], 9090);
    assert_eq!(value["port"]["protocol"], "TCP");
    assert_eq!(value["port"]["allowed"], true);

    let out = run(
        &[
            "explain",
            "--from",
            "default/client",
            "--to",
            "default/my-app",
            "--port",
            "9090",
        ],
        Some(&input),
    );
    assert!(
        stdout(&out).starts_with(
            "default/client -> default/my-app: 9090/TCP allowed (allowed today: TCP 9090)\n"
        ),
        "{}",
        stdout(&out)
    );
    let out = run(
        &[
            "explain",
            "--from",
            "default/client",
            "--to",
            "default/my-app",
        ],
        Some(&input),
    );
    assert!(
        stdout(&out).starts_with("default/client -> default/my-app: allowed today: TCP 9090\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(value["ingress"]["admitted_by"][0]["line"], 5);
    assert_eq!(value["egress"]["isolated_by"].as_array().unwrap().len(), 0);

    let out = run(
        &[
            "explain",
            "--from",
            "default/nope",
            "--to",
            "default/my-app",
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("default/nope: no such workload") && err.contains("default/client"),
        "{err}"
    );
}

#[test]
fn connectivity_in_ambient_mode_shows_what_enrolling_breaks_and_what_the_fix_restores() {
    let case = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/client-to-server-app-port/app.yaml"
    );
    let out = run(
        &[
            "connectivity",
            "--mode",
            "ambient",
            "--format",
            "json",
            case,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let rows = json(&out);
    let pair = |rows: &serde_json::Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["src"] == "shop/client" && r["dst"] == "shop/server")
            .cloned()
            .unwrap()
    };
    let broken = pair(&rows);
    assert_eq!(broken["conn"], "No Connections");
    assert_eq!(broken["plain"], "TCP 9090");

    // After the fix the tunnel is admitted: every TCP port flows through it (AMB004's point).
    let fixed = tempdir("ambient-fixed").join("fixed.yaml");
    let out = run(&["check", "--fix", fixed.to_str().unwrap(), case], None);
    assert_eq!(out.status.code(), Some(1), "the original has errors");
    let out = run(
        &[
            "connectivity",
            "--mode",
            "ambient",
            "--format",
            "json",
            fixed.to_str().unwrap(),
        ],
        None,
    );
    let restored = pair(&json(&out));
    assert_eq!(restored["conn"], "TCP 1-65535");
    assert_eq!(restored["plain"], "TCP 9090,15008");
}

#[test]
fn explain_code_prints_the_rule_documentation() {
    let out = run(&["check", "--explain", "amb001"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("AMB001 (error): HBONE (15008/TCP) blocked"),
        "{text}"
    );
    for section in [
        "## What it does",
        "## Why it matters under ambient",
        "## Example",
        "## Fix",
    ] {
        assert!(text.contains(section), "{section} missing");
    }
    let out = run(&["check", "--explain", "XYZ123"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known codes: AMB001"));
}

#[test]
fn fix_write_and_a_diff_that_git_applies() {
    let dir = tempdir("write");
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seed/hbone-blocked.yaml");
    let original = std::fs::read_to_string(seed).unwrap();
    std::fs::write(dir.join("policy.yaml"), &original).unwrap();
    std::fs::write(dir.join("other.yaml"), NAMESPACE).unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(&dir)
            .args(args)
            .output()
            .expect("git runs")
    };

    // The JSON diff applies with `git apply` from the directory the paths are relative to.
    let report = Command::new(BIN)
        .current_dir(&dir)
        .args(["check", "--format", "json", "policy.yaml", "other.yaml"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let diff = value["diff"].as_str().unwrap();
    assert!(
        diff.starts_with("--- a/policy.yaml\n+++ b/policy.yaml\n"),
        "{diff}"
    );
    std::fs::write(dir.join("fix.diff"), diff).unwrap();
    assert!(git(&["init", "-q"]).status.success());
    let applied = git(&["apply", "--check", "fix.diff"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );

    // --fix writes every document, corrected; --write changes only the files that change.
    let fixed = dir.join("fixed.yaml");
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args(["check", "--fix", "fixed.yaml", "policy.yaml", "other.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the input has an error");
    let all = std::fs::read_to_string(&fixed).unwrap();
    assert!(all.contains("port: 15008") && all.contains("kind: Namespace"));
    assert_eq!(all, value["fixed_yaml"].as_str().unwrap());

    let before = std::fs::metadata(dir.join("other.yaml"))
        .unwrap()
        .modified()
        .unwrap();
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args(["check", "--write", "policy.yaml", "other.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings are reported as before the fix"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrected policy.yaml"));
    let written = std::fs::read_to_string(dir.join("policy.yaml")).unwrap();
    assert!(written.starts_with(&original[..original.find("  podSelector:").unwrap()]));
    assert!(written.contains(
        "    - port: 9090\n      protocol: TCP\n    - port: 15008\n      protocol: TCP\n"
    ));
    assert_eq!(
        std::fs::metadata(dir.join("other.yaml"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    let again = Command::new(BIN)
        .current_dir(&dir)
        .args(["check", "policy.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let out = run(&["check", "--write", "-"], Some(&original));
    assert_eq!(out.status.code(), Some(2), "stdin has no file to write");
}

/// `explain` adds what NetworkPolicy sees once the pods are enrolled: the ingress gateway tunnels
/// to the ambient app (unless proxies keep their ports), and replicas tunnel to each other.
#[test]
fn explain_says_what_happens_once_enrolled() {
    let fixture = |case: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(case)
            .to_string_lossy()
            .into_owned()
    };
    let gateway = fixture("ingress-gateway-to-ambient-app");
    let args = [
        "explain",
        "--from",
        "istio-ingress/istio-ingressgateway",
        "--to",
        "shop/frontend",
        &gateway,
    ];
    let text = String::from_utf8(run(&args, None).stdout).unwrap();
    assert!(text.contains("TCP 8080\n"), "{text}");
    assert!(
        text.contains("once enrolled: tunnelled over HBONE;")
            && text.contains(
                "istio-ingress/istio-ingressgateway -> shop/frontend 15008/TCP: blocked by shop/frontend"
            ),
        "{text}"
    );
    let off = [&args[..], &["--proxy-hbone", "off"]].concat();
    let text = String::from_utf8(run(&off, None).stdout).unwrap();
    assert!(
        text.contains("once enrolled: unchanged, this traffic keeps its original port"),
        "{text}"
    );
    let replicas = fixture("statefulset-replicas");
    let out = run(
        &[
            "explain",
            "--from",
            "db/cassandra",
            "--to",
            "db/cassandra",
            "--format",
            "json",
            &replicas,
        ],
        None,
    );
    let value = json(&out);
    assert_eq!(value["enrolled"]["hbone"], true);
    assert_eq!(value["enrolled"]["hops"][0]["allowed"], false);
    assert_eq!(
        value["enrolled"]["hops"][0]["blocked_by"][0],
        "db/cassandra"
    );
}
