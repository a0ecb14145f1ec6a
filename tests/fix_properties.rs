//! Properties of the fixer over generated clusters: the fix removes every HBONE and probe error,
//! fixing twice changes nothing, and what the fix opens is only 15008/TCP and the probe SNAT
//! addresses (plain NetworkPolicy connectivity only grows, by exactly those).

#[path = "support/cluster.rs"]
mod cluster;

use std::net::IpAddr;

use ambient_netpol::ambient::{Cni, FixStyle};
use ambient_netpol::net::conn::{ConnSet, Protocol};
use ambient_netpol::pipeline::engine::{Endpoint, Engine};
use ambient_netpol::{Options, Report, Source, analyze, load};
use proptest::prelude::*;

fn run(text: &str, options: &Options) -> Report {
    analyze(
        &[Source {
            name: "cluster.yaml",
            text,
        }],
        options,
    )
}

const BLOCKING: [&str; 5] = ["AMB001", "AMB002", "AMB003", "AMB005", "AMB013"];

/// Every allowed connection of `before` is still allowed `after`, and `after` adds at most
/// `extra` (per pair, workloads and sample addresses).
fn connectivity_grows_by_at_most(
    before: &str,
    after: &str,
    snat: IpAddr,
    options: &Options,
) -> Result<(), TestCaseError> {
    let (a, b) = (
        load(&[Source {
            name: "a",
            text: before,
        }]),
        load(&[Source {
            name: "b",
            text: after,
        }]),
    );
    let (ea, eb): (Engine, Engine) = (options.engine(&a.cluster), options.engine(&b.cluster));
    prop_assert_eq!(a.cluster.workloads.len(), b.cluster.workloads.len());
    let hbone = ConnSet::port(Protocol::Tcp, 15008);
    let addresses: Vec<IpAddr> = ["10.1.2.3", "8.8.8.8", "0.0.0.0", "169.254.7.127", "fd00::1"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let n = a.cluster.workloads.len();
    let mut endpoints: Vec<Endpoint> = (0..n).map(Endpoint::Workload).collect();
    endpoints.extend(addresses.iter().map(|&ip| Endpoint::Ip(ip)));
    for &src in &endpoints {
        for &dst in &endpoints {
            if matches!((src, dst), (Endpoint::Ip(_), Endpoint::Ip(_))) || src == dst {
                continue;
            }
            let va = ea.verdict(src, dst).allowed;
            let vb = eb.verdict(src, dst).allowed;
            prop_assert!(vb.contains_all(&va), "{src:?} -> {dst:?}: {va} became {vb}");
            let added = vb.subtract(&va);
            if src == Endpoint::Ip(snat) {
                continue; // the probe rule admits the SNAT address (on probe ports)
            }
            prop_assert!(
                hbone.contains_all(&added),
                "{src:?} -> {dst:?}: the fix added {added}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fixing_removes_blocking_errors_and_is_idempotent(
        seed in any::<u64>(),
        namespaces in 1usize..5,
        workloads in 2usize..16,
        policies in 1usize..14,
        cilium in any::<bool>(),
        add_style in any::<bool>(),
        proxies in any::<bool>(),
        cluster_wide in 0usize..4,
        cilium_policies in 0usize..5,
        calico in 0usize..5,
    ) {
        let mut text = cluster::generate_with(cluster::Size { namespaces, workloads, policies }, seed, proxies);
        text.push_str(&cluster::cluster_policies(cluster_wide, namespaces, seed));
        // Calico's policies (evaluated under --cni calico) in about half the cases, Cilium's in
        // the others (a cluster runs one CNI).
        let calico = calico.saturating_sub(2);
        if calico > 0 {
            text.push_str(&cluster::calico_policies(calico, namespaces, seed));
        } else {
            text.push_str(&cluster::cilium_policies(cilium_policies, namespaces, seed));
        }
        let options = Options {
            cni: match (calico > 0, cilium) {
                (true, _) => Cni::Calico,
                (false, true) => Cni::Cilium,
                (false, false) => Cni::Generic,
            },
            fix_style: if add_style { FixStyle::Add } else { FixStyle::Edit },
            ..Options::default()
        };
        let first = run(&text, &options);
        prop_assert!(distinct_extras(&first), "an extra document is written twice");
        let fixed = first.fixed.combined();
        let second = run(&fixed, &options);
        // (A cluster-wide Deny that names 15008 itself is reported without a fix: never widened.)
        let left: Vec<String> = second
            .findings
            .iter()
            .filter(|f| BLOCKING.contains(&f.code.id()))
            .filter(|f| f.fixable || f.policy_kind.as_deref().is_none_or(|k| k == "NetworkPolicy"))
            .map(|f| format!("{}: {}", f.code.id(), f.message))
            .collect();
        prop_assert!(left.is_empty(), "after the fix: {left:#?}\n{fixed}");
        prop_assert!(second.findings.iter().all(|f| f.code.id() != "INP001" && f.code.id() != "INP003"), "the fixed YAML is valid");
        prop_assert_eq!(second.fixed.combined(), fixed.clone(), "fixing again changes nothing");
        // The fix only inserts lines: every line of the input is kept, in order, byte for byte.
        let diff = similar::TextDiff::from_lines(text.as_str(), fixed.as_str());
        let removed: Vec<String> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .map(|c| c.to_string())
            .collect();
        prop_assert!(removed.is_empty(), "the fix changed input lines: {removed:?}");
        connectivity_grows_by_at_most(&text, &fixed, "169.254.7.127".parse().unwrap(), &options)?;
    }
}

/// Whether no extra document is written twice (a second round of fixing writes the first
/// round's again).
fn distinct_extras(report: &Report) -> bool {
    let extras = &report.fixed.extras;
    extras
        .iter()
        .enumerate()
        .all(|(i, e)| !extras[..i].contains(e))
}

/// A cluster whose fix takes a second round (the first round's fixes of Pass rules hand 15008/TCP
/// on to NetworkPolicy, whose fixes of the waypoint hops show on the fixed text only) and whose
/// Deny rules get AMB004's AuthorizationPolicies: each is written once, and those only the
/// second round asks for are said.
#[test]
fn a_second_round_writes_each_extra_document_once() {
    let mut text = cluster::generate(cluster::S, 5);
    text.push_str(&cluster::cluster_policies(50, cluster::S.namespaces, 5));
    let report = run(&text, &Options::default());
    assert!(
        report.notes.iter().any(|n| n.contains("in a second round")),
        "the fix takes a second round: {:#?}",
        report.notes
    );
    assert!(
        report.fixed.extras.len() > 10,
        "{}",
        report.fixed.extras.len()
    );
    assert!(distinct_extras(&report));
    // The documents only the second round asks for are said in a note, with their number.
    let written = report
        .notes
        .iter()
        .find_map(|n| n.strip_prefix("also written, in a second round ("))
        .expect("a note on the second round's documents");
    let (count, names) = written
        .split_once("): ")
        .and_then(|(_, rest)| {
            rest.split_once(" extra documents the findings of the corrected YAML ask for: ")
        })
        .expect("the note's wording");
    let count: usize = count.parse().expect("a count");
    assert!(count > 0 && count < report.fixed.extras.len(), "{written}");
    let first = names.split('`').nth(1).expect("a name");
    assert!(
        report.fixed.extras.iter().any(|e| e.name == first),
        "{written}"
    );
}

/// The generated clusters do exercise the fixer: a medium one with sidecars and a gateway has
/// every blocking code before the fix and none after, in both fix styles.
#[test]
fn a_medium_cluster_is_fixed_completely() {
    let text = cluster::generate_with(cluster::M, 7, true);
    for fix_style in [FixStyle::Edit, FixStyle::Add] {
        let options = Options {
            cni: Cni::Cilium,
            fix_style,
            ..Options::default()
        };
        let before = run(&text, &options);
        for code in BLOCKING {
            assert!(
                before.findings.iter().any(|f| f.code.id() == code),
                "{code} expected before the fix"
            );
        }
        let after = run(&before.fixed.combined(), &options);
        let left: Vec<_> = after
            .findings
            .iter()
            .filter(|f| BLOCKING.contains(&f.code.id()))
            .collect();
        assert!(left.is_empty(), "{fix_style:?}: {left:#?}");
    }
}

/// Sidecar-era AuthorizationPolicies with L7 attributes (AMB010) on generated apps, in block or
/// flow style, some apps behind a Service, some namespace-wide, one in four DENY.
fn l7_policies(n: usize, size: cluster::Size, seed: u64) -> String {
    let mut out = String::new();
    for p in 0..n {
        let w = (seed as usize).wrapping_add(p * 7) % size.workloads;
        let namespace = format!("ns-{:03}", w % size.namespaces);
        let app = format!("app-{w:05}");
        let action = if p % 4 == 3 { "DENY" } else { "ALLOW" };
        if (seed >> p) & 1 == 1 {
            out.push_str(&format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{p}\n  namespace: {namespace}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - port: 80\n---\n"
            ));
        }
        let rules = match p % 3 {
            0 => "  rules:\n  - from:\n    - source:\n        principals: [\"cluster.local/ns/ns-000/sa/frontend\"]\n        requestPrincipals: [\"*\"]\n    to:\n    - operation:\n        methods: [GET]\n        ports: [\"8080\"]\n".to_string(),
            1 => "  rules:\n  - to:\n    - operation:\n        paths: [\"/api/*\"]\n    from:\n    - source:\n        namespaces: [ns-001]\n    when:\n    - key: request.headers[x-team]\n      values: [a]\n    - key: source.namespace\n      values: [ns-001]\n".to_string(),
            _ => "  rules: [{to: [{operation: {methods: [POST], notPorts: [\"9090\"]}}]}, {from: [{source: {notRequestPrincipals: [\"*\"], namespaces: [ns-000]}}]}]\n".to_string(),
        };
        let selector = if p % 5 == 4 {
            String::new()
        } else {
            format!("  selector:\n    matchLabels:\n      app: {app}\n")
        };
        out.push_str(&format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: l7-{p}\n  namespace: {namespace}\nspec:\n{selector}  action: {action}\n{rules}---\n"
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// AMB010's edits on generated clusters: the fixed YAML is valid and never withheld, every
    /// policy with an edit is fixed (only DENY policies without a Service stay), no blocking
    /// error is left, and fixing again changes nothing.
    #[test]
    fn l7_policy_edits_are_valid_and_idempotent(
        seed in any::<u64>(),
        namespaces in 1usize..4,
        workloads in 2usize..10,
        policies in 1usize..6,
        l7 in 1usize..6,
    ) {
        let size = cluster::Size { namespaces, workloads, policies };
        let mut text = cluster::generate_with(size, seed, false);
        text.push_str(&l7_policies(l7, size, seed));
        let options = Options::default();
        let first = run(&text, &options);
        prop_assert!(first.findings.iter().all(|f| f.code.id() != "INT001"), "{:#?}", first.findings);
        let fixed = first.fixed.combined();
        let second = run(&fixed, &options);
        prop_assert!(second.findings.iter().all(|f| f.code.id() != "INP001" && f.code.id() != "INP003"), "the fixed YAML is valid:\n{fixed}");
        // The waypoint hop a Service's new label opens is fixed too (a second round).
        let left: Vec<String> = second
            .findings
            .iter()
            .filter(|f| BLOCKING.contains(&f.code.id()))
            .map(|f| format!("{}: {}", f.code.id(), f.message))
            .collect();
        prop_assert!(left.is_empty(), "after the fix: {left:#?}\n{fixed}");
        for f in second.findings.iter().filter(|f| f.code.id() == "AMB010") {
            prop_assert!(f.message.contains("(DENY)") && !f.fixable, "left after the fix: {}\n{fixed}", f.message);
        }
        prop_assert_eq!(second.fixed.combined(), fixed, "fixing again changes nothing");
    }
}
