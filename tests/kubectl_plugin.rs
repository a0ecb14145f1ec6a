//! The kubectl plugin: the binary started as `kubectl-ambient_netpol` (`kubectl ambient-netpol
//! check`) reads the current context with `kubectl get` when given no file.
//!
//! No cluster here: `kubectl` is a test double on PATH (tests/kubectl/kubectl) that records the
//! commands it is given and answers with `kubectl api-resources -o name` and `kubectl get -o
//! yaml` output kept in tests/kubectl/ (a List shaped as kubectl writes it, with the objects of
//! the dump-kubectl-get-all fixture). So this checks the commands the plugin runs and that it
//! parses their output, not a live cluster.

#![cfg(unix)] // The plugin is a symbolic link to the binary; the fake kubectl is a shell script.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

/// A directory holding the plugin (a link to the binary, named as kubectl finds plugins) and
/// the fake kubectl, to put first on PATH; and the file the fake records its calls in.
struct Setup {
    bin: PathBuf,
    log: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kubectl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kubectl");
    for file in ["kubectl", "api-resources.txt", "get-all.yaml"] {
        std::fs::copy(data.join(file), bin.join(file)).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(BIN, bin.join("kubectl-ambient_netpol")).unwrap();
    Setup {
        bin,
        log: dir.join("calls.log"),
    }
}

impl Setup {
    /// `kubectl ARGS`, the fake first on PATH.
    fn kubectl(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(self.bin.join("kubectl"))
            .args(args)
            .env("PATH", path)
            .env("FAKE_KUBECTL_LOG", &self.log)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("the fake kubectl runs")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn kubectl_ambient_netpol_check_reads_the_current_context() {
    let setup = setup("check");
    let out = setup.kubectl(&["ambient-netpol", "check"], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    // The commands: which kinds the cluster lists, then one `get` of the kinds the analysis
    // reads, with the CRDs this cluster has (AdminNetworkPolicy, Gateway API) and not those it
    // lacks (ClusterNetworkPolicy v1alpha2, Istio's).
    let calls = setup.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0], "api-resources --verbs=list -o name");
    let get: Vec<&str> = calls[1].split(' ').collect();
    assert_eq!(get[0], "get");
    assert_eq!(&get[2..], ["--all-namespaces", "-o", "yaml"]);
    let kinds: Vec<&str> = get[1].split(',').collect();
    for kind in [
        "namespaces",
        "pods",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
        "daemonsets.apps",
        "services",
        "networkpolicies.networking.k8s.io",
        "adminnetworkpolicies.policy.networking.k8s.io",
        "baselineadminnetworkpolicies.policy.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        // For the `nodes` peers of the cluster-wide policies this cluster has.
        "nodes",
    ] {
        assert!(kinds.contains(&kind), "{kind} not asked for: {kinds:?}");
    }
    for kind in [
        "clusternetworkpolicies.policy.networking.k8s.io",
        "authorizationpolicies.security.istio.io",
    ] {
        assert!(!kinds.contains(&kind), "{kind} asked for: {kinds:?}");
    }
    // The output parsed as the same file would be: the dump's findings, its objects.
    let file = Command::new(BIN)
        .current_dir(&setup.bin)
        .args(["check", "get-all.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        stdout,
        text(&file.stdout).replace("get-all.yaml:", "<kubectl get>:")
    );
    assert!(
        stdout.contains("<kubectl get>:503:7: AMB001 error"),
        "{stdout}"
    );
    assert!(stdout.contains("in 7 objects (1 document)"), "{stdout}");
}

#[test]
fn the_plugin_passes_context_and_kubeconfig_and_reads_files_when_given() {
    let setup = setup("flags");
    let out = setup.kubectl(
        &[
            "ambient-netpol",
            "check",
            "--context",
            "prod",
            "--kubeconfig",
            "/k/config",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let calls = setup.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.starts_with("--context prod --kubeconfig /k/config ")),
        "{calls:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"][0]["file"], "<kubectl get, context prod>");

    // Given a file, the plugin reads it and asks kubectl nothing.
    let before = setup.calls().len();
    let file = setup.bin.join("get-all.yaml");
    let out = setup.kubectl(&["ambient-netpol", "check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(setup.calls().len(), before);

    // connectivity reads the cluster too.
    let out = setup.kubectl(&["ambient-netpol", "connectivity", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pairs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!pairs.as_array().unwrap().is_empty());

    // Help says how it is called.
    let help = setup.kubectl(&["ambient-netpol", "--help"], &[]);
    assert!(
        text(&help.stdout).contains("Usage: kubectl ambient-netpol <COMMAND>"),
        "{}",
        text(&help.stdout)
    );
}

#[test]
fn a_cluster_without_the_policy_crds_is_asked_for_no_crd_and_no_nodes() {
    let setup = setup("plain-cluster");
    // The built-in kinds only (the list without its CRD lines).
    let all = std::fs::read_to_string(setup.bin.join("api-resources.txt")).unwrap();
    let builtin: String = all
        .lines()
        .filter(|l| !l.contains("policy.networking.k8s.io") && !l.contains("gateway.networking"))
        .map(|l| format!("{l}\n"))
        .collect();
    let resources = setup.bin.join("builtin-resources.txt");
    std::fs::write(&resources, builtin).unwrap();
    let out = setup.kubectl(
        &["ambient-netpol", "check"],
        &[("FAKE_KUBECTL_RESOURCES", resources.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let calls = setup.calls();
    let kinds: Vec<&str> = calls[1].split(' ').nth(1).unwrap().split(',').collect();
    assert!(kinds.contains(&"networkpolicies.networking.k8s.io"));
    for kind in ["nodes", "adminnetworkpolicies.policy.networking.k8s.io"] {
        assert!(!kinds.contains(&kind), "{kind} asked for: {kinds:?}");
    }
}

#[test]
fn a_kubectl_failure_exits_2_with_its_message() {
    let setup = setup("fail");
    let out = setup.kubectl(&["ambient-netpol", "check"], &[("FAKE_KUBECTL_FAIL", "1")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`kubectl get ") && stderr.contains("connection to the server"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn ambient_netpol_reads_a_cluster_only_when_asked() {
    let setup = setup("plain");
    let path = format!(
        "{}:{}",
        setup.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("PATH", &path)
            .env("FAKE_KUBECTL_LOG", &setup.log)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // Under its own name, no file means standard input (here empty: exit 2), not kubectl.
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert!(setup.calls().is_empty());
    let out = run(&["check", "--cluster"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(setup.calls().len(), 2);
    let write = run(&["check", "--cluster", "--write"]);
    assert_eq!(write.status.code(), Some(2));
    assert!(text(&write.stderr).contains("use --fix FILE, then kubectl apply"));
    let out = run(&["check", "--context", "prod", "x.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("give --cluster"));
}
