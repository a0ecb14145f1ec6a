#![doc = include_str!("docs/AMB010.md")]

use super::Output;
use crate::ambient::Context;
use crate::findings::{Code, Finding, Location};
use crate::istio::{Action, Scope, ztunnel};
use crate::pipeline::engine::BitSet;

pub fn check(cx: &Context, out: &mut Output) {
    let n = cx.cluster.workloads.len();
    for policy in &cx.cluster.policies.istio.authorization {
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
        let ns = &target.namespace;
        let service = cx
            .cluster
            .services
            .iter()
            .enumerate()
            .find(|(_, s)| &s.namespace == ns && s.selector.matches(&target.labels));
        let edit = cx.fix_style == crate::ambient::FixStyle::Edit;
        let index = cx
            .cluster
            .policies
            .istio
            .authorization
            .iter()
            .position(|p| std::ptr::eq(p, policy));
        // A waypoint matches the Service's ports, not the pods' the policy names: where no port
        // list of the Service says the same, no attachment is offered (`ambient::service_ports`).
        let ported = service.map(|(_, service)| {
            crate::ambient::authz::rules_for_services(cx.cluster, policy, &[&service.name])
        });
        if let Some(Err(why)) = &ported {
            finding.fix = Some(format!(
                "keep the HTTP rules on a waypoint: attach the policy to the Service `{}` with `targetRefs` instead of `selector`, naming the Service's ports (a waypoint matches those, not the pods'); no corrected YAML is offered: {why}",
                service.map_or("", |(_, s)| s.name.as_str())
            ));
            out.findings.push(finding);
            continue;
        }
        let ports_moved = match &ported {
            Some(Ok(rules)) if *rules != crate::ambient::authz::rules_of(policy) => {
                ", with the Service's ports for the pods' ports it names, since a waypoint matches the port the client addressed"
            }
            _ => "",
        };
        finding.fix = Some(match (service, index) {
            (Some((s, service)), Some(authz)) if edit => {
                // The waypoint the pods' traffic takes already, else the namespace's, else one
                // to deploy (the extra Gateway) and label the Service for.
                let used = cx.waypoint[first].as_ref();
                let existing = cx.cluster.waypoints.iter().find(|w| &w.namespace == ns);
                let waypoint = match (used, existing) {
                    (Some(u), _) => u.name.clone(),
                    (None, Some(w)) => w.name.clone(),
                    (None, None) => "waypoint".to_string(),
                };
                out.fixes.push(crate::ambient::FixRequest::AttachToService {
                    authz,
                    service: service.name.clone(),
                });
                finding.fixable = true;
                let mut also = String::new();
                let gateway = used.is_none() && existing.is_none();
                if used.is_none() {
                    match service.labels.get(crate::ambient::mesh::USE_WAYPOINT) {
                        None => {
                            out.fixes
                                .push(crate::ambient::FixRequest::LabelUseWaypoint {
                                    service: s,
                                    waypoint: waypoint.clone(),
                                });
                            also = format!(
                                ", and labels the Service `{}` `istio.io/use-waypoint: {waypoint}`",
                                service.name
                            );
                        }
                        Some(label) => {
                            also = format!(
                                " (the Service is labelled `istio.io/use-waypoint: {label}`: label it `{waypoint}` by hand)"
                            );
                        }
                    }
                }
                if gateway {
                    push_extra(cx, out, crate::ambient::authz::waypoint_gateway(ns));
                }
                format!(
                    "keep the HTTP rules on a waypoint: the corrected YAML attaches the policy to the Service `{}` with `targetRefs` in place of its {}{ports_moved}{also}, so the waypoint `{waypoint}` enforces it, L7 rules included{}",
                    service.name,
                    if matches!(policy.scope, Scope::Selector(_)) {
                        "`selector`"
                    } else {
                        "namespace-wide scope"
                    },
                    if gateway {
                        format!(
                            "; apply the extra Gateway `{ns}/waypoint` (a waypoint for the namespace) with it"
                        )
                    } else {
                        String::new()
                    }
                )
            }
            (None, Some(authz)) if edit && policy.action == Action::Allow => {
                out.fixes
                    .push(crate::ambient::FixRequest::KeepL4Part { authz });
                finding.fixable = true;
                "keep what ztunnel can enforce: the corrected YAML deletes the policy's L7 attributes, leaving its L4 part (principals, namespaces, ports), so the HTTP restriction is lost; to keep it, put a Service and a waypoint in front of the pods and attach the policy to the Service with `targetRefs` instead of `selector`".to_string()
            }
            (Some((_, service)), _) => {
                // The add style: separate documents, the policy itself stays until someone
                // deletes it.
                let delete = format!(
                    "delete AuthorizationPolicy `{}` (line {}) by hand, which the add style does not do: ",
                    policy.qualified_name(),
                    policy.location.line
                );
                let existing = cx.cluster.waypoints.iter().find(|w| &w.namespace == ns);
                let waypoint = existing.map_or("waypoint", |w| w.name.as_str());
                let copy = crate::ambient::authz::retargeted(
                    cx.cluster,
                    policy,
                    &service.name,
                    format!(
                        "A copy of `{}` attached to the Service `{}`: its waypoint `{waypoint}` sees HTTP and enforces the L7 rules. Label the Service `istio.io/use-waypoint: {waypoint}` and delete `{}`, which ztunnel enforces without its L7 rules.",
                        policy.qualified_name(),
                        service.name,
                        policy.qualified_name()
                    ),
                )
                .expect("the Service's ports were translated above");
                let mut applied = vec![format!(
                    "the AuthorizationPolicy `{}` (this policy with `targetRefs` to the Service `{}` instead of `selector`{ports_moved})",
                    copy.name, service.name
                )];
                push_extra(cx, out, copy);
                if existing.is_none() {
                    applied.push(format!(
                        "the Gateway `{ns}/waypoint` (a waypoint for the namespace)"
                    ));
                    push_extra(cx, out, crate::ambient::authz::waypoint_gateway(ns));
                }
                let labelled = service.labels.get(crate::ambient::mesh::USE_WAYPOINT)
                    == Some(&waypoint.to_string());
                format!(
                    "keep the HTTP rules on a waypoint: apply the extra {} {}{}; then {delete}while it selects the pods, ztunnel drops their traffic",
                    if applied.len() == 1 {
                        "document"
                    } else {
                        "documents"
                    },
                    super::list(applied),
                    if labelled {
                        String::new()
                    } else {
                        format!(
                            ", label the Service `{}` `istio.io/use-waypoint: {waypoint}`",
                            service.name
                        )
                    }
                )
            }
            (None, _) if policy.action == Action::Allow => {
                let l4 = crate::ambient::authz::l4_part(
                    policy,
                    format!(
                        "The L4 part of `{}` alone (principals, namespaces, ports), which ztunnel enforces; the HTTP restriction is lost. No Service selects these pods, so no waypoint can take the L7 rules.",
                        policy.qualified_name()
                    ),
                );
                let name = l4.name.clone();
                push_extra(cx, out, l4);
                format!(
                    "apply the AuthorizationPolicy `{name}` (an extra document: the policy's L4 part alone, which ztunnel enforces, losing the HTTP restriction), or put a Service and a waypoint in front of the pods and attach the policy to them with `targetRefs`; then delete AuthorizationPolicy `{}` (line {}) by hand, which the add style does not do: its L7 rules keep matching nothing",
                    policy.qualified_name(),
                    policy.location.line
                )
            }
            (None, _) => format!(
                "put a Service and a waypoint in front of the pods (`istioctl waypoint apply -n {ns}`, the Service labelled `istio.io/use-waypoint: waypoint`) and attach this policy to the Service with `targetRefs` instead of `selector`; until then ztunnel keeps enforcing it, denying more than it says"
            ),
        });
        out.findings.push(finding);
    }
}

/// An extra document, once (two policies may ask for the same waypoint).
fn push_extra(cx: &Context, out: &mut Output, doc: crate::fix::Generated) {
    let exists = out
        .extras
        .iter()
        .any(|e| e.kind == doc.kind && e.yaml == doc.yaml)
        || (doc.kind == "AuthorizationPolicy"
            && cx.cluster.policies.istio.authorization.iter().any(|p| {
                p.name == doc.name && doc.yaml.contains(&format!("namespace: {}\n", p.namespace))
            }));
    if !exists {
        out.extras.push(doc);
    }
}
