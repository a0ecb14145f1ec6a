#![doc = include_str!("docs/AMB012.md")]

use super::Output;
use crate::ambient::Context;
use crate::ambient::mesh::{Membership, Reason};
use crate::findings::{Code, Finding};
use crate::istio::ztunnel;
use crate::net::conn::Protocol;
use crate::net::ranges::Ranges;
use crate::pipeline::engine::{BitSet, Endpoint};

pub fn check(cx: &Context, out: &mut Output) {
    if cx.cluster.policies.istio.peer_authentications.is_empty() {
        return;
    }
    let n = cx.cluster.workloads.len();
    // Clients without a mesh identity: their traffic reaches an ambient pod in plaintext
    // (waypoints and Istio proxies speak mTLS). Grouped by sender class: NetworkPolicy treats
    // the members alike.
    let plaintext = super::grouped(
        (0..n).filter(
            |&s| matches!(cx.membership[s], Membership::Outside(r) if r != Reason::Waypoint),
        ),
        |s| cx.engine.sender_class(s),
    );
    for d in 0..n {
        if !cx.membership[d].is_ambient() {
            continue;
        }
        let target = &cx.cluster.workloads[d];
        let (strict, decider) = ztunnel::strict_ports(&cx.cluster.policies.istio, cx.istio, target);
        let Some(decider) = decider else { continue };
        let mut clients = BitSet::new(n);
        let mut refused = Ranges::empty();
        for members in plaintext.values() {
            let Some(&first) = members.iter().find(|&&s| super::distinct(cx, s, d)) else {
                continue;
            };
            let allowed = cx
                .engine
                .allowed_between(Endpoint::Workload(first), Endpoint::Workload(d));
            let ports = allowed.of(Protocol::Tcp).intersect(&strict);
            if ports.is_empty() {
                continue;
            }
            refused.union_with(&ports);
            for &s in members.iter().filter(|&&s| super::distinct(cx, s, d)) {
                clients.insert(s);
            }
        }
        if clients.is_empty() {
            continue;
        }
        let pa = &cx.cluster.policies.istio.peer_authentications[decider];
        let scope = if pa.selector.is_some() {
            "for these pods"
        } else if pa.namespace == cx.istio.root_namespace {
            "mesh-wide"
        } else {
            "for the namespace"
        };
        let ports = ztunnel::describe_ports(&refused);
        let mut finding = Finding::new(
            Code::Amb012,
            format!(
                "PeerAuthentication `{}` makes mTLS STRICT {scope}: once {} is in the ambient mesh its ztunnel refuses plaintext, but NetworkPolicy admits {} (not in the mesh) on TCP {ports}: those connections will be refused",
                pa.qualified_name(),
                super::describe(cx, d),
                super::names(cx, &clients),
            ),
            Some(pa.location),
        );
        finding.policy = Some(pa.qualified_name());
        finding.policy_kind = Some("PeerAuthentication".into());
        finding.workload = Some(cx.workload_name(d));
        let first_port = refused.spans().first().map_or(0, |&(lo, _)| lo);
        finding.fix = Some(format!(
            "enroll the clients in the mesh (label their namespace `istio.io/dataplane-mode: ambient`), so their traffic is mTLS; or, if they cannot be, a PeerAuthentication for `{}` with `portLevelMtls: {{{first_port}: {{mode: PERMISSIVE}}}}` (one entry per port), at a cost: on that port any client NetworkPolicy admits gets in without a mesh identity",
            cx.workload_name(d)
        ));
        out.findings.push(finding);
    }
}
