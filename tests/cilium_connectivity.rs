//! Conformance with Cilium's own connectivity test (tests/data/cilium-connectivity,
//! Apache-2.0): the L3/L4 tests whose policies are CiliumNetworkPolicy or
//! CiliumClusterwideNetworkPolicy, each expected connection (from a pod, to a pod or an
//! external address, protocol, port, allowed or not) checked through the explained verdict and
//! through the class tables alike. The data's README says what was translated and what was left
//! out (L7, FQDN, host firewall, service accounts, services and nodes).

use std::path::Path;

use ambient_netpol::net::conn::Protocol;
use ambient_netpol::pipeline::engine::{Endpoint, Engine};
use ambient_netpol::{Source, load};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/cilium-connectivity"
);

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(DATA).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn cilium_connectivity_l3_l4() {
    let cases: serde_json::Value = serde_json::from_str(&read("cases.json")).expect("JSON");
    let pods = read("pods.yaml");
    let (mut tests, mut checked) = (0, 0);
    let mut failures = Vec::new();
    for test in cases["tests"].as_array().expect("tests") {
        tests += 1;
        let name = test["test"].as_str().expect("a name");
        let mut text = pods.clone();
        for policy in test["policies"].as_array().expect("policies") {
            text.push_str("\n---\n");
            text.push_str(&read(policy.as_str().expect("a path")));
        }
        let loaded = load(&[Source {
            name: "cilium.yaml",
            text: &text,
        }]);
        let errors: Vec<_> = loaded
            .findings
            .iter()
            .filter(|f| !matches!(f.code.id(), "INP002" | "INP007"))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let engine = Engine::new(&loaded.cluster);
        let at = |who: &str| match who.parse() {
            Ok(ip) => Endpoint::Ip(ip),
            Err(_) => Endpoint::Workload(
                loaded
                    .cluster
                    .workload(who)
                    .unwrap_or_else(|| panic!("{name}: no workload {who}")),
            ),
        };
        for e in test["expect"].as_array().expect("expectations") {
            checked += 1;
            let (from, to) = (
                e["from"].as_str().expect("from"),
                e["to"].as_str().expect("to"),
            );
            let protocol = Protocol::parse(e["protocol"].as_str().expect("protocol")).expect("TCP");
            let port = e["port"].as_u64().expect("port") as u16;
            let expected = e["allowed"].as_bool().expect("allowed");
            let (src, dst) = (at(from), at(to));
            let explained = engine.verdict(src, dst).allowed.contains(protocol, port);
            let fast = match (src, dst) {
                (Endpoint::Workload(_), Endpoint::Workload(_)) => {
                    engine.allowed_between(src, dst).contains(protocol, port)
                }
                _ => explained,
            };
            if explained != expected || fast != expected {
                failures.push(format!(
                    "{name}: {from} -> {to} {port}/{}: expected {}, explained {explained}, tables {fast}",
                    protocol.as_str(),
                    if expected { "allowed" } else { "denied" },
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} expectations differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((tests, checked), (30, 203));
}
