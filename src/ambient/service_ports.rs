//! The ports of an AuthorizationPolicy moved from the pods' ztunnel to a Service's waypoint
//! (`selector` → `targetRefs` to the Service: AMB010's and AMB011's fixes).
//!
//! **A waypoint matches `ports` (and `when` on `destination.port`) against the Service port, a
//! ztunnel (or sidecar) against the pod's port.** The evidence, from istio/istio (master of
//! August 2026) and istio/api:
//!
//! - `pilot/pkg/security/authz/model` turns `ports`/`notPorts` and `destination.port` into
//!   Envoy RBAC `destination_port` permissions (`destPortGenerator` →
//!   `permissionDestinationPort`) with no translation: the port of the connection's local
//!   address where the RBAC filter runs.
//! - On a waypoint that filter runs in the `main_internal` listener
//!   (`pilot/pkg/networking/core/listener_waypoint.go`, `buildWaypointInternal`): its filter
//!   chains are matched by the Service's VIPs and, per VIP, by the Service's own `port.Port`
//!   (the chain's `TargetPort` is set to that same service port), after the
//!   `OriginalDestination` listener filter restored the address the client tunnelled to, the
//!   Service VIP and port; the RBAC filters are built per Service there
//!   (`authz.NewBuilderForService`). A waypoint's access log shows it: in istio/istio#43476
//!   the downstream local address is `10.96.34.189:8000` (the Service's port 8000) for a
//!   request sent upstream to the pod's port 80 (`inbound-vip|8000|http|httpbin...`).
//! - istio/api#3075 (the `ports` docs of AuthorizationPolicy and PeerAuthentication) says the
//!   ports are the workload's (container) ports, not the Service's: that is the sidecar's and
//!   ztunnel's view, where the connection arrives at the pod's port after the Service's
//!   translation, and is why a selector-bound policy names `targetPort`s.
//!
//! So a policy moved from `selector` to `targetRefs` to a Service must name the Service ports
//! that forward to the pod ports it named. When a Service port forwards to some listed and some
//! unlisted pod ports (a named `targetPort` that resolves differently across pods), when two
//! targeted Services use one port number for different pod ports, or when a named `targetPort`
//! does not resolve in the input, no port list says the same thing, and the move is not offered.

use std::collections::BTreeSet;

use crate::fix::emit::Y;
use crate::model::Service;
use crate::net::conn::Protocol;
use crate::pipeline::Cluster;

/// A TCP Service port and the pod ports it forwards to (empty: unknown, a named `targetPort`
/// none of the input's pods has).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub port: u16,
    pub targets: BTreeSet<u16>,
}

/// The TCP ports of a Service as written (`spec.ports`), each with the pod ports it forwards to:
/// `targetPort` a number, a name resolved against the pods it selects, or absent (the port
/// itself).
pub fn service_ports(cluster: &Cluster, service: &Service) -> Vec<ServicePort> {
    let Some(ports) = service
        .node
        .get("spec")
        .and_then(|s| s.get("ports"))
        .and_then(|p| p.as_seq())
    else {
        return Vec::new();
    };
    let pods: Vec<&crate::model::Workload> = cluster
        .workloads
        .iter()
        .filter(|w| w.namespace == service.namespace && service.selector.matches(&w.labels))
        .collect();
    let mut out = Vec::new();
    for entry in ports {
        let protocol = entry
            .get("protocol")
            .and_then(|p| p.as_str())
            .unwrap_or("TCP");
        if protocol != "TCP" {
            continue; // waypoints carry TCP only
        }
        let Some(port) = entry
            .get("port")
            .and_then(|p| p.as_int())
            .and_then(|n| u16::try_from(n).ok())
        else {
            continue;
        };
        let target = entry.get("targetPort");
        let targets: BTreeSet<u16> = match (
            target.and_then(|t| t.as_int()),
            target.and_then(|t| t.as_str()),
        ) {
            (Some(n), _) => crate::sort::set(u16::try_from(n)),
            (None, Some(text)) => match text.parse::<u16>() {
                Ok(n) => crate::sort::set([n]),
                Err(_) => crate::sort::set(
                    pods.iter()
                        .flat_map(|w| w.resolve_port(text, Protocol::Tcp)),
                ),
            },
            (None, None) => crate::sort::set([port]),
        };
        out.push(ServicePort { port, targets });
    }
    out
}

/// The rules (as written, `spec.rules`) of a policy moved onto the waypoint of `services`, their
/// pod ports turned into the Services' ports; `Err` says why no port list says the same.
pub fn to_service_ports(rules: &[Y], services: &[Vec<ServicePort>]) -> Result<Vec<Y>, String> {
    let all: Vec<&ServicePort> = services.iter().flatten().collect();
    let mut out = Vec::new();
    for rule in rules {
        if let Some(rule) = translate_rule(rule, &all)? {
            out.push(rule);
        }
    }
    Ok(out)
}

/// Whether the rules name any port (so a move onto a waypoint must translate them).
pub fn names_ports(rules: &[Y]) -> bool {
    fn walk(y: &Y) -> bool {
        match y {
            Y::Map(entries) => entries.iter().any(|(k, v)| {
                matches!(k.as_str(), "ports" | "notPorts")
                    || (k == "key" && matches!(v, Y::Str(s) if s == "destination.port"))
                    || walk(v)
            }),
            Y::Seq(items) => items.iter().any(walk),
            _ => false,
        }
    }
    rules.iter().any(walk)
}

fn port_list(y: &Y) -> Result<BTreeSet<u16>, String> {
    let Y::Seq(items) = y else {
        return Err("a port list that is not a list".into());
    };
    items
        .iter()
        .map(|item| match item {
            Y::Int(n) => u16::try_from(*n).map_err(|_| format!("port {n}")),
            Y::Str(s) => s.trim().parse::<u16>().map_err(|_| format!("port `{s}`")),
            _ => Err("a port that is not a number".into()),
        })
        .collect::<Result<Vec<u16>, String>>()
        .map(crate::sort::set)
}

/// The translated list: the list as written when it names the same ports (so a policy whose
/// Service forwards each port to itself reads exactly as before).
fn as_list(ports: &BTreeSet<u16>, written: &Y) -> Y {
    if port_list(written).is_ok_and(|p| &p == ports) {
        return written.clone();
    }
    Y::Seq(ports.iter().map(|p| Y::str(p.to_string())).collect())
}

/// The Service ports that forward only to `pods` ports; `Err` when one forwards to some of them
/// and others, or is unknown, or one number stands for ports inside and outside `pods`.
fn service_side(pods: &BTreeSet<u16>, all: &[&ServicePort]) -> Result<BTreeSet<u16>, String> {
    let mut out = BTreeSet::new();
    for sp in all {
        if sp.targets.is_empty() {
            return Err(format!(
                "the Service port {} forwards to a named port no pod of the input has",
                sp.port
            ));
        }
        let inside = sp.targets.iter().filter(|t| pods.contains(t)).count();
        if inside == sp.targets.len() {
            out.insert(sp.port);
        } else if inside > 0 {
            return Err(format!(
                "the Service port {} forwards to pod ports both named and not named by the policy",
                sp.port
            ));
        }
    }
    // One number, two Services: both must forward to ports the policy names.
    for sp in all {
        if out.contains(&sp.port) && !sp.targets.iter().all(|t| pods.contains(t)) {
            return Err(format!(
                "the Services use port {} for different pod ports",
                sp.port
            ));
        }
    }
    Ok(out)
}

/// One rule translated; `None` when it can no longer match (a port list with no Service port).
fn translate_rule(rule: &Y, all: &[&ServicePort]) -> Result<Option<Y>, String> {
    let Y::Map(entries) = rule else {
        return Ok(Some(rule.clone()));
    };
    let mut kept = Vec::new();
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("to", Y::Seq(items)) => {
                let mut to = Vec::new();
                let mut everything = false;
                for item in items {
                    match translate_to(item, all)? {
                        To::Nothing => {}
                        To::Everything => everything = true,
                        To::Some(y) => to.push(y),
                    }
                }
                if everything {
                    continue; // one entry matches every operation: `to` says nothing
                }
                if to.is_empty() {
                    return Ok(None);
                }
                kept.push((key.clone(), Y::Seq(to)));
            }
            ("when", Y::Seq(conditions)) => {
                let mut when = Vec::new();
                for condition in conditions {
                    match translate_when(condition, all)? {
                        To::Nothing => return Ok(None),
                        To::Everything => {}
                        To::Some(y) => when.push(y),
                    }
                }
                if !when.is_empty() {
                    kept.push((key.clone(), Y::Seq(when)));
                }
            }
            _ => kept.push((key.clone(), value.clone())),
        }
    }
    Ok(Some(Y::Map(kept)))
}

enum To {
    Nothing,
    Everything,
    Some(Y),
}

/// A `to` entry: `{operation: {ports, notPorts, ...}}`.
fn translate_to(item: &Y, all: &[&ServicePort]) -> Result<To, String> {
    let Y::Map(wrapper) = item else {
        return Ok(To::Some(item.clone()));
    };
    let mut out = Vec::new();
    for (k, v) in wrapper {
        let Y::Map(fields) = v else {
            out.push((k.clone(), v.clone()));
            continue;
        };
        if k != "operation" {
            out.push((k.clone(), v.clone()));
            continue;
        }
        let mut operation = Vec::new();
        for (f, value) in fields {
            match f.as_str() {
                "ports" => {
                    let ports = service_side(&port_list(value)?, all)?;
                    if ports.is_empty() {
                        return Ok(To::Nothing);
                    }
                    operation.push((f.clone(), as_list(&ports, value)));
                }
                "notPorts" => {
                    let ports = service_side(&port_list(value)?, all)?;
                    if !ports.is_empty() {
                        operation.push((f.clone(), as_list(&ports, value)));
                    }
                }
                _ => operation.push((f.clone(), value.clone())),
            }
        }
        if operation.is_empty() {
            return Ok(To::Everything);
        }
        out.push((k.clone(), Y::Map(operation)));
    }
    Ok(To::Some(Y::Map(out)))
}

/// A `when` condition: only `destination.port` names ports.
fn translate_when(condition: &Y, all: &[&ServicePort]) -> Result<To, String> {
    let Y::Map(fields) = condition else {
        return Ok(To::Some(condition.clone()));
    };
    let is_port = fields
        .iter()
        .any(|(k, v)| k == "key" && matches!(v, Y::Str(s) if s == "destination.port"));
    if !is_port {
        return Ok(To::Some(condition.clone()));
    }
    let mut out = Vec::new();
    let mut constrained = false;
    for (k, v) in fields {
        match k.as_str() {
            "values" => {
                let ports = service_side(&port_list(v)?, all)?;
                if ports.is_empty() {
                    return Ok(To::Nothing);
                }
                constrained = true;
                out.push((k.clone(), as_list(&ports, v)));
            }
            "notValues" => {
                let ports = service_side(&port_list(v)?, all)?;
                if !ports.is_empty() {
                    constrained = true;
                    out.push((k.clone(), as_list(&ports, v)));
                }
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    Ok(if constrained {
        To::Some(Y::Map(out))
    } else {
        To::Everything
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(port: u16, targets: &[u16]) -> ServicePort {
        ServicePort {
            port,
            targets: targets.iter().copied().collect(),
        }
    }

    fn ports_rule(key: &str, ports: &[&str]) -> Y {
        Y::map(vec![(
            "to",
            Y::Seq(vec![Y::map(vec![(
                "operation",
                Y::map(vec![(
                    key,
                    Y::Seq(ports.iter().map(|p| Y::str(*p)).collect()),
                )]),
            )])]),
        )])
    }

    #[test]
    fn pod_ports_become_the_service_ports_that_forward_to_them() {
        let svc = vec![vec![sp(80, &[8080]), sp(9090, &[9090]), sp(443, &[8443])]];
        let out = to_service_ports(&[ports_rule("ports", &["8080", "9090"])], &svc).unwrap();
        assert_eq!(out, vec![ports_rule("ports", &["80", "9090"])]);
        let out = to_service_ports(&[ports_rule("notPorts", &["8443"])], &svc).unwrap();
        assert_eq!(out, vec![ports_rule("notPorts", &["443"])]);
    }

    #[test]
    fn a_pod_port_no_service_port_reaches_admits_nothing_through_the_service() {
        let svc = vec![vec![sp(80, &[8080])]];
        // `ports` with no Service port: the rule matches nothing and goes.
        let out = to_service_ports(&[ports_rule("ports", &["7000"])], &svc).unwrap();
        assert!(out.is_empty());
        // `notPorts` with no Service port: it excludes nothing reachable, so it goes, and the
        // entry matches every operation.
        let out = to_service_ports(&[ports_rule("notPorts", &["7000"])], &svc).unwrap();
        assert_eq!(out, vec![Y::Map(Vec::new())]);
    }

    #[test]
    fn ambiguous_mappings_are_refused() {
        // One Service port, pods that name its target differently.
        let mixed = vec![vec![sp(80, &[8080, 8081])]];
        assert!(to_service_ports(&[ports_rule("ports", &["8080"])], &mixed).is_err());
        // Two Services, port 80 to different pod ports.
        let two = vec![vec![sp(80, &[8080])], vec![sp(80, &[9000])]];
        assert!(to_service_ports(&[ports_rule("ports", &["8080"])], &two).is_err());
        // An unresolved named targetPort.
        let unknown = vec![vec![sp(80, &[])]];
        assert!(to_service_ports(&[ports_rule("ports", &["8080"])], &unknown).is_err());
    }

    #[test]
    fn destination_port_conditions_are_translated_too() {
        let svc = vec![vec![sp(80, &[8080])]];
        let when = |key: &str| {
            Y::map(vec![(
                "when",
                Y::Seq(vec![Y::map(vec![
                    ("key", Y::str("destination.port")),
                    (key, Y::Seq(vec![Y::str("8080")])),
                ])]),
            )])
        };
        let out = to_service_ports(&[when("values")], &svc).unwrap();
        assert_eq!(
            out,
            vec![Y::map(vec![(
                "when",
                Y::Seq(vec![Y::map(vec![
                    ("key", Y::str("destination.port")),
                    ("values", Y::Seq(vec![Y::str("80")])),
                ])]),
            )])]
        );
        assert!(names_ports(&[when("notValues")]));
        assert!(!names_ports(&[Y::map(vec![("from", Y::Seq(Vec::new()))])]));
    }
}
