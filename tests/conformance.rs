//! Conformance with np-guard/netpol-analyzer's connectivity test cases (tests/data/conformance,
//! Apache-2.0): our `connectivity` must give the connections that project expects.
//!
//! Connections are compared as sets of (protocol, port range) per (source, destination) pair,
//! parsed here independently of our own formatting; self pairs are ignored (as the data's
//! checker does).

#[path = "support/files.rs"]
mod files;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ambient_netpol::pipeline::connectivity::connectivity;
use ambient_netpol::pipeline::engine::{Engine, HostNetwork};
use ambient_netpol::{Source, load};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance/cases");

type Conn = BTreeSet<(String, u32, u32)>;
type Pairs = BTreeMap<(String, String), Conn>;

/// `All Connections` or `TCP 80,443,UDP 53`-style text to merged (protocol, lo, hi) ranges.
fn parse_conn(text: &str) -> Conn {
    let mut raw: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    if text.trim().eq_ignore_ascii_case("all connections") {
        for p in ["SCTP", "TCP", "UDP"] {
            raw.insert(p.into(), vec![(1, 65535)]);
        }
    } else {
        let mut proto = String::new();
        for token in text.split(',') {
            let mut token = token.trim();
            for p in ["SCTP", "TCP", "UDP"] {
                if let Some(rest) = token.strip_prefix(p) {
                    proto = p.to_string();
                    token = rest.trim();
                    if token.is_empty() {
                        raw.entry(proto.clone()).or_default().push((1, 65535));
                    }
                }
            }
            if token.is_empty() {
                continue;
            }
            let (lo, hi) = token.split_once('-').unwrap_or((token, token));
            raw.entry(proto.clone()).or_default().push((
                lo.parse().expect("port number"),
                hi.parse().expect("port number"),
            ));
        }
    }
    let mut out = Conn::new();
    for (proto, mut ranges) in raw {
        ranges.sort();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        out.extend(merged.into_iter().map(|(lo, hi)| (proto.clone(), lo, hi)));
    }
    out
}

/// netpol-analyzer names a pod by its direct owner, we by the top of its owner chain: its
/// ReplicaSet `<deployment>-<pod-template-hash>` is our Deployment `<deployment>` (DIFFERENCES.md).
fn our_name(name: &str, kind: &str) -> String {
    match name.rsplit_once('-') {
        Some((deployment, _hash)) if kind == "ReplicaSet" => deployment.to_string(),
        _ => name.to_string(),
    }
}

fn pairs(rows: &[serde_json::Value], external: bool) -> Pairs {
    rows.iter()
        .filter(|r| r["src"] != r["dst"])
        .filter(|r| external == (r["src_kind"] == "External" || r["dst_kind"] == "External"))
        .map(|r| {
            let s = |k: &str| r[k].as_str().expect("string field").to_string();
            let name = |k: &str| our_name(&s(k), &s(&format!("{k}_kind")));
            ((name("src"), name("dst")), parse_conn(&s("conn")))
        })
        .collect()
}

fn read_json(path: &Path) -> Vec<serde_json::Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).expect("expected data is JSON"),
        Err(_) => Vec::new(),
    }
}

/// Our connections for one case, as JSON rows (through serde, as the CLI prints them).
fn ours(case: &Path, host_network: HostNetwork) -> Vec<serde_json::Value> {
    let files: Vec<PathBuf> = files::sorted(case)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with("expected")
                && (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
        })
        .collect();
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();
    let sources: Vec<Source> = texts
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let loaded = load(&sources);
    let engine = Engine::with(&loaded.cluster, host_network);
    let json = serde_json::to_value(connectivity(&engine)).unwrap();
    json.as_array().unwrap().clone()
}

fn differences(want: &Pairs, got: &Pairs) -> Vec<String> {
    let keys: BTreeSet<_> = want.keys().chain(got.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        match (want.get(key), got.get(key)) {
            (Some(_), None) => out.push(format!("missing {} => {}", key.0, key.1)),
            (None, Some(_)) => out.push(format!("extra {} => {}", key.0, key.1)),
            (Some(w), Some(g)) if w != g => {
                out.push(format!("{} => {}: got {g:?} want {w:?}", key.0, key.1))
            }
            _ => {}
        }
    }
    out
}

struct Outcome {
    passed: usize,
    failed: Vec<(String, String)>,
    ext_passed: usize,
    ext_failed: Vec<(String, String)>,
}

fn run(host_network: HostNetwork) -> Outcome {
    let cases = files::sorted(CASES);
    assert_eq!(cases.len(), 50, "the copied data has 50 cases");
    let mut outcome = Outcome {
        passed: 0,
        failed: Vec::new(),
        ext_passed: 0,
        ext_failed: Vec::new(),
    };
    let summary = |diff: &[String]| {
        format!(
            "{} differences: {}",
            diff.len(),
            diff[..diff.len().min(3)].join("; ")
        )
    };
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let rows = ours(case, host_network);
        let diff = differences(
            &pairs(&read_json(&case.join("expected.json")), false),
            &pairs(&rows, false),
        );
        if diff.is_empty() {
            outcome.passed += 1;
        } else {
            outcome.failed.push((name.clone(), summary(&diff)));
        }
        let ext_path = case.join("expected_external.json");
        if ext_path.exists() {
            let diff = differences(&pairs(&read_json(&ext_path), true), &pairs(&rows, true));
            if diff.is_empty() {
                outcome.ext_passed += 1;
            } else {
                outcome.ext_failed.push((name, summary(&diff)));
            }
        }
    }
    for (name, diff) in outcome.failed.iter().chain(&outcome.ext_failed) {
        println!("FAIL {name} ({diff})");
    }
    println!(
        "{host_network:?} mode: workload pairs {} passed, {} failed; IP-range pairs {} passed, {} failed",
        outcome.passed,
        outcome.failed.len(),
        outcome.ext_passed,
        outcome.ext_failed.len()
    );
    outcome
}

/// netpol-analyzer applies policies to hostNetwork pods like to any pod, one of the two
/// behaviours the Kubernetes documentation allows; with that setting every case must agree.
#[test]
fn netpol_analyzer_cases_with_host_network_pods_as_pods() {
    let outcome = run(HostNetwork::Pod);
    assert!(
        outcome.failed.is_empty(),
        "workload pairs differ: {:#?}",
        outcome.failed
    );
    assert!(
        outcome.ext_failed.is_empty(),
        "IP-range pairs differ: {:#?}",
        outcome.ext_failed
    );
    assert_eq!(outcome.passed, 50);
}

/// Our default follows the most common CNI behaviour (hostNetwork traffic is the node's, policies
/// do not apply to it). The only cases that may then differ are those with hostNetwork pods.
#[test]
fn netpol_analyzer_cases_default_differ_only_by_host_network() {
    let outcome = run(HostNetwork::Node);
    for (name, diff) in outcome.failed.iter().chain(&outcome.ext_failed) {
        let case = Path::new(CASES).join(name);
        let has_host_network = std::fs::read_dir(&case).unwrap().any(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
            text.contains("hostNetwork: true") || text.contains("\"hostNetwork\": true")
        });
        assert!(
            has_host_network,
            "{name} differs without hostNetwork pods: {diff}"
        );
    }
    assert!(
        outcome.passed >= 36,
        "default-mode conformance fell: {}",
        outcome.passed
    );
}

#[test]
fn conn_parser_reads_the_data_conventions() {
    let c = parse_conn("SCTP 1-9002,9004-65535,TCP 80,443,UDP 53");
    assert!(c.contains(&("SCTP".into(), 9004, 65535)));
    assert!(c.contains(&("TCP".into(), 443, 443)));
    assert_eq!(
        parse_conn("All Connections"),
        parse_conn("SCTP 1-65535,TCP 1-65535,UDP 1-65535")
    );
    assert_eq!(parse_conn("TCP 1-5,6-9"), parse_conn("TCP 1-9"));
}
