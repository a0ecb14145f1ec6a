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

/// Findings name the kind of policy they are about (JSON `policy_kind`, SARIF `properties`), and
/// cluster-scoped policies by name alone; `explain` names the cluster-wide rule that decides.
#[test]
fn findings_and_explanations_name_the_policy_kind() {
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cnp-admin-accept-then-deny");
    let text = ["cluster.yaml", "policies.yaml"]
        .map(|f| std::fs::read_to_string(case.join(f)).unwrap())
        .join("---\n");
    let np = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: web}\nspec:\n  podSelector: {}\n  egress:\n  - to: [{namespaceSelector: {}}]\n    ports: [{port: 8080}]\n";
    let input = format!("{text}{np}");
    let value = json(&run(&["check", "--format", "json"], Some(&input)));
    let kinds: Vec<(String, String, String)> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "AMB001" || f["code"] == "AMB002")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["policy"].as_str().unwrap().to_string(),
                f["policy_kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "AMB001".into(),
            "shop-guard".into(),
            "ClusterNetworkPolicy".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("AMB002".into(), "web/web".into(), "NetworkPolicy".into())),
        "{kinds:?}"
    );
    let sarif = json(&run(&["check", "--format", "sarif"], Some(&input)));
    let properties: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["properties"])
        .collect();
    assert!(
        properties
            .iter()
            .any(|p| p["policy"] == "shop-guard" && p["policy_kind"] == "ClusterNetworkPolicy"),
        "{properties:?}"
    );
    let explained = json(&run(
        &[
            "explain",
            "--format",
            "json",
            "--from",
            "web/frontend",
            "--to",
            "shop/api",
        ],
        Some(&text),
    ));
    let decided = &explained["ingress"]["decided_by"];
    assert_eq!(decided[0]["action"], "Accept");
    assert_eq!(decided[0]["rule_name"], "accept-web-8080");
    assert_eq!(decided[0]["conn"], "TCP 8080");
    assert_eq!(decided[1]["action"], "Deny");
    assert_eq!(decided[1]["tier"], "Admin");
    assert_eq!(explained["allowed"], "TCP 8080");
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
    // In a cluster of many, a dozen names, those of the namespace asked for first.
    let pods: String = (0..40)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i:02}, namespace: {}}}\nspec: {{containers: [{{name: c, image: x}}]}}\n",
                if i < 20 { "a" } else { "b" }
            )
        })
        .collect();
    let out = run(
        &["explain", "--from", "b/nope", "--to", "a/p00"],
        Some(&pods),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("workloads in the input: b/p20, b/p21") && err.ends_with("and 28 more\n"),
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

/// Files pasted without `---` (INP006): an error with its line in every format, the objects of
/// each part analysed, and `--write` inserts the marker, after which the file checks clean.
#[test]
fn pasted_files_get_inp006_and_write_inserts_the_marker() {
    let dir = tempdir("pasted");
    let pasted = format!("{NAMESPACE}# the policy\n{SEED_HBONE}");
    std::fs::write(dir.join("pasted.yaml"), &pasted).unwrap();

    let out = run(&["check", "--format", "json", "-"], Some(&pasted));
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let inp006 = findings
        .iter()
        .find(|f| f["code"] == "INP006")
        .expect("INP006 reported");
    assert_eq!(inp006["severity"], "error");
    assert_eq!(inp006["line"], 6);
    assert_eq!(inp006["fixable"], true);
    // The policy in the second part is analysed, not hidden behind a duplicate-key error.
    assert!(findings.iter().any(|f| f["code"] == "AMB001"));
    assert!(findings.iter().all(|f| f["code"] != "INP001"));
    let marker = format!("{NAMESPACE}---\n# the policy\napiVersion:");
    assert!(
        report["fixed_yaml"].as_str().unwrap().starts_with(&marker),
        "{}",
        report["fixed_yaml"]
    );
    assert!(
        report["diff"]
            .as_str()
            .unwrap()
            .contains("\n+---\n # the policy\n")
    );

    let out = check_in(&dir, &[], &["--write", "pasted.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.join("pasted.yaml")).unwrap();
    assert!(written.starts_with(&marker), "{written}");
    assert!(written.contains("port: 15008"));
    let again = check_in(&dir, &[], &["pasted.yaml"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
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

/// The ztunnel layer after the CNI's: `explain` says what the destination's ztunnel does with
/// the inner port and which policy decides; `connectivity --mode ambient` leaves out what it
/// refuses and says so.
#[test]
fn explain_and_connectivity_show_what_ztunnel_refuses_once_enrolled() {
    let fixture = |case: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(case)
            .to_string_lossy()
            .into_owned()
    };
    // A sidecar-era L7 policy: NetworkPolicy admits web on 8080 and 15008, ztunnel nothing.
    let l7 = fixture("istio-l7-policy-sidecar-era");
    let args = [
        "explain", "--from", "shop/web", "--to", "shop/api", "--port", "8080", &l7,
    ];
    let text = stdout(&run(&args, None));
    assert!(text.contains("8080/TCP: allowed\n"), "{text}");
    assert!(
        text.contains("ztunnel at shop/api judges the inner port by the identity `cluster.local/ns/shop/sa/web` over HBONE: refuses TCP 1-65535\n")
            && text.contains("`shop/api-readers` rule 1 (line 13) uses L7 attributes (methods, paths), which ztunnel cannot see: it never matches")
            && text.ends_with("8080/TCP once enrolled: denied by ztunnel (AuthorizationPolicy shop/api-readers)\n"),
        "{text}"
    );
    // Behind a waypoint, ztunnel sees the waypoint's identity.
    let waypoint = fixture("authz-selector-policy-behind-waypoint");
    let value = json(&run(
        &[
            "explain", "--from", "shop/web", "--to", "shop/api", "--port", "8080", "--format",
            "json", &waypoint,
        ],
        None,
    ));
    let z = &value["ztunnel"];
    assert_eq!(z["via"], "waypoint", "{z}");
    assert_eq!(z["identity"], "cluster.local/ns/shop/sa/waypoint");
    assert_eq!(z["denied"], "TCP 1-65535");
    assert_eq!(z["decisions"][0]["policies"][0], "shop/api");
    assert_eq!(z["port"]["verdict"], "denied");
    assert_eq!(value["port"]["allowed"], true, "today's verdict is kept");
    // An L4 policy that keeps the ports: 8080 allowed by its rule, the rest refused.
    let keeps = fixture("authz-existing-policy-keeps-ports");
    let rows = json(&run(
        &[
            "connectivity",
            "--mode",
            "ambient",
            "--format",
            "json",
            &keeps,
        ],
        None,
    ));
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["src"] == "shop/web" && r["dst"] == "shop/api")
        .expect("web -> api");
    assert_eq!(row["conn"], "TCP 8080", "{row}");
    assert_eq!(row["plain"], "TCP 8080,15008");
    assert_eq!(row["ztunnel_denied"], "TCP 1-8079,8081-65535");
    assert_eq!(row["denied_by"][0], "AuthorizationPolicy shop/api");
    // STRICT refuses the plaintext of a client outside the mesh; plain mode knows no ztunnel.
    let strict = fixture("peer-auth-strict-mesh-wide");
    let text = stdout(&run(&["connectivity", "--mode", "ambient", &strict], None));
    assert!(
        text.contains("BLOCKED once enrolled (today: TCP 8080) [ztunnel refuses TCP 8080: PeerAuthentication istio-system/default]"),
        "{text}"
    );
    let plain = stdout(&run(&["connectivity", &strict], None));
    assert!(!plain.contains("ztunnel"), "{plain}");
    // A root-namespace policy's selector matches pods of every namespace: billing's api too.
    let root = fixture("authz-root-namespace-policy");
    let text = stdout(&run(
        &[
            "explain",
            "--from",
            "billing/reporter",
            "--to",
            "billing/api",
            "--port",
            "9090",
            &root,
        ],
        None,
    ));
    assert!(
        text.contains("  TCP 1-65535: denied (no rule of the ALLOW AuthorizationPolicy `istio-system/api-port` admits this peer)\n")
            && text.ends_with("9090/TCP once enrolled: denied by ztunnel (AuthorizationPolicy istio-system/api-port)\n"),
        "{text}"
    );
    // An L4 DENY rule decides its port; the rest is open (no ALLOW policy).
    let deny = fixture("authz-l4-deny-policy");
    let text = stdout(&run(
        &["explain", "--from", "dev/tool", "--to", "shop/db", &deny],
        None,
    ));
    assert!(
        text.contains("refuses TCP 5432\n")
            && text.contains("  TCP 5432: denied (DENY AuthorizationPolicy `shop/no-dev-database` rule 1 (line 14) matches)\n")
            && text.contains("  TCP 1-5431,5433-65535: allowed (no ALLOW AuthorizationPolicy applies and no DENY rule matches)\n"),
        "{text}"
    );
}

// --write: all or nothing, atomic, mode kept, never over a file edited meanwhile.

fn seed_policy() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/seed/hbone-blocked.yaml"
    ))
    .unwrap()
}

/// The seed's policy with its ports as a flow sequence: its fix goes inside a line.
const FLOW_POLICY: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: flow, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 9090, protocol: TCP}]
";

/// Runs the CLI in `dir`, behind `prefix` (e.g. `setpriv ...`, see [`unprivileged`]).
fn check_in(dir: &Path, prefix: &[String], args: &[&str]) -> Output {
    let mut command = match prefix.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(BIN);
            command
        }
        None => Command::new(BIN),
    };
    command
        .current_dir(dir)
        .arg("check")
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every entry below `dir`: path, kind, mode, and for files their bytes and mtime, for links
/// their target. Equal snapshots mean nothing was written, created or left behind.
#[cfg(unix)]
fn snapshot(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                entries.push(format!("{name} -> {}", target.display()));
            } else if meta.is_dir() {
                entries.push(format!("{name}/ {mode:o}"));
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                entries.push(format!(
                    "{name} {mode:o} {:?} {:?}",
                    meta.modified().unwrap(),
                    String::from_utf8_lossy(&bytes)
                ));
            }
        }
    }
    entries.sort();
    entries
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// How to run the CLI so that permission bits stop it: directly, or, when this test runs as
/// root (which they do not stop), as `nobody` through `setpriv`, with `dir` given to that user.
/// `None` when neither is possible.
#[cfg(unix)]
fn unprivileged(dir: &Path) -> Option<Vec<String>> {
    let probe = dir.join("probe");
    std::fs::create_dir(&probe).unwrap();
    chmod(&probe, 0o555);
    let privileged = std::fs::File::create(probe.join("x")).is_ok();
    chmod(&probe, 0o755);
    std::fs::remove_dir_all(&probe).unwrap();
    if !privileged {
        return Some(Vec::new());
    }
    let prefix: Vec<String> = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]
    .map(String::from)
    .to_vec();
    let works = Command::new(&prefix[0])
        .args(&prefix[1..])
        .args([BIN, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        return None;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        std::os::unix::fs::lchown(&at, Some(65534), Some(65534)).unwrap();
        if at.is_dir() {
            for entry in std::fs::read_dir(&at).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
    }
    Some(prefix)
}

#[cfg(unix)]
#[test]
fn write_keeps_the_mode_and_the_link_and_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("write-mode");
    let seed = seed_policy();
    std::fs::write(dir.join("policy.yaml"), &seed).unwrap();
    chmod(&dir.join("policy.yaml"), 0o640);
    std::os::unix::fs::symlink("policy.yaml", dir.join("link.yaml")).unwrap();
    std::fs::write(dir.join("flow.yaml"), FLOW_POLICY).unwrap();
    chmod(&dir.join("flow.yaml"), 0o600);

    let out = check_in(&dir, &[], &["--write", "link.yaml", "flow.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("corrected link.yaml (2 lines added)")
            && err.contains("corrected flow.yaml (1 line changed)"),
        "{err}"
    );
    let written = std::fs::read_to_string(dir.join("policy.yaml")).unwrap();
    assert!(written.contains("- port: 15008\n") && written.len() > seed.len());
    assert!(
        std::fs::read_to_string(dir.join("flow.yaml"))
            .unwrap()
            .contains("[{port: 9090, protocol: TCP}, {port: 15008, protocol: TCP}]")
    );
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("policy.yaml"), 0o640);
    assert_eq!(mode("flow.yaml"), 0o600);
    // The link still points to the file, which was corrected: the rename replaced the file.
    assert_eq!(
        std::fs::read_link(dir.join("link.yaml")).unwrap(),
        Path::new("policy.yaml")
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");

    // The same file named twice (itself and through the link) is corrected once.
    std::fs::write(dir.join("policy.yaml"), &seed).unwrap();
    let out = check_in(&dir, &[], &["--write", "policy.yaml", "link.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("corrected").count(),
        1,
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("policy.yaml")).unwrap(),
        written
    );
}

#[cfg(unix)]
#[test]
fn write_dry_run_lists_the_files_and_writes_nothing() {
    let dir = tempdir("dry-run");
    std::fs::write(dir.join("a.yaml"), seed_policy()).unwrap();
    std::fs::write(dir.join("b.yaml"), FLOW_POLICY).unwrap();
    std::fs::write(dir.join("c.yaml"), NAMESPACE).unwrap();
    let before = snapshot(&dir);

    let args = ["--write", "--dry-run", "--format", "json", "."];
    let out = check_in(&dir, &[], &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["errors"], 2, "stdout is still JSON");
    let err = stderr(&out);
    let listed: Vec<&str> = err.lines().collect();
    assert_eq!(
        listed,
        [
            "ambient-netpol: would correct ./a.yaml (2 lines added)",
            "ambient-netpol: would correct ./b.yaml (1 line changed)",
        ]
    );
    assert_eq!(snapshot(&dir), before, "nothing written");

    let out = check_in(&dir, &[], &["--write", "--dry-run", "c.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("no file would change"));

    let out = check_in(&dir, &[], &["--dry-run", "a.yaml"]);
    assert_eq!(out.status.code(), Some(2), "--dry-run needs --write");
    assert!(stderr(&out).contains("--write"), "{}", stderr(&out));
    assert_eq!(snapshot(&dir), before);
}

/// One file of several cannot be written (a link to another file sits at its temporary name,
/// which a write must never go through): no file is written, the temporary files already made
/// are removed, and what was there is left as it was. Root cannot bypass this one.
#[cfg(unix)]
#[test]
fn write_nothing_when_one_file_of_several_fails() {
    let dir = tempdir("write-all-or-nothing");
    for name in ["a.yaml", "b.yaml", "c.yaml"] {
        std::fs::write(dir.join(name), seed_policy()).unwrap();
    }
    std::fs::write(dir.join("same.yaml"), NAMESPACE).unwrap();
    std::fs::write(dir.join("victim.txt"), "not yours\n").unwrap();
    std::os::unix::fs::symlink("victim.txt", dir.join(".b.yaml.ambient-netpol.tmp")).unwrap();
    let before = snapshot(&dir);

    let args = ["--write", "a.yaml", "b.yaml", "c.yaml", "same.yaml"];
    let out = check_in(&dir, &[], &args);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("ambient-netpol: b.yaml: cannot create the temporary file")
            && err.contains(".b.yaml.ambient-netpol.tmp")
            && err.contains("no file written"),
        "{err}"
    );
    assert!(!err.contains("corrected"), "{err}");
    assert!(
        stdout(&out).contains("AMB001"),
        "the report is still printed"
    );
    assert_eq!(snapshot(&dir), before, "every file as it was");

    std::fs::remove_file(dir.join(".b.yaml.ambient-netpol.tmp")).unwrap();
    let out = check_in(&dir, &[], &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).matches("corrected").count(), 3);
}

/// Permission bits: a read-only file is not replaced (a rename could, but the user marked it),
/// and a file in a read-only directory cannot get its temporary file; either way no file of the
/// run is written.
#[cfg(unix)]
#[test]
fn write_refuses_a_read_only_file_or_directory_and_writes_nothing() {
    let dir = tempdir("read-only");
    std::fs::create_dir(dir.join("locked")).unwrap();
    for name in ["a.yaml", "b.yaml", "locked/c.yaml"] {
        std::fs::write(dir.join(name), seed_policy()).unwrap();
    }
    let Some(prefix) = unprivileged(&dir) else {
        println!(
            "skipped: running as root, whom permission bits do not stop, and `setpriv` cannot \
             run the CLI as nobody"
        );
        return;
    };
    chmod(&dir.join("a.yaml"), 0o444);
    let before = snapshot(&dir);
    let out = check_in(&dir, &prefix, &["--write", "b.yaml", "a.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ambient-netpol: a.yaml: cannot write: Permission denied")
            && err.contains("no file written"),
        "{err}"
    );
    assert_eq!(
        snapshot(&dir),
        before,
        "b.yaml untouched, no temporary file left"
    );

    chmod(&dir.join("locked"), 0o555);
    let before = snapshot(&dir);
    let out = check_in(&dir, &prefix, &["--write", "b.yaml", "locked/c.yaml"]);
    chmod(&dir.join("locked"), 0o755);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("locked/c.yaml: cannot create the temporary file")
            && err.contains("Permission denied")
            && err.contains("no file written"),
        "{err}"
    );
    chmod(&dir.join("locked"), 0o555);
    assert_eq!(snapshot(&dir), before);
    chmod(&dir.join("locked"), 0o755);
}

/// A file edited after the CLI read it keeps the edit: the CLI reads its inputs in order, so a
/// named pipe given last holds it after it has read the files, while the test edits one.
#[cfg(unix)]
#[test]
fn write_keeps_a_file_that_changed_since_it_was_read() {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempdir("changed-under");
    let seed = seed_policy();
    std::fs::write(dir.join("a.yaml"), &seed).unwrap();
    std::fs::write(dir.join("b.yaml"), &seed).unwrap();
    let pipe = dir.join("last.yaml");
    let made = Command::new("mkfifo").arg(&pipe).status();
    if !made.is_ok_and(|s| s.success()) {
        println!("skipped: mkfifo is not available to make the named pipe");
        return;
    }
    let child = Command::new(BIN)
        .current_dir(&dir)
        .args(["check", "--write", "a.yaml", "b.yaml", "last.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening the pipe for writing waits until the CLI opens it for reading, which it does
    // once a.yaml and b.yaml are read.
    let (sent, opened) = mpsc::channel();
    let path = pipe.clone();
    std::thread::spawn(move || {
        let _ = sent.send(std::fs::OpenOptions::new().write(true).open(path));
    });
    let mut writer = match opened.recv_timeout(Duration::from_secs(60)) {
        Ok(writer) => writer.unwrap(),
        Err(_) => {
            let mut child = child;
            let _ = child.kill();
            let _ = std::fs::File::open(&pipe); // releases the waiting thread
            panic!(
                "the CLI never opened the pipe: {:?}",
                child.wait_with_output()
            );
        }
    };
    let edited = format!("{seed}# edited by hand\n");
    std::fs::write(dir.join("b.yaml"), &edited).unwrap();
    writer.write_all(NAMESPACE.as_bytes()).unwrap();
    drop(writer);
    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ambient-netpol: b.yaml: changed on disk since it was read")
            && err.contains("no file written"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("a.yaml")).unwrap(), seed);
    assert_eq!(std::fs::read_to_string(dir.join("b.yaml")).unwrap(), edited);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// `connectivity --mode ambient` reads the same route decision as `check`: the ingress gateway's
/// traffic to the ambient app is tunnelled (and blocked), unless proxies keep their ports.
#[test]
fn connectivity_in_ambient_mode_follows_proxies() {
    let case = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ingress-gateway-to-ambient-app/app.yaml"
    );
    let pair = |extra: &[&str]| {
        let args = [
            &["connectivity", "--mode", "ambient", "--format", "json"][..],
            extra,
            &[case],
        ]
        .concat();
        json(&run(&args, None))
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["src"] == "istio-ingress/istio-ingressgateway" && r["dst"] == "shop/frontend"
            })
            .cloned()
            .unwrap()
    };
    let on = pair(&[]);
    assert_eq!(on["conn"], "No Connections", "{on}");
    assert_eq!(on["plain"], "TCP 8080", "{on}");
    let off = pair(&["--proxy-hbone", "off"]);
    assert_eq!(off["conn"], "TCP 8080", "{off}");
}
