#![doc = include_str!("docs/AMB009.md")]

use super::{Output, names};
use crate::ambient::Context;
use crate::findings::{Code, Location};
use crate::net::Direction;
use crate::pipeline::{PolicyRef, RuleRef};

pub fn check(cx: &Context, out: &mut Output) {
    let ambient = super::members(cx, |m| m.is_ambient());
    let receivers = super::members(cx, |m| m.receives_hbone());
    for (p, policy) in cx.cluster.policies.network.iter().enumerate() {
        let Some(origin) = &policy.cilium else {
            continue;
        };
        for l7 in &origin.l7 {
            // Ingress: the policy's ambient pods receive mesh traffic through the tunnel. Egress:
            // its ambient pods send it to the mesh destinations the rule admits.
            let (subjects, peers) = match l7.direction {
                Direction::Ingress => {
                    let mut s = cx.engine.selected(p).clone();
                    s.intersect_with(&ambient);
                    (s, None)
                }
                Direction::Egress => {
                    if l7.protocols.iter().all(|k| k == "dns") {
                        // DNS goes to kube-dns, which istio-cni never captures.
                        continue;
                    }
                    let mut s = cx.engine.selected(p).clone();
                    s.intersect_with(&ambient);
                    let admitted = cx.engine.rule_peers(p, Direction::Egress, l7.rule);
                    let mut d = receivers.clone();
                    if !admitted.everyone {
                        d.intersect_with(&admitted.workloads);
                    }
                    if d.is_empty() {
                        continue;
                    }
                    (s, Some(d))
                }
            };
            if subjects.is_empty() {
                continue;
            }
            let ports = match &l7.ports {
                Some(specs) => specs
                    .iter()
                    .filter(|s| s.protocol == crate::net::conn::Protocol::Tcp)
                    .map(|s| match (&s.port, s.end_port) {
                        (Some(port), Some(end)) => format!("{port}-{end}"),
                        (Some(port), None) => port.to_string(),
                        (None, _) => "every port".into(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                None => "every port".into(),
            };
            let kinds = l7.protocols.join(", ");
            let whom = match &peers {
                None => format!("to {}", names(cx, &subjects)),
                Some(d) => format!("from {} to {}", names(cx, &subjects), names(cx, d)),
            };
            let rule = RuleRef::network(p, l7.direction, l7.rule);
            let mut finding = cx.cluster.rule_finding(
                Code::Amb009,
                format!(
                    "{} has L7 rules ({kinds}) on port {ports} {whom}: in the ambient mesh this traffic travels inside the HBONE tunnel (port 15008, mTLS), so Cilium's proxy no longer sees it and the L7 rules stop filtering mesh traffic",
                    cx.cluster.rule_name(&rule),
                ),
                &rule,
            );
            // At the L7 rules themselves.
            finding.location = Some(Location {
                line: l7.line,
                column: l7.column,
                ..cx.cluster.policy_location(PolicyRef::Network(p))
            });
            finding.workload = Some(super::subject(cx, p, &subjects.iter().collect::<Vec<_>>()));
            finding.fix = Some("enforce these L7 conditions with an Istio AuthorizationPolicy on a waypoint (targetRefs to the Service), and keep the Cilium rule at L4 with 15008/TCP admitted".into());
            out.findings.push(finding);
        }
    }
}
