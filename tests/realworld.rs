//! The two real-world folders (tests/data/realworld), checked through the CLI as users run it,
//! against snapshots reviewed by hand against DOMAIN.md (see the notes in each test).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ambient-netpol");

fn check(folder: &str, args: &[&str]) -> (i32, String, serde_json::Value) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/realworld");
    let run = |format: &str| {
        let out = Command::new(BIN)
            .current_dir(root)
            .args(["check", folder, "--format", format])
            .args(args)
            .output()
            .expect("the CLI runs");
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, text) = run("text");
    let (_, json) = run("json");
    (code, text, serde_json::from_str(&json).unwrap())
}

fn count(report: &serde_json::Value, code: &str) -> usize {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .count()
}

/// Online Boutique: a namespace-wide deny-all plus one allow policy per service, all on app ports.
/// Every service policy blocks HBONE from its clients (AMB001, one per policy with clients in the
/// input); every Deployment with network probes under the deny-all gets AMB003 (error on Cilium);
/// the deny-all itself is AMB006 in both directions. Objects carry no namespace: INP005.
#[test]
fn online_boutique() {
    let (code, text, report) = check("online-boutique", &["--cni", "cilium"]);
    assert_eq!(code, 1);
    assert_eq!(count(&report, "AMB001"), 10, "{text}");
    assert_eq!(count(&report, "AMB003"), 10, "{text}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "AMB003")
            .all(|f| f["severity"] == "error")
    );
    assert_eq!(count(&report, "AMB006"), 2);
    assert_eq!(count(&report, "INP001") + count(&report, "INP003"), 0);
    insta::assert_snapshot!("online_boutique", text);
}

/// kube-prometheus: the Prometheus and Alertmanager pods come from custom resources, so their
/// policies select pods the files do not show (INP004, and inferred workloads that still get
/// AMB001 and AMB003); node-exporter uses hostNetwork (AMB008, and INP004 says its policy has no
/// effect on most CNIs); Grafana's probe uses the named port `http` (3000). Prometheus' policy
/// admitting only 9090 and 8080 is Istio issue 52742's case: Grafana's queries are blocked.
#[test]
fn kube_prometheus() {
    let (code, text, report) = check("kube-prometheus", &[]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| {
        f["code"] == "AMB001"
            && f["policy"] == "monitoring/prometheus-k8s"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("`monitoring/grafana`")
    }));
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "AMB008" && f["workload"] == "monitoring/node-exporter")
    );
    assert!(findings.iter().any(|f| f["code"] == "AMB003"
        && f["workload"] == "monitoring/grafana"
        && f["message"].as_str().unwrap().contains("http (3000)")));
    assert!(text.contains("selects only hostNetwork pods (`monitoring/node-exporter`)"));
    insta::assert_snapshot!("kube_prometheus", text);
}

/// The page draws the paths of the corrected YAML from its analysis without checking that
/// analysis's own fix (`analyze_unchecked`): the paths must not depend on the check. Both
/// applications, as they are and corrected, with each fix style and CNI.
#[test]
fn the_paths_do_not_wait_for_the_check_of_a_fix() {
    use ambient_netpol::ambient::{Cni, FixStyle};
    use ambient_netpol::{Options, Source, analyze, analyze_unchecked};
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/realworld");
    for folder in ["online-boutique", "kube-prometheus"] {
        let mut files: Vec<_> = std::fs::read_dir(format!("{root}/{folder}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let text: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap() + "\n---\n")
            .collect();
        for (cni, fix_style) in [
            (Cni::Generic, FixStyle::Edit),
            (Cni::Cilium, FixStyle::Add),
            (Cni::Calico, FixStyle::Edit),
        ] {
            let options = Options {
                cni,
                fix_style,
                ..Options::default()
            };
            let checked = analyze(
                &[Source {
                    name: "x.yaml",
                    text: &text,
                }],
                &options,
            );
            assert!(!checked.paths.edges.is_empty(), "{folder}");
            let fixed = checked.fixed.combined();
            for text in [text.as_str(), &fixed] {
                let sources = [Source {
                    name: "x.yaml",
                    text,
                }];
                assert_eq!(
                    analyze_unchecked(&sources, &options).report.paths,
                    analyze(&sources, &options).paths,
                    "{folder} {cni:?} {fix_style:?}"
                );
            }
        }
    }
}
