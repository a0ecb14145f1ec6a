#![doc = include_str!("docs/AMB006.md")]

use super::Output;
use crate::ambient::Context;
use crate::findings::{Code, Finding};
use crate::net::Direction;
use crate::pipeline::PolicyRef;

pub fn check(cx: &Context, out: &mut Output) {
    let ambient = super::members(cx, |m| m.is_ambient());
    for (p, policy) in cx.cluster.policies.network.iter().enumerate() {
        let mut selected = cx.engine.selected(p).clone();
        selected.intersect_with(&ambient);
        if selected.is_empty() {
            continue;
        }
        for direction in [Direction::Ingress, Direction::Egress] {
            // A Cilium rule `- {}` admits nothing (its peers are an empty list); one that names
            // only peers the input does not show (`host`, `toFQDNs`) is not a deny-all.
            let nodes = policy.cilium.as_ref().map(|c| c.rule_nodes(direction));
            let admits = policy.rules(direction).iter().enumerate().any(|(i, r)| {
                r.peers.as_ref().is_none_or(|p| !p.is_empty())
                    || nodes
                        .and_then(|n| n.get(i))
                        .is_some_and(|n| !n.is_null() && n.as_map().is_none_or(|m| !m.is_empty()))
            });
            if !policy.affects(direction) || admits {
                continue;
            }
            let probes = match direction {
                Direction::Ingress => " The SNATed kubelet probes are: see AMB003.",
                Direction::Egress => "",
            };
            let named = PolicyRef::Network(p);
            let mut finding = Finding::new(
                Code::Amb006,
                format!(
                    "{} allows no {} for the pods it selects (deny-all): nothing is tunneled, so HBONE is not the issue.{probes}",
                    cx.cluster.describe_policy(named),
                    direction.as_str()
                ),
                Some(cx.cluster.policy_location(named)),
            );
            finding.policy = Some(cx.cluster.policy_name(named));
            finding.workload = Some(super::subject(cx, p, &selected.iter().collect::<Vec<_>>()));
            out.findings.push(finding);
        }
    }
}
