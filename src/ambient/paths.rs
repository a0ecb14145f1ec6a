//! The paths the page draws: workloads (and the kubelet, and waypoints) as nodes, and for each
//! connection NetworkPolicy allows today its app path, its HBONE path once enrolled and the
//! kubelet's probe path, each with its verdict and the policies that decide it.

use serde::{Deserialize, Serialize};

use super::mesh::{Membership, Reason};
use super::{Context, HBONE_PORT, ProbeSnat, Route};
use crate::net::Direction;
use crate::net::conn::{ConnSet, Protocol};
use crate::pipeline::engine::{BitSet, Decider, Endpoint, SideVerdict};
use crate::pipeline::{Layer, PolicyRef};

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
    /// The pairs blocked, each once whatever blocks it.
    pub blocked: u32,
    /// The pairs each layer blocks (in JSON only the layers that block some, e.g. `"by_admin":
    /// 4, "by_network_policy": 2`). A pair two layers block (one the source's egress, the other
    /// the destination's ingress, or two hops through a waypoint) counts in both, so these may
    /// add up to more than `blocked`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_admin: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_network_policy: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_cilium: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_calico: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_baseline: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl NamespacePairs {
    /// The pairs `layer` blocks.
    pub fn by(&self, layer: Layer) -> u32 {
        match layer {
            Layer::Admin => self.by_admin,
            Layer::NetworkPolicy => self.by_network_policy,
            Layer::Cilium => self.by_cilium,
            Layer::Calico => self.by_calico,
            Layer::Baseline => self.by_baseline,
        }
    }

    fn by_mut(&mut self, layer: Layer) -> &mut u32 {
        match layer {
            Layer::Admin => &mut self.by_admin,
            Layer::NetworkPolicy => &mut self.by_network_policy,
            Layer::Cilium => &mut self.by_cilium,
            Layer::Calico => &mut self.by_calico,
            Layer::Baseline => &mut self.by_baseline,
        }
    }
}

/// Workload pairs an HBONE finding reports blocked once enrolled: every source to every
/// destination but itself (a workload of one pod is not its own peer), and the layer whose rule
/// blocks 15008/TCP between them (`rules::Output::blocked`).
#[derive(Clone, Debug)]
pub struct Block {
    pub sources: BitSet,
    pub destinations: Vec<usize>,
    pub layer: Layer,
}

/// The paths of a cluster. Only connections through an isolated side are drawn (everything else
/// is allowed and unchanged by ambient), app edges first.
pub fn paths(cx: &Context) -> Paths {
    let workloads = &cx.cluster.workloads;
    let mut out = Paths::default();
    let mut used = vec![false; workloads.len()];
    let mut kubelet = false;
    let mut tunnels: foldhash::HashSet<(String, String)> = Default::default();
    let layer = super::ztunnel_layer::Layer::new(cx);

    for d in 0..workloads.len() {
        // (A cluster-wide or Calico policy decides for the pods it selects, like an isolating
        // one.)
        let ingress_isolated = cx.engine.policed(d, Direction::Ingress);
        // Istio's security policy makes the destination's ztunnel a layer that may refuse.
        let restricts = layer.restricts(d);
        for s in 0..workloads.len() {
            if s == d || workloads[s].host_network && workloads[d].host_network {
                continue;
            }
            let egress_isolated = cx.engine.policed(s, Direction::Egress);
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
                    crate::net::PortRef::Number(n) => Some(*n),
                    crate::net::PortRef::Name(name) => {
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
    tcp: &crate::net::ranges::Ranges<u16>,
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
    let conns = |p: &crate::net::ranges::Ranges<u16>| ConnSet::ports(Protocol::Tcp, p.clone());
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
pub(crate) fn inferred_label(labels: &crate::model::labels::Labels) -> String {
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

/// Past this many namespaces with blocked pairs, the namespace matrix keeps the namespaces with
/// the most blocked pairs and folds the others into one row and one column: a matrix of 27,000
/// namespaces would be 729 million cells to count and send, and no one reads it.
pub const MAX_MATRIX_NAMESPACES: usize = 150;

/// What a large cluster's matrix shows instead of edges: per pair of namespaces, how many
/// workload pairs the HBONE rules (AMB001, AMB002, AMB005) report blocked once enrolled, in all
/// and per layer, from the blocks they found (`rules::Output::blocked`): no verdict per pair,
/// and past [`MAX_MATRIX_NAMESPACES`] the least blocked namespaces are one row and column ("N
/// other namespaces").
pub fn summary(cx: &Context, blocked: &[Block]) -> Vec<NamespacePairs> {
    let workloads = &cx.cluster.workloads;
    let mut names: Vec<&str> = workloads.iter().map(|w| w.namespace.as_str()).collect();
    crate::sort::sort(&mut names);
    names.dedup();
    let namespace_of: Vec<usize> = workloads
        .iter()
        .map(|w| {
            names
                .binary_search(&w.namespace.as_str())
                .expect("every namespace is listed")
        })
        .collect();
    let counted = count_blocked(
        &namespace_of,
        names.len(),
        &|w| cx.replicated(w),
        blocked,
        MAX_MATRIX_NAMESPACES,
    );
    let folded = counted.folded;
    let name = |bucket: Option<usize>| match bucket {
        Some(n) => names[n].to_string(),
        None => format!("{folded} other namespaces"),
    };
    let count = |c: u64| u32::try_from(c).unwrap_or(u32::MAX);
    counted
        .cells
        .iter()
        .map(|&((from, to), blocked)| {
            let mut pairs = NamespacePairs {
                from: name(counted.buckets[from]),
                to: name(counted.buckets[to]),
                blocked: count(blocked),
                ..NamespacePairs::default()
            };
            for (layer, cells) in &counted.layers {
                if let Ok(i) = cells.binary_search_by_key(&(from, to), |&(key, _)| key) {
                    *pairs.by_mut(*layer) = count(cells[i].1);
                }
            }
            pairs
        })
        .collect()
}

/// Blocked workload pairs per (source bucket, destination bucket), by key.
type Cells = Vec<((usize, usize), u64)>;

/// Blocked workload pairs counted per pair of buckets ([`count_blocked`]).
#[derive(Debug, PartialEq)]
struct Counted {
    /// A bucket's namespace, `None` for the bucket of the folded namespaces (the last one).
    buckets: Vec<Option<usize>>,
    /// How many namespaces the last bucket holds (0: none folded).
    folded: usize,
    /// (source bucket, destination bucket) to the pairs blocked, by key, zero counts left out.
    cells: Cells,
    /// Each layer that blocks some pair, in pipeline order, with its cells as `cells` (the
    /// pairs that layer blocks).
    layers: Vec<(Layer, Cells)>,
}

/// Counts the blocked (source, destination) pairs per pair of namespaces: the union of each
/// destination's blocks, a pair reported by two rules counting once, and a workload of one pod
/// not its own peer; then the same per layer, from that layer's blocks alone. It costs what the
/// distinct source sets cost, not what the pairs cost ([`Tally`]), once for all blocks and once
/// more per layer when several layers block (each layer's blocks are a part of all of them).
/// Past `max` namespaces with blocked pairs, the `max - 1` with the most keep their row and
/// column and the rest share one, in every layer's cells alike.
fn count_blocked(
    namespace_of: &[usize],
    namespaces: usize,
    replicated: &dyn Fn(usize) -> bool,
    blocked: &[Block],
    max: usize,
) -> Counted {
    let all: Vec<&Block> = blocked.iter().collect();
    let tally = Tally::new(namespace_of, namespaces, replicated, &all);
    // Each namespace's blocked pairs, as source and as destination, choose the kept ones.
    let total = tally.totals(namespaces);
    let mut kept: Vec<usize> = (0..namespaces).filter(|&n| total[n] > 0).collect();
    let folded = if kept.len() > max.max(2) {
        kept.len() - (max.max(2) - 1)
    } else {
        0
    };
    if folded > 0 {
        crate::sort::sort_by_key(&mut kept, |&n| (std::cmp::Reverse(total[n]), n));
        kept.truncate(kept.len() - folded);
        crate::sort::sort(&mut kept);
    }
    let mut buckets: Vec<Option<usize>> = kept.iter().map(|&n| Some(n)).collect();
    let other = buckets.len();
    if folded > 0 {
        buckets.push(None);
    }
    let mut bucket = vec![other; namespaces];
    for (b, &n) in kept.iter().enumerate() {
        bucket[n] = b;
    }
    let cells = tally.cells(&bucket);
    // Each layer's blocks; most clusters' are of one layer, whose cells are all the cells.
    let mut of: [Vec<&Block>; 5] = Default::default();
    for block in blocked {
        of[block.layer as usize].push(block);
    }
    let mut layers = Vec::new();
    for (layer, of) in Layer::ALL.into_iter().zip(&of) {
        let cells = if of.len() == blocked.len() {
            cells.clone()
        } else if of.is_empty() {
            continue;
        } else {
            Tally::new(namespace_of, namespaces, replicated, of).cells(&bucket)
        };
        // (A layer whose blocks hold only a pod and itself blocks no pair.)
        if !cells.is_empty() {
            layers.push((layer, cells));
        }
    }
    Counted {
        buckets,
        folded,
        cells,
        layers,
    }
}

/// Blocks counted by their distinct source sets: destinations whose blocks have the same
/// sources are counted together (a policy per namespace that blocks every mesh client is one
/// source set for all of them), so the cost is what the distinct source sets cost, not what
/// the pairs cost.
struct Tally {
    /// Per signature (a destination's distinct source sets): the union of its sources, counted
    /// per namespace (sparse, by namespace).
    per_namespace: Vec<Vec<(usize, u64)>>,
    /// (signature, destination namespace) to how many destinations, by key.
    destinations: Vec<((usize, usize), u64)>,
    /// Per namespace: how many of its destinations are among their own blocked sources but run
    /// one pod (not their own peer).
    own: Vec<u64>,
}

impl Tally {
    fn new(
        namespace_of: &[usize],
        namespaces: usize,
        replicated: &dyn Fn(usize) -> bool,
        blocked: &[&Block],
    ) -> Tally {
        // Blocks with the same sources are one set (sorted, not hashed: the page's module
        // already has the sort).
        let mut order: Vec<usize> = (0..blocked.len()).collect();
        crate::sort::sort_by_key(&mut order, |&b| &blocked[b].sources);
        let mut set_of: Vec<&BitSet> = Vec::new();
        let mut block_set = vec![0u32; blocked.len()];
        for (i, &b) in order.iter().enumerate() {
            if i == 0 || blocked[order[i - 1]].sources != blocked[b].sources {
                set_of.push(&blocked[b].sources);
            }
            block_set[b] = set_of.len() as u32 - 1;
        }
        let mut by_destination: Vec<(usize, u32)> = blocked
            .iter()
            .zip(&block_set)
            .flat_map(|(block, &set)| block.destinations.iter().map(move |&d| (d, set)))
            .collect();
        crate::sort::sort(&mut by_destination);
        by_destination.dedup();
        // A destination's sets, its signature; destinations grouped by signature.
        let mut signed: Vec<(Vec<u32>, usize)> = by_destination
            .chunk_by(|a, b| a.0 == b.0)
            .map(|group| (group.iter().map(|&(_, set)| set).collect(), group[0].0))
            .collect();
        crate::sort::sort(&mut signed);
        // Per signature: its sources, per namespace (sparse); per (signature, destination
        // namespace): how many destinations; per destination namespace: how many destinations
        // are among their own blocked sources but only one pod.
        let mut per_namespace: Vec<Vec<(usize, u64)>> = Vec::new();
        let mut destinations: Vec<((usize, usize), u64)> = Vec::new();
        let mut own = vec![0u64; namespaces];
        let mut dense = vec![0u64; namespaces];
        for (i, (signature, d)) in signed.iter().enumerate() {
            let d = *d;
            if i == 0 || signed[i - 1].0 != *signature {
                let mut union = set_of[signature[0] as usize].clone();
                for &set in &signature[1..] {
                    union.union_with(set_of[set as usize]);
                }
                let mut touched = Vec::new();
                for s in union.iter() {
                    let n = namespace_of[s];
                    if dense[n] == 0 {
                        touched.push(n);
                    }
                    dense[n] += 1;
                }
                crate::sort::sort(&mut touched);
                per_namespace.push(
                    touched
                        .iter()
                        .map(|&n| (n, std::mem::take(&mut dense[n])))
                        .collect(),
                );
            }
            let id = per_namespace.len() - 1;
            destinations.push(((id, namespace_of[d]), 1));
            let contains = signature
                .iter()
                .any(|&set| set_of[set as usize].contains(d));
            if contains && !replicated(d) {
                own[namespace_of[d]] += 1;
            }
        }
        Tally {
            per_namespace,
            destinations: summed(destinations),
            own,
        }
    }

    /// Each namespace's blocked pairs, as source and as destination (a pair within it twice).
    fn totals(&self, namespaces: usize) -> Vec<u64> {
        let mut total = vec![0u64; namespaces];
        let sizes: Vec<u64> = self
            .per_namespace
            .iter()
            .map(|sources| sources.iter().map(|&(_, c)| c).sum())
            .collect();
        let mut per_signature = vec![0u64; self.per_namespace.len()];
        for &((id, n), count) in &self.destinations {
            per_signature[id] += count;
            total[n] += count * sizes[id];
        }
        for (id, sources) in self.per_namespace.iter().enumerate() {
            for &(n, c) in sources {
                total[n] += per_signature[id] * c;
            }
        }
        for (n, &own) in self.own.iter().enumerate() {
            total[n] -= 2 * own;
        }
        total
    }

    /// The pairs per (source bucket, destination bucket), by key, zero counts left out: the
    /// signatures' sources folded into buckets (`bucket`: each namespace's).
    fn cells(&self, bucket: &[usize]) -> Cells {
        let by_bucket = summed(
            self.destinations
                .iter()
                .map(|&((id, n), count)| ((id, bucket[n]), count))
                .collect(),
        );
        let mut cells: Vec<((usize, usize), u64)> = Vec::new();
        for &((id, to), count) in &by_bucket {
            for &(n, c) in &self.per_namespace[id] {
                cells.push(((bucket[n], to), count * c));
            }
        }
        let mut cells = summed(cells);
        for (n, &own) in self.own.iter().enumerate() {
            if own > 0 {
                let cell = (bucket[n], bucket[n]);
                if let Ok(i) = cells.binary_search_by_key(&cell, |&(key, _)| key) {
                    cells[i].1 -= own;
                }
            }
        }
        cells.retain(|&(_, c)| c > 0);
        cells
    }
}

/// The counts of equal keys added up, by key.
fn summed(mut counts: Vec<((usize, usize), u64)>) -> Vec<((usize, usize), u64)> {
    crate::sort::sort_by_key(&mut counts, |&(key, _)| key);
    let mut out: Vec<((usize, usize), u64)> = Vec::with_capacity(counts.len());
    for (key, count) in counts {
        match out.last_mut() {
            Some((last, sum)) if *last == key => *sum += count,
            _ => out.push((key, count)),
        }
    }
    out
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
    let decider = side.decider(Protocol::Tcp, port);
    if let Some(rule) = decider.rule_ref(direction) {
        return vec![cx.cluster.rule_label(&rule)];
    }
    match decider {
        Decider::Calico(..) => side
            .calico
            .iter()
            .find(|m| m.policy.is_none() && m.conns.contains(Protocol::Tcp, port))
            .map(|m| vec![cx.cluster.rule_label(&m.rule_ref(direction))])
            .unwrap_or_default(),
        // A Cilium policy's allow rules are named with their kind.
        _ => side
            .isolated_by
            .iter()
            .map(|&p| cx.cluster.policy_label(PolicyRef::Network(p)))
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
    use proptest::prelude::*;

    /// The pairs counted one by one, as the matrix meant them before it counted by source set:
    /// those of every block, or of `layer`'s blocks alone.
    fn counted_naively(
        namespace_of: &[usize],
        replicated: &[bool],
        blocked: &[Block],
        layer: Option<Layer>,
    ) -> std::collections::BTreeMap<(usize, usize), u64> {
        let mut pairs = std::collections::BTreeSet::new();
        for block in blocked
            .iter()
            .filter(|b| layer.is_none_or(|l| b.layer == l))
        {
            for &d in &block.destinations {
                for s in block.sources.iter().filter(|&s| s != d || replicated[d]) {
                    pairs.insert((s, d));
                }
            }
        }
        let mut cells = std::collections::BTreeMap::new();
        for (s, d) in pairs {
            *cells.entry((namespace_of[s], namespace_of[d])).or_default() += 1;
        }
        cells
    }

    /// Each workload's namespace, whether it is replicated, and the blocks.
    type Blocks = (Vec<usize>, Vec<bool>, Vec<Block>);

    fn blocks() -> impl Strategy<Value = Blocks> {
        (1usize..40, 1usize..8).prop_flat_map(|(n, namespaces)| {
            (
                proptest::collection::vec(0..namespaces, n),
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(
                    (
                        proptest::collection::vec(0..n, 0..n),
                        proptest::collection::vec(0..n, 1..4),
                        0..Layer::ALL.len(),
                    ),
                    0..6,
                ),
            )
                .prop_map(move |(namespace_of, replicated, raw)| {
                    let blocked = raw
                        .into_iter()
                        .map(|(sources, destinations, layer)| Block {
                            sources: BitSet::of(n, &sources),
                            destinations,
                            layer: Layer::ALL[layer],
                        })
                        .collect();
                    (namespace_of, replicated, blocked)
                })
        })
    }

    /// A cell's count in `cells` (0 when left out).
    fn cell(cells: &[((usize, usize), u64)], key: (usize, usize)) -> u64 {
        cells
            .binary_search_by_key(&key, |&(k, _)| k)
            .map_or(0, |i| cells[i].1)
    }

    proptest! {
        /// Counting by source sets gives the pairs' counts, in all and per layer, and folding
        /// keeps the kept namespaces' cells and the totals, in all and per layer.
        #[test]
        fn namespace_counts_are_the_pairs((namespace_of, replicated, blocked) in blocks(), max in 2usize..5) {
            let namespaces = namespace_of.iter().max().map_or(0, |m| m + 1);
            let naive = counted_naively(&namespace_of, &replicated, &blocked, None);
            let all = count_blocked(&namespace_of, namespaces, &|w| replicated[w], &blocked, usize::MAX);
            prop_assert_eq!(all.folded, 0);
            let unfold = |cells: &[((usize, usize), u64)]| -> std::collections::BTreeMap<(usize, usize), u64> {
                cells
                    .iter()
                    .map(|&((s, d), c)| ((all.buckets[s].unwrap(), all.buckets[d].unwrap()), c))
                    .collect()
            };
            prop_assert_eq!(&unfold(&all.cells), &naive);
            // Each layer that blocks some pair, once, in pipeline order, with its own pairs.
            let layers: Vec<Layer> = Layer::ALL
                .into_iter()
                .filter(|&l| !counted_naively(&namespace_of, &replicated, &blocked, Some(l)).is_empty())
                .collect();
            prop_assert_eq!(all.layers.iter().map(|(l, _)| *l).collect::<Vec<_>>(), layers);
            for (layer, cells) in &all.layers {
                prop_assert_eq!(
                    unfold(cells),
                    counted_naively(&namespace_of, &replicated, &blocked, Some(*layer))
                );
                // A layer's pairs are some of the cell's.
                for &(key, c) in cells {
                    prop_assert!(c <= cell(&all.cells, key));
                }
            }

            let folded = count_blocked(&namespace_of, namespaces, &|w| replicated[w], &blocked, max);
            let involved: std::collections::BTreeSet<usize> =
                naive.keys().flat_map(|&(s, d)| [s, d]).collect();
            prop_assert!(folded.buckets.len() <= max);
            prop_assert_eq!(folded.folded > 0, involved.len() > max);
            prop_assert_eq!(
                folded.cells.iter().map(|&(_, c)| c).sum::<u64>(),
                naive.values().sum::<u64>()
            );
            for &((s, d), c) in &folded.cells {
                if let (Some(s), Some(d)) = (folded.buckets[s], folded.buckets[d]) {
                    prop_assert_eq!(naive.get(&(s, d)), Some(&c));
                }
            }
            prop_assert_eq!(folded.layers.len(), all.layers.len());
            for (layer, cells) in &folded.layers {
                let naive = counted_naively(&namespace_of, &replicated, &blocked, Some(*layer));
                prop_assert_eq!(
                    cells.iter().map(|&(_, c)| c).sum::<u64>(),
                    naive.values().sum::<u64>()
                );
                for &((s, d), c) in cells {
                    prop_assert!(c <= cell(&folded.cells, (s, d)));
                    if let (Some(s), Some(d)) = (folded.buckets[s], folded.buckets[d]) {
                        prop_assert_eq!(naive.get(&(s, d)), Some(&c));
                    }
                }
            }
        }
    }

    /// One source set for thousands of destinations: counted once, and past the limit the
    /// least blocked namespaces are one row and column.
    #[test]
    fn a_policy_per_namespace_is_folded_past_the_limit() {
        let n = 2_000;
        let namespace_of: Vec<usize> = (0..n).collect();
        let mut everyone = BitSet::new(n);
        for w in 0..n {
            everyone.insert(w);
        }
        let blocked: Vec<Block> = (0..n)
            .map(|d| Block {
                sources: everyone.clone(),
                destinations: vec![d],
                layer: Layer::NetworkPolicy,
            })
            .collect();
        let counted = count_blocked(&namespace_of, n, &|_| false, &blocked, 10);
        assert_eq!(counted.buckets.len(), 10);
        assert_eq!(counted.buckets[9], None);
        assert_eq!(counted.folded, n - 9);
        let cells: std::collections::BTreeMap<(usize, usize), u64> =
            counted.cells.iter().copied().collect();
        let total: u64 = cells.values().sum();
        assert_eq!(
            total,
            (n * (n - 1)) as u64,
            "every pair but a pod with itself"
        );
        // A kept namespace to itself: its one pod is not its own peer.
        assert_eq!(cells.get(&(0, 0)), None);
        assert_eq!(cells.get(&(0, 1)), Some(&1));
        assert_eq!(cells.get(&(9, 0)), Some(&((n - 9) as u64)));
        // One layer: its cells are all of them.
        assert_eq!(
            counted.layers,
            vec![(Layer::NetworkPolicy, counted.cells.clone())]
        );
    }

    /// A cluster too large to draw (over `MAX_DRAWN_WORKLOADS` workloads, over
    /// `MAX_MATRIX_NAMESPACES` namespaces with blocked pairs): 100 `guarded-*` namespaces behind
    /// an Admin-tier ClusterNetworkPolicy that accepts 8080 from every `web` pod and denies the
    /// rest (15008 too), 100 `team-*` namespaces whose NetworkPolicy admits their own `web` to
    /// their `api` on 8080 only, and `edge`, two `web` pods whose egress NetworkPolicy admits
    /// 8080 to the guarded `api` pods only. Each namespace pair's cell says which layer blocks.
    #[test]
    fn the_matrix_counts_the_pairs_each_layer_blocks() {
        let mut text = String::from(
            "apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {guard: 'true'}}}
  ingress:
  - name: accept-web
    action: Accept
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]
    protocols: [{tcp: {destinationPort: {number: 8080}}}]
  - name: deny-rest
    action: Deny
    from: [{namespaces: {}}]
---
apiVersion: v1
kind: Namespace
metadata: {name: edge, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: edge}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {guard: 'true'}}, podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 8080}]
",
        );
        let pod = |name: &str, namespace: &str, app: &str| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: {app}}}}}\nspec: {{containers: [{{name: c}}]}}\n"
            )
        };
        text += &pod("web-1", "edge", "web");
        text += &pod("web-2", "edge", "web");
        for i in 0..100 {
            text += &format!(
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: guarded-{i:03}, labels: {{istio.io/dataplane-mode: ambient, guard: 'true'}}}}\n"
            );
            text += &format!(
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: team-{i:03}, labels: {{istio.io/dataplane-mode: ambient}}}}\n"
            );
            text += &format!(
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: api, namespace: team-{i:03}}}\nspec:\n  podSelector: {{matchLabels: {{app: api}}}}\n  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: web}}}}}}]\n    ports: [{{port: 8080}}]\n"
            );
            for namespace in [format!("guarded-{i:03}"), format!("team-{i:03}")] {
                text += &pod("web", &namespace, "web");
                text += &pod("api", &namespace, "api");
            }
        }
        let report = crate::analyze(
            &[crate::Source {
                name: "c.yaml",
                text: &text,
            }],
            &crate::Options::default(),
        );
        assert_eq!(report.workloads, 402);
        assert!(report.paths.edges.is_empty());
        let pairs = &report.paths.namespace_pairs;
        let cell = |from: &str, to: &str| {
            pairs
                .iter()
                .find(|p| p.from == from && p.to == to)
                .map(|p| {
                    let by: Vec<(Layer, u32)> = Layer::ALL
                        .into_iter()
                        .map(|l| (l, p.by(l)))
                        .filter(|&(_, n)| n > 0)
                        .collect();
                    (p.blocked, by)
                })
        };
        use Layer::{Admin, NetworkPolicy};
        // The guard rail: every `web` pod to both pods of a guarded namespace (not a pod to
        // itself).
        assert_eq!(
            cell("guarded-001", "guarded-002"),
            Some((2, vec![(Admin, 2)]))
        );
        assert_eq!(
            cell("guarded-001", "guarded-001"),
            Some((1, vec![(Admin, 1)]))
        );
        assert_eq!(cell("team-000", "guarded-099"), Some((2, vec![(Admin, 2)])));
        // A namespace's own NetworkPolicy: its `web` to its `api`.
        assert_eq!(
            cell("team-000", "team-000"),
            Some((1, vec![(NetworkPolicy, 1)]))
        );
        assert_eq!(cell("team-000", "team-001"), None);
        assert_eq!(cell("guarded-000", "team-000"), None);
        // Both: the Admin tier blocks `edge`'s two pods to both guarded pods at the
        // destination, and `edge`'s egress NetworkPolicy blocks them to `api` at the source;
        // the four pairs count once in all and in each layer that blocks them.
        assert_eq!(
            cell("edge", "guarded-050"),
            Some((4, vec![(Admin, 4), (NetworkPolicy, 2)]))
        );
        // 201 namespaces have blocked pairs: the 100 guarded, `edge` and the first 48 teams
        // (the most blocked, ties by name) keep theirs; the other 52 teams are folded, in
        // every layer alike.
        let folded = "52 other namespaces";
        assert_eq!(
            cell("team-047", "team-047"),
            Some((1, vec![(NetworkPolicy, 1)]))
        );
        assert_eq!(cell("team-048", "team-048"), None);
        assert_eq!(cell(folded, folded), Some((52, vec![(NetworkPolicy, 52)])));
        assert_eq!(cell(folded, "guarded-000"), Some((104, vec![(Admin, 104)])));
        let mut names: Vec<&str> = pairs.iter().map(|p| p.from.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MAX_MATRIX_NAMESPACES);
        // Across the matrix: the Admin tier blocks every `web` pod (202) to every guarded pod
        // (200) but the 100 to themselves; NetworkPolicy each team's pair and `edge`'s 200.
        let by_layer = |layer: Layer| -> u64 { pairs.iter().map(|p| u64::from(p.by(layer))).sum() };
        assert_eq!(by_layer(Admin), 202 * 200 - 100);
        assert_eq!(by_layer(NetworkPolicy), 100 + 200);
        let total: u64 = pairs.iter().map(|p| u64::from(p.blocked)).sum();
        assert_eq!(total, 202 * 200 - 100 + 100);
        // The JSON the page reads: the total as before, the layers added.
        let edge = pairs
            .iter()
            .find(|p| p.from == "edge" && p.to == "guarded-000")
            .unwrap();
        assert_eq!(
            serde_json::to_value(edge).unwrap(),
            serde_json::json!({"from": "edge", "to": "guarded-000", "blocked": 4, "by_admin": 4, "by_network_policy": 2})
        );
        let read: NamespacePairs = serde_json::from_value(
            serde_json::json!({"from": "a", "to": "b", "blocked": 3, "by_baseline": 3}),
        )
        .unwrap();
        assert_eq!(
            Layer::ALL.map(|l| read.by(l)),
            [0, 0, 0, 0, 3],
            "by_baseline is the Baseline tier's"
        );
        // An answer from before the layers: none.
        let old: NamespacePairs =
            serde_json::from_value(serde_json::json!({"from": "a", "to": "b", "blocked": 3}))
                .unwrap();
        assert_eq!(Layer::ALL.map(|l| old.by(l)), [0; 5]);
    }

    fn labels(pairs: &[(&str, &str)]) -> crate::model::labels::Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Under Calico, a pod only Calico's policies select is drawn: its tunnel blocked by the
    /// later Deny, named with its kind (the page said "ambient blocks no path").
    #[test]
    fn paths_through_calico_policies_are_drawn() {
        let text = concat!(
            include_str!("../../tests/fixtures/calico-ordered-policies/cluster.yaml"),
            "---\n",
            include_str!("../../tests/fixtures/calico-ordered-policies/policies.yaml")
        );
        let options = crate::Options {
            cni: crate::ambient::Cni::Calico,
            ..crate::Options::default()
        };
        let report = crate::analyze(
            &[crate::Source {
                name: "c.yaml",
                text,
            }],
            &options,
        );
        let blocked: Vec<(&str, &str, &[String])> = report
            .paths
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Hbone && !e.allowed)
            .map(|e| (e.from.as_str(), e.to.as_str(), e.blocked_by.as_slice()))
            .collect();
        assert_eq!(blocked.len(), 1, "{:?}", report.paths.edges);
        let (from, to, by) = blocked[0];
        assert_eq!((from, to), ("web/frontend", "shop/api"));
        assert!(
            by.iter()
                .any(|b| b.contains("Calico GlobalNetworkPolicy `shop-deny-rest`")),
            "{by:?}"
        );
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
