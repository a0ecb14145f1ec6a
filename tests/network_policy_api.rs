//! Conformance with the network-policy-api's own suite (tests/data/network-policy-api,
//! Apache-2.0): every step of every test, for ClusterNetworkPolicy (v1alpha2) and for
//! AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1). Each expected connection (from a
//! pod, to a pod, protocol, port, allowed or not) must be our verdict, through the explained
//! verdict and through the class tables alike.
//!
//! The pods are read one workload each (`pods-standalone.yaml`), with the suite's addresses as
//! the data gives them, so the steps whose CIDRs hold one replica and not the other are judged
//! per pod too.

use std::collections::BTreeMap;
use std::path::Path;

use ambient_netpol::net::conn::Protocol;
use ambient_netpol::pipeline::engine::{Endpoint, Engine};
use ambient_netpol::{Source, load};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/network-policy-api");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(DATA).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (steps, expectations) checked for one API version; panics with every mismatch.
fn check_version(version: &str) -> (usize, usize) {
    let mut cases: Vec<_> = std::fs::read_dir(Path::new(DATA).join(version).join("cases"))
        .expect("the data folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 24, "{version}: tests");
    let (mut steps, mut checked) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        let test: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&case).expect("readable")).expect("JSON");
        let pods = read(test["pods_standalone"].as_str().expect("pods"));
        let nodes = read(test["nodes"].as_str().expect("nodes"));
        for step in test["steps"].as_array().expect("steps") {
            steps += 1;
            let policies = read(step["policies"].as_str().expect("policies"));
            let text = format!("{pods}\n---\n{nodes}\n---\n{policies}");
            let mut loaded = load(&[Source {
                name: "conformance.yaml",
                text: &text,
            }]);
            let errors: Vec<_> = loaded
                .findings
                .iter()
                .filter(|f| f.code.id() != "INP002")
                .collect();
            assert!(
                errors.is_empty(),
                "{} / {}: {errors:#?}",
                test["test"],
                step["name"]
            );
            // A step that relabels namespaces gives their whole label maps.
            if let Some(labels) = step["namespace_labels"].as_object() {
                for (name, map) in labels {
                    let ns = loaded
                        .cluster
                        .model
                        .namespaces
                        .iter_mut()
                        .find(|n| &n.name == name)
                        .expect("a namespace of the suite");
                    ns.labels = map
                        .as_object()
                        .expect("labels")
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().expect("a label value").to_string()))
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .collect();
                }
            }
            let engine = Engine::new(&loaded.cluster);
            let at = |name: &str| {
                Endpoint::Workload(
                    loaded
                        .cluster
                        .workload(name)
                        .unwrap_or_else(|| panic!("no workload {name}")),
                )
            };
            for e in step["expect"].as_array().expect("expectations") {
                checked += 1;
                let (src, dst) = (
                    at(e["from_pod"].as_str().expect("from_pod")),
                    at(e["to_pod"].as_str().expect("to_pod")),
                );
                let protocol = Protocol::parse(e["protocol"].as_str().expect("protocol"))
                    .expect("TCP, UDP or SCTP");
                let port = e["port"].as_u64().expect("port") as u16;
                let expected = e["allowed"].as_bool().expect("allowed");
                let explained = engine.verdict(src, dst).allowed.contains(protocol, port);
                let fast = engine.allowed_between(src, dst).contains(protocol, port);
                if explained != expected || fast != expected {
                    failures.push(format!(
                        "{} / {}: {} -> {} {port}/{}: expected {}, explained {explained}, tables {fast}",
                        test["test"].as_str().unwrap_or("?"),
                        step["name"].as_str().unwrap_or("?"),
                        e["from_pod"].as_str().unwrap_or("?"),
                        e["to_pod"].as_str().unwrap_or("?"),
                        protocol.as_str(),
                        if expected { "allowed" } else { "denied" },
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{version}: {} of {checked} expectations differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (steps, checked)
}

#[test]
fn cluster_network_policy_v1alpha2() {
    assert_eq!(check_version("v1alpha2"), (96, 301));
}

#[test]
fn admin_and_baseline_admin_network_policy_v1alpha1() {
    assert_eq!(check_version("v1alpha1"), (92, 289));
}
