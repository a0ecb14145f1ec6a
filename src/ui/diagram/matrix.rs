//! The paths as a matrix, for more workloads than a drawing can show: sources by destinations,
//! each cell coloured by what the view says of the pair (blocked, fixed, allowed, denied by
//! NetworkPolicy today, or open: no policy between them). Only the cells in sight are in the
//! page (a 300 x 300 matrix is 90,000 cells); the headers stay in place as it scrolls. One Tab
//! stop: the arrow keys move between cells, Enter selects the pair's finding and policy line.
//!
//! Past `MAX_DRAWN_WORKLOADS` the core sends counts per pair of namespaces instead of paths:
//! [`NamespaceMatrix`] shows them, each cell marked with the layers that block its pairs (A:
//! Admin tier, N: NetworkPolicy, Ci: Cilium, C: Calico, B: Baseline tier) and saying how many
//! each blocks in its title, its label and the details panel.

use std::collections::HashMap;

use ambient_netpol::ambient::paths::{Edge, EdgeKind, Node, NodeKind};
use ambient_netpol::pipeline::Layer;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{Analysis, Detail, Details, Filter, Status, View, edges_for, pair_detail};
use crate::ui::GoToLine;
use crate::ui::results::ResultsTab;

const CELL: f64 = 22.0;
const ROW_HEAD: f64 = 170.0;
const COL_HEAD: f64 = 130.0;
/// Cells drawn past the edge of the view, so a quick scroll does not show holes.
const OVERSCAN: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Blocked,
    Fixed,
    Allowed,
    Denied,
    /// No policy isolates either side: allowed, and ambient changes nothing.
    Open,
    /// Hidden by the status filter.
    Hidden,
    Same,
}

impl Cell {
    fn class(self) -> &'static str {
        match self {
            Cell::Blocked => "cell blocked",
            Cell::Fixed => "cell fixed",
            Cell::Allowed => "cell allowed",
            Cell::Denied => "cell denied",
            Cell::Open => "cell open",
            Cell::Hidden => "cell hidden",
            Cell::Same => "cell same",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Cell::Blocked => "blocked",
            Cell::Fixed => "blocked once enrolled, allowed after the fix",
            Cell::Allowed => "allowed",
            Cell::Denied => "denied by NetworkPolicy",
            Cell::Open => "allowed (no policy isolates either side)",
            Cell::Hidden => "hidden by the filters",
            Cell::Same => "the same workload",
        }
    }
}

/// A row's or a column's heading: what it is (the title), its short name, and a note after it.
#[derive(Clone, PartialEq)]
struct Head {
    id: String,
    label: String,
    note: String,
}

impl Head {
    fn of(node: &Node) -> Head {
        Head {
            id: node.id.clone(),
            label: node.label.clone(),
            note: node.namespace.clone(),
        }
    }
}

/// (row, column) to the workload pairs blocked, and how many each layer blocks (by
/// `Layer::ALL`'s order).
type Counts = HashMap<(usize, usize), (u32, [u32; 5])>;

/// The matrix's rows, columns and cells for one view and filter.
#[derive(Clone, Default, PartialEq)]
pub struct Grid {
    rows: Vec<Head>,
    cols: Vec<Head>,
    /// Every cell, row by row (workloads: at most `MAX_DRAWN_WORKLOADS` squared).
    cells: Vec<Cell>,
    /// Namespaces instead: the pairs that count blocked workload pairs, with the pairs each
    /// layer blocks, the other cells empty (sparse: 20,000 namespaces would be 400 million
    /// cells).
    counts: Option<Counts>,
    edges: HashMap<(usize, usize), Vec<Edge>>,
}

impl Grid {
    fn cell(&self, r: usize, c: usize) -> Cell {
        match &self.counts {
            Some(counts) if counts.contains_key(&(r, c)) => Cell::Blocked,
            Some(_) => Cell::Open,
            None => self.cells[r * self.cols.len() + c],
        }
    }

    fn words(&self, r: usize, c: usize) -> String {
        match &self.counts {
            Some(counts) => match counts.get(&(r, c)) {
                Some((blocked, layers)) => blocked_words(*blocked, layers),
                None => "0 workload pairs blocked once enrolled".to_string(),
            },
            None => self.cell(r, c).words().to_string(),
        }
    }

    /// The marks of the layers that block a namespace pair's cell ("A", "AN"), which the
    /// stylesheet writes in it (`data-marks`).
    fn marks(&self, r: usize, c: usize) -> Option<String> {
        let (_, layers) = self.counts.as_ref()?.get(&(r, c))?;
        Some(
            MARKS
                .iter()
                .zip(layers)
                .filter(|&(_, &n)| n > 0)
                .map(|(&m, _)| m)
                .collect(),
        )
    }
}

/// Each layer's mark in the namespace matrix's cells and legend, in `Layer::ALL`'s order:
/// Admin tier, NetworkPolicy, Cilium, Calico, Baseline tier.
const MARKS: [&str; 5] = ["A", "N", "Ci", "C", "B"];

/// What a namespace pair's cell says: how many workload pairs are blocked, and how many each
/// layer blocks ("4 workload pairs blocked once enrolled: 4 by the Admin tier, 2 by
/// NetworkPolicy").
fn blocked_words(blocked: u32, layers: &[u32; 5]) -> String {
    let mut out = format!("{blocked} workload pairs blocked once enrolled");
    let mut first = true;
    for (layer, &n) in Layer::ALL.iter().zip(layers).filter(|&(_, &n)| n > 0) {
        out += if first { ": " } else { ", " };
        out += &format!("{n} by {}", layer.words());
        first = false;
    }
    out
}

fn grid(
    analysis: &Analysis,
    view: View,
    filter: &Filter,
    statuses: &HashMap<(String, String, EdgeKind), Status>,
) -> Grid {
    let (paths, edges) = edges_for(view, analysis);
    let in_namespace = |n: &Node| {
        filter
            .namespace
            .as_deref()
            .is_none_or(|ns| n.namespace == ns || n.kind == NodeKind::Kubelet)
    };
    let rows: Vec<Node> = paths
        .nodes
        .iter()
        .filter(|n| in_namespace(n))
        .cloned()
        .collect();
    let cols: Vec<Node> = paths
        .nodes
        .iter()
        .filter(|n| n.kind != NodeKind::Kubelet && in_namespace(n))
        .cloned()
        .collect();
    let row_of: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let col_of: HashMap<&str, usize> = cols
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut by_pair: HashMap<(usize, usize), Vec<Edge>> = HashMap::new();
    for e in edges {
        if let (Some(&r), Some(&c)) = (row_of.get(e.from.as_str()), col_of.get(e.to.as_str())) {
            by_pair.entry((r, c)).or_default().push(e);
        }
    }
    let mut cells = Vec::with_capacity(rows.len() * cols.len());
    for (r, from) in rows.iter().enumerate() {
        for (c, to) in cols.iter().enumerate() {
            let cell = if from.id == to.id {
                Cell::Same
            } else if let Some(list) = by_pair.get(&(r, c)) {
                let status = statuses
                    .get(&(from.id.clone(), to.id.clone(), EdgeKind::App))
                    .copied()
                    .or_else(|| {
                        list.iter()
                            .filter_map(|e| {
                                statuses
                                    .get(&(e.from.clone(), e.to.clone(), e.kind))
                                    .copied()
                            })
                            .min()
                    })
                    .unwrap_or(Status::Unchanged);
                if !filter.keeps(status) {
                    Cell::Hidden
                } else if view == View::Today {
                    Cell::Allowed
                } else {
                    match (view, status) {
                        (View::Fixed, Status::Fixed) => Cell::Fixed,
                        (_, Status::Unchanged) => Cell::Allowed,
                        _ if list.iter().all(|e| e.allowed) => Cell::Allowed,
                        _ => Cell::Blocked,
                    }
                }
            } else if from.egress_isolated || to.ingress_isolated {
                if filter.is_open() {
                    Cell::Denied
                } else {
                    Cell::Hidden
                }
            } else if filter.is_open() {
                Cell::Open
            } else {
                Cell::Hidden
            };
            cells.push(cell);
        }
    }
    Grid {
        rows: rows.iter().map(Head::of).collect(),
        cols: cols.iter().map(Head::of).collect(),
        cells,
        counts: None,
        edges: by_pair,
    }
}

#[component]
pub fn Matrix(
    analysis: ReadSignal<Analysis>,
    view_mode: RwSignal<View>,
    filter: Memo<Filter>,
    statuses: Memo<super::Statuses>,
) -> impl IntoView {
    let goto = use_context::<GoToLine>();
    let grid = Memo::new(move |_| {
        let view = view_mode.get();
        let filter = filter.get();
        analysis.with(|a| statuses.with(|s| grid(a, view, &filter, &s.0)))
    });
    let detail = Callback::new(move |(r, c): (usize, usize)| {
        grid.with_untracked(|g| {
            let (from, to) = (&g.rows[r], &g.cols[c]);
            let edges = g.edges.get(&(r, c)).cloned().unwrap_or_default();
            analysis.with_untracked(|a| pair_detail(a, &from.id, &to.id, &g.words(r, c), &edges))
        })
    });
    let line =
        Callback::new(move |f: usize| analysis.with_untracked(|a| a.report.findings[f].line()));
    view! {
        <div class="matrix-legend" aria-hidden="true">
            <span class="cell blocked"></span>"blocked"
            <span class="cell fixed"></span>"fixed"
            <span class="cell allowed"></span>"allowed"
            <span class="cell denied"></span>"denied today"
            <span class="cell open"></span>"no policy"
        </div>
        <VirtualGrid grid=grid detail=detail line=line goto=goto />
    }
}

/// The cells in sight of a grid, with headings that stay in place, one Tab stop and the arrow
/// keys to move.
#[component]
fn VirtualGrid(
    grid: Memo<Grid>,
    detail: Callback<(usize, usize), Detail>,
    line: Callback<usize, Option<u32>>,
    goto: Option<GoToLine>,
) -> impl IntoView {
    let details = expect_context::<Details>();
    let scroller = NodeRef::<leptos::html::Div>::new();
    // The part in sight: scroll position and size of the scrolling box (none until measured:
    // a matrix built in a hidden tab draws no cell).
    let viewport = RwSignal::new((0.0f64, 0.0f64, 0.0f64, 0.0f64));
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            viewport.set((
                f64::from(el.scroll_left()),
                f64::from(el.scroll_top()),
                f64::from(el.client_width()),
                f64::from(el.client_height()),
            ));
        }
    };
    // Measured again when the grid changes and when a tab is shown: measured in a hidden tab,
    // the box has no size (and drew only the 4 x 4 cells of the overscan until scrolled).
    let ResultsTab(tab) = expect_context::<ResultsTab>();
    Effect::new(move |_| {
        grid.track();
        tab.track();
        request_animation_frame(measure);
    });
    let active = RwSignal::new((0usize, 0usize));
    let detail_of = move |r: usize, c: usize| detail.run((r, c));
    let select = move |r: usize, c: usize| {
        let detail = detail_of(r, c);
        if let (Detail::Text(_, Some(f)), Some(GoToLine(g))) = (&detail, goto)
            && let Some(l) = line.run(*f)
        {
            g.set(Some(l));
        }
        details.show(detail);
    };
    let focus_active = move || {
        let (r, c) = active.get_untracked();
        if let Some(el) = scroller.get_untracked() {
            // Bring the cell into sight, then focus it once drawn.
            let (x, y) = (c as f64 * CELL, r as f64 * CELL);
            let (left, top) = (f64::from(el.scroll_left()), f64::from(el.scroll_top()));
            let (w, h) = (
                f64::from(el.client_width()) - ROW_HEAD,
                f64::from(el.client_height()) - COL_HEAD,
            );
            if x < left {
                el.set_scroll_left(x as i32);
            } else if x + CELL > left + w {
                el.set_scroll_left((x + CELL - w) as i32);
            }
            if y < top {
                el.set_scroll_top(y as i32);
            } else if y + CELL > top + h {
                el.set_scroll_top((y + CELL - h) as i32);
            }
            measure();
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked()
                    && let Ok(Some(cell)) = el.query_selector(&format!("[data-cell='{r}-{c}']"))
                    && let Ok(cell) = cell.dyn_into::<web_sys::HtmlElement>()
                {
                    let _ = cell.focus();
                }
            });
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let (rows, cols) = grid.with_untracked(|g| (g.rows.len(), g.cols.len()));
        if rows == 0 || cols == 0 {
            return;
        }
        // The grid may have shrunk (a filter, a new analysis) since the cell was active.
        let (r, c) = active.get_untracked();
        let (r, c) = (r.min(rows - 1), c.min(cols - 1));
        let page = 10;
        let next = match ev.key().as_str() {
            "ArrowUp" => (r.saturating_sub(1), c),
            "ArrowDown" => ((r + 1).min(rows - 1), c),
            "ArrowLeft" => (r, c.saturating_sub(1)),
            "ArrowRight" => (r, (c + 1).min(cols - 1)),
            "PageUp" => (r.saturating_sub(page), c),
            "PageDown" => ((r + page).min(rows - 1), c),
            "Home" => (r, 0),
            "End" => (r, cols - 1),
            "Enter" | " " => {
                ev.prevent_default();
                select(r, c);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        active.set(next);
        focus_active();
    };

    let cells = move || {
        let (left, top, width, height) = viewport.get();
        if width == 0.0 {
            return Vec::new();
        }
        grid.with(|g| {
            let (rows, cols) = (g.rows.len(), g.cols.len());
            let first_col = ((left / CELL) as usize).saturating_sub(OVERSCAN);
            let last_col = (((left + width - ROW_HEAD) / CELL).ceil() as usize + OVERSCAN).min(cols);
            let first_row = ((top / CELL) as usize).saturating_sub(OVERSCAN);
            let last_row = (((top + height - COL_HEAD) / CELL).ceil() as usize + OVERSCAN).min(rows);
            let (ar, ac) = active.get();
            // The one Tab stop stays in the grid when it shrinks.
            let (ar, ac) = (ar.min(rows.saturating_sub(1)), ac.min(cols.saturating_sub(1)));
            let mut out = Vec::new();
            for r in first_row..last_row {
                for c in first_col..last_col {
                    let cell = g.cell(r, c);
                    let label = format!("{} to {}: {}", g.rows[r].id, g.cols[c].id, g.words(r, c));
                    let marks = g.marks(r, c).unwrap_or_default();
                    let is_active = (r, c) == (ar, ac);
                    out.push(view! {
                        <div
                            class=cell.class()
                            data-cell=format!("{r}-{c}")
                            data-marks=marks
                            role="button"
                            tabindex=if is_active { "0" } else { "-1" }
                            aria-label=label.clone()
                            title=label
                            style=format!("left:{}px;top:{}px", (ROW_HEAD + c as f64 * CELL) as i32, (COL_HEAD + r as f64 * CELL) as i32)
                            on:focus=move |_| {
                                active.set((r, c));
                                details.show(detail_of(r, c));
                            }
                            on:mouseenter=move |_| details.show(detail_of(r, c))
                            on:click=move |_| {
                                active.set((r, c));
                                select(r, c);
                            }
                        ></div>
                    }.into_any());
                }
            }
            // Headers: the row headers follow the horizontal scroll, the column headers the
            // vertical one, so they stay in place.
            for r in first_row..last_row {
                let node = &g.rows[r];
                out.push(view! {
                    <div class="row-head" title=node.id.clone() style=format!("left:{}px;top:{}px", left as i32, (COL_HEAD + r as f64 * CELL) as i32)>
                        {node.label.clone()}
                        <span class="ns">{format!(" {}", node.note)}</span>
                    </div>
                }.into_any());
            }
            for c in first_col..last_col {
                let node = &g.cols[c];
                out.push(view! {
                    <div class="col-head" title=node.id.clone() style=format!("left:{}px;top:{}px", (ROW_HEAD + c as f64 * CELL) as i32, top as i32)>
                        <span>{node.label.clone()}</span>
                    </div>
                }.into_any());
            }
            out.push(view! {
                <div class="corner" style=format!("left:{}px;top:{}px", left as i32, top as i32)>
                    {format!("{} sources × {} destinations", rows, cols)}
                </div>
            }.into_any());
            out
        })
    };
    let size = move || {
        grid.with(|g| {
            format!(
                "width:{}px;height:{}px",
                (ROW_HEAD + g.cols.len() as f64 * CELL) as i32,
                (COL_HEAD + g.rows.len() as f64 * CELL) as i32
            )
        })
    };
    view! {
        <div
            class="matrix-scroll"
            node_ref=scroller
            role="group"
            aria-label="Path matrix: sources by destinations; arrow keys move between cells, Enter selects"
            on:scroll=move |_| measure()
            on:keydown=on_key
        >
            <div class="matrix" style=size>{cells}</div>
        </div>
    }
}

/// Past `MAX_DRAWN_WORKLOADS`: the namespaces by namespaces, with how many workload pairs the
/// HBONE findings report blocked once enrolled.
#[component]
pub fn NamespaceMatrix(
    analysis: ReadSignal<Analysis>,
    namespace: RwSignal<Option<String>>,
) -> impl IntoView {
    let grid = Memo::new(move |_| {
        let chosen = namespace.get();
        analysis.with(|a| {
            let pairs = &a.report.paths.namespace_pairs;
            let mut names: Vec<String> = pairs
                .iter()
                .flat_map(|p| [p.from.clone(), p.to.clone()])
                .collect();
            ambient_netpol::sort::sort(&mut names);
            names.dedup();
            let head = |n: &String| Head {
                id: n.clone(),
                label: n.clone(),
                note: String::new(),
            };
            let rows: Vec<Head> = names
                .iter()
                .filter(|n| chosen.as_ref().is_none_or(|c| c == *n))
                .map(head)
                .collect();
            let cols: Vec<Head> = names.iter().map(head).collect();
            let row_of: HashMap<&str, usize> = rows
                .iter()
                .enumerate()
                .map(|(i, h)| (h.id.as_str(), i))
                .collect();
            let col_of: HashMap<&str, usize> = cols
                .iter()
                .enumerate()
                .map(|(i, h)| (h.id.as_str(), i))
                .collect();
            let counts = pairs
                .iter()
                .filter(|p| p.blocked > 0)
                .filter_map(|p| {
                    Some((
                        (*row_of.get(p.from.as_str())?, *col_of.get(p.to.as_str())?),
                        (p.blocked, Layer::ALL.map(|layer| p.by(layer))),
                    ))
                })
                .collect();
            Grid {
                rows,
                cols,
                counts: Some(counts),
                ..Grid::default()
            }
        })
    });
    let workloads = move || analysis.with(|a| a.report.workloads);
    // A namespace's name has no space: the core's row of the folded namespaces has.
    let folded = move || {
        analysis.with(|a| {
            a.report
                .paths
                .namespace_pairs
                .iter()
                .any(|p| p.from.contains(' ') || p.to.contains(' '))
        })
    };
    let detail = Callback::new(move |(r, c): (usize, usize)| {
        grid.with_untracked(|g| {
            Detail::Text(
                format!("{} to {}: {}.", g.rows[r].id, g.cols[c].id, g.words(r, c)),
                None,
            )
        })
    });
    let line = Callback::new(|_: usize| None);
    view! {
        <p class="note">
            {move || format!(
                "{} workloads: too many pairs to draw or list one by one. The matrix counts, per pair of namespaces, the workload pairs whose HBONE the findings report blocked once enrolled; the findings list them by policy.",
                workloads()
            )}
            {move || folded().then(|| format!(
                " Past {} namespaces, those with the fewest blocked pairs share one row and one column.",
                ambient_netpol::ambient::paths::MAX_MATRIX_NAMESPACES
            ))}
        </p>
        <div class="matrix-legend" aria-hidden="true">
            <span class="cell blocked"></span>"workload pairs blocked once enrolled (how many: hover or focus the cell), by:"
            <span class="layer-key"><span class="cell blocked">"A"</span>"Admin tier"</span>
            <span class="layer-key"><span class="cell blocked">"N"</span>"NetworkPolicy"</span>
            <span class="layer-key"><span class="cell blocked">"Ci"</span>"Cilium"</span>
            <span class="layer-key"><span class="cell blocked">"C"</span>"Calico tiers"</span>
            <span class="layer-key"><span class="cell blocked">"B"</span>"Baseline tier"</span>
        </div>
        <div class="namespace-matrix">
            <VirtualGrid grid=grid detail=detail line=line goto=None />
        </div>
    }
}
