#![doc = include_str!("docs/AMB010.md")]

use super::Output;
use crate::ambient::Context;
use crate::findings::{Code, Finding, Location};
use crate::istio::{Action, Scope, ztunnel};
use crate::netpol::eval::BitSet;

pub fn check(cx: &Context, out: &mut Output) {
    let n = cx.cluster.workloads.len();
    for policy in &cx.cluster.authorization_policies {
        if policy.action == Action::Custom && !matches!(policy.scope, Scope::TargetRefs(_)) {
            let mut finding = Finding::new(
                Code::Inp002,
                format!(
                    "AuthorizationPolicy `{}` (CUSTOM) is not analysed: an external authorizer decides, and ztunnel does not support CUSTOM at all (istiod leaves the policy out for ambient pods; attach it to a waypoint with `targetRefs`)",
                    policy.qualified_name()
                ),
                Some(policy.spec_location),
            );
            finding.policy = Some(policy.qualified_name());
            finding.policy_kind = Some("AuthorizationPolicy".into());
            out.findings.push(finding);
            continue;
        }
        if !matches!(policy.action, Action::Allow | Action::Deny)
            || matches!(policy.scope, Scope::TargetRefs(_))
        {
            continue;
        }
        let attributes = policy.l7_attributes();
        if attributes.is_empty() {
            continue;
        }
        let mut subjects = BitSet::new(n);
        for (w, workload) in cx.cluster.workloads.iter().enumerate() {
            if cx.membership[w].is_ambient() && ztunnel::enforced_for(cx.istio, policy, workload) {
                subjects.insert(w);
            }
        }
        let Some(first) = subjects.iter().next() else {
            continue;
        };
        let l7_rules: Vec<usize> = (0..policy.rules.len())
            .filter(|&r| !policy.rules[r].l7.is_empty())
            .collect();
        let numbers = super::list(l7_rules.iter().map(|r| (r + 1).to_string()).collect());
        let one = l7_rules.len() == 1;
        let rules_word = if one { "rule" } else { "rules" };
        let (matches, they, their, deny) = if one {
            ("never matches", "it", "its", "denies")
        } else {
            ("never match", "they", "their", "deny")
        };
        let binding = match policy.scope {
            Scope::Selector(_) => "bound by selector",
            _ if policy.namespace == cx.istio.root_namespace => {
                "mesh-wide (in the root namespace, without a selector)"
            }
            _ => "namespace-wide (no selector, no `targetRefs`)",
        };
        let effect = match policy.action {
            Action::Allow if l7_rules.len() == policy.rules.len() => format!(
                "istiod gives ztunnel the policy without the rules that need HTTP, so {rules_word} {numbers} {matches}: the policy admits nobody, and every connection to these pods is refused unless another ALLOW policy admits it (a sidecar-era policy turns into deny-all)"
            ),
            Action::Allow => format!(
                "istiod gives ztunnel the policy without the rules that need HTTP, so {rules_word} {numbers} {matches}: the traffic only {they} admitted is refused"
            ),
            _ => format!(
                "ztunnel enforces {rules_word} {numbers} without {their} L7 parts, so {they} {deny} every connection {their} L4 part matches (the same sources and ports), not only the requests the L7 attributes described"
            ),
        };
        let waypoint = if subjects.iter().any(|w| cx.waypoint[w].is_some()) {
            " A waypoint on their path does not change this: a selector-bound or namespace-wide policy is still enforced by the destination's ztunnel."
        } else {
            ""
        };
        let message = format!(
            "AuthorizationPolicy `{}` ({}) uses L7 attributes ({}) and is {binding}, so ztunnel enforces it for {} in the ambient mesh, and ztunnel sees TCP only: {effect}.{waypoint}",
            policy.qualified_name(),
            policy.action.as_str(),
            attributes
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            super::names(cx, &subjects),
        );
        let at = l7_rules
            .first()
            .map(|&r| Location {
                line: policy.rules[r].line,
                column: policy.rules[r].column,
                ..policy.location
            })
            .unwrap_or(policy.location);
        let mut finding = Finding::new(Code::Amb010, message, Some(at));
        finding.policy = Some(policy.qualified_name());
        finding.policy_kind = Some("AuthorizationPolicy".into());
        finding.workload = Some(if subjects.count() == 1 {
            cx.workload_name(first)
        } else {
            match &policy.scope {
                Scope::Selector(labels) => format!(
                    "{}/[{}]",
                    policy.namespace,
                    labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                _ => format!("{}/[all pods]", policy.namespace),
            }
        });
        let target = &cx.cluster.workloads[first];
        let service = cx
            .cluster
            .services
            .iter()
            .find(|s| s.namespace == target.namespace && s.selector.matches(&target.labels))
            .map_or("<the Service>".to_string(), |s| s.name.clone());
        finding.fix = Some(format!(
            "keep the HTTP rules on a waypoint: deploy one in `{ns}` (`istioctl waypoint apply -n {ns}`), label the Service `{service}` `istio.io/use-waypoint: waypoint`, and attach this policy to it with `targetRefs: [{{kind: Service, group: \"\", name: {service}}}]` instead of `selector`; or keep only the L4 attributes (principals, namespaces, ports), which ztunnel enforces, and lose the HTTP restriction",
            ns = target.namespace
        ));
        out.findings.push(finding);
    }
}
