#![doc = include_str!("docs/AMB011.md")]

use super::Output;
use crate::ambient::{Context, Route};
use crate::findings::{Code, Finding, Location};
use crate::istio::ztunnel::{self, Peer};
use crate::net::conn::Protocol;
use crate::net::ranges::Ranges;
use crate::pipeline::engine::{BitSet, Endpoint};

pub fn check(cx: &Context, out: &mut Output) {
    if cx.cluster.policies.istio.authorization.is_empty() {
        return;
    }
    let none = Ranges::empty();
    for d in 0..cx.cluster.workloads.len() {
        let Some(waypoint) = &cx.waypoint[d] else {
            continue;
        };
        if !cx.membership[d].is_ambient() {
            continue;
        }
        let target = &cx.cluster.workloads[d];
        let policies = ztunnel::enforced(&cx.cluster.policies.istio, cx.istio, target);
        let allow: Vec<usize> = policies
            .iter()
            .copied()
            .filter(|&i| {
                cx.cluster.policies.istio.authorization[i].action == crate::istio::Action::Allow
            })
            .collect();
        if allow.is_empty() {
            continue;
        }
        // The waypoint's identity: its pods' service account, else the Gateway's name (what
        // Istio's deployment of a waypoint uses).
        let account = cx
            .waypoint_pods(&waypoint.name, &waypoint.namespace)
            .first()
            .and_then(|&w| cx.cluster.workloads[w].service_account.clone())
            .unwrap_or_else(|| waypoint.name.clone());
        let peer = Peer::Mesh {
            namespace: &waypoint.namespace,
            account: Some(&account),
        };
        let admitted =
            ztunnel::verdict(&cx.cluster.policies.istio, cx.istio, &policies, &none, peer).upper;
        // What the policies admit the clients that go through the waypoint (on the ports
        // NetworkPolicy lets them use): meant for them, lost behind the waypoint.
        let mut clients = BitSet::new(cx.cluster.workloads.len());
        let mut lost = Ranges::empty();
        for group in &cx.senders {
            let Some(&s) = group
                .iter()
                .find(|&&s| super::distinct(cx, s, d) && cx.route(s, d) == Route::Waypoint)
            else {
                continue;
            };
            let plain = cx
                .engine
                .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
            let own = ztunnel::verdict(
                &cx.cluster.policies.istio,
                cx.istio,
                &policies,
                &none,
                Peer::of(&cx.cluster.workloads[s]),
            )
            .upper;
            let missing = own.intersect(plain.of(Protocol::Tcp)).subtract(&admitted);
            if !missing.is_empty() {
                lost.union_with(&missing);
                for &m in group.iter().filter(|&&m| super::distinct(cx, m, d)) {
                    clients.insert(m);
                }
            }
        }
        if clients.is_empty() {
            continue;
        }
        let principal = ztunnel::principal(cx.istio, &waypoint.namespace, &account);
        let first = &cx.cluster.policies.istio.authorization[allow[0]];
        let names = super::list(
            allow
                .iter()
                .map(|&i| {
                    format!(
                        "`{}`",
                        cx.cluster.policies.istio.authorization[i].qualified_name()
                    )
                })
                .collect(),
        );
        let mut finding = Finding::new(
            Code::Amb011,
            format!(
                "{} reaches {} through the waypoint `{}/{}`, so its ztunnel sees the waypoint's identity (`{principal}`), not the client's; the ALLOW AuthorizationPolicy {names} enforced there admits the client on TCP {} but not the waypoint: every such request through the waypoint is refused",
                super::sender_names(cx, &clients),
                super::describe(cx, d),
                waypoint.namespace,
                waypoint.name,
                ztunnel::describe_ports(&lost),
            ),
            Some(Location {
                ..first.spec_location
            }),
        );
        finding.policy = Some(first.qualified_name());
        finding.policy_kind = Some("AuthorizationPolicy".into());
        finding.workload = Some(cx.workload_name(d));
        // The Service whose traffic takes the waypoint (labelled, else any that selects the
        // pods: the namespace's label sends all of them through it).
        let services: Vec<&crate::model::Service> = cx
            .cluster
            .services
            .iter()
            .filter(|s| s.namespace == target.namespace && s.selector.matches(&target.labels))
            .collect();
        let service = services
            .iter()
            .find(|s| s.labels.contains_key(crate::ambient::mesh::USE_WAYPOINT))
            .or(services.first());
        // The copies on the Service name its ports, which a waypoint matches, not the pods' the
        // policies name (`ambient::service_ports`); where no port list says the same, no copy and
        // no edit are offered, only the advice and why.
        let mut unported = None;
        if let Some(service) = service {
            for &i in allow.iter().filter(|&&i| {
                cx.cluster.policies.istio.authorization[i].namespace == target.namespace
            }) {
                let policy = &cx.cluster.policies.istio.authorization[i];
                if let Err(why) =
                    crate::ambient::authz::rules_for_services(cx.cluster, policy, &[&service.name])
                {
                    unported = Some(why);
                }
            }
        }
        let service = if unported.is_some() { None } else { service };
        // Where the copies go: the Service, or with none the waypoint's Gateway itself, which is
        // what governs traffic addressed to the pods (`authz::gateway_targeted`) but governs all
        // the waypoint carries: offered only where that is these policies' pods alone.
        let mut no_gateway = None;
        let attach = match service {
            Some(service) => Some(Attach::Service(service)),
            None if unported.is_some() => None,
            None if waypoint.namespace != target.namespace => {
                no_gateway = Some(format!(
                    "no Service selects the pods and the waypoint is in another namespace (`{}`), where a copy attached to it would have to live",
                    waypoint.namespace
                ));
                None
            }
            None => {
                let local = |i: &usize| {
                    cx.cluster.policies.istio.authorization[*i].namespace == target.namespace
                };
                let others: Vec<usize> = (0..cx.cluster.workloads.len())
                    .filter(|&w| {
                        cx.waypoint[w].as_ref().is_some_and(|u| {
                            u.name == waypoint.name && u.namespace == waypoint.namespace
                        })
                    })
                    .filter(|&w| {
                        let enforced = ztunnel::enforced(
                            &cx.cluster.policies.istio,
                            cx.istio,
                            &cx.cluster.workloads[w],
                        );
                        !allow
                            .iter()
                            .filter(|i| local(i))
                            .all(|i| enforced.contains(i))
                    })
                    .collect();
                if others.is_empty() {
                    Some(Attach::Gateway)
                } else {
                    no_gateway = Some(format!(
                        "no Service selects the pods, and a copy attached to the waypoint `{}/{}` would apply to all it carries, {} included",
                        waypoint.namespace,
                        waypoint.name,
                        others
                            .iter()
                            .take(3)
                            .map(|&w| format!("`{}`", cx.workload_name(w)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    None
                }
            }
        };
        let target_words = match &attach {
            Some(Attach::Service(s)) => format!("the Service `{}`", s.name),
            Some(Attach::Gateway) => format!(
                "the waypoint's Gateway `{}/{}`, since no Service selects the pods and only a policy on the waypoint itself governs the traffic addressed to them",
                waypoint.namespace, waypoint.name
            ),
            None => String::new(),
        };
        let mut copies = Vec::new();
        let mut edited = Vec::new();
        if attach.is_some() && cx.fix_style == crate::ambient::FixStyle::Edit {
            // The edit style: each policy of the destination's namespace admits the waypoint in
            // place, and its copy attached to the Service (an extra document) has the waypoint
            // check the clients.
            for &i in allow.iter().filter(|&&i| {
                cx.cluster.policies.istio.authorization[i].namespace == target.namespace
            }) {
                out.fixes.push(crate::ambient::FixRequest::AdmitPrincipal {
                    authz: i,
                    principal: principal.clone(),
                });
                edited.push(format!(
                    "`{}`",
                    cx.cluster.policies.istio.authorization[i].qualified_name()
                ));
            }
        }
        if let Some(attach) = &attach {
            for &i in allow.iter().filter(|&&i| {
                cx.cluster.policies.istio.authorization[i].namespace == target.namespace
            }) {
                let policy = &cx.cluster.policies.istio.authorization[i];
                let on = match attach {
                    Attach::Service(s) => format!("the Service `{}`", s.name),
                    Attach::Gateway => format!("the waypoint `{}`", waypoint.name),
                };
                let note = if edited.is_empty() {
                    format!(
                        "A copy of `{}` attached to {on}: the waypoint `{}/{}` sees the clients' identities and enforces it. Delete `{}` (or admit `{principal}` in it): the pods' ztunnel sees only the waypoint.",
                        policy.qualified_name(),
                        waypoint.namespace,
                        waypoint.name,
                        policy.qualified_name()
                    )
                } else {
                    format!(
                        "A copy of `{}` attached to {on}: the waypoint `{}/{}` sees the clients' identities and enforces it. The corrected `{}` admits `{principal}`, so the pods' ztunnel lets the waypoint's traffic through and keeps checking clients that address the pods directly.",
                        policy.qualified_name(),
                        waypoint.namespace,
                        waypoint.name,
                        policy.qualified_name()
                    )
                };
                let copy = match attach {
                    Attach::Service(service) => {
                        crate::ambient::authz::retargeted(cx.cluster, policy, &service.name, note)
                            .expect("the Service's ports were translated above")
                    }
                    Attach::Gateway => {
                        crate::ambient::authz::gateway_targeted(policy, &waypoint.name, note)
                    }
                };
                copies.push((
                    format!("`{}`", copy.name),
                    policy.qualified_name(),
                    policy.location.line,
                ));
                if !out
                    .extras
                    .iter()
                    .any(|e| e.kind == copy.kind && e.yaml == copy.yaml)
                {
                    out.extras.push(copy);
                }
            }
        }
        let ports_words = match &attach {
            Some(Attach::Service(_)) => ", naming its ports, which the waypoint matches",
            _ => "",
        };
        finding.fix = Some(if !edited.is_empty() {
            finding.fixable = true;
            format!(
                "the corrected YAML adds a rule admitting the waypoint (`{principal}`) to {} {}, and the extra {} {} ({}: the policy with `targetRefs` to {target_words}{ports_words}) has the waypoint `{}/{}` check the clients with their own identities; apply them together, so the pods' ztunnel admits the waypoint, the waypoint admits only the clients, and {} stay checked by the original rules",
                if edited.len() == 1 {
                    "the AuthorizationPolicy"
                } else {
                    "the AuthorizationPolicies"
                },
                super::list(edited.clone()),
                if copies.len() == 1 {
                    "AuthorizationPolicy"
                } else {
                    "AuthorizationPolicies"
                },
                super::list(copies.iter().map(|c| c.0.clone()).collect()),
                if copies.len() == 1 {
                    "an extra document"
                } else {
                    "extra documents"
                },
                waypoint.namespace,
                waypoint.name,
                if matches!(attach, Some(Attach::Gateway)) {
                    "connections that do not pass the waypoint"
                } else {
                    "clients that address the pods directly"
                },
            )
        } else if copies.is_empty() {
            format!(
                "move the client rules to the waypoint (`targetRefs` to the Service or the waypoint), and admit the waypoint here: add `{principal}` to the policy's principals (or set PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true on istiod, off by default){}",
                unported
                    .or(no_gateway)
                    .map_or(String::new(), |why| format!("; no copy is offered: {why}"))
            )
        } else {
            format!(
                "apply the AuthorizationPolicy {} ({}: the policy with `targetRefs` to {target_words}{}, which the waypoint enforces with the clients' identities), then delete by hand, which the add style does not do, {} (or add `{principal}` to its principals, or set PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true on istiod, off by default): while it admits only the clients, the pods' ztunnel refuses the waypoint",
                super::list(copies.iter().map(|c| c.0.clone()).collect()),
                if copies.len() == 1 {
                    "an extra document"
                } else {
                    "extra documents"
                },
                if matches!(attach, Some(Attach::Service(_))) {
                    " and its ports"
                } else {
                    ""
                },
                super::list(
                    copies
                        .iter()
                        .map(|(_, name, line)| format!(
                            "AuthorizationPolicy `{name}` (line {line})"
                        ))
                        .collect()
                ),
            )
        });
        out.findings.push(finding);
    }
}

/// Where AMB011's copies are attached.
enum Attach<'a> {
    /// The Service in front of the pods (its waypoint checks the Service's traffic).
    Service(&'a crate::model::Service),
    /// No Service: the waypoint's Gateway (it checks the traffic addressed to the pods).
    Gateway,
}
