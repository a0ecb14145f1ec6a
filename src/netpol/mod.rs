//! The NetworkPolicy family (networking.k8s.io/v1): the policies parsed and validated, and the
//! pods their selectors stand for. Their verdicts are computed by `crate::pipeline::engine`.
//!
//! Implements the rules of DOMAIN.md section 1 exactly, with the Kubernetes documentation as the
//! authority: policyTypes defaults, additive policies, AND/OR of peers, missing vs empty
//! selectors, named ports resolved per destination, endPort ranges, ipBlock with except.

pub mod policy;

use crate::model::Workload;
use crate::model::inferred::{Namespaces, StandIn};
use crate::net::conn::ConnSet;
use crate::net::ranges::Ranges;
use crate::net::{PortRef, PortSpec};
use policy::{NetworkPolicy, Peer, Rule};

/// The pods NetworkPolicies' selectors stand for ([`crate::model::inferred`]): those a policy
/// selects, and those its rules admit.
pub fn stand_ins(policies: &[NetworkPolicy]) -> Vec<StandIn> {
    let mut out = Vec::new();
    for policy in policies {
        if policy.namespaces.is_none() {
            out.push(StandIn {
                namespaces: Namespaces::In(policy.namespace.clone()),
                pods: policy.pod_selector.clone(),
                location: policy.location,
                why: format!(
                    "selected by {} `{}`",
                    policy.kind(),
                    policy.qualified_name()
                ),
            });
        }
        for rule in policy.ingress.iter().chain(&policy.egress) {
            for peer in rule.peers.iter().flatten() {
                let Peer::Pods { namespaces, pods } = peer else {
                    continue;
                };
                out.push(StandIn {
                    namespaces: match namespaces {
                        None => Namespaces::In(policy.namespace.clone()),
                        Some(selector) => Namespaces::Matching(selector.clone()),
                    },
                    pods: pods.clone().unwrap_or_default(),
                    location: policy.location,
                    why: format!(
                        "admitted by a rule of NetworkPolicy `{}`",
                        policy.qualified_name()
                    ),
                });
            }
        }
    }
    out
}

/// The connections a rule's `ports` admit towards `destination` (named ports resolve against
/// it; without a destination pod they match nothing).
pub fn rule_conns(rule: &Rule, destination: Option<&Workload>) -> ConnSet {
    ports_conns(rule.ports.as_deref(), destination)
}

/// The connections a list of ports (of either policy family; `None`: every port) matches
/// towards `destination`.
pub fn ports_conns(ports: Option<&[PortSpec]>, destination: Option<&Workload>) -> ConnSet {
    match ports {
        None => ConnSet::all(),
        Some(specs) => specs.iter().fold(ConnSet::none(), |mut acc, spec| {
            acc.union_with(&port_conns(spec, destination));
            acc
        }),
    }
}

/// The connections of a list of ports whatever the destination: `None` when a named port makes
/// them depend on it.
pub fn fixed_conns(ports: Option<&[PortSpec]>) -> Option<ConnSet> {
    let named = ports
        .into_iter()
        .flatten()
        .any(|s| matches!(s.port, Some(PortRef::Name(_))));
    (!named).then(|| ports_conns(ports, None))
}

pub fn port_conns(spec: &PortSpec, destination: Option<&Workload>) -> ConnSet {
    match &spec.port {
        None => ConnSet::all_of(spec.protocol),
        Some(PortRef::Number(port)) => ConnSet::ports(
            spec.protocol,
            Ranges::span(*port, spec.end_port.unwrap_or(*port)),
        ),
        Some(PortRef::Name(name)) => destination.map_or_else(ConnSet::none, |w| {
            w.resolve_port(name, spec.protocol)
                .fold(ConnSet::none(), |mut acc, p| {
                    acc.union_with(&ConnSet::port(spec.protocol, p));
                    acc
                })
        }),
    }
}
