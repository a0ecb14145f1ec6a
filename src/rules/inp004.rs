//! INP004: a policy selects no pod among the pods given.
//!
//! ## What it does
//! Warns when the input contains workloads but a NetworkPolicy's `podSelector` matches none of
//! them in its namespace.
//!
//! ## Why it matters
//! Usually a typo in a label or a policy in the wrong namespace: the policy protects nothing. It
//! may also select pods that the input does not show (pods made by an operator); then the
//! analysis treats them as abstract workloads.
//!
//! ## Fix
//! Check the policy's namespace and the labels of `spec.podSelector` against the pods' labels.

use crate::findings::{Code, Finding};
use crate::pipeline::engine::Engine;

/// `given`: how many of the cluster's workloads are the input's (the first ones; the others are
/// inferred).
pub fn check(engine: &Engine, given: usize) -> Vec<Finding> {
    let cluster = engine.cluster;
    let workloads = &cluster.workloads[..given];
    if workloads.is_empty() {
        return Vec::new();
    }
    cluster
        .policies
        .network
        .iter()
        .enumerate()
        .filter(|(i, _)| engine.selected(*i).iter().all(|w| w >= given))
        // A cluster-wide Cilium policy belongs to no namespace; selecting nothing is common.
        .filter(|(_, policy)| policy.namespaces.is_none())
        .map(|(_, policy)| {
            let in_namespace: Vec<_> = workloads.iter().filter(|w| w.namespace == policy.namespace).collect();
            let host_network: Vec<String> = in_namespace
                .iter()
                .filter(|w| w.host_network && policy.pod_selector.matches(&w.labels))
                .map(|w| format!("`{}`", w.qualified_name()))
                .collect();
            let message = if in_namespace.is_empty() {
                let mut elsewhere: Vec<String> = workloads.iter().map(|w| format!("`{}`", w.namespace)).collect();
                crate::sort::sort(&mut elsewhere);
                elsewhere.dedup();
                format!(
                    "{} `{}` is in namespace `{}`, where the input has no workloads (they are in {}); is its `metadata.namespace` missing or wrong? Its pods (podSelector: {}) are analysed as pods not in the input",
                    policy.kind(),
                    policy.name,
                    policy.namespace,
                    elsewhere.join(", "),
                    policy.pod_selector
                )
            } else if host_network.is_empty() {
                format!(
                    "{} `{}` selects no pod among the {} workloads given in namespace `{}` (podSelector: {}); check its labels and namespace, or add the workloads it protects",
                    policy.kind(), policy.name, in_namespace.len(), policy.namespace, policy.pod_selector
                )
            } else {
                format!(
                    "{} `{}` selects only hostNetwork pods ({}): most CNIs do not apply NetworkPolicy to them (their traffic is the node's), so the policy has no effect there (use --host-network pod for CNIs that do)",
                    policy.kind(),
                    policy.name,
                    host_network.join(", ")
                )
            };
            let mut finding = Finding::new(Code::Inp004, message, Some(policy.location));
            finding.policy = Some(policy.qualified_name());
            finding
        })
        .collect()
}
