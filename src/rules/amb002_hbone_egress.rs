#![doc = include_str!("docs/AMB002.md")]

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use super::{Output, names, subject};
use crate::ambient::paths::Block;
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::findings::Code;
use crate::net::Direction;
use crate::net::conn::{ConnSet, Protocol};
use crate::net::ranges::Ranges;
use crate::pipeline::engine::BitSet;
use crate::pipeline::{PolicyRef, RuleRef};

struct Hit {
    sources: BitSet,
    destinations: BitSet,
    ports: ConnSet,
}

pub fn check(cx: &Context, out: &mut Output) {
    let engine = cx.engine;
    let workloads = &cx.cluster.workloads;
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();

    // Sources with one egress subject class have the same rules; destinations with one egress
    // peer class are admitted by the same rules, whose named ports mean the same on them. So
    // each (source class, rule, destination class) is judged once, on representatives.
    // Sources of one kind (`Context::sender`) tunnel to the same destinations.
    let sources = super::grouped(
        (0..workloads.len()).filter(|&s| cx.sender(s).is_some()),
        |s| (engine.subject_class(s, Direction::Egress), cx.sender(s)),
    );
    for members in sources.values() {
        let s = members[0];
        let mesh = cx.hbone_receivers(s);
        for &p in engine.isolating(s, Direction::Egress) {
            for i in 0..cx.cluster.policies.network[p].egress.len() {
                let peers = engine.rule_peers(p, Direction::Egress, i);
                let mut candidates = if peers.everyone {
                    mesh.clone()
                } else {
                    peers.workloads.clone()
                };
                candidates.intersect_with(&mesh);
                // The blocked ports towards each destination class, judged once.
                let mut judged: HashMap<u32, Option<Ranges<u16>>> = HashMap::new();
                let mut blocked = BitSet::new(workloads.len());
                let mut ports = ConnSet::none();
                // A workload of one pod is not its own destination.
                if let [one] = members.as_slice()
                    && !cx.replicated(*one)
                {
                    candidates.remove(*one);
                }
                for d in candidates.iter() {
                    let verdict = judged.entry(engine.receiver_class(d).0).or_insert_with(|| {
                        let tcp = engine
                            .rule_conns(p, Direction::Egress, i, Some(&workloads[d]))
                            .of(Protocol::Tcp)
                            .clone();
                        (!tcp.is_empty()
                            && !hbone_allowed(cx, s, d)
                            && super::network_policy_decides(
                                cx,
                                s,
                                d,
                                Direction::Egress,
                                &ConnSet::ports(Protocol::Tcp, tcp.clone()),
                            ))
                        .then_some(tcp)
                    });
                    if let Some(tcp) = verdict {
                        blocked.insert(d);
                        ports.union_with(&ConnSet::ports(Protocol::Tcp, tcp.clone()));
                    }
                }
                if blocked.is_empty() {
                    continue;
                }
                // Every member sends to every blocked destination but itself.
                let senders = super::paired(cx, members, blocked.iter());
                if senders.is_empty() {
                    continue;
                }
                let mut from = BitSet::new(workloads.len());
                for &m in &senders {
                    from.insert(m);
                }
                // NetworkPolicy's (or Cilium's) rule does not admit 15008/TCP for them.
                if out.draw {
                    out.blocked.push(Block {
                        sources: from,
                        destinations: blocked.iter().collect(),
                        layer: cx.cluster.layer(PolicyRef::Network(p)),
                    });
                }
                let hit = hits.entry((p, i)).or_insert_with(|| Hit {
                    sources: BitSet::new(workloads.len()),
                    destinations: BitSet::new(workloads.len()),
                    ports: ConnSet::none(),
                });
                for m in senders {
                    hit.sources.insert(m);
                }
                hit.destinations.union_with(&blocked);
                hit.ports.union_with(&ports);
            }
        }
    }

    for ((p, i), hit) in hits {
        let policy = &cx.cluster.policies.network[p];
        // (Three are enough to tell one source from several, and from two destinations.)
        let sources: Vec<usize> = hit.sources.iter().take(3).collect();
        let from = if let [one] = sources[..] {
            cx.describe_sender(one)
        } else {
            format!("{} pods selected by the policy", hit.sources.count())
        };
        let rule = RuleRef::network(p, Direction::Egress, i);
        let mut finding = cx.cluster.rule_finding(
            Code::Amb002,
            format!(
                "{} admits {} from {from} to {}, but not 15008/TCP: {}",
                cx.cluster.rule_name(&rule),
                hit.ports,
                if sources[..] == hit.destinations.iter().take(3).collect::<Vec<_>>()[..] {
                    "its own replicas (pods of one workload talk to each other)".to_string()
                } else {
                    names(cx, &hit.destinations)
                },
                if cx.has_proxy(&hit.sources) {
                    "once the destination is in the ambient mesh, the Istio proxy opens an HBONE tunnel to its port 15008 itself and this policy blocks it"
                } else {
                    "once they are in the ambient mesh, ztunnel opens an HBONE tunnel to port 15008 from inside the source pod and this policy blocks it"
                },
            ),
            &rule,
        );
        if let Some(assumed) = super::ip_block_assumption(cx, &policy.egress[i]) {
            finding.message.push_str(&assumed);
        }
        finding.workload = Some(subject(cx, p, &sources));
        finding.fixable = true;
        finding.fix = Some(if policy.cilium.is_some() {
            "add `port: \"15008\", protocol: TCP` to this rule's `toPorts`, so the tunnel is admitted for the same peers only".into()
        } else {
            "add `port: 15008, protocol: TCP` to this rule's ports, so the tunnel is admitted for the same peers only".into()
        });
        out.findings.push(finding);
        out.fixes.push(FixRequest::AddHbonePort {
            policy: p,
            direction: DirectionKey::Egress,
            rule: i,
        });
    }
}

/// Whether the source's egress already admits 15008/TCP to the destination.
fn hbone_allowed(cx: &Context, s: usize, d: usize) -> bool {
    let workloads = &cx.cluster.workloads;
    cx.engine.isolating(s, Direction::Egress).iter().any(|&p| {
        (0..cx.cluster.policies.network[p].egress.len()).any(|i| {
            cx.engine.rule_peers(p, Direction::Egress, i).admits(d)
                && cx
                    .engine
                    .rule_conns(p, Direction::Egress, i, Some(&workloads[d]))
                    .contains(Protocol::Tcp, HBONE_PORT)
        })
    })
}
