//! The connectivity map: every allowed (source, destination) pair between workloads, and between
//! workloads and IP ranges, in the conventions of the conformance data.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use serde::Serialize;

use super::engine::{Endpoint, Engine};
use crate::net::Direction;
use crate::net::conn::ConnSet;
use crate::net::ip::{v4_range, v6_range};
use crate::net::ranges::Ranges;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Connection {
    pub src: String,
    pub src_kind: String,
    pub dst: String,
    pub dst_kind: String,
    #[serde(serialize_with = "display")]
    pub conn: ConnSetOrd,
    /// In ambient mode: what plain NetworkPolicy allows today, when it differs from `conn`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub plain: Option<ConnSetOrd>,
    /// In ambient mode: what a later layer (the destination's ztunnel) refuses of what the CNI
    /// lets through once enrolled (left out of `conn`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub ztunnel_denied: Option<ConnSetOrd>,
    /// What the destination's ztunnel may refuse, depending on addresses the input does not give
    /// (kept in `conn`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub ztunnel_uncertain: Option<ConnSetOrd>,
    /// The objects behind `ztunnel_denied` and `ztunnel_uncertain`, as `Kind namespace/name`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denied_by: Vec<String>,
}

/// What a layer after the CNI (the destination's ztunnel, once enrolled) refuses of one
/// connection: surely, maybe, and who decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused {
    pub denied: ConnSet,
    pub uncertain: ConnSet,
    pub by: Vec<String>,
}

impl Refused {
    fn union_with(&mut self, other: &Refused) {
        self.denied.union_with(&other.denied);
        self.uncertain.union_with(&other.uncertain);
        for name in &other.by {
            if !self.by.contains(name) {
                self.by.push(name.clone());
            }
        }
    }
}

fn display_opt<S: serde::Serializer>(conns: &Option<ConnSetOrd>, s: S) -> Result<S::Ok, S::Error> {
    match conns {
        Some(c) => s.collect_str(&c.0),
        None => s.serialize_none(),
    }
}

/// A `ConnSet` ordered by its spelling, so connections sort deterministically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnSetOrd(pub ConnSet);

impl PartialOrd for ConnSetOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConnSetOrd {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.to_string().cmp(&other.0.to_string())
    }
}

fn display<S: serde::Serializer>(conns: &ConnSetOrd, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&conns.0)
}

const EXTERNAL: &str = "External";

/// What a connection names: `namespace/name` (or an IP range) and its kind.
type Entity = (String, String);

/// All allowed pairs, sorted by source then destination. Pods grouped under one controller form
/// one entity; an entity's connections to itself are not listed.
pub fn connectivity(engine: &Engine) -> Vec<Connection> {
    connectivity_with(engine, |s, d| {
        engine.allowed_between(Endpoint::Workload(s), Endpoint::Workload(d))
    })
}

/// Like [`connectivity`], with the connections between two workloads given by `pair` (e.g. what
/// still flows once enrolled in ambient); a row whose plain verdict differs carries it in
/// `plain`. Workloads the input does not show (inferred) are left out.
pub fn connectivity_with(
    engine: &Engine,
    pair: impl Fn(usize, usize) -> Rc<ConnSet>,
) -> Vec<Connection> {
    connectivity_layered(engine, |s, d| (pair(s, d), None), |_, _| None)
}

/// Like [`connectivity_with`], where a layer after the CNI may refuse part of what the CNI lets
/// through: `pair` gives what the CNI lets through and what the layer refuses of it (left out of
/// `conn`, said in `ztunnel_denied`, `ztunnel_uncertain` and `denied_by`); `from_address` the
/// same for what an address sends to a workload (`allowed` given).
pub fn connectivity_layered(
    engine: &Engine,
    pair: impl Fn(usize, usize) -> (Rc<ConnSet>, Option<Refused>),
    from_address: impl Fn(&ConnSet, usize) -> Option<Refused>,
) -> Vec<Connection> {
    let workloads = &engine.cluster.workloads;
    // Several workloads may form one entity (pods of one owner with different labels): union.
    let mut pairs: BTreeMap<(Entity, Entity), (ConnSet, ConnSet, Refused)> = BTreeMap::new();
    let entities: Vec<Entity> = workloads
        .iter()
        .map(|w| (w.qualified_name(), w.kind.clone()))
        .collect();
    let entity = |i: usize| entities[i].clone();
    let shown: Vec<usize> = (0..workloads.len())
        .filter(|&i| !workloads[i].is_inferred())
        .collect();

    for &s in &shown {
        for &d in &shown {
            if entities[s] == entities[d] {
                continue;
            }
            let plain = engine.allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
            let (allowed, refused) = pair(s, d);
            if !allowed.is_empty() || !plain.is_empty() {
                let entry = pairs.entry((entity(s), entity(d))).or_default();
                match refused {
                    Some(refused) => {
                        entry.0.union_with(&allowed.subtract(&refused.denied));
                        entry.2.union_with(&refused);
                    }
                    None => entry.0.union_with(&allowed),
                }
                entry.1.union_with(&plain);
            }
        }
    }

    // Workloads and IP ranges: the address space is split at every ipBlock edge of that
    // direction, and each segment is judged by one of its addresses.
    let egress_segments = segments(engine, Direction::Egress);
    let ingress_segments = segments(engine, Direction::Ingress);
    // (Traffic between pods and addresses outside the mesh is plaintext: the CNI's verdict is
    // the same in both modes; the destination's ztunnel may refuse plaintext.)
    for &w in &shown {
        let mut add = |key: (Entity, Entity), allowed: Rc<ConnSet>, refused: Option<Refused>| {
            if !allowed.is_empty() {
                let entry = pairs.entry(key).or_default();
                match refused {
                    Some(refused) => {
                        entry.0.union_with(&allowed.subtract(&refused.denied));
                        entry.2.union_with(&refused);
                    }
                    None => entry.0.union_with(&allowed),
                }
                entry.1.union_with(&allowed);
            }
        };
        for (range, addr) in &egress_segments {
            let allowed = engine.allowed_between(Endpoint::Workload(w), Endpoint::Ip(*addr));
            add((entity(w), (range.clone(), EXTERNAL.into())), allowed, None);
        }
        for (range, addr) in &ingress_segments {
            let allowed = engine.allowed_between(Endpoint::Ip(*addr), Endpoint::Workload(w));
            let refused = from_address(&allowed, w);
            add(
                ((range.clone(), EXTERNAL.into()), entity(w)),
                allowed,
                refused,
            );
        }
    }

    pairs
        .into_iter()
        .map(
            |(((src, src_kind), (dst, dst_kind)), (conn, plain, refused))| Connection {
                src,
                src_kind,
                dst,
                dst_kind,
                plain: (conn != plain).then_some(ConnSetOrd(plain)),
                conn: ConnSetOrd(conn),
                ztunnel_denied: (!refused.denied.is_empty()).then_some(ConnSetOrd(refused.denied)),
                ztunnel_uncertain: (!refused.uncertain.is_empty())
                    .then_some(ConnSetOrd(refused.uncertain)),
                denied_by: refused.by,
            },
        )
        .collect()
}

/// The segments of the address space (IPv4 always, IPv6 when some ipBlock is IPv6) between the
/// edges of the ipBlocks of one direction, each with its name and its first address.
fn segments(engine: &Engine, direction: Direction) -> Vec<(String, IpAddr)> {
    let blocks = engine.ip_blocks(direction);
    let mut v4_cuts = vec![0u32];
    let mut v6_cuts = vec![0u128];
    for set in &blocks {
        cuts(&set.v4, &mut v4_cuts);
        cuts(&set.v6, &mut v6_cuts);
    }
    // Each Node address on its own: a Cilium rule's CIDR leaves it out, its `host` with
    // `remote-node` names it (`cilium::node_peers`), unlike the addresses around it.
    for node in &engine.cluster.nodes {
        for &ip in &node.addresses {
            let set = crate::net::ip::IpSet::address(ip);
            cuts(&set.v4, &mut v4_cuts);
            cuts(&set.v6, &mut v6_cuts);
        }
    }
    let mut out = Vec::new();
    for (lo, hi) in bounds(v4_cuts, u32::MAX) {
        out.push((v4_range(lo, hi), IpAddr::V4(Ipv4Addr::from(lo))));
    }
    if blocks.iter().any(|b| !b.v6.is_empty()) {
        for (lo, hi) in bounds(v6_cuts, u128::MAX) {
            out.push((v6_range(lo, hi), IpAddr::V6(Ipv6Addr::from(lo))));
        }
    }
    out
}

fn cuts<T: crate::net::ranges::Bound>(ranges: &Ranges<T>, out: &mut Vec<T>) {
    for &(lo, hi) in ranges.spans() {
        out.push(lo);
        if let Some(next) = hi.next() {
            out.push(next);
        }
    }
}

fn bounds<T: crate::net::ranges::Bound>(mut cuts: Vec<T>, max: T) -> Vec<(T, T)> {
    crate::sort::sort(&mut cuts);
    cuts.dedup();
    cuts.iter()
        .enumerate()
        .map(|(i, &lo)| {
            let hi = cuts.get(i + 1).and_then(|n| n.prev()).unwrap_or(max);
            (lo, hi)
        })
        .collect()
}
