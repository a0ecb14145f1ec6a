#![doc = include_str!("docs/AMB002.md")]

use std::collections::BTreeMap;

use super::{Output, names, rule_location, subject};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::findings::{Code, Finding};
use crate::netpol::conn::{ConnSet, Protocol};
use crate::netpol::eval::BitSet;
use crate::netpol::policy::Direction;

struct Hit {
    sources: Vec<usize>,
    destinations: BitSet,
    ports: ConnSet,
}

pub fn check(cx: &Context, out: &mut Output) {
    let engine = cx.engine;
    let workloads = &cx.cluster.workloads;
    let mesh = super::members(cx, |m| m.receives_hbone());
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();

    for s in 0..workloads.len() {
        if !cx.membership[s].is_ambient() {
            continue;
        }
        let policies = engine.isolating(s, Direction::Egress);
        for &p in policies {
            for i in 0..cx.cluster.policies[p].egress.len() {
                let peers = engine.rule_peers(p, Direction::Egress, i);
                let mut candidates = if peers.everyone {
                    mesh.clone()
                } else {
                    peers.workloads.clone()
                };
                candidates.intersect_with(&mesh);
                candidates.remove(s);
                for d in candidates.iter().filter(|&d| cx.waypoint[d].is_none()) {
                    let tcp = engine
                        .rule_conns(p, Direction::Egress, i, Some(&workloads[d]))
                        .of(Protocol::Tcp)
                        .clone();
                    if tcp.is_empty() || hbone_allowed(cx, s, d) {
                        continue;
                    }
                    let hit = hits.entry((p, i)).or_insert_with(|| Hit {
                        sources: Vec::new(),
                        destinations: BitSet::new(workloads.len()),
                        ports: ConnSet::none(),
                    });
                    if !hit.sources.contains(&s) {
                        hit.sources.push(s);
                    }
                    hit.destinations.insert(d);
                    hit.ports.union_with(&ConnSet::ports(Protocol::Tcp, tcp));
                }
            }
        }
    }

    for ((p, i), hit) in hits {
        let policy = &cx.cluster.policies[p];
        let from = if hit.sources.len() == 1 {
            super::describe(cx, hit.sources[0])
        } else {
            format!("{} pods selected by the policy", hit.sources.len())
        };
        let mut finding = Finding::new(
            Code::Amb002,
            format!(
                "egress rule {} of NetworkPolicy `{}` admits {} from {from} to {}, but not 15008/TCP: once they are in the ambient mesh, ztunnel opens an HBONE tunnel to port 15008 from inside the source pod and this policy blocks it",
                i + 1,
                policy.qualified_name(),
                hit.ports,
                names(cx, &hit.destinations),
            ),
            Some(rule_location(cx, p, Direction::Egress, i)),
        );
        finding.policy = Some(policy.qualified_name());
        finding.workload = Some(subject(cx, p, &hit.sources));
        finding.fixable = true;
        finding.fix = Some("add `port: 15008, protocol: TCP` to this rule's ports, so the tunnel is admitted for the same peers only".into());
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
        (0..cx.cluster.policies[p].egress.len()).any(|i| {
            cx.engine.rule_peers(p, Direction::Egress, i).admits(d)
                && cx
                    .engine
                    .rule_conns(p, Direction::Egress, i, Some(&workloads[d]))
                    .contains(Protocol::Tcp, HBONE_PORT)
        })
    })
}
