#![doc = include_str!("docs/AMB006.md")]

use super::Output;
use crate::ambient::Context;
use crate::findings::{Code, Finding};
use crate::netpol::policy::Direction;

pub fn check(cx: &Context, out: &mut Output) {
    let ambient = super::members(cx, |m| m.is_ambient());
    for (p, policy) in cx.cluster.policies.iter().enumerate() {
        let mut selected = cx.engine.selected(p).clone();
        selected.intersect_with(&ambient);
        if selected.is_empty() {
            continue;
        }
        for direction in [Direction::Ingress, Direction::Egress] {
            if !policy.affects(direction) || !policy.rules(direction).is_empty() {
                continue;
            }
            let probes = match direction {
                Direction::Ingress => " The SNATed kubelet probes are: see AMB003.",
                Direction::Egress => "",
            };
            let mut finding = Finding::new(
                Code::Amb006,
                format!(
                    "{} `{}` allows no {} for the pods it selects (deny-all): nothing is tunneled, so HBONE is not the issue.{probes}",
                    policy.kind(),
                    policy.qualified_name(),
                    direction.as_str()
                ),
                Some(policy.location),
            );
            finding.policy = Some(policy.qualified_name());
            finding.workload = Some(super::subject(cx, p, &selected.iter().collect::<Vec<_>>()));
            out.findings.push(finding);
        }
    }
}
