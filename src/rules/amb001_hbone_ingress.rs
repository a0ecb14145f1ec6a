#![doc = include_str!("docs/AMB001.md")]

use std::collections::BTreeMap;

use super::{Output, sender_names, subject};
use crate::ambient::paths::Block;
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::findings::Code;
use crate::net::Direction;
use crate::net::conn::{ConnSet, Protocol};
use crate::pipeline::engine::BitSet;
use crate::pipeline::{PolicyRef, RuleRef};

/// One offending rule: where the tunnel is blocked.
struct Hit {
    destinations: BitSet,
    sources: BitSet,
    everyone: bool,
    ports: ConnSet,
}

pub fn check(cx: &Context, out: &mut Output) {
    let engine = cx.engine;
    let workloads = &cx.cluster.workloads;
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();

    // Destinations isolated alike (same policies, same meaning of their named ports) and tunnelled
    // to by the same senders (`Context::route`) are judged once, by the first of them. (Through
    // a waypoint the tunnel comes from the waypoint's pods: AMB005's business.)
    let classes = super::grouped(
        (0..workloads.len()).filter(|&d| cx.membership[d].receives_hbone()),
        |d| {
            (
                engine.subject_class(d, Direction::Ingress),
                cx.hbone_senders_kind(d),
            )
        },
    );
    for members in classes.values() {
        let d = members[0];
        let senders = cx.hbone_senders(d);
        if senders.is_empty() {
            continue;
        }
        let policies = engine.isolating(d, Direction::Ingress);
        // Who may already open the tunnel: peers of every rule that admits 15008/TCP here.
        let mut hbone_from = BitSet::new(workloads.len());
        for &p in policies {
            for i in 0..cx.cluster.policies.network[p].ingress.len() {
                if engine
                    .rule_conns(p, Direction::Ingress, i, Some(&workloads[d]))
                    .contains(Protocol::Tcp, HBONE_PORT)
                {
                    let peers = engine.rule_peers(p, Direction::Ingress, i);
                    if peers.everyone {
                        hbone_from = senders.clone();
                    } else {
                        hbone_from.union_with(&peers.workloads);
                    }
                }
            }
        }
        for &p in policies {
            for i in 0..cx.cluster.policies.network[p].ingress.len() {
                let tcp = ConnSet::ports(
                    Protocol::Tcp,
                    engine
                        .rule_conns(p, Direction::Ingress, i, Some(&workloads[d]))
                        .of(Protocol::Tcp)
                        .clone(),
                );
                if tcp.is_empty() {
                    continue;
                }
                let peers = engine.rule_peers(p, Direction::Ingress, i);
                let mut sources = if peers.everyone {
                    senders.clone()
                } else {
                    peers.workloads.clone()
                };
                sources.intersect_with(&senders);
                sources.subtract(&hbone_from);
                if !engine.layered(d, Direction::Ingress).is_empty() {
                    // Where a cluster-wide tier decides, `hbone_tiers` judges.
                    // Judged once per class of sources (by number): whether NetworkPolicy
                    // decides for it.
                    let mut judged: Vec<Option<bool>> = Vec::new();
                    for s in sources.iter().collect::<Vec<_>>() {
                        let class = engine.peer_class(s, Direction::Ingress) as usize;
                        if class >= judged.len() {
                            judged.resize(class + 1, None);
                        }
                        let ours = *judged[class].get_or_insert_with(|| {
                            super::network_policy_decides(cx, d, s, Direction::Ingress, &tcp)
                        });
                        if !ours {
                            sources.remove(s);
                        }
                    }
                }
                // A destination of one pod is not its own source: the members with some other
                // source are hit, and the sources are theirs.
                let hit_members = super::paired(cx, members, sources.iter());
                if hit_members.is_empty() {
                    continue;
                }
                // Before a lone destination leaves its own sources: the blocks of a policy per
                // namespace then share one source set, which the matrix counts once.
                // NetworkPolicy's (or Cilium's) rule does not admit 15008/TCP for them.
                if out.draw {
                    out.blocked.push(Block {
                        sources: sources.clone(),
                        destinations: hit_members.clone(),
                        layer: cx.cluster.layer(PolicyRef::Network(p)),
                    });
                }
                if let [only] = hit_members[..]
                    && !cx.replicated(only)
                {
                    sources.remove(only);
                }
                let hit = hits.entry((p, i)).or_insert_with(|| Hit {
                    destinations: BitSet::new(workloads.len()),
                    sources: BitSet::new(workloads.len()),
                    everyone: peers.everyone,
                    ports: ConnSet::none(),
                });
                for m in hit_members {
                    hit.destinations.insert(m);
                }
                hit.sources.union_with(&sources);
                hit.ports.union_with(&tcp);
            }
        }
    }

    for ((p, i), hit) in hits {
        let policy = &cx.cluster.policies.network[p];
        // (Two are enough to tell one destination from several.)
        let first: Vec<usize> = hit.destinations.iter().take(2).collect();
        let dests = if let [one] = first[..] {
            super::describe(cx, one)
        } else {
            format!("{} pods selected by the policy", hit.destinations.count())
        };
        // (At most two destinations in `first`: three sources tell the sets apart.)
        let own_replicas = first[..] == hit.sources.iter().take(3).collect::<Vec<_>>()[..];
        let from = if own_replicas {
            "its own replicas (pods of one workload talk to each other)".to_string()
        } else if hit.everyone {
            format!(
                "every source (the rule has no `from`), mesh pods included such as {}",
                sender_names(cx, &hit.sources)
            )
        } else {
            sender_names(cx, &hit.sources)
        };
        let rule = RuleRef::network(p, Direction::Ingress, i);
        let mut finding = cx.cluster.rule_finding(
            Code::Amb001,
            format!(
                "{} admits {} to {dests} from {from}, but no policy admits 15008/TCP from them: {}",
                cx.cluster.rule_name(&rule),
                hit.ports,
                if cx.has_proxy(&hit.sources) {
                    "once the destination is in the ambient mesh, Istio proxies tunnel this traffic over HBONE to port 15008 and the policy blocks it (requests through them time out or fail with 503 upstream connect errors)"
                } else {
                    "once they are in the ambient mesh, ztunnel tunnels this traffic over HBONE to port 15008 and the policy blocks it (requests time out; ztunnel logs a connection timeout to port 15008)"
                },
            ),
            &rule,
        );
        if let Some(assumed) = super::ip_block_assumption(cx, &policy.ingress[i]) {
            finding.message.push_str(&assumed);
        }
        finding.workload = Some(subject(cx, p, &first));
        finding.fixable = true;
        finding.fix = Some(if policy.cilium.is_some() {
            "add `port: \"15008\", protocol: TCP` to this rule's `toPorts`, so the tunnel is admitted for the same peers only".into()
        } else {
            "add `port: 15008, protocol: TCP` to this rule's ports, so the tunnel is admitted for the same peers only".into()
        });
        out.findings.push(finding);
        out.fixes.push(FixRequest::AddHbonePort {
            policy: p,
            direction: DirectionKey::Ingress,
            rule: i,
        });
    }
}
