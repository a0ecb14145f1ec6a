#![doc = include_str!("docs/AMB005.md")]

use std::collections::BTreeMap;

use super::{Output, describe, list};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::findings::{Code, Finding};
use crate::netpol::conn::Protocol;
use crate::netpol::eval::Endpoint;
use crate::netpol::policy::Direction;

/// Where a hop is blocked: the workload whose policies block it, and in which direction.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Block {
    workload: usize,
    direction: DirectionKey,
    /// The waypoint (namespace, name): one finding per waypoint the block breaks.
    waypoint: (String, String),
}

/// A waypoint (name, namespace) and the (source, destination) pairs a block breaks.
type Broken = ((String, String), Vec<(usize, usize)>);

pub fn check(cx: &Context, out: &mut Output) {
    let workloads = &cx.cluster.workloads;
    // blocked place -> (waypoint, the (source, destination) pairs it breaks)
    let mut blocks: BTreeMap<Block, Broken> = BTreeMap::new();

    for d in 0..workloads.len() {
        let Some(waypoint) = &cx.waypoint[d] else {
            continue;
        };
        if !cx.membership[d].is_ambient() {
            continue;
        }
        let pods = cx.waypoint_pods(&waypoint.0, &waypoint.1);
        let Some(&w) = pods.first() else { continue };
        for s in 0..workloads.len() {
            if s == d || !cx.membership[s].is_ambient() || pods.contains(&s) {
                continue;
            }
            // Only traffic NetworkPolicy allows today is broken by the waypoint.
            if cx
                .engine
                .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d))
                .of(Protocol::Tcp)
                .is_empty()
            {
                continue;
            }
            let hops = [(s, w), (w, d)];
            for (from, to) in hops {
                let egress = cx.engine.allowed(
                    Endpoint::Workload(from),
                    Endpoint::Workload(to),
                    Direction::Egress,
                );
                let ingress = cx.engine.allowed(
                    Endpoint::Workload(to),
                    Endpoint::Workload(from),
                    Direction::Ingress,
                );
                for (blocked, at, direction) in [
                    (
                        !egress.contains(Protocol::Tcp, HBONE_PORT),
                        from,
                        DirectionKey::Egress,
                    ),
                    (
                        !ingress.contains(Protocol::Tcp, HBONE_PORT),
                        to,
                        DirectionKey::Ingress,
                    ),
                ] {
                    if blocked {
                        blocks
                            .entry(Block {
                                workload: at,
                                direction,
                                waypoint: (waypoint.1.clone(), waypoint.0.clone()),
                            })
                            .or_insert_with(|| (waypoint.clone(), Vec::new()))
                            .1
                            .push((s, d));
                    }
                }
            }
        }
    }

    for (block, ((name, namespace), pairs)) in blocks {
        let direction = Direction::from(block.direction);
        let policies = cx.engine.isolating(block.workload, direction);
        let Some(target) = cx.fix_target(policies) else {
            continue;
        };
        let is_waypoint = cx
            .waypoint_pods(&name, &namespace)
            .contains(&block.workload);
        // Each workload named once (a block can break thousands of pairs).
        let unique = |pick: fn(&(usize, usize)) -> usize| {
            let set: std::collections::BTreeSet<usize> = pairs.iter().map(pick).collect();
            set.into_iter().map(|w| describe(cx, w)).collect::<Vec<_>>()
        };
        let sources = unique(|p| p.0);
        let destinations = unique(|p| p.1);
        let hop = match (is_waypoint, block.direction) {
            (false, DirectionKey::Ingress) => format!(
                "the destination {} sees the waypoint's pods as the source, and its ingress policies do not admit them on 15008/TCP",
                describe(cx, block.workload)
            ),
            (false, DirectionKey::Egress) => format!(
                "the source {} must reach the waypoint's pods on 15008/TCP, and its egress policies do not admit that",
                describe(cx, block.workload)
            ),
            (true, DirectionKey::Ingress) => {
                "the waypoint's own ingress policies do not admit 15008/TCP from the clients"
                    .to_string()
            }
            (true, DirectionKey::Egress) => {
                "the waypoint's own egress policies do not admit 15008/TCP to the destination"
                    .to_string()
            }
        };
        let mut finding = Finding::new(
            Code::Amb005,
            format!(
                "mesh traffic from {} to {} goes through waypoint `{namespace}/{name}` (istio.io/use-waypoint), and {hop}: NetworkPolicy allows this traffic today, the waypoint hop blocks it once enrolled",
                list(sources),
                list(destinations),
            ),
            Some(cx.cluster.policies[target].location),
        );
        finding.policy = Some(cx.policy_name(target));
        finding.workload = Some(cx.workload_name(block.workload));
        finding.fixable = true;
        if is_waypoint {
            finding.fix = Some(format!(
                "add a policy `allow-ambient-waypoint-{name}` that admits 15008/TCP {} mesh pods for the waypoint's pods only (the waypoint enforces Istio's AuthorizationPolicies itself)",
                if direction == Direction::Ingress {
                    "from"
                } else {
                    "to"
                }
            ));
            let (ingress, egress) = (
                direction == Direction::Ingress,
                direction == Direction::Egress,
            );
            out.fixes.push(FixRequest::AddWaypointPolicy {
                policy: target,
                waypoint: name.clone(),
                waypoint_namespace: namespace.clone(),
                ingress,
                egress,
            });
        } else {
            finding.fix = Some(format!(
                "add an {} rule to `{}` admitting 15008/TCP {} the pods of waypoint `{name}`",
                direction.as_str(),
                cx.policy_name(target),
                if direction == Direction::Ingress {
                    "from"
                } else {
                    "to"
                }
            ));
            out.fixes.push(FixRequest::AddWaypointRule {
                policy: target,
                direction: block.direction,
                waypoint: name.clone(),
                waypoint_namespace: namespace.clone(),
            });
        }
        out.findings.push(finding);
    }
}
