#![doc = include_str!("docs/AMB004.md")]

use std::collections::{HashMap, HashSet};

use super::{Output, rule_location};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::findings::{Code, Finding};
use crate::istio::ztunnel::{self, Peer};
use crate::netpol::conn::{ConnSet, Protocol};
use crate::netpol::eval::Endpoint;
use crate::netpol::eval::{BitSet, port_conns};
use crate::netpol::policy::{Direction, PortRef};

pub fn check(cx: &Context, out: &mut Output) {
    // The AuthorizationPolicy of a destination, written once however many rules ask for it.
    let mut authz: HashMap<usize, Result<String, String>> = HashMap::new();
    // Written documents by (namespace, name): the same name in another namespace is another
    // policy (pods named alike in several namespaces are common).
    let mut extras: HashSet<(String, String)> = HashSet::new();
    // The ingress rules AMB001 asks to open to 15008 (a set: a policy may have thousands).
    let opened: HashSet<(usize, usize)> = out
        .fixes
        .iter()
        .filter_map(|f| match f {
            FixRequest::AddHbonePort {
                policy,
                direction: DirectionKey::Ingress,
                rule,
            } => Some((*policy, *rule)),
            _ => None,
        })
        .collect();
    // Everyone who tunnels (ambient pods, and proxies when they send HBONE).
    // Everyone who can open a tunnel to 15008 (ambient pods, and proxies when they send HBONE),
    // whatever route their traffic takes today: once 15008 is admitted, a client can address
    // the pod itself and pass a waypoint that takes only Service traffic.
    let tunnellers = cx.tunnellers();
    let mesh_destinations = super::members(cx, |m| m.receives_hbone());
    for (p, policy) in cx.cluster.policies.iter().enumerate() {
        let mut destinations = cx.engine.selected(p).clone();
        destinations.intersect_with(&mesh_destinations);
        if destinations.is_empty() || !policy.affects_ingress {
            continue;
        }
        for (i, rule) in policy.ingress.iter().enumerate() {
            let Some(ports) = &rule.ports else { continue };
            let admits_now = ports
                .iter()
                .any(|spec| port_conns(spec, None).contains(Protocol::Tcp, HBONE_PORT));
            let after_fix = opened.contains(&(p, i));
            if !admits_now && !after_fix {
                continue;
            }
            let peers = cx.engine.rule_peers(p, Direction::Ingress, i);
            let mut mesh_peers: BitSet = if peers.everyone {
                tunnellers.clone()
            } else {
                peers.workloads.clone()
            };
            mesh_peers.intersect_with(&tunnellers);
            if mesh_peers.is_empty() && !peers.everyone {
                continue;
            }
            // Where the user's own AuthorizationPolicies already keep every mesh peer of the rule
            // to the ports NetworkPolicy allows it, nothing is lost.
            let rule_tcp = |d: usize| {
                ports.iter().fold(ConnSet::none(), |acc, spec| {
                    acc.union(&port_conns(spec, Some(&cx.cluster.workloads[d])))
                })
            };
            let open: Vec<usize> = destinations
                .iter()
                .filter(|&d| !restricted(cx, d, &mesh_peers, peers.everyone, &rule_tcp(d)))
                .collect();
            if open.is_empty() {
                continue;
            }
            let listed: Vec<String> = ports
                .iter()
                // Every entry but the bare `15008/TCP` (a range that covers it still names ports).
                .filter(|s| {
                    !(s.protocol == Protocol::Tcp
                        && s.end_port.is_none()
                        && s.port == Some(PortRef::Number(HBONE_PORT)))
                })
                .map(|s| {
                    let port = s.port.as_ref().map_or("all".to_string(), |p| p.to_string());
                    match s.end_port {
                        Some(end) => format!("{port}-{end}/{}", s.protocol.as_str()),
                        None => format!("{port}/{}", s.protocol.as_str()),
                    }
                })
                .collect();
            let rule_name = format!(
                "ingress rule {} of NetworkPolicy `{}`",
                i + 1,
                policy.qualified_name()
            );
            let when = if after_fix {
                format!("Once the fix adds 15008/TCP to {rule_name}")
            } else {
                format!("Because {rule_name} admits 15008/TCP")
            };
            let who = if peers.everyone {
                "every mesh client (the rule has no `from`)".to_string()
            } else {
                super::sender_names(cx, &mesh_peers)
            };
            let limited = if listed.is_empty() {
                "15008, the only port the rule lists".to_string()
            } else {
                listed.join(", ")
            };
            let mut finding = Finding::new(
                Code::Amb004,
                format!(
                    "{when}, {who} can reach every port of the selected pods through the HBONE tunnel, not only {limited}: NetworkPolicy no longer enforces this port list for mesh traffic. Restrict the ports with an Istio AuthorizationPolicy (security.istio.io/v1, enforced by ztunnel at L4).",
                ),
                Some(rule_location(cx, p, Direction::Ingress, i)),
            );
            finding.policy = Some(policy.qualified_name());
            finding.workload = Some(super::subject(cx, p, &open));
            // The extra that restores the port list, one per destination.
            let (mut written, mut unwritten) = (Vec::new(), Vec::new());
            for &d in &open {
                let result = authz.entry(d).or_insert_with(|| {
                    crate::ambient::authz::policy_for(cx, d).map(|doc| {
                        let name = doc.name.clone();
                        let namespace = cx.cluster.workloads[d].namespace.clone();
                        if extras.insert((namespace, name.clone())) {
                            out.extras.push(doc);
                        }
                        name
                    })
                });
                match result {
                    Ok(name) => written.push(format!("`{name}`")),
                    Err(why) => unwritten.push(why.clone()),
                }
            }
            if !unwritten.is_empty() {
                const NAMED: usize = 3;
                let more = unwritten.len().saturating_sub(NAMED);
                unwritten.truncate(NAMED);
                if more > 0 {
                    unwritten.push(format!("for {more} more destinations"));
                }
                finding.message.push_str(&format!(
                    " No AuthorizationPolicy is generated where {}.",
                    unwritten.join("; ")
                ));
            }
            if !written.is_empty() {
                finding.fix = Some(format!(
                    "apply the AuthorizationPolicy {} (an extra document) so mesh sources keep only the ports NetworkPolicy allowed them",
                    super::list(written)
                ));
            }
            out.findings.push(finding);
        }
    }
}

/// Whether the AuthorizationPolicies ztunnel enforces for `d` already keep every mesh peer of a
/// rule (and, for a rule without `from`, any mesh identity) to the TCP ports NetworkPolicy allows
/// it: then admitting 15008 loses nothing.
fn restricted(cx: &Context, d: usize, mesh_peers: &BitSet, everyone: bool, rule: &ConnSet) -> bool {
    let target = &cx.cluster.workloads[d];
    let policies = ztunnel::enforced(cx.cluster, cx.istio, target);
    if policies.is_empty() {
        return false;
    }
    let none = crate::netpol::ranges::Ranges::empty();
    let hbone = crate::netpol::ranges::Ranges::single(HBONE_PORT);
    let keeps = |peer: Peer, allowed: &crate::netpol::ranges::Ranges<u16>| {
        let verdict = ztunnel::verdict(cx.cluster, cx.istio, &policies, &none, peer);
        allowed.union(&hbone).contains_all(&verdict.upper)
    };
    if everyone && !keeps(Peer::Anyone, rule.of(Protocol::Tcp)) {
        return false;
    }
    // Members of a sender group are allowed alike by NetworkPolicy, but their identities differ.
    cx.senders.iter().all(|group| {
        group
            .iter()
            .copied()
            .filter(|&s| mesh_peers.contains(s) && super::distinct(cx, s, d))
            .all(|s| {
                let allowed = cx
                    .engine
                    .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
                keeps(
                    Peer::of(&cx.cluster.workloads[s]),
                    allowed.of(Protocol::Tcp),
                )
            })
    })
}
