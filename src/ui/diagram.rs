//! The path diagram, drawn as SVG by the page (no chart library): workloads grouped by namespace,
//! the kubelet, waypoints and Istio gateways (a chevron of their own, marked "Istio gateway
//! proxy"); edges for app traffic, HBONE and probes, blocked ones red and dashed with their port
//! and the policy that blocks them. Three views: today (plain NetworkPolicy), after enrolling
//! (ambient, nothing fixed), after the fix. Every edge and every node can take keyboard focus
//! and shows its explanation, as hovering does.

use std::collections::BTreeMap;

use ambient_netpol::ambient::paths::{Edge, EdgeKind, Node, NodeKind, Paths};
use leptos::prelude::*;

use super::Analysis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Today,
    Enrolled,
    Fixed,
}

/// Past this many nodes only the blocked paths are drawn.
const LEGIBLE_NODES: usize = 30;
const NODE_W: f64 = 170.0;
const NODE_H: f64 = 34.0;
const COL_GAP: f64 = 150.0;
const ROW_GAP: f64 = 26.0;
const TOP: f64 = 44.0;

struct Layout {
    positions: BTreeMap<String, (f64, f64)>,
    /// Namespace name and where its label goes.
    namespaces: Vec<(String, f64, f64)>,
    width: f64,
    height: f64,
}

fn layout(paths: &Paths) -> Layout {
    // The kubelet sits alone in a row above the namespaces, so probe paths come down to their
    // pods without crossing other boxes.
    let kubelet = paths.nodes.iter().any(|n| n.kind == NodeKind::Kubelet);
    let top = if kubelet {
        TOP + NODE_H + 3.0 * ROW_GAP
    } else {
        TOP
    };
    let mut columns: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for node in paths.nodes.iter().filter(|n| n.kind != NodeKind::Kubelet) {
        columns
            .entry(node.namespace.clone())
            .or_default()
            .push(&node.id);
    }
    let mut positions = BTreeMap::new();
    if kubelet {
        positions.insert("kubelet".to_string(), (20.0, TOP - 10.0));
    }
    let mut namespaces = Vec::new();
    let mut rows = 0usize;
    for (i, (namespace, ids)) in columns.iter().enumerate() {
        let x = 20.0 + i as f64 * (NODE_W + COL_GAP);
        namespaces.push((namespace.clone(), x, top - 16.0));
        for (j, id) in ids.iter().enumerate() {
            positions.insert(id.to_string(), (x, top + j as f64 * (NODE_H + ROW_GAP)));
        }
        rows = rows.max(ids.len());
    }
    Layout {
        positions,
        namespaces,
        // Room on the right for paths that bend out of the last column, and their labels.
        width: 40.0 + columns.len().max(1) as f64 * (NODE_W + COL_GAP) - COL_GAP + 200.0,
        height: top + rows.max(1) as f64 * (NODE_H + ROW_GAP) + 10.0,
    }
}

/// The edges a view shows: app edges today; once enrolled (and after the fix) the HBONE and probe
/// edges, and the app edges of traffic that is not tunneled (a source outside the mesh, a proxy
/// without HBONE), which keeps its port.
fn edges_for(view: View, analysis: &Analysis) -> (Paths, Vec<Edge>) {
    let paths = match view {
        View::Fixed => analysis
            .fixed_paths
            .clone()
            .unwrap_or_else(|| analysis.report.paths.clone()),
        _ => analysis.report.paths.clone(),
    };
    // Tunneled: straight, or in two hops through a waypoint. (Past LEGIBLE_NODES only blocked
    // paths are drawn, and app paths are always allowed: no need to ask, nor to pay for it.)
    let legible = paths.nodes.len() <= LEGIBLE_NODES;
    let hbone = |from: &str, to: &str| {
        paths
            .edges
            .iter()
            .any(|e| e.kind == EdgeKind::Hbone && e.from == from && e.to == to)
    };
    let tunneled = |e: &Edge| {
        !legible
            || hbone(&e.from, &e.to)
            || paths.nodes.iter().any(|w| {
                w.kind == NodeKind::Waypoint && hbone(&e.from, &w.id) && hbone(&w.id, &e.to)
            })
    };
    let edges = paths
        .edges
        .iter()
        .filter_map(|e| match (view, e.kind) {
            (View::Today, EdgeKind::App) => Some(e.clone()),
            (View::Today, _) => None,
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
        .collect();
    (paths, edges)
}

#[component]
pub fn Diagram(analysis: Memo<Analysis>, view_mode: RwSignal<View>) -> impl IntoView {
    let set_view = view_mode.write_only();
    let (focused, set_focused) = signal(None::<String>);
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
    let drawing = move || {
        analysis.with(|a| {
            let (paths, mut edges) = edges_for(view_mode.get(), a);
            let too_many = paths.nodes.len() > LEGIBLE_NODES;
            let hidden = if too_many {
                let before = edges.len();
                edges.retain(|e| !e.allowed);
                before - edges.len()
            } else {
                0
            };
            let mut shown = paths.clone();
            if too_many {
                let used: std::collections::BTreeSet<&str> = edges
                    .iter()
                    .flat_map(|e| [e.from.as_str(), e.to.as_str()])
                    .collect();
                shown.nodes.retain(|n| used.contains(n.id.as_str()));
            }
            (shown, edges, hidden)
        })
    };
    view! {
        <section class="diagram" aria-labelledby="diagram-title">
            <h2 id="diagram-title" class="panel-title">"Paths"</h2>
            <div class="view-switches" role="group" aria-label="Which traffic to show">
                {switch(View::Today, "Today")}
                {switch(View::Enrolled, "After enrolling")}
                {switch(View::Fixed, "After the fix")}
            </div>
            {move || {
                let (paths, edges, hidden) = drawing();
                if paths.nodes.is_empty() {
                    return view! {
                        <p class="empty">"No paths to draw: no policy isolates a workload that others talk to."</p>
                    }
                        .into_any();
                }
                let layout = layout(&paths);
                let svg = draw(&paths, &edges, &layout, set_focused);
                view! {
                    <div class="diagram-scroll" tabindex="0" aria-label="Path diagram (scrolls sideways)">{svg}</div>
                    {(hidden > 0).then(|| view! {
                        <p class="note">{format!("{hidden} allowed paths hidden: only blocked paths are drawn above {LEGIBLE_NODES} workloads.")}</p>
                    })}
                }
                    .into_any()
            }}
            <p class="edge-explanation" aria-live="polite">
                {move || focused.get().unwrap_or_else(|| "Hover or focus a path to see why it is allowed or blocked, or a box to see what it is.".to_string())}
            </p>
            <p class="legend">
                <span class="legend-item allowed">"allowed"</span>
                <span class="legend-item blocked">"blocked"</span>
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

fn draw(
    paths: &Paths,
    edges: &[Edge],
    layout: &Layout,
    set_focused: WriteSignal<Option<String>>,
) -> impl IntoView {
    let nodes = paths.nodes.iter().map(|node| {
        let (x, y) = layout.positions[&node.id];
        let kind = match node.kind {
            NodeKind::Workload => "workload",
            NodeKind::Inferred => "inferred",
            NodeKind::Waypoint => "waypoint",
            NodeKind::Gateway => "gateway",
            NodeKind::Kubelet => "kubelet",
        };
        let class = format!("node {kind}{}", if node.ambient { " ambient" } else { "" });
        let description = describe(node);
        // A gateway is a chevron (it forwards traffic), with what it is on a second line; the
        // others are rounded boxes. One element structure for all keeps the page's wasm small.
        let gateway = node.kind == NodeKind::Gateway;
        let (shape, text_x, text_y, max) = if gateway {
            (
                gateway_shape(x, y, NODE_W, NODE_H, GATEWAY_NOTCH),
                x + 18.0,
                y + 15.0,
                21,
            )
        } else {
            (box_shape(x, y, NODE_W, NODE_H, 6.0), x + 10.0, y + 22.0, 22)
        };
        let tag = gateway.then(|| {
            view! { <text class="kind-tag" x=text_x y=y + 28.0>"Istio gateway proxy"</text> }
        });
        let (aria, on_focus, on_hover) = (
            description.clone(),
            explains(set_focused, description.clone()),
            explains(set_focused, description.clone()),
        );
        view! {
            <g
                class=class
                tabindex="0"
                role="img"
                aria-label=aria
                on:focus=on_focus
                on:mouseenter=on_hover
            >
                <title>{description}</title>
                <path class="shape" d=shape></path>
                <text x=text_x y=text_y>{shorten(&node.label, max)}</text>
                {tag}
            </g>
        }
    });
    // Parallel edges between the same two nodes are spread apart.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let edge_views = edges.iter().enumerate().filter_map(|(i, edge)| {
        let (&(fx, fy), &(tx, ty)) = (
            layout.positions.get(&edge.from)?,
            layout.positions.get(&edge.to)?,
        );
        let n = seen
            .entry((edge.from.clone(), edge.to.clone()))
            .or_default();
        let offset = *n as f64 * 8.0;
        *n += 1;
        let same_column = (fx - tx).abs() < 1.0;
        let (x1, y1, x2, y2) = anchor(fx, fy + offset, tx, ty + offset);
        // Within one namespace column the path bends out to the right of the boxes.
        let bulge = 50.0 + (i % 4) as f64 * 18.0;
        let d = if same_column {
            format!(
                "M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}",
                x1 + bulge,
                x2 + bulge
            )
        } else {
            format!("M {x1} {y1} L {x2} {y2}")
        };
        let status = if edge.allowed { "allowed" } else { "blocked" };
        let kind = match edge.kind {
            EdgeKind::App => "app",
            EdgeKind::Hbone => "hbone",
            EdgeKind::Probe => "probe",
        };
        let label = if edge.allowed {
            edge.port.clone()
        } else {
            format!("✕ {} ({})", edge.port, edge.blocked_by.join(", "))
        };
        let description = format!(
            "{} from {} to {}: {} — {}",
            match edge.kind {
                EdgeKind::App => "App traffic",
                EdgeKind::Hbone => "HBONE tunnel",
                EdgeKind::Probe => "Kubelet probe",
            },
            edge.from,
            edge.to,
            if edge.allowed { "allowed" } else { "blocked" },
            edge.explanation
        );
        let (aria, on_focus, on_hover) = (
            description.clone(),
            explains(set_focused, description.clone()),
            explains(set_focused, description.clone()),
        );
        // Labels of crossing or parallel paths are staggered along their lines.
        let t = [0.5, 0.35, 0.65][i % 3];
        let (mut mx, mut my) = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t - 6.0);
        let mut anchor_text = "middle";
        if same_column {
            mx = x1 + bulge * 0.75 + 4.0;
            my = (y1 + y2) / 2.0 + 4.0;
            anchor_text = "start";
        } else if (y2 - y1).abs() < NODE_H {
            // Between boxes of one row: above the boxes, where the label cannot hide behind them.
            mx = (x1 + x2) / 2.0;
            my = y1.min(y2) - NODE_H / 2.0 - 4.0 - (i % 2) as f64 * 13.0;
        }
        Some(view! {
            <g
                class=format!("edge {kind} {status}")
                tabindex="0"
                role="img"
                aria-label=aria
                on:focus=on_focus
                on:mouseenter=on_hover
            >
                <title>{description}</title>
                <path d=d marker-end=format!("url(#arrow-{status})")></path>
                <text x=mx y=my text-anchor=anchor_text>{shorten(&label, 48)}</text>
            </g>
        })
    });
    let namespace_labels = layout.namespaces.iter().map(|(name, x, y)| {
        view! { <text class="namespace" x=*x y=*y>{shorten(name, 26)}</text> }
    });
    view! {
        <svg
            class="paths"
            viewBox=format!("0 0 {} {}", layout.width, layout.height)
            width=layout.width
            height=layout.height
            role="group"
            aria-label="Paths between workloads"
        >
            <defs>
                <marker id="arrow-allowed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrow allowed"></path>
                </marker>
                <marker id="arrow-blocked" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrow blocked"></path>
                </marker>
            </defs>
            {namespace_labels.collect_view()}
            {nodes.collect_view()}
            {edge_views.collect_view()}
        </svg>
    }
}

/// How deep a gateway's chevron cuts in (left) and points out (right).
const GATEWAY_NOTCH: f64 = 10.0;

/// A chevron in the box `x, y, w, h`: notched on the left, pointed on the right, where the
/// paths it sends leave (`anchor` puts them at the middle of the right side).
fn gateway_shape(x: f64, y: f64, w: f64, h: f64, notch: f64) -> String {
    let (right, bottom, middle) = (x + w, y + h, y + h / 2.0);
    format!(
        "M {x} {y} H {} L {right} {middle} L {} {bottom} H {x} L {} {middle} Z",
        right - notch,
        right - notch,
        x + notch
    )
}

/// A box with rounded corners (radius `r`) as a path, like the gateway's chevron.
fn box_shape(x: f64, y: f64, w: f64, h: f64, r: f64) -> String {
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

/// A handler that puts a node's or path's description in the explanation line (one for both,
/// for focus and for hover).
fn explains<E>(set_focused: WriteSignal<Option<String>>, text: String) -> impl Fn(E) + 'static {
    move |_| set_focused.set(Some(text.clone()))
}

/// Where an edge leaves and enters the node boxes (sides when in different columns).
fn anchor(fx: f64, fy: f64, tx: f64, ty: f64) -> (f64, f64, f64, f64) {
    let (fcy, tcy) = (fy + NODE_H / 2.0, ty + NODE_H / 2.0);
    if (fx - tx).abs() < 1.0 {
        // Same column: from the right side to the right side (the path bends out).
        (fx + NODE_W, fcy, tx + NODE_W, tcy)
    } else if tx > fx {
        (fx + NODE_W, fcy, tx, tcy)
    } else {
        (fx, fcy, tx + NODE_W, tcy)
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}
