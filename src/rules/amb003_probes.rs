#![doc = include_str!("docs/AMB003.md")]

use std::collections::BTreeMap;

use super::Output;
use crate::ambient::{Cni, Context, FixRequest, PortKey, ProbeSnat};
use crate::findings::{Code, Finding, Severity};
use crate::model::{ProbeAction, Workload};
use crate::net::conn::Protocol;
use crate::netpol::policy::{Direction, PortRef};
use crate::pipeline::PolicyRef;
use crate::pipeline::engine::Endpoint;

pub fn check(cx: &Context, out: &mut Output) {
    let ProbeSnat::Addresses(addresses) = cx.probe_snat else {
        return; // useHostIPForProbeSnat: probes keep the node's IP, which CNIs exempt
    };
    let workloads = &cx.cluster.workloads;
    let severity = if cx.cni.blocks_probes() {
        Severity::Error
    } else {
        Severity::Warning
    };
    // Probe rules to add, per policy: the ports (empty: every port).
    let mut requests: BTreeMap<usize, Vec<PortKey>> = BTreeMap::new();

    for (w, workload) in workloads.iter().enumerate() {
        if !cx.membership[w].is_ambient() {
            continue;
        }
        let policies = cx.engine.isolating(w, Direction::Ingress);
        // Under Calico, its policies that select the pod decide the SNAT address too.
        let calico = cx.engine.calico_layered(w, Direction::Ingress);
        if policies.is_empty() && calico.is_empty() {
            continue;
        }
        // (written port, number) of every network probe; inferred pods may have any.
        let probes: Vec<(&PortRef, Option<u16>, ProbeAction)> = workload
            .containers
            .iter()
            .flat_map(|c| &c.probes)
            .map(|p| (&p.port, resolve(workload, &p.port), p.action))
            .collect();
        // A probe naming a port no container declares fails whatever the policies say (the
        // kubelet cannot find the port): not ours to fix, and a rule for it would admit nothing.
        let mut blocked_ports: Vec<(&PortRef, Option<u16>)> = probes
            .iter()
            .filter(|(_, number, _)| {
                number.is_some_and(|n| {
                    addresses.iter().any(|&addr| {
                        let allowed = cx.engine.allowed(
                            Endpoint::Workload(w),
                            Endpoint::Ip(addr),
                            Direction::Ingress,
                        );
                        !allowed.contains(Protocol::Tcp, n)
                    })
                })
            })
            .map(|(port, number, _)| (*port, *number))
            .collect();
        // Liveness and readiness often share a port: name it once.
        blocked_ports.dedup_by(|a, b| a.0 == b.0);
        let inferred = workload.is_inferred();
        // Pods the input does not show: their probe ports are unknown. When the policies admit
        // the SNAT address on some TCP port, the probes most likely use it (probes usually hit
        // the app port); when they admit it on none, the probes are blocked whatever the port.
        let snat_blocked = addresses.iter().any(|&addr| {
            let allowed = cx.engine.allowed(
                Endpoint::Workload(w),
                Endpoint::Ip(addr),
                Direction::Ingress,
            );
            allowed.of(Protocol::Tcp).is_empty()
        });
        if blocked_ports.is_empty() && !(inferred && snat_blocked) {
            continue;
        }
        if policies.is_empty() || !calico.is_empty() {
            // Calico decides (alone, or before and after the NetworkPolicies).
            let address_list = addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let ports = blocked_ports
                .iter()
                .map(|(p, n)| match (p, n) {
                    (PortRef::Name(name), Some(n)) => format!("{name} ({n})"),
                    (p, _) => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let named: Vec<String> = calico
                .iter()
                .map(|&c| cx.cluster.describe_policy(PolicyRef::Calico(c)))
                .chain(
                    policies
                        .iter()
                        .map(|&p| format!("NetworkPolicy `{}`", cx.policy_name(p))),
                )
                .collect();
            let first = PolicyRef::Calico(calico[0]);
            let mut finding = Finding::new(
                Code::Amb003,
                format!(
                    "{} {} selected for ingress by {} and {}; in the ambient mesh they arrive from the SNAT address {address_list}, which the policies do not allow on those ports: whether Calico blocks them is not documented, so they may be blocked, and the pods then fail their probes.",
                    workload.describe(),
                    if workload.is_inferred() { "are" } else { "is" },
                    super::list(named),
                    if ports.is_empty() {
                        "may have kubelet probes".to_string()
                    } else {
                        format!("has kubelet probes on port {ports}")
                    },
                ),
                Some(workload.location),
            );
            finding.severity = severity;
            finding.policy = Some(cx.cluster.policy_name(first));
            finding.policy_kind = Some(cx.cluster.policy_kind(first));
            finding.workload = Some(workload.qualified_name());
            finding.fix = Some(format!(
                "no automatic fix for Calico: allow ingress from {} on the probe ports in a Calico policy ordered before the ones that deny it",
                addresses
                    .iter()
                    .map(|a| format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            out.findings.push(finding);
            continue;
        }
        let target = cx
            .fix_target(policies)
            .expect("an isolated workload has an isolating policy");
        let ports: Vec<PortKey> = blocked_ports
            .iter()
            .map(|(p, _)| PortKey::from(*p))
            .collect();
        let entry = requests.entry(target).or_default();
        for port in &ports {
            if !entry.contains(port) {
                entry.push(port.clone());
            }
        }
        if inferred {
            entry.clear(); // probe ports unknown: admit the address on every port (the seed's form)
        }

        let address_list = addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let cilium_policies = policies
            .iter()
            .any(|&p| cx.cluster.policies.network[p].cilium.is_some());
        let verdict = match cx.cni {
            Cni::Cilium if cilium_policies => {
                "Cilium blocks them under a default-deny: it exempts only its own `host` identity, and to Cilium the SNAT address is `world`, so only a rule with `fromEntities: [world]` (or `all`) or a `fromCIDR` covering the address admits it (`host` and `remote-node` do not)"
            }
            Cni::Cilium => {
                "Cilium blocks them under a default-deny (it exempts only its own host identity)"
            }
            Cni::OvnKubernetes => "OVN-Kubernetes blocks them under a deny-all ingress policy",
            Cni::Calico => "whether Calico blocks them is not documented: they may be blocked",
            Cni::Generic => {
                "depending on the CNI they may be blocked (Cilium and OVN-Kubernetes block them)"
            }
        };
        let what = if inferred {
            format!(
                "{} are isolated for ingress by {} and may have kubelet probes",
                workload.describe(),
                policy_list(cx, policies)
            )
        } else {
            let ports = blocked_ports
                .iter()
                .map(|(p, n)| match (p, n) {
                    (PortRef::Name(name), Some(n)) => format!("{name} ({n})"),
                    (p, _) => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{} is isolated for ingress by {} and has kubelet probes on port {ports}",
                workload.describe(),
                policy_list(cx, policies)
            )
        };
        let mut finding = Finding::new(
            Code::Amb003,
            format!(
                "{what}; in the ambient mesh they arrive from the SNAT address {address_list}, which no policy admits on those ports: {verdict}, and the pods then fail their probes."
            ),
            Some(workload_location(cx, w, policies)),
        );
        finding.severity = severity;
        finding.policy = Some(cx.policy_name(target));
        finding.workload = Some(workload.qualified_name());
        finding.fixable = true;
        finding.fix = Some(format!(
            "add an ingress rule to `{}` admitting {} on the probe ports",
            cx.policy_name(target),
            addresses
                .iter()
                .map(|a| format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 }))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.findings.push(finding);
    }
    for (policy, ports) in requests {
        out.fixes.push(FixRequest::AddProbeRule { policy, ports });
    }
}

fn resolve(workload: &Workload, port: &PortRef) -> Option<u16> {
    match port {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(name) => workload.resolve_port(name, Protocol::Tcp).next(),
    }
}

fn policy_list(cx: &Context, policies: &[usize]) -> String {
    super::list(
        policies
            .iter()
            .map(|&p| format!("`{}`", cx.policy_name(p)))
            .collect(),
    )
}

/// Concrete workloads point at themselves; inferred ones at the policy that stands for them.
fn workload_location(cx: &Context, w: usize, policies: &[usize]) -> crate::findings::Location {
    let workload = &cx.cluster.workloads[w];
    if workload.is_inferred() {
        cx.cluster.policy_location(PolicyRef::Network(policies[0]))
    } else {
        workload.location
    }
}
