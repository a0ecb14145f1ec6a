//! The engine answers verdicts between workloads from a table per class of alike workloads
//! (`pipeline::memo`). This checks the tables against the explained verdict, which evaluates every
//! rule for the exact pair, over generated clusters with shared labels, named ports that mean
//! different numbers on different pods, egress rules and hostNetwork pods, in both hostNetwork
//! modes.

#[path = "support/cluster.rs"]
mod cluster;

use ambient_netpol::calico::eval::PodAddresses;
use ambient_netpol::net::Direction;
use ambient_netpol::pipeline::engine::{Endpoint, Engine, HostNetwork};
use ambient_netpol::{Source, load};
use proptest::prelude::*;

fn check(text: &str, host_network: HostNetwork) -> Result<(), TestCaseError> {
    check_with(text, host_network, None)
}

/// [`check`] with Calico's semantics (`--cni calico`) when `calico` says where pods are.
fn check_with(
    text: &str,
    host_network: HostNetwork,
    calico: Option<PodAddresses>,
) -> Result<(), TestCaseError> {
    let loaded = load(&[Source {
        name: "cluster.yaml",
        text,
    }]);
    let engine = Engine::configured(&loaded.cluster, host_network, calico);
    let n = loaded.cluster.workloads.len();
    // Twice: the second pass reads only tables filled by other pairs of the same classes.
    for _ in 0..2 {
        for s in 0..n {
            for d in 0..n {
                let (src, dst) = (Endpoint::Workload(s), Endpoint::Workload(d));
                let verdict = engine.verdict(src, dst);
                prop_assert_eq!(
                    &*engine.allowed_between(src, dst),
                    &verdict.allowed,
                    "{} -> {}",
                    s,
                    d
                );
                prop_assert_eq!(
                    &*engine.allowed(src, dst, Direction::Egress),
                    &verdict.egress.allowed
                );
                prop_assert_eq!(
                    &*engine.allowed(dst, src, Direction::Ingress),
                    &verdict.ingress.allowed
                );
                // The explanation composed from the parts' tables is the one computed for the
                // pair, and so is the tiers' part of it.
                prop_assert_eq!(
                    &*engine.workload_side(s, d, Direction::Egress),
                    &verdict.egress
                );
                prop_assert_eq!(
                    &*engine.workload_side(d, s, Direction::Ingress),
                    &verdict.ingress
                );
                for (this, peer, direction, side) in [
                    (s, d, Direction::Egress, &verdict.egress),
                    (d, s, Direction::Ingress, &verdict.ingress),
                ] {
                    match engine.tiers_side(this, peer, direction) {
                        Some(tiers) => {
                            prop_assert_eq!(&*tiers.decided_by, &side.decided_by);
                            prop_assert_eq!(tiers.isolated, !side.isolated_by.is_empty());
                        }
                        None => prop_assert!(side.decided_by.is_empty()),
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn class_tables_agree_with_the_explained_verdict(
        seed in any::<u64>(),
        namespaces in 1usize..5,
        workloads in 2usize..40,
        policies in 1usize..30,
        pod_mode in any::<bool>(),
    ) {
        let text = cluster::generate(cluster::Size { namespaces, workloads, policies }, seed);
        check(&text, if pod_mode { HostNetwork::Pod } else { HostNetwork::Node })?;
    }

    /// The same under Calico: its tiers, orders and rules on top of the NetworkPolicies (whose
    /// ipBlocks then match pods) and the cluster-wide tiers, with and without pod ranges.
    #[test]
    fn class_tables_agree_with_the_explained_verdict_under_calico(
        seed in any::<u64>(),
        namespaces in 1usize..4,
        workloads in 2usize..30,
        policies in 0usize..15,
        calico in 1usize..8,
        pod_cidr in any::<bool>(),
        cluster_wide in 0usize..3,
    ) {
        let mut text = cluster::generate(cluster::Size { namespaces, workloads, policies }, seed);
        // With the network-policy-api's tiers too: Calico's `security` tier (order 100) comes
        // before their Admin tier.
        text.push_str(&cluster::cluster_policies(cluster_wide, namespaces, seed));
        text.push_str(&cluster::calico_policies(calico, namespaces, seed));
        let ranges = pod_cidr.then(|| {
            ambient_netpol::net::ip::Cidr::parse("10.244.0.0/16").map(|c| c.set()).unwrap_or_default()
        });
        check_with(&text, HostNetwork::Node, Some(PodAddresses { ranges }))?;
    }
}

/// A small cluster drawn from few labels and port names, so that many workloads share classes
/// while their named ports mean different numbers: the cases where a table could be wrong.
fn crowded(seed: u64) -> String {
    let mut rng = cluster::Rng::new(seed);
    let pick = |rng: &mut cluster::Rng, items: &[&'static str]| items[rng.below(items.len())];
    let mut out = String::new();
    for ns in ["a", "b"] {
        let team = pick(&mut rng, &["red", "blue"]);
        out += &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: {team}}}}}\n---\n"
        );
    }
    for w in 0..2 + rng.below(14) {
        let ns = pick(&mut rng, &["a", "b"]);
        let app = pick(&mut rng, &["x", "y", "z"]);
        let http = pick(&mut rng, &["80", "8080", "9000"]);
        let proto = pick(&mut rng, &["TCP", "UDP"]);
        let host = if rng.chance(10) {
            "\n    hostNetwork: true"
        } else {
            ""
        };
        out += &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{w}, namespace: {ns}, labels: {{app: {app}}}}}\nspec:{host}\n  containers:\n  - name: c\n    ports:\n    - {{name: http, containerPort: {http}, protocol: {proto}}}\n    - {{name: grpc, containerPort: {}}}\n---\n",
            9000 + rng.below(2)
        );
    }
    for p in 0..1 + rng.below(6) {
        let ns = pick(&mut rng, &["a", "b"]);
        let selector = pick(
            &mut rng,
            &["{}", "{matchLabels: {app: x}}", "{matchLabels: {app: y}}"],
        );
        let peer = pick(
            &mut rng,
            &[
                "",
                "\n    from: [{podSelector: {matchLabels: {app: z}}}]",
                "\n    from: [{namespaceSelector: {matchLabels: {team: red}}}]",
                "\n    from: [{podSelector: {}}]",
                "\n    from: [{ipBlock: {cidr: 10.0.0.0/8}}]",
            ],
        );
        let ports = pick(
            &mut rng,
            &[
                "[{port: http}]",
                "[{port: http, protocol: UDP}]",
                "[{port: grpc}, {port: 9000}]",
                "[{port: 8080, endPort: 9000}]",
                "[{protocol: UDP}]",
            ],
        );
        let (kind, side) = if rng.chance(50) {
            ("Ingress", "ingress")
        } else {
            ("Egress", "egress")
        };
        let peer = if side == "egress" {
            peer.replace("from:", "to:")
        } else {
            peer.to_string()
        };
        out += &format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: n{p}, namespace: {ns}}}\nspec:\n  podSelector: {selector}\n  policyTypes: [{kind}]\n  {side}:\n  - ports: {ports}{peer}\n---\n"
        );
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn class_tables_agree_on_crowded_clusters(seed in any::<u64>(), pod_mode in any::<bool>()) {
        check(&crowded(seed), if pod_mode { HostNetwork::Pod } else { HostNetwork::Node })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// With cluster-wide policies (both tiers, Pass and Deny, named ports), whose classes are
    /// composed from a NetworkPolicy part and a cluster-wide part.
    #[test]
    fn class_tables_agree_with_cluster_wide_policies(
        seed in any::<u64>(),
        namespaces in 1usize..5,
        workloads in 2usize..30,
        policies in 1usize..20,
        tiers in 1usize..12,
        cilium in 0usize..6,
        pod_mode in any::<bool>(),
    ) {
        let mut text = cluster::generate(cluster::Size { namespaces, workloads, policies }, seed);
        text += &cluster::cluster_policies(tiers, namespaces, seed);
        text += &cluster::cilium_policies(cilium, namespaces, seed);
        check(&text, if pod_mode { HostNetwork::Pod } else { HostNetwork::Node })?;
    }
}

/// A medium cluster, where many workloads share classes.
#[test]
fn a_medium_cluster_agrees() {
    check(&cluster::generate(cluster::M, 3), HostNetwork::Node).unwrap();
}
