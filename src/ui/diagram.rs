//! The path diagram, drawn as SVG by the page (no chart library): a layered layout
//! (`ambient_netpol::layout`) with senders left of receivers and one band per namespace; the
//! kubelet, waypoints and Istio gateways (a chevron of their own, marked "Istio gateway proxy");
//! edges for app traffic, HBONE and probes, blocked ones red and dashed. Three views: today
//! (plain NetworkPolicy), after enrolling (ambient, nothing fixed), after the fix.
//!
//! Nothing is written over the lines: an edge's port, verdict, policies and finding are in the
//! details panel, which follows hover and focus; Enter or a click selects the edge's finding
//! and moves the editor to its policy line. Filters by namespace and by status (blocked, fixed,
//! unchanged), zoom and pan. Past [`GRAPH_LIMIT`] workloads the paths are a matrix instead
//! (`matrix.rs`): sources by destinations, virtualised.

mod matrix;

use std::collections::HashMap;

use ambient_netpol::ambient::paths::{
    Edge, EdgeKind, Node, NodeKind, Paths, ZtunnelDenial, ZtunnelExtent,
};
use ambient_netpol::findings::Code;
use ambient_netpol::layout::{self, EdgeSpec, GroupSpec, NodeSpec, Settings};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::lessons::{LessonPath, PathRef};
use super::results::{ResultsTab, Tab};
use super::{Analysis, GoToLine, RevealFinding};
use matrix::{Matrix, NamespaceMatrix};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Today,
    Enrolled,
    Fixed,
}

/// Past this many workloads, or [`GRAPH_EDGE_LIMIT`] edges (after the filters), a drawing
/// cannot stay readable: the paths are shown as a matrix (the reader may still ask for the
/// graph). Measured on the page: Online Boutique (12 workloads, 37 edges) and kube-prometheus
/// (10, 48) read well; the generated S cluster (52 workloads, 182 edges) is a wall of parallel
/// lines several screens tall.
pub const GRAPH_LIMIT: usize = 30;
pub const GRAPH_EDGE_LIMIT: usize = 120;

/// What a path becomes from "after enrolling" to "after the fix".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Blocked once enrolled, and still after the fix (or no fix).
    Blocked,
    /// Let through by the CNI once enrolled, but refused by ztunnel (an AuthorizationPolicy or
    /// a STRICT PeerAuthentication), before the fix and after it.
    Refused,
    /// Blocked once enrolled, allowed after the fix.
    Fixed,
    /// Allowed once enrolled.
    Unchanged,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Blocked => "blocked",
            Status::Fixed => "fixed",
            Status::Unchanged => "unchanged",
            Status::Refused => "refused",
        }
    }
}

/// What the details panel shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    Edge(Box<EdgeDetail>),
    Node(String),
    /// A matrix cell or anything else that is only a sentence and perhaps a finding.
    Text(String, Option<usize>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeDetail {
    edge: Edge,
    status: Status,
    description: String,
    finding: Option<usize>,
}

/// Shared by the drawing and the matrix: what a focus, a hover or a selection shows.
#[derive(Clone, Copy)]
pub struct Details {
    shown: RwSignal<Option<Detail>>,
}

impl Details {
    pub fn show(&self, detail: Detail) {
        self.shown.set(Some(detail));
    }
}

/// The edges a view shows: app edges and probes today (from the node's own IP, which the CNI
/// lets through); once enrolled (and after the fix) the HBONE and probe edges, and the app edges
/// of traffic that is not tunneled (a source outside the mesh, a proxy without HBONE), which
/// keeps its port.
pub(super) fn edges_for(view: View, analysis: &Analysis) -> (Paths, Vec<Edge>) {
    let paths = match view {
        View::Fixed => analysis
            .fixed_paths
            .clone()
            .unwrap_or_else(|| analysis.report.paths.clone()),
        _ => analysis.report.paths.clone(),
    };
    // Sets as sorted vectors, sorted by the core's sort: collecting a `BTreeSet` instantiates
    // one of std's sorts per element type (about 3 KB of wasm each).
    let mut hbone: Vec<(&str, &str)> = paths
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Hbone)
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    ambient_netpol::sort::sort(&mut hbone);
    let has_hbone = |pair: (&str, &str)| hbone.binary_search(&pair).is_ok();
    let waypoints: Vec<&str> = paths
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Waypoint)
        .map(|n| n.id.as_str())
        .collect();
    // Tunneled: straight, or in two hops through a waypoint.
    let tunneled = |e: &Edge| {
        has_hbone((e.from.as_str(), e.to.as_str()))
            || waypoints
                .iter()
                .any(|w| has_hbone((e.from.as_str(), w)) && has_hbone((w, e.to.as_str())))
    };
    let edges: Vec<Edge> = paths
        .edges
        .iter()
        .filter_map(|e| match (view, e.kind) {
            (View::Today, EdgeKind::App) => Some(e.clone()),
            (View::Today, EdgeKind::Probe) => Some(Edge {
                allowed: true,
                blocked_by: Vec::new(),
                explanation: "before enrolling, probes come from the node's own IP, which the CNI lets through whatever the policies say".into(),
                ..e.clone()
            }),
            (View::Today, EdgeKind::Hbone) => None,
            (_, EdgeKind::App) if !tunneled(e) => Some(Edge {
                explanation: [
                    "not tunneled once enrolled: it keeps ",
                    &e.port,
                    ", which NetworkPolicy allows",
                ]
                .concat(),
                ..e.clone()
            }),
            (_, EdgeKind::App) => None,
            _ => Some(e.clone()),
        })
        .map(|e| match view {
            View::Today => e,
            _ => refused_by_ztunnel(e, &paths, &waypoints),
        })
        .collect();
    (paths, edges)
}

/// ztunnel's refusal of the connection an enrolled edge carries (the tunnel to the destination,
/// the last hop from a waypoint, or plaintext from outside the mesh), if it refuses some port.
fn ztunnel_denial<'a>(e: &Edge, paths: &'a Paths, waypoints: &[&str]) -> Option<&'a ZtunnelDenial> {
    if e.kind == EdgeKind::Probe {
        return None;
    }
    let from_waypoint = waypoints.contains(&e.from.as_str());
    paths
        .ztunnel
        .iter()
        .filter(|z| z.extent != ZtunnelExtent::Uncertain && z.to == e.to)
        .find(|z| z.from == e.from || from_waypoint)
}

/// How an edge that the CNI lets through and ztunnel refuses is explained (and known).
const ZTUNNEL_REFUSES: &str = "the CNI lets it through; ztunnel refuses it: ";

/// An enrolled edge as ztunnel leaves it: refused when ztunnel refuses every port it carries,
/// with ztunnel's reason; the ports it refuses said when only some.
fn refused_by_ztunnel(e: Edge, paths: &Paths, waypoints: &[&str]) -> Edge {
    let Some(z) = ztunnel_denial(&e, paths, waypoints).filter(|_| e.allowed) else {
        return e;
    };
    match z.extent {
        ZtunnelExtent::All => Edge {
            allowed: false,
            blocked_by: z.denied_by.clone(),
            explanation: [ZTUNNEL_REFUSES, &z.explanation].concat(),
            ..e
        },
        _ => Edge {
            explanation: [
                &e.explanation,
                "; ztunnel refuses ",
                &z.port,
                ": ",
                &z.explanation,
            ]
            .concat(),
            ..e
        },
    }
}

type Key<'a> = (&'a str, &'a str, EdgeKind);

/// Each path's status, by (from, to, kind); an app edge takes the worst of its pair's tunnel.
fn statuses(analysis: &Analysis) -> HashMap<(String, String, EdgeKind), Status> {
    let enrolled = &analysis.report.paths;
    let fixed = analysis.fixed_paths.as_ref().unwrap_or(enrolled);
    let after: HashMap<Key, bool> = fixed
        .edges
        .iter()
        .map(|e| ((e.from.as_str(), e.to.as_str(), e.kind), e.allowed))
        .collect();
    let mut out = HashMap::new();
    let mut pair_worst: HashMap<(&str, &str), Status> = HashMap::new();
    for e in &enrolled.edges {
        let status = if e.allowed {
            Status::Unchanged
        } else if after
            .get(&(e.from.as_str(), e.to.as_str(), e.kind))
            .copied()
            .unwrap_or(false)
        {
            Status::Fixed
        } else {
            Status::Blocked
        };
        if e.kind == EdgeKind::Hbone {
            let worst = pair_worst
                .entry((e.from.as_str(), e.to.as_str()))
                .or_insert(Status::Unchanged);
            *worst = (*worst).min(status);
        }
        out.insert((e.from.clone(), e.to.clone(), e.kind), status);
    }
    // A waypoint's two hops count for the pair they carry.
    let waypoints: Vec<&str> = enrolled
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Waypoint)
        .map(|n| n.id.as_str())
        .collect();
    for e in enrolled.edges.iter().filter(|e| e.kind == EdgeKind::App) {
        let mut status = pair_worst
            .get(&(e.from.as_str(), e.to.as_str()))
            .copied()
            .unwrap_or(Status::Unchanged);
        for w in &waypoints {
            if let (Some(a), Some(b)) = (
                pair_worst.get(&(e.from.as_str(), *w)),
                pair_worst.get(&(*w, e.to.as_str())),
            ) {
                status = status.min(*a).min(*b);
            }
        }
        out.insert((e.from.clone(), e.to.clone(), EdgeKind::App), status);
    }
    // What ztunnel refuses of every port, once enrolled: refused if the fix leaves it so.
    for e in &enrolled.edges {
        let refused = |paths: &Paths| {
            ztunnel_denial(e, paths, &waypoints).is_some_and(|z| z.extent == ZtunnelExtent::All)
        };
        if e.allowed && refused(enrolled) {
            let status = if refused(fixed) {
                Status::Refused
            } else {
                Status::Fixed
            };
            out.insert((e.from.clone(), e.to.clone(), e.kind), status);
        }
    }
    out
}

/// The finding that reports a blocked path (AMB001, AMB002, AMB005 for HBONE, AMB010-AMB012 for
/// what ztunnel refuses, AMB003 for probes): same policy, same workload, preferring one whose message names the other end.
fn finding_for(edge: &Edge, enrolled: Option<&Edge>, analysis: &Analysis) -> Option<usize> {
    let blocked_by = enrolled.map_or(&edge.blocked_by, |e| &e.blocked_by);
    let codes: &[Code] = match edge.kind {
        EdgeKind::Probe => &[Code::Amb003],
        EdgeKind::Hbone | EdgeKind::App => &[
            Code::Amb001,
            Code::Amb002,
            Code::Amb005,
            Code::Amb010,
            Code::Amb011,
            Code::Amb012,
        ],
    };
    let quoted = |id: &str| ["`", id, "`"].concat();
    analysis
        .report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| codes.contains(&f.code))
        .filter_map(|(i, f)| {
            // A NetworkPolicy is named `ns/name`; a cluster-wide rule by its kind, `name` and
            // rule.
            let policy = f
                .policy
                .as_ref()
                .is_some_and(|p| blocked_by.iter().any(|b| b == p || b.contains(&quoted(p))));
            let workload = f
                .workload
                .as_ref()
                .is_some_and(|w| *w == edge.to || *w == edge.from);
            let names = f.message.contains(&quoted(&edge.from)) as u8
                + f.message.contains(&quoted(&edge.to)) as u8;
            let score = policy as u8 * 4 + workload as u8 * 2 + names;
            (policy || workload).then_some((score, std::cmp::Reverse(i)))
        })
        .max()
        .map(|(_, std::cmp::Reverse(i))| i)
}

fn kind_word(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::App => "App traffic",
        EdgeKind::Hbone => "HBONE tunnel",
        EdgeKind::Probe => "Kubelet probe",
    }
}

/// One sentence for an edge: its title, accessible name and the panel's first line.
fn describe_edge(edge: &Edge) -> String {
    format!(
        "{} from {} to {} ({}): {} — {}",
        kind_word(edge.kind),
        edge.from,
        edge.to,
        edge.port,
        if edge.allowed { "allowed" } else { "blocked" },
        edge.explanation
    )
}

/// What a node is, for its tooltip, its accessible name and the explanation line.
fn describe(node: &Node) -> String {
    let what = match node.kind {
        NodeKind::Workload => "workload, ",
        NodeKind::Inferred => "pods a selector stands for (not in the input), ",
        NodeKind::Waypoint => {
            "waypoint proxy; mesh traffic to the workloads that use it passes through it, over HBONE"
        }
        NodeKind::Gateway => {
            "Istio gateway proxy, not captured by ambient; with ENABLE_HBONE (on in the ambient profile) it tunnels to ambient pods over HBONE, 15008/TCP"
        }
        NodeKind::Kubelet => "the node's kubelet, source of the health probes",
    };
    let mesh = match (node.kind, node.ambient) {
        (NodeKind::Workload | NodeKind::Inferred, true) => {
            "in the ambient mesh (ztunnel captures its traffic)"
        }
        (NodeKind::Workload | NodeKind::Inferred, false) => "not in the ambient mesh",
        _ => "",
    };
    [node.id.as_str(), ": ", what, mesh].concat()
}

/// Rough width of a label in the drawing's 12 px sans-serif (a little generous, so a label
/// never reaches past its box).
const CHAR_W: f64 = 7.2;
const NODE_MIN_W: f64 = 120.0;
const NODE_MAX_W: f64 = 250.0;
const NODE_H: f64 = 34.0;
/// A node with a second line saying what kind of proxy or selector it is.
const TAGGED_H: f64 = 46.0;
const TEXT_PAD: f64 = 12.0;
/// How deep a gateway's chevron cuts in (left) and points out (right).
const GATEWAY_NOTCH: f64 = 10.0;

fn kind_tag(kind: NodeKind) -> Option<&'static str> {
    match kind {
        NodeKind::Gateway => Some("Istio gateway proxy"),
        NodeKind::Waypoint => Some("waypoint proxy"),
        NodeKind::Inferred => Some("selector, not in the input"),
        _ => None,
    }
}

fn node_width(node: &Node) -> f64 {
    let chars = node
        .label
        .chars()
        .count()
        .max(kind_tag(node.kind).map_or(0, |t| t.len() * 6 / 7));
    let notch = if node.kind == NodeKind::Gateway {
        2.0 * GATEWAY_NOTCH
    } else {
        0.0
    };
    (chars as f64 * CHAR_W + 2.0 * TEXT_PAD + notch).clamp(NODE_MIN_W, NODE_MAX_W)
}

/// A label cut to `width` with a visible ellipsis (the full text is in the node's title).
fn fit(text: &str, width: f64) -> String {
    let max = ((width / CHAR_W).floor() as usize).max(2);
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

/// The graph as drawn: the nodes and edges the filters keep, and where they go.
struct Drawing {
    nodes: Vec<Node>,
    edges: Vec<(Edge, Status)>,
    layout: layout::Layout,
    namespaces: Vec<String>,
}

/// Filters applied to nodes and edges.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    namespace: Option<String>,
    blocked: bool,
    fixed: bool,
    unchanged: bool,
}

impl Filter {
    fn keeps(&self, status: Status) -> bool {
        match status {
            Status::Blocked | Status::Refused => self.blocked,
            Status::Fixed => self.fixed,
            Status::Unchanged => self.unchanged,
        }
    }

    fn is_open(&self) -> bool {
        self.namespace.is_none() && self.blocked && self.fixed && self.unchanged
    }
}

/// The nodes and edges of a view that pass the filter (an edge passes when one of its ends is
/// in the namespace chosen and its status is ticked; a node when one of its edges passes, or
/// with no filter at all).
fn filtered(
    paths: &Paths,
    edges: Vec<Edge>,
    statuses: &HashMap<(String, String, EdgeKind), Status>,
    filter: &Filter,
) -> (Vec<Node>, Vec<(Edge, Status)>) {
    let namespace_of: HashMap<&str, &str> = paths
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.namespace.as_str()))
        .collect();
    let in_namespace = |id: &str| {
        filter
            .namespace
            .as_deref()
            .is_none_or(|ns| namespace_of.get(id) == Some(&ns))
    };
    let edges: Vec<(Edge, Status)> = edges
        .into_iter()
        .map(|e| {
            let status = statuses
                .get(&(e.from.clone(), e.to.clone(), e.kind))
                .copied()
                .unwrap_or(Status::Unchanged);
            (e, status)
        })
        .filter(|(e, s)| filter.keeps(*s) && (in_namespace(&e.from) || in_namespace(&e.to)))
        .collect();
    let mut used: Vec<&str> = edges
        .iter()
        .flat_map(|(e, _)| [e.from.as_str(), e.to.as_str()])
        .collect();
    ambient_netpol::sort::sort(&mut used);
    let nodes = paths
        .nodes
        .iter()
        .filter(|n| used.binary_search(&n.id.as_str()).is_ok() || filter.is_open())
        .cloned()
        .collect();
    (nodes, edges)
}

fn draw_graph(nodes: Vec<Node>, edges: Vec<(Edge, Status)>) -> Drawing {
    // Groups: the kubelet first (no heading), then the namespaces in order.
    let mut namespaces: Vec<String> = nodes
        .iter()
        .filter(|n| n.kind != NodeKind::Kubelet)
        .map(|n| n.namespace.clone())
        .collect();
    ambient_netpol::sort::sort(&mut namespaces);
    namespaces.dedup();
    namespaces.insert(0, String::new());
    let group_of: HashMap<&str, usize> = namespaces
        .iter()
        .enumerate()
        .map(|(i, ns)| (ns.as_str(), i))
        .collect();
    let specs: Vec<NodeSpec> = nodes
        .iter()
        .map(|n| NodeSpec {
            width: node_width(n),
            height: if kind_tag(n.kind).is_some() {
                TAGGED_H
            } else {
                NODE_H
            },
            group: if n.kind == NodeKind::Kubelet {
                0
            } else {
                group_of[n.namespace.as_str()]
            },
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    // A path with a specific port shows who calls whom; one a wide allow-all rule opens (every
    // port) weighs less when a cycle must be broken.
    let app_port: HashMap<(&str, &str), &str> = edges
        .iter()
        .filter(|(e, _)| e.kind == EdgeKind::App)
        .map(|(e, _)| ((e.from.as_str(), e.to.as_str()), e.port.as_str()))
        .collect();
    let specs_edges: Vec<EdgeSpec> = edges
        .iter()
        .map(|(e, _)| {
            let wide = match e.kind {
                EdgeKind::Probe => false,
                EdgeKind::App => e.port.contains("1-65535"),
                EdgeKind::Hbone => {
                    e.allowed
                        && app_port
                            .get(&(e.from.as_str(), e.to.as_str()))
                            .is_none_or(|p| p.contains("1-65535"))
                }
            };
            EdgeSpec {
                from: index.get(e.from.as_str()).copied().unwrap_or(usize::MAX),
                to: index.get(e.to.as_str()).copied().unwrap_or(usize::MAX),
                weight: if wide { 1 } else { 10 },
            }
        })
        .collect();
    let groups: Vec<GroupSpec> = namespaces
        .iter()
        .map(|ns| GroupSpec {
            heading_width: ns.chars().count() as f64 * CHAR_W,
        })
        .collect();
    let layout = layout::layout(&specs, &specs_edges, &groups, &Settings::default());
    Drawing {
        nodes,
        edges,
        layout,
        namespaces,
    }
}

/// Marks the start of the diagram's work, and once the frame after it is painted measures
/// `ambient-netpol:diagram` (read by tests/e2e/diagram.measure.mjs).
fn measure_drawing() {
    const START: &str = "ambient-netpol:diagram-start";
    super::browser::mark(START);
    super::browser::measure_after_paint("ambient-netpol:diagram", START);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Graph,
    Matrix,
}

#[component]
pub fn Diagram(analysis: ReadSignal<Analysis>, view_mode: RwSignal<View>) -> impl IntoView {
    let set_view = view_mode.write_only();
    let details = Details {
        shown: RwSignal::new(None),
    };
    provide_context(details);
    let namespace = RwSignal::new(None::<String>);
    let show_blocked = RwSignal::new(true);
    let show_fixed = RwSignal::new(true);
    let show_unchanged = RwSignal::new(true);
    let chosen_shape = RwSignal::new(None::<Shape>);
    let zoom = RwSignal::new(1.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let overflowing = RwSignal::new(false);
    let lesson_path = use_context::<LessonPath>();

    let filter = Memo::new(move |_| Filter {
        namespace: namespace.get(),
        blocked: show_blocked.get(),
        fixed: show_fixed.get(),
        unchanged: show_unchanged.get(),
    });
    let statuses = Memo::new(move |_| analysis.with(statuses_eq));
    // The namespaces to filter by, from the paths of every view.
    let namespaces = Memo::new(move |_| {
        analysis.with(|a| {
            // Sorted by the core's sort (see `edges_for`).
            let mut all: Vec<String> = a
                .report
                .paths
                .nodes
                .iter()
                .filter(|n| n.kind != NodeKind::Kubelet)
                .map(|n| n.namespace.clone())
                .collect();
            all.extend(
                a.report
                    .paths
                    .namespace_pairs
                    .iter()
                    .flat_map(|p| [p.from.clone(), p.to.clone()]),
            );
            ambient_netpol::sort::sort(&mut all);
            all.dedup();
            all
        })
    });
    // The view's nodes and edges after the filters.
    let shown = Memo::new(move |_| {
        let view = view_mode.get();
        let filter = filter.get();
        analysis.with(|a| {
            let (paths, edges) = edges_for(view, a);
            statuses.with(|s| {
                let (nodes, edges) = filtered(&paths, edges, &s.0, &filter);
                ShownPaths(nodes, edges)
            })
        })
    });
    let workload_count =
        move || shown.with(|s| s.0.iter().filter(|n| n.kind != NodeKind::Kubelet).count());
    // Past MAX_DRAWN_WORKLOADS the core counts the blocked pairs per namespace instead.
    // A memo: what reads it is drawn again when it changes, not at every analysis (the
    // namespace matrix was built anew for each answer, in a hidden tab too).
    let large = Memo::new(move |_| {
        analysis.with(|a| {
            a.report.workloads > ambient_netpol::MAX_DRAWN_WORKLOADS
                || !a.report.paths.namespace_pairs.is_empty()
        })
    });
    let shape = move || {
        if large.get() {
            return Shape::Matrix;
        }
        chosen_shape.get().unwrap_or(
            if workload_count() > GRAPH_LIMIT || shown.with(|s| s.1.len()) > GRAPH_EDGE_LIMIT {
                Shape::Matrix
            } else {
                Shape::Graph
            },
        )
    };

    let switch = move |mode: View, label: &'static str| {
        view! {
            <button
                class="view-switch"
                class:active=move || view_mode.get() == mode
                aria-pressed=move || (view_mode.get() == mode).to_string()
                on:click=move |_| set_view.set(mode)
            >
                {label}
            </button>
        }
    };
    let status_box = move |signal: RwSignal<bool>, label: &'static str, class: &'static str| {
        view! {
            <label class=format!("status-filter {class}")>
                <input
                    type="checkbox"
                    prop:checked=move || signal.get()
                    on:change=move |ev| signal.set(event_target_checked(&ev))
                />
                {label}
            </label>
        }
    };
    let check_overflow = move || {
        if let Some(el) = scroller.get_untracked() {
            overflowing.set(
                el.scroll_width() > el.client_width() + 1
                    || el.scroll_height() > el.client_height() + 1,
            );
        }
    };
    let after_paint = move || {
        request_animation_frame(check_overflow);
    };
    let _ = window_event_listener(leptos::ev::resize, move |_| check_overflow());
    // Until the reader zooms, a drawing wider than the panel starts zoomed out (not below 60%,
    // where the labels stay legible; past that it scrolls, and says so).
    let zoomed = StoredValue::new(false);
    let drawn_width = StoredValue::new(0.0f64);
    let fit_zoom = move |least: f64| {
        let el = scroller.get_untracked()?;
        let width = drawn_width.get_value();
        // Drawn in a hidden tab, the panel has no width yet: fit when it is shown.
        if width <= 0.0 || el.client_width() == 0 {
            return None;
        }
        let available = f64::from(el.client_width()) - 4.0;
        Some((available / width).clamp(least, 1.0))
    };
    let fit = move |_| {
        if let Some(z) = fit_zoom(0.25) {
            zoomed.set_value(true);
            zoom.set(z);
            after_paint();
        }
    };
    let zoom_by = move |factor: f64| {
        zoomed.set_value(true);
        zoom.update(|z| *z = (*z * factor).clamp(0.25, 3.0));
        after_paint();
    };
    let first_fit = move || {
        if !zoomed.get_value()
            && let Some(z) = fit_zoom(0.6)
            && (z - zoom.get_untracked()).abs() > 0.01
        {
            zoom.set(z);
        }
        after_paint();
    };
    // The diagram is drawn while its tab may be hidden: fit it, and say whether it scrolls, once
    // it is shown.
    if let Some(ResultsTab(tab)) = use_context::<ResultsTab>() {
        Effect::new(move |_| {
            if tab.get() == Tab::Paths {
                request_animation_frame(first_fit);
            }
        });
    }
    // Pan: dragging the drawing scrolls it (a drag is not a click).
    let drag = StoredValue::new(None::<(i32, i32, i32, i32)>);
    let dragged = StoredValue::new(false);
    let on_pointerdown = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 || ev.pointer_type() != "mouse" {
            return;
        }
        if let Some(el) = scroller.get_untracked() {
            drag.set_value(Some((
                ev.client_x(),
                ev.client_y(),
                el.scroll_left(),
                el.scroll_top(),
            )));
            dragged.set_value(false);
        }
    };
    let on_pointermove = move |ev: web_sys::PointerEvent| {
        let Some((x, y, left, top)) = drag.get_value() else {
            return;
        };
        let (dx, dy) = (ev.client_x() - x, ev.client_y() - y);
        if dx.abs() + dy.abs() > 4 {
            dragged.set_value(true);
        }
        if dragged.get_value()
            && let Some(el) = scroller.get_untracked()
        {
            el.set_scroll_left(left - dx);
            el.set_scroll_top(top - dy);
        }
    };
    let on_pointerup = move |_: web_sys::PointerEvent| drag.set_value(None);
    let on_wheel = move |ev: web_sys::WheelEvent| {
        if ev.ctrl_key() || ev.meta_key() {
            ev.prevent_default();
            zoom_by(if ev.delta_y() < 0.0 { 1.15 } else { 1.0 / 1.15 });
        }
    };
    provide_context(Dragged(dragged));

    let body = move || {
        let shape = shape();
        if large.get() {
            return view! { <NamespaceMatrix analysis=analysis namespace=namespace /> }.into_any();
        }
        if shape == Shape::Matrix {
            return view! { <Matrix analysis=analysis view_mode=view_mode filter=filter statuses=statuses /> }
                .into_any();
        }
        // The drawing links its paths to the findings of the analysis it was drawn with.
        analysis.track();
        measure_drawing();
        let ShownPaths(nodes, edges) = shown.get();
        if nodes.is_empty() {
            let empty = analysis.with(|a| a.report.paths.nodes.is_empty());
            return view! {
                <p class="empty">
                    {if empty {
                        "No paths to draw: no policy isolates a workload that others talk to."
                    } else {
                        "No path passes these filters."
                    }}
                </p>
            }
            .into_any();
        }
        let drawing = draw_graph(nodes, edges);
        drawn_width.set_value(drawing.layout.width);
        let marked = lesson_path.and_then(|LessonPath(p)| p.get());
        let svg = draw(&drawing, details, zoom, analysis, marked);
        request_animation_frame(first_fit);
        view! {
            <div class="diagram-tools" role="group" aria-label="Zoom">
                <button class="zoom-out" on:click=move |_| zoom_by(1.0 / 1.25) aria-label="Zoom out">"−"</button>
                <span class="zoom-level" aria-live="polite">{move || format!("{}%", (zoom.get() * 100.0).round() as i32)}</span>
                <button class="zoom-in" on:click=move |_| zoom_by(1.25) aria-label="Zoom in">"+"</button>
                <button class="zoom-fit" on:click=fit>"Fit"</button>
                <span class="hint">"Ctrl + wheel zooms; drag or scroll to move."</span>
            </div>
            <div
                class="diagram-scroll"
                class:overflowing=move || overflowing.get()
                tabindex="0"
                aria-label="Path diagram (scrolls when larger than the panel)"
                node_ref=scroller
                on:scroll=move |_| check_overflow()
                on:pointerdown=on_pointerdown
                on:pointermove=on_pointermove
                on:pointerup=on_pointerup
                on:pointerleave=move |_| drag.set_value(None)
                on:wheel=on_wheel
            >
                {svg}
            </div>
            <p class="scroll-sign" class:shown=move || overflowing.get()>
                "↔ Larger than this panel: scroll or drag to see the rest, or press Fit."
            </p>
        }
        .into_any()
    };

    view! {
        <section class="diagram" aria-labelledby="diagram-title">
            <h2 id="diagram-title" class="panel-title">"Paths"</h2>
            <div class="diagram-bar">
                <div class="view-switches" role="group" aria-label="Which traffic to show">
                    {switch(View::Today, "Today")}
                    {switch(View::Enrolled, "After enrolling")}
                    {switch(View::Fixed, "After the fix")}
                </div>
                <div class="diagram-filters" role="group" aria-label="Filter the paths">
                    <label class="namespace-filter">
                        "Namespace "
                        <select on:change=move |ev| {
                            let value = event_target_value(&ev);
                            namespace.set((!value.is_empty()).then_some(value));
                        }>
                            <option value="" selected=move || namespace.with(Option::is_none)>"all"</option>
                            {move || namespaces.get().into_iter().map(|ns| {
                                let (selected, value) = (ns.clone(), ns.clone());
                                view! { <option value=value selected=move || namespace.with(|n| n.as_deref() == Some(selected.as_str()))>{ns}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {status_box(show_blocked, "blocked", "blocked")}
                    {status_box(show_fixed, "fixed", "fixed")}
                    {status_box(show_unchanged, "unchanged", "unchanged")}
                </div>
                {move || (!large.get()).then(|| view! {
                    <div class="shape-switches" role="group" aria-label="Draw the paths as">
                        <button class="shape-switch" aria-pressed=move || (shape() == Shape::Graph).to_string() on:click=move |_| chosen_shape.set(Some(Shape::Graph))>"Graph"</button>
                        <button class="shape-switch" aria-pressed=move || (shape() == Shape::Matrix).to_string() on:click=move |_| chosen_shape.set(Some(Shape::Matrix))>"Matrix"</button>
                    </div>
                })}
            </div>
            {move || (shape() == Shape::Matrix && !large.get() && chosen_shape.get().is_none()).then(|| view! {
                <p class="note">{format!("{} workloads and {} paths: more than a drawing can show legibly ({GRAPH_LIMIT} workloads or {GRAPH_EDGE_LIMIT} paths), so they are a matrix. Filter by namespace or status to draw a part of them, or ask for the graph.", workload_count(), shown.with(|s| s.1.len()))}</p>
            })}
            <div class="diagram-body">
                <div class="diagram-main">{body}</div>
                <DetailsPanel analysis=analysis details=details />
            </div>
            <p class="legend">
                <span class="legend-item allowed">"allowed"</span>
                <span class="legend-item blocked">"blocked"</span>
                <span class="legend-item refused">"refused by ztunnel"</span>
                <span class="legend-item hbone">"HBONE 15008/TCP"</span>
                <span class="legend-item probe">"kubelet probe"</span>
                {move || analysis.with(|a| a.report.paths.nodes.iter().any(|n| n.kind == NodeKind::Gateway)).then(|| view! {
                    <span class="legend-node gateway">
                        <svg width="26" height="14" viewBox="0 0 26 14" aria-hidden="true">
                            <path class="shape" d="M 1 1 H 20 L 25 7 L 20 13 H 1 L 6 7 Z"></path>
                        </svg>
                        "Istio gateway proxy (not captured by ambient)"
                    </span>
                })}
            </p>
        </section>
    }
}

/// The statuses as a value a `Memo` can compare.
#[derive(Clone, PartialEq)]
pub struct Statuses(pub HashMap<(String, String, EdgeKind), Status>);

fn statuses_eq(a: &Analysis) -> Statuses {
    Statuses(statuses(a))
}

#[derive(Clone, PartialEq)]
struct ShownPaths(Vec<Node>, Vec<(Edge, Status)>);

/// Whether the pointer moved since it went down (then a click is the end of a drag).
#[derive(Clone, Copy)]
struct Dragged(StoredValue<bool>);

/// The side panel: what is hovered, focused or selected, its finding and buttons to its line
/// and to the finding.
#[component]
fn DetailsPanel(analysis: ReadSignal<Analysis>, details: Details) -> impl IntoView {
    let goto = use_context::<GoToLine>();
    let reveal = use_context::<RevealFinding>();
    let finding_view = move |index: Option<usize>| {
        let index = index?;
        let finding = analysis.with(|a| a.report.findings.get(index).cloned())?;
        let rule = finding.code.rule();
        let line = finding.line();
        Some(view! {
            <div class="detail-finding">
                <p>
                    <span class=format!("code {}", finding.severity.as_str())>{rule.id}</span>
                    " "
                    {rule.title}
                    {finding.policy.clone().map(|p| format!(" ({p})"))}
                </p>
                <div class="detail-actions">
                    {line.map(|l| view! {
                        <button class="detail-line" on:click=move |_| if let Some(GoToLine(g)) = goto { g.set(Some(l)) }>
                            {format!("line {l}")}
                        </button>
                    })}
                    <button class="detail-reveal" on:click=move |_| if let Some(RevealFinding(r)) = reveal { r.set(Some(index)) }>
                        "Show the finding"
                    </button>
                </div>
            </div>
        })
    };
    view! {
        <aside class="diagram-details" aria-label="Path details">
            <p class="edge-explanation" aria-live="polite">
                {move || match details.shown.get() {
                    None => "Hover, focus or select a path (Tab, then Enter) to see its port, its verdict and the policy that decides it.".to_string(),
                    Some(Detail::Edge(e)) => e.description.clone(),
                    Some(Detail::Node(text)) | Some(Detail::Text(text, _)) => text,
                }}
            </p>
            {move || match details.shown.get() {
                Some(Detail::Edge(e)) => {
                    let EdgeDetail { edge, status, finding, .. } = *e;
                    view! {
                        <dl class="detail-fields">
                            <dt>"Kind"</dt><dd>{kind_word(edge.kind)}</dd>
                            <dt>"From"</dt><dd class="id">{edge.from.clone()}</dd>
                            <dt>"To"</dt><dd class="id">{edge.to.clone()}</dd>
                            <dt>"Port"</dt><dd>{edge.port.clone()}</dd>
                            <dt>"Verdict"</dt>
                            <dd class=if edge.allowed { "verdict allowed" } else { "verdict blocked" }>
                                {if edge.allowed { "allowed" } else { "blocked" }}
                                {match (status, edge.allowed) {
                                    (Status::Blocked, _) => "; the fix leaves it blocked",
                                    (Status::Fixed, false) => "; the fix opens it",
                                    (Status::Fixed, true) => "; opened by the fix",
                                    (Status::Unchanged, _) => "; the fix does not change it",
                                    (Status::Refused, _) => "; the CNI lets it through, Istio's security policy does not",
                                }}
                            </dd>
                            <dt>"Why"</dt><dd>{edge.explanation.clone()}</dd>
                            {(!edge.blocked_by.is_empty()).then(|| view! {
                                <dt>"Blocked by"</dt><dd class="id">{edge.blocked_by.join(", ")}</dd>
                            })}
                        </dl>
                        {finding_view(finding)}
                    }
                    .into_any()
                }
                Some(Detail::Text(_, finding)) => finding_view(finding).into_any(),
                _ => ().into_any(),
            }}
        </aside>
    }
}

/// Text for SVG markup: the names come from the user's YAML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The drawing as SVG markup, with one set of handlers on the `<svg>` (focus, hover, click and
/// Enter reach them by bubbling): one string instead of a reactive view per node and edge keeps
/// the page's wasm small and the drawing fast to build.
fn draw(
    drawing: &Drawing,
    details: Details,
    zoom: RwSignal<f64>,
    analysis: ReadSignal<Analysis>,
    marked: Option<PathRef>,
) -> impl IntoView {
    use std::fmt::Write;
    let goto = use_context::<GoToLine>();
    let Dragged(dragged) = expect_context::<Dragged>();
    let layout = &drawing.layout;
    let mut svg = String::from(concat!(
        r#"<defs><marker id="arrow-allowed" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow allowed"></path></marker>"#,
        r#"<marker id="arrow-blocked" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow blocked"></path></marker></defs>"#
    ));
    for (ns, b) in drawing
        .namespaces
        .iter()
        .zip(&layout.groups)
        .filter_map(|(ns, b)| Some((ns, (*b)?)))
        .filter(|(ns, _)| !ns.is_empty())
    {
        let r = b.rect;
        let _ = write!(
            svg,
            r#"<g class="namespace-group"><title>namespace {}</title><rect class="namespace-box" x="{}" y="{}" width="{}" height="{}" rx="8"></rect><text class="namespace" x="{}" y="{}">{}</text></g>"#,
            escape(ns),
            r.x as i32,
            r.y as i32,
            r.w as i32,
            r.h as i32,
            b.heading_at.0 as i32,
            b.heading_at.1 as i32,
            escape(&fit(ns, b.heading_room))
        );
    }
    let mut shown: Vec<Detail> = Vec::new();
    for (node, r) in drawing.nodes.iter().zip(&layout.nodes) {
        let kind = match node.kind {
            NodeKind::Workload => "workload",
            NodeKind::Inferred => "inferred",
            NodeKind::Waypoint => "waypoint",
            NodeKind::Gateway => "gateway",
            NodeKind::Kubelet => "kubelet",
        };
        let description = escape(&describe(node));
        let gateway = node.kind == NodeKind::Gateway;
        let shape = if gateway {
            gateway_shape(r.x, r.y, r.w, r.h, GATEWAY_NOTCH)
        } else {
            box_shape(r.x, r.y, r.w, r.h, 6.0)
        };
        let notch = if gateway { GATEWAY_NOTCH } else { 0.0 };
        let text_x = (r.x + TEXT_PAD + notch) as i32;
        let room = r.w - 2.0 * TEXT_PAD - 2.0 * notch;
        let tag = kind_tag(node.kind);
        let label_y = (r.y + if tag.is_some() { 18.0 } else { 21.0 }) as i32;
        let _ = write!(
            svg,
            r#"<g class="node {kind}{}" tabindex="0" role="img" aria-label="{description}" data-i="{}"><title>{description}</title><path class="shape" d="{shape}"></path><text class="label" x="{text_x}" y="{label_y}">{}</text>"#,
            if node.ambient { " ambient" } else { "" },
            shown.len(),
            escape(&fit(&node.label, room)),
        );
        if let Some(t) = tag {
            let _ = write!(
                svg,
                r#"<text class="kind-tag" x="{text_x}" y="{}">{t}</text>"#,
                (r.y + 36.0) as i32
            );
        }
        svg.push_str("</g>");
        shown.push(Detail::Node(describe(node)));
    }
    // After the nodes (edges never cross a box, and their arrows go over its border); allowed
    // paths first, blocked ones last: painted on top.
    let mut order: Vec<usize> = (0..drawing.edges.len()).collect();
    ambient_netpol::sort::sort_by_key(&mut order, |&i| !drawing.edges[i].0.allowed);
    let mut lines: Vec<Option<u32>> = vec![None; shown.len()];
    analysis.with_untracked(|a| {
        for i in order {
            let (edge, status) = &drawing.edges[i];
            let route = &layout.edges[i];
            if route.points.is_empty() {
                continue;
            }
            let d = layout::svg_path(route);
            let verdict = if edge.allowed { "allowed" } else { "blocked" };
            let kind = match edge.kind {
                EdgeKind::App => "app",
                EdgeKind::Hbone => "hbone",
                EdgeKind::Probe => "probe",
            };
            let description = describe_edge(edge);
            let enrolled = a.report.paths.edges.iter().find(|e| {
                e.from == edge.from && e.to == edge.to && e.kind == edge.kind && !e.allowed
            });
            let finding = if edge.allowed && enrolled.is_none() {
                None
            } else {
                finding_for(edge, enrolled, a)
            };
            let escaped = escape(&description);
            let _ = write!(
                svg,
                r#"<g class="edge {kind} {verdict}{} status-{}{}" tabindex="0" role="button" aria-label="{escaped}" data-i="{}"><title>{escaped}</title><path class="hit" d="{d}"></path><path class="line" d="{d}" marker-end="url(#arrow-{verdict})"></path></g>"#,
                // Refused by ztunnel, not by the CNI: dotted, whether the fix opens it or not.
                if !edge.allowed && edge.explanation.starts_with(ZTUNNEL_REFUSES) {
                    " by-ztunnel"
                } else {
                    ""
                },
                status.label(),
                if marked
                    == Some(PathRef {
                        kind: edge.kind,
                        allowed: edge.allowed,
                    }) {
                    " lesson-path"
                } else {
                    ""
                },
                shown.len(),
            );
            lines.push(finding.and_then(|f| a.report.findings[f].line()));
            shown.push(Detail::Edge(Box::new(EdgeDetail {
                edge: edge.clone(),
                status: *status,
                description,
                finding,
            })));
        }
    });
    let shown = StoredValue::new(shown);
    let lines = StoredValue::new(lines);
    // The node or edge an event came from.
    let item = |ev: &web_sys::Event| -> Option<usize> {
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        target
            .closest("[data-i]")
            .ok()??
            .get_attribute("data-i")?
            .parse()
            .ok()
    };
    let show = move |ev: &web_sys::Event| {
        if let Some(i) = item(ev)
            && let Some(d) = shown.with_value(|s| s.get(i).cloned())
        {
            details.show(d);
        }
    };
    let select = move |ev: &web_sys::Event| {
        let Some(i) = item(ev) else { return };
        let Some(d) = shown.with_value(|s| s.get(i).cloned()) else {
            return;
        };
        let edge = matches!(d, Detail::Edge(_));
        details.show(d);
        if edge
            && let (Some(Some(l)), Some(GoToLine(g))) =
                (lines.with_value(|l| l.get(i).copied()), goto)
        {
            g.set(Some(l));
        }
    };
    let (width, height) = (layout.width, layout.height);
    view! {
        <svg
            class="paths"
            viewBox=format!("0 0 {} {}", width.ceil() as i32, height.ceil() as i32)
            width=move || ((width * zoom.get()).round() as i32).to_string()
            height=move || ((height * zoom.get()).round() as i32).to_string()
            role="group"
            aria-label="Paths between workloads"
            inner_html=svg
            on:focusin=move |ev| show(&ev)
            on:mouseover=move |ev| show(&ev)
            on:click=move |ev| {
                if !dragged.get_value() {
                    select(&ev);
                }
            }
            on:keydown=move |ev| {
                if ev.key() == "Enter" || ev.key() == " " {
                    ev.prevent_default();
                    select(&ev);
                }
            }
        ></svg>
    }
}

/// A chevron in the box `x, y, w, h`: notched on the left, pointed on the right, where the
/// paths it sends leave.
fn gateway_shape(x: f64, y: f64, w: f64, h: f64, notch: f64) -> String {
    let (right, bottom, middle) = (x + w, y + h, y + h / 2.0);
    format!(
        "M {} {} H {} L {} {} L {} {} H {} L {} {} Z",
        x as i32,
        y as i32,
        (right - notch) as i32,
        right as i32,
        middle as i32,
        (right - notch) as i32,
        bottom as i32,
        x as i32,
        (x + notch) as i32,
        middle as i32
    )
}

/// A box with rounded corners (radius `r`) as a path, like the gateway's chevron.
fn box_shape(x: f64, y: f64, w: f64, h: f64, r: f64) -> String {
    let [x, y, w, h, r] = [x, y, w, h, r].map(|v| v.round() as i32);
    let (right, bottom) = (x + w, y + h);
    format!(
        "M {} {y} H {} A {r} {r} 0 0 1 {right} {} V {} A {r} {r} 0 0 1 {} {bottom} H {} A {r} {r} 0 0 1 {x} {} V {} A {r} {r} 0 0 1 {} {y} Z",
        x + r,
        right - r,
        y + r,
        bottom - r,
        right - r,
        x + r,
        bottom - r,
        y + r,
        x + r
    )
}

/// The detail of a pair of workloads (a matrix cell), with the finding of its blocked path.
pub fn pair_detail(
    analysis: &Analysis,
    from: &str,
    to: &str,
    verdict: &str,
    edges: &[Edge],
) -> Detail {
    let mut text = format!("{from} to {to}: {verdict}.");
    let mut finding = None;
    for e in edges {
        text.push(' ');
        text.push_str(&describe_edge(e));
        text.push('.');
        if !e.allowed && finding.is_none() {
            finding = finding_for(e, None, analysis);
        }
    }
    if finding.is_none()
        && let Some(blocked) = analysis
            .report
            .paths
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to && !e.allowed)
    {
        finding = finding_for(blocked, None, analysis);
    }
    Detail::Text(text, finding)
}
