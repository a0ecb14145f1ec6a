//! The paths the page draws: workloads (and the kubelet, and waypoints) as nodes, and for each
//! connection NetworkPolicy allows today its app path, its HBONE path once enrolled and the
//! kubelet's probe path, each with its verdict and the policies that decide it.

use serde::{Deserialize, Serialize};

use super::mesh::{Membership, Reason};
use super::{Context, HBONE_PORT, ProbeSnat, Route};
use crate::netpol::conn::{ConnSet, Protocol};
use crate::netpol::eval::{BitSet, Decider, Endpoint, SideVerdict};
use crate::netpol::policy::Direction;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Workload,
    /// Pods a selector stands for, not in the input.
    Inferred,
    Waypoint,
    /// An Istio gateway proxy (ingress, egress, east-west, or a Gateway API gateway of class
    /// `istio`): not captured by ambient, but it tunnels to ambient pods over HBONE.
    Gateway,
    /// The node's kubelet, source of the health probes.
    Kubelet,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// `namespace/name`, or `kubelet`.
    pub id: String,
    pub namespace: String,
    /// Short label for the drawing.
    pub label: String,
    pub kind: NodeKind,
    /// In the ambient mesh (captured by ztunnel).
    pub ambient: bool,
    /// Some policy selects it for ingress: a pair without an edge to it is denied today.
    #[serde(default)]
    pub ingress_isolated: bool,
    /// Some policy selects it for egress: a pair without an edge from it is denied today.
    #[serde(default)]
    pub egress_isolated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// The application connection as NetworkPolicy sees it today.
    App,
    /// The HBONE tunnel (15008/TCP) once both ends are enrolled.
    Hbone,
    /// A kubelet probe from the SNAT address.
    Probe,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// The port(s) the edge stands for, e.g. `TCP 9090` or `15008/TCP`.
    pub port: String,
    pub allowed: bool,
    /// The policies that block it (empty when allowed).
    pub blocked_by: Vec<String>,
    /// One sentence: why it is allowed or blocked.
    pub explanation: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Paths {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Past `MAX_DRAWN_WORKLOADS` there are no nodes nor edges (too many to compute and send):
    /// instead, per pair of namespaces, how many workload pairs are blocked once enrolled
    /// ([`summary`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_pairs: Vec<NamespacePairs>,
    /// The app edges (same `from` and `to`) whose ports the destination's ztunnel refuses once
    /// enrolled, though the CNI lets them through: denied by Istio's security policy
    /// (AuthorizationPolicy, STRICT PeerAuthentication), not by a NetworkPolicy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ztunnel: Vec<ZtunnelDenial>,
}

/// How much of an app edge ztunnel refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZtunnelExtent {
    /// Every port of the edge.
    All,
    /// Some of its ports (others pass).
    Some,
    /// None surely; some depend on addresses the input does not give (`ipBlocks`).
    Uncertain,
}

/// ztunnel's refusal of one app edge once enrolled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZtunnelDenial {
    /// The app edge's ends, as in [`Edge`].
    pub from: String,
    pub to: String,
    pub extent: ZtunnelExtent,
    /// The ports refused, e.g. `TCP 8080` (`No Connections` when only uncertain).
    pub port: String,
    /// The ports that may be refused, depending on addresses (`No Connections`: none).
    pub uncertain: String,
    /// The identity ztunnel sees (the waypoint's on a waypoint path); `None`: plaintext.
    pub identity: Option<String>,
    /// The deciding objects, e.g. `AuthorizationPolicy shop/api-readers`.
    pub denied_by: Vec<String>,
    /// One sentence: why.
    pub explanation: String,
}

/// The workload pairs from one namespace to another (or within one) that HBONE findings report
/// blocked once enrolled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespacePairs {
    pub from: String,
    pub to: String,
    pub blocked: u32,
}

/// The paths of a cluster. Only connections through an isolated side are drawn (everything else
/// is allowed and unchanged by ambient), app edges first.
pub fn paths(cx: &Context) -> Paths {
    let workloads = &cx.cluster.workloads;
    let mut out = Paths::default();
    let mut used = vec![false; workloads.len()];
    let mut kubelet = false;
    let mut tunnels: std::collections::HashSet<(String, String)> = Default::default();
    let layer = super::ztunnel_layer::Layer::new(cx);

    for d in 0..workloads.len() {
        // (A cluster-wide policy decides for the pods it selects, like an isolating one.)
        let ingress_isolated = !cx.engine.isolating(d, Direction::Ingress).is_empty()
            || !cx.engine.layered(d, Direction::Ingress).is_empty();
        // Istio's security policy makes the destination's ztunnel a layer that may refuse.
        let restricts = layer.restricts(d);
        for s in 0..workloads.len() {
            if s == d || workloads[s].host_network && workloads[d].host_network {
                continue;
            }
            let egress_isolated = !cx.engine.isolating(s, Direction::Egress).is_empty()
                || !cx.engine.layered(s, Direction::Egress).is_empty();
            if !ingress_isolated && !egress_isolated && !restricts {
                continue;
            }
            let verdict = cx
                .engine
                .verdict(Endpoint::Workload(s), Endpoint::Workload(d));
            let tcp = verdict.allowed.of(Protocol::Tcp).clone();
            if tcp.is_empty() {
                continue;
            }
            let denial = if restricts {
                ztunnel_denial(cx, &layer, s, d, &tcp)
            } else {
                None
            };
            if !ingress_isolated && !egress_isolated && denial.is_none() {
                continue;
            }
            out.ztunnel.extend(denial);
            used[s] = true;
            used[d] = true;
            let app = ConnSet::ports(Protocol::Tcp, tcp);
            out.edges.push(Edge {
                from: cx.workload_name(s),
                to: cx.workload_name(d),
                kind: EdgeKind::App,
                port: app.to_string(),
                allowed: true,
                blocked_by: Vec::new(),
                explanation: format!("NetworkPolicy allows {app} today"),
            });
            for (edge, via) in tunnel(cx, s, d) {
                if let Some(w) = via {
                    used[w] = true;
                }
                // A hop through a waypoint is on the tunnel of many pairs: drawn once.
                if tunnels.insert((edge.from.clone(), edge.to.clone())) {
                    out.edges.push(edge);
                }
            }
        }
        // Probes: only ambient pods' probes are SNATed.
        if let (ProbeSnat::Addresses(addresses), true) = (
            cx.probe_snat,
            ingress_isolated && cx.membership[d].is_ambient(),
        ) {
            let ports: Vec<u16> = workloads[d]
                .containers
                .iter()
                .flat_map(|c| &c.probes)
                .filter_map(|p| match &p.port {
                    crate::netpol::policy::PortRef::Number(n) => Some(*n),
                    crate::netpol::policy::PortRef::Name(name) => {
                        workloads[d].resolve_port(name, Protocol::Tcp).next()
                    }
                })
                .collect();
            if ports.is_empty() && !workloads[d].is_inferred() {
                continue;
            }
            for &addr in addresses {
                let side = cx.engine.side(
                    Endpoint::Workload(d),
                    Endpoint::Ip(addr),
                    Direction::Ingress,
                );
                let blocked: Vec<u16> = ports
                    .iter()
                    .copied()
                    .filter(|&p| !side.allowed.contains(Protocol::Tcp, p))
                    .collect();
                let allowed = if ports.is_empty() {
                    !side.allowed.of(Protocol::Tcp).is_empty()
                } else {
                    blocked.is_empty()
                };
                let port = if ports.is_empty() {
                    "probe ports".to_string()
                } else {
                    let mut ports = ports.clone();
                    crate::sort::sort(&mut ports);
                    ports.dedup();
                    format!(
                        "TCP {}",
                        ports
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                used[d] = true;
                kubelet = true;
                out.edges.push(Edge {
                    from: "kubelet".into(),
                    to: cx.workload_name(d),
                    kind: EdgeKind::Probe,
                    port,
                    allowed,
                    blocked_by: if allowed {
                        Vec::new()
                    } else {
                        // (Cluster-wide ingress peers are pods: probes are NetworkPolicy's.)
                        policy_names(cx, &side, Direction::Ingress, blocked.first().copied().unwrap_or(HBONE_PORT))
                    },
                    explanation: if allowed {
                        format!("probes from {addr} are admitted")
                    } else {
                        format!("probes arrive from {addr}, which no ingress rule admits on the probe ports")
                    },
                });
            }
        }
    }

    if kubelet {
        out.nodes.push(Node {
            id: "kubelet".into(),
            namespace: String::new(),
            label: "kubelet (node)".into(),
            kind: NodeKind::Kubelet,
            ambient: false,
            ingress_isolated: false,
            egress_isolated: false,
        });
    }
    for (i, w) in workloads.iter().enumerate().filter(|(i, _)| used[*i]) {
        let kind = if cx.membership[i] == Membership::Outside(Reason::Waypoint) {
            NodeKind::Waypoint
        } else if matches!(cx.membership[i], Membership::Gateway(_)) {
            NodeKind::Gateway
        } else if w.is_inferred() {
            NodeKind::Inferred
        } else {
            NodeKind::Workload
        };
        out.nodes.push(Node {
            id: w.qualified_name(),
            namespace: w.namespace.clone(),
            label: match kind {
                // The drawing says "waypoint" by the node's shape and tag: the label is its name.
                NodeKind::Waypoint | NodeKind::Gateway => {
                    match w.labels.get(super::mesh::GATEWAY_NAME) {
                        Some(name) if w.is_inferred() || kind == NodeKind::Waypoint => name.clone(),
                        _ => w.name.clone(),
                    }
                }
                NodeKind::Inferred => inferred_label(&w.labels),
                _ => w.name.clone(),
            },
            kind,
            ambient: cx.membership[i] == Membership::Ambient,
            ingress_isolated: !cx.engine.isolating(i, Direction::Ingress).is_empty(),
            egress_isolated: !cx.engine.isolating(i, Direction::Egress).is_empty(),
        });
    }
    out
}

/// What the destination's ztunnel refuses of the app ports `tcp` from `s` to `d` once
/// enrolled (judged whatever the CNI does with the tunnel: fixing 15008 does not lift it).
fn ztunnel_denial(
    cx: &Context,
    layer: &super::ztunnel_layer::Layer,
    s: usize,
    d: usize,
    tcp: &crate::netpol::ranges::Ranges<u16>,
) -> Option<ZtunnelDenial> {
    let j = layer.judge(Some(s), d, tcp)?;
    let (denied, uncertain) = (j.denied(), j.uncertain());
    let extent = if !denied.is_empty() && &denied == tcp {
        ZtunnelExtent::All
    } else if !denied.is_empty() {
        ZtunnelExtent::Some
    } else if !uncertain.is_empty() {
        ZtunnelExtent::Uncertain
    } else {
        return None;
    };
    let denied_by = j.refused_by(cx);
    let conns = |p: &crate::netpol::ranges::Ranges<u16>| ConnSet::ports(Protocol::Tcp, p.clone());
    let verb = match extent {
        ZtunnelExtent::All => format!("refuses {}", conns(&denied)),
        ZtunnelExtent::Some => format!("refuses {} of {}", conns(&denied), conns(tcp)),
        ZtunnelExtent::Uncertain => format!(
            "may refuse {} (it depends on addresses the input does not give)",
            conns(&uncertain)
        ),
    };
    let explanation = format!(
        "once enrolled, the ztunnel of {} {verb}: it sees {}, and {} decides",
        cx.workload_name(d),
        layer.describe_peer(&j),
        denied_by.join(", ")
    );
    Some(ZtunnelDenial {
        from: cx.workload_name(s),
        to: cx.workload_name(d),
        extent,
        port: conns(&denied).to_string(),
        uncertain: conns(&uncertain).to_string(),
        identity: j.identity.clone(),
        denied_by,
        explanation,
    })
}

/// Labels that name an application, most telling first.
const NAME_LABELS: [&str; 5] = [
    "app.kubernetes.io/name",
    "app",
    "k8s-app",
    "name",
    "app.kubernetes.io/instance",
];
/// Labels that tell two instances of one application apart.
const QUALIFYING_LABELS: [&str; 4] = [
    "app.kubernetes.io/component",
    "app.kubernetes.io/instance",
    "component",
    "role",
];

/// A short name for the pods a selector stands for: the application its labels name (e.g.
/// `my-app` for `app.kubernetes.io/name: my-app`), with what tells it apart in brackets
/// (`alertmanager (alert-router, main)`); the full selector is the node's id.
pub(crate) fn inferred_label(labels: &crate::netpol::selector::Labels) -> String {
    let Some(primary) = NAME_LABELS
        .iter()
        .find_map(|k| labels.get(*k))
        .or_else(|| labels.values().next())
    else {
        return "all pods".to_string();
    };
    let mut qualifiers: Vec<&str> = Vec::new();
    for value in QUALIFYING_LABELS.iter().filter_map(|k| labels.get(*k)) {
        if value != primary && !qualifiers.contains(&value.as_str()) {
            qualifiers.push(value);
        }
    }
    if qualifiers.is_empty() {
        primary.clone()
    } else {
        format!("{primary} ({})", qualifiers.join(", "))
    }
}

/// What a large cluster's matrix shows instead of edges: per pair of namespaces, how many
/// workload pairs the HBONE rules (AMB001, AMB002, AMB005) report blocked once enrolled, from
/// the blocks they found (`rules::Output::blocked`): no verdict per pair, so it costs what the
/// blocked pairs cost, and sends one count per pair of namespaces.
pub fn summary(cx: &Context, blocked: &[(BitSet, Vec<usize>)]) -> Vec<NamespacePairs> {
    let workloads = &cx.cluster.workloads;
    let n = workloads.len();
    // Per destination, its blocked sources (a pair reported by two rules counts once).
    let mut from: Vec<Option<BitSet>> = vec![None; n];
    for (sources, destinations) in blocked {
        for &d in destinations {
            from[d]
                .get_or_insert_with(|| BitSet::new(n))
                .union_with(sources);
        }
    }
    let mut names: Vec<&str> = workloads.iter().map(|w| w.namespace.as_str()).collect();
    crate::sort::sort(&mut names);
    names.dedup();
    let index: Vec<usize> = workloads
        .iter()
        .map(|w| {
            names
                .binary_search(&w.namespace.as_str())
                .expect("every namespace is listed")
        })
        .collect();
    // Sparse: a cluster of 20,000 namespaces would need 400 million dense counters.
    let mut counts: std::collections::BTreeMap<(usize, usize), u32> = Default::default();
    for (d, sources) in from.iter().enumerate() {
        for s in sources.iter().flat_map(BitSet::iter) {
            // A workload of one pod is not its own peer.
            if s != d || cx.replicated(d) {
                *counts.entry((index[s], index[d])).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|((from, to), blocked)| NamespacePairs {
            from: names[from].to_string(),
            to: names[to].to_string(),
            blocked,
        })
        .collect()
}

/// The HBONE hops of the traffic from `s` to `d` once enrolled (none when it keeps its original
/// port): one tunnel, or two hops through the destination's waypoint, each with its verdict, and
/// the waypoint pod a hop passes.
pub fn tunnel(cx: &Context, s: usize, d: usize) -> Vec<(Edge, Option<usize>)> {
    let hops = match cx.route(s, d) {
        Route::Direct => Vec::new(),
        Route::Hbone => vec![(s, d)],
        Route::Waypoint => {
            let w = cx
                .waypoint_pod(d)
                .expect("a waypoint route has a waypoint pod");
            vec![(s, w), (w, d)]
        }
    };
    let via = (hops.len() == 2).then(|| hops[0].1);
    hops.into_iter()
        .map(|(from, to)| {
            let (allowed, blocked_by, explanation) = hbone_verdict(cx, from, to);
            let edge = Edge {
                from: cx.workload_name(from),
                to: cx.workload_name(to),
                kind: EdgeKind::Hbone,
                port: format!("{HBONE_PORT}/TCP"),
                allowed,
                blocked_by,
                explanation,
            };
            (edge, via)
        })
        .collect()
}

/// Who blocks `port`/TCP on a side: the cluster-wide rule that denies it, or the NetworkPolicies
/// that isolate the side.
fn policy_names(cx: &Context, side: &SideVerdict, direction: Direction, port: u16) -> Vec<String> {
    match side.decider(Protocol::Tcp, port) {
        Decider::Layer(c, r, _) => {
            let policy = &cx.cluster.cluster_policies[c];
            vec![format!(
                "{} {}",
                policy.describe(),
                policy.rule_name(direction, r)
            )]
        }
        Decider::Calico(Some(c), Some(r), _) => {
            let policy = &cx.cluster.calico_policies[c];
            vec![format!(
                "{} {}",
                policy.describe(),
                policy.rule_name(direction, r)
            )]
        }
        Decider::Calico(..) => side
            .calico
            .iter()
            .find(|m| m.policy.is_none() && m.conns.contains(Protocol::Tcp, port))
            .map(|m| vec![format!("the end of Calico tier `{}`", m.tier)])
            .unwrap_or_default(),
        _ => side
            .isolated_by
            .iter()
            .map(|&p| cx.policy_name(p))
            .collect(),
    }
}

/// Whether 15008/TCP passes both sides of a hop, and who blocks it.
fn hbone_verdict(cx: &Context, from: usize, to: usize) -> (bool, Vec<String>, String) {
    let egress = cx.engine.side(
        Endpoint::Workload(from),
        Endpoint::Workload(to),
        Direction::Egress,
    );
    let ingress = cx.engine.side(
        Endpoint::Workload(to),
        Endpoint::Workload(from),
        Direction::Ingress,
    );
    let out_ok = egress.allowed.contains(Protocol::Tcp, HBONE_PORT);
    let in_ok = ingress.allowed.contains(Protocol::Tcp, HBONE_PORT);
    let mut blocked_by = Vec::new();
    if !out_ok {
        blocked_by.extend(policy_names(cx, &egress, Direction::Egress, HBONE_PORT));
    }
    if !in_ok {
        blocked_by.extend(policy_names(cx, &ingress, Direction::Ingress, HBONE_PORT));
    }
    let explanation = match (out_ok, in_ok) {
        (true, true) => {
            "15008/TCP is admitted on both sides: the tunnel carries every port".to_string()
        }
        (false, true) => "the source's egress policies do not admit 15008/TCP".to_string(),
        (true, false) => {
            "the destination's ingress policies do not admit 15008/TCP from this source".to_string()
        }
        (false, false) => {
            "neither the source's egress nor the destination's ingress admits 15008/TCP".to_string()
        }
    };
    (out_ok && in_ok, blocked_by, explanation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> crate::netpol::selector::Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pairs_ztunnel_refuses_are_drawn_and_say_who_refuses() {
        // No NetworkPolicy at all: only the ztunnel layer refuses (an L7-only ALLOW policy on
        // `api`, STRICT mTLS for the plaintext of `legacy/old`), and only those pairs are drawn.
        let text = "apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {serviceAccountName: web, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {serviceAccountName: api, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: old, namespace: legacy, labels: {app: old}}
spec: {containers: [{name: c}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api-readers, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
    to: [{operation: {methods: [GET]}}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: web, namespace: shop}
spec: {selector: {matchLabels: {app: web}}, mtls: {mode: STRICT}}
";
        let report = crate::analyze(
            &[crate::Source {
                name: "c.yaml",
                text,
            }],
            &crate::Options::default(),
        );
        let paths = &report.paths;
        let refused: Vec<(&str, &str, ZtunnelExtent, &str, Vec<&str>)> = paths
            .ztunnel
            .iter()
            .map(|z| {
                (
                    z.from.as_str(),
                    z.to.as_str(),
                    z.extent,
                    z.port.as_str(),
                    z.denied_by.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            refused,
            [
                (
                    "legacy/old",
                    "shop/web",
                    ZtunnelExtent::All,
                    "TCP 1-65535",
                    vec!["PeerAuthentication shop/web"]
                ),
                (
                    "shop/web",
                    "shop/api",
                    ZtunnelExtent::All,
                    "TCP 1-65535",
                    vec!["AuthorizationPolicy shop/api-readers"]
                ),
                (
                    "legacy/old",
                    "shop/api",
                    ZtunnelExtent::All,
                    "TCP 1-65535",
                    vec!["AuthorizationPolicy shop/api-readers"]
                ),
            ]
        );
        // Each refused pair has its app edge, allowed by the CNI; nothing else is drawn.
        let apps: Vec<(&str, &str, bool)> = paths
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::App)
            .map(|e| (e.from.as_str(), e.to.as_str(), e.allowed))
            .collect();
        assert_eq!(
            apps,
            [
                ("legacy/old", "shop/web", true),
                ("shop/web", "shop/api", true),
                ("legacy/old", "shop/api", true)
            ]
        );
        assert!(
            paths.ztunnel[1]
                .explanation
                .contains("it sees the identity `cluster.local/ns/shop/sa/web` over HBONE"),
            "{}",
            paths.ztunnel[1].explanation
        );
    }

    #[test]
    fn an_inferred_node_is_named_by_its_application() {
        assert_eq!(
            inferred_label(&labels(&[("app.kubernetes.io/name", "my-app")])),
            "my-app"
        );
        assert_eq!(
            inferred_label(&labels(&[
                ("app.kubernetes.io/component", "alert-router"),
                ("app.kubernetes.io/instance", "main"),
                ("app.kubernetes.io/name", "alertmanager"),
                ("app.kubernetes.io/part-of", "kube-prometheus"),
            ])),
            "alertmanager (alert-router, main)"
        );
        assert_eq!(
            inferred_label(&labels(&[
                ("app.kubernetes.io/component", "prometheus"),
                ("app.kubernetes.io/instance", "k8s"),
                ("app.kubernetes.io/name", "prometheus"),
            ])),
            "prometheus (k8s)"
        );
        assert_eq!(inferred_label(&labels(&[("tier", "db")])), "db");
        assert_eq!(inferred_label(&labels(&[])), "all pods");
    }
}
