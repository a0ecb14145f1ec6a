//! A layered (Sugiyama) layout for the path diagram: senders left of receivers, each group
//! (namespace) a horizontal band of its own, few crossings, and edges routed through their own
//! slots in every column they pass so that no edge crosses a node's box.
//!
//! Pure geometry, no drawing: the page turns [`Layout`] into SVG (`src/ui/diagram.rs`). The
//! steps are the classic ones (Sugiyama, Tagawa and Toda 1981; Gansner et al., "A technique for
//! drawing directed graphs", 1993):
//!
//! 1. cycles are broken by reversing the edges that go against a greedy order (Eades, Lin and
//!    Smyth 1993), weighted so that the edges a caller marks as important keep their direction;
//! 2. nodes get layers by longest path from the sources (columns, left to right);
//! 3. an edge that spans several layers gets a dummy node in each layer between, so it has a
//!    slot of its own there and never runs through a box;
//! 4. layers are reordered by barycenter sweeps, keeping the order with the fewest crossings
//!    (the input order included, so the result is never worse than it);
//! 5. coordinates: columns as wide as their widest box; within each group's band, nodes are
//!    pulled towards their neighbours without overlapping.
//!
//! Deterministic: the same input gives the same layout (ties go to the lower index).

/// A node to place: its box and its group (an index into the groups given to [`layout`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeSpec {
    pub width: f64,
    pub height: f64,
    pub group: usize,
}

/// An edge, `from` sender `to` receiver. In a cycle the heavier side keeps its direction (e.g.
/// paths with a specific port over those a wide allow-all rule opens); weights add up like
/// counts, so one edge of weight 10 outweighs nine of weight 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeSpec {
    pub from: usize,
    pub to: usize,
    pub weight: u32,
}

/// A group (namespace): the width of its heading, 0 for none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupSpec {
    pub heading_width: f64,
}

/// Distances, in the drawing's units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Between two columns (where edges bend).
    pub column_gap: f64,
    /// Between two boxes of one column.
    pub row_gap: f64,
    /// The slot of an edge passing a column.
    pub lane: f64,
    /// Between two edges passing a column side by side.
    pub lane_gap: f64,
    /// Between a group's box and what it holds.
    pub group_pad: f64,
    /// Between two groups' bands.
    pub group_gap: f64,
    /// The height of a group's heading strip.
    pub heading: f64,
    /// Around the whole drawing.
    pub margin: f64,
    /// Barycenter sweeps (0: keep the input order).
    pub sweeps: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            column_gap: 90.0,
            row_gap: 18.0,
            lane: 6.0,
            lane_gap: 2.0,
            group_pad: 10.0,
            group_gap: 16.0,
            heading: 22.0,
            margin: 12.0,
            sweeps: 12,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Whether the two rectangles share interior points (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Whether the point is strictly inside.
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x > self.x && x < self.right() && y > self.y && y < self.bottom()
    }
}

/// Where an edge goes: points from its sender to its receiver. Between points `2i` and `2i + 1`
/// the edge runs straight across a column (at its own slot); between `2i + 1` and `2i + 2` it
/// crosses the gap between two columns, drawn as a curve (see [`svg_path`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Route {
    pub points: Vec<(f64, f64)>,
    /// Drawn right to left (the edge goes against the layers, to break a cycle).
    pub reversed: bool,
}

/// A group's box and heading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupBox {
    pub rect: Rect,
    /// Where the heading's baseline starts.
    pub heading_at: (f64, f64),
    /// How wide the heading may be without reaching a column gap (where edges pass): the
    /// drawing truncates a longer heading.
    pub heading_room: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// One per node given.
    pub nodes: Vec<Rect>,
    /// The column of each node.
    pub layers: Vec<usize>,
    /// One per edge given (empty for an edge from a node to itself).
    pub edges: Vec<Route>,
    /// One per group given; `None` for a group without nodes.
    pub groups: Vec<Option<GroupBox>>,
    pub width: f64,
    pub height: f64,
    /// Crossings between adjacent columns of the order chosen.
    pub crossings: usize,
}

/// Lays out a graph. Edges that name a node out of range are ignored.
pub fn layout(
    nodes: &[NodeSpec],
    edges: &[EdgeSpec],
    groups: &[GroupSpec],
    settings: &Settings,
) -> Layout {
    let n = nodes.len();
    let all_edges = edges.len();
    let edges: Vec<(usize, EdgeSpec)> = edges
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, e)| e.from < n && e.to < n && e.from != e.to)
        .collect();

    // 1. Cycles: a greedy order; an edge against it is reversed.
    let order = greedy_order(n, &edges);
    let mut rank = vec![0; n];
    for (r, &v) in order.iter().enumerate() {
        rank[v] = r;
    }
    // Oriented edges (left node, right node, original index, reversed).
    let oriented: Vec<(usize, usize, usize, bool)> = edges
        .iter()
        .map(|&(i, e)| {
            if rank[e.from] < rank[e.to] {
                (e.from, e.to, i, false)
            } else {
                (e.to, e.from, i, true)
            }
        })
        .collect();

    // 2. Layers: longest path from the sources, in the greedy order (a topological order of the
    // oriented edges); then a source moves right, next to its nearest receiver.
    let mut layer = vec![0usize; n];
    let mut incoming = vec![Vec::new(); n];
    let mut outgoing = vec![Vec::new(); n];
    for &(a, b, _, _) in &oriented {
        outgoing[a].push(b);
        incoming[b].push(a);
    }
    for &v in &order {
        layer[v] = incoming[v].iter().map(|&u| layer[u] + 1).max().unwrap_or(0);
    }
    for v in 0..n {
        if incoming[v].is_empty()
            && let Some(nearest) = outgoing[v].iter().map(|&w| layer[w]).min()
        {
            layer[v] = layer[v].max(nearest.saturating_sub(1));
        }
    }
    let layers = layer.iter().max().map_or(0, |m| m + 1);

    // 3. Dummies: items are nodes, then one dummy per layer an edge passes.
    let mut item_layer = layer.clone();
    let mut item_group: Vec<usize> = nodes.iter().map(|s| s.group).collect();
    let mut item_height: Vec<f64> = nodes.iter().map(|s| s.height).collect();
    let mut chains: Vec<Vec<usize>> = vec![Vec::new(); all_edges];
    let mut reversed = vec![false; all_edges];
    for &(a, b, i, rev) in &oriented {
        let mut chain = vec![a];
        let span = layer[b] - layer[a];
        for k in 1..span {
            let id = item_layer.len();
            item_layer.push(layer[a] + k);
            // The first half of a long edge runs in its sender's band, the rest in its receiver's.
            item_group.push(if 2 * k < span {
                nodes[a].group
            } else {
                nodes[b].group
            });
            item_height.push(settings.lane);
            chain.push(id);
        }
        chain.push(b);
        chains[i] = chain;
        reversed[i] = rev;
    }
    let items = item_layer.len();
    let mut up = vec![Vec::new(); items];
    let mut down = vec![Vec::new(); items];
    for chain in &chains {
        for pair in chain.windows(2) {
            down[pair[0]].push(pair[1]);
            up[pair[1]].push(pair[0]);
        }
    }

    // 4. Order: by group, then the input order; barycenter sweeps keep the best order found.
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for item in 0..items {
        columns[item_layer[item]].push(item);
    }
    for column in &mut columns {
        crate::sort::sort_by_key(column, |&i| item_group[i]);
    }
    let mut best = columns.clone();
    let mut best_crossings = count_crossings(&columns, &down, items);
    let mut position = vec![0.0f64; items];
    for sweep in 0..settings.sweeps {
        let downward = sweep % 2 == 0;
        let sequence: Vec<usize> = if downward {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for l in sequence {
            let (neighbour_layer, adjacent) = if downward {
                (l - 1, &up)
            } else {
                (l + 1, &down)
            };
            for (p, &item) in columns[neighbour_layer].iter().enumerate() {
                position[item] = p as f64;
            }
            let keys: Vec<(usize, f64, usize)> = columns[l]
                .iter()
                .enumerate()
                .map(|(p, &item)| {
                    let around = &adjacent[item];
                    let key = if around.is_empty() {
                        p as f64
                    } else {
                        around.iter().map(|&a| position[a]).sum::<f64>() / around.len() as f64
                    };
                    (item_group[item], key, p)
                })
                .collect();
            let mut sorted: Vec<(usize, (usize, f64, usize))> =
                columns[l].iter().copied().zip(keys).collect();
            crate::sort::sort_by(&mut sorted, |a, b| {
                a.1.0
                    .cmp(&b.1.0)
                    .then(a.1.1.total_cmp(&b.1.1))
                    .then(a.1.2.cmp(&b.1.2))
            });
            columns[l] = sorted.into_iter().map(|(item, _)| item).collect();
        }
        let crossings = count_crossings(&columns, &down, items);
        if crossings < best_crossings {
            best_crossings = crossings;
            best = columns.clone();
        }
    }
    let columns = best;

    // 5. Coordinates. Columns: as wide as their widest box.
    let column_width: Vec<f64> = (0..layers)
        .map(|l| {
            columns[l]
                .iter()
                .filter(|&&i| i < n)
                .map(|&i| nodes[i].width)
                .fold(0.0, f64::max)
                .max(20.0)
        })
        .collect();
    let mut column_left = Vec::with_capacity(layers);
    let mut x = settings.margin + settings.group_pad;
    for w in &column_width {
        column_left.push(x);
        x += w + settings.column_gap;
    }

    // Bands: each group's items of a column are stacked below its heading strip, then pulled
    // towards the centre of their neighbours, never above the heading, never past the band's
    // natural height.
    let group_count = groups
        .len()
        .max(item_group.iter().max().map_or(0, |g| g + 1));
    let heading = |g: usize| {
        if groups.get(g).is_some_and(|s| s.heading_width > 0.0) {
            settings.heading
        } else {
            0.0
        }
    };
    // Per column, per group: the items in order.
    let segments: Vec<Vec<(usize, Vec<usize>)>> = columns
        .iter()
        .map(|column| {
            let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
            for &item in column {
                match out.last_mut() {
                    Some((g, list)) if *g == item_group[item] => list.push(item),
                    _ => out.push((item_group[item], vec![item])),
                }
            }
            out
        })
        .collect();
    // Parallel edges passing a column sit closer together than boxes.
    let gap = |a: usize, b: usize| {
        if a >= n && b >= n {
            settings.lane_gap
        } else {
            settings.row_gap
        }
    };
    let stacked = |list: &[usize]| {
        list.iter().map(|&i| item_height[i]).sum::<f64>()
            + list.windows(2).map(|w| gap(w[0], w[1])).sum::<f64>()
    };
    let mut band_height = vec![0.0f64; group_count];
    let mut used = vec![false; group_count];
    for column in &segments {
        for (g, list) in column {
            used[*g] = true;
            band_height[*g] = band_height[*g].max(stacked(list));
        }
    }
    let mut band_top = vec![0.0f64; group_count];
    let mut y = settings.margin;
    for g in 0..group_count {
        band_top[g] = y;
        if used[g] {
            y += heading(g) + band_height[g] + 2.0 * settings.group_pad + settings.group_gap;
        }
    }
    // Relative tops within the band's content (below the heading).
    let mut top = vec![0.0f64; items];
    for column in &segments {
        for (_, list) in column {
            let mut t = 0.0;
            for (k, &i) in list.iter().enumerate() {
                top[i] = t;
                t += item_height[i] + list.get(k + 1).map_or(0.0, |&j| gap(i, j));
            }
        }
    }
    let content_top = |g: usize| band_top[g] + settings.group_pad + heading(g);
    for pass in 0..4 {
        let adjacent = if pass % 2 == 0 { &up } else { &down };
        for column in &segments {
            for (g, list) in column {
                let room = band_height[*g];
                let mut next_free = 0.0f64;
                for (k, &i) in list.iter().enumerate() {
                    let remaining = stacked(&list[k..]);
                    let h = item_height[i];
                    let around = &adjacent[i];
                    let wanted = if around.is_empty() {
                        top[i]
                    } else {
                        let centre = around
                            .iter()
                            .map(|&a| content_top(item_group[a]) + top[a] + item_height[a] / 2.0)
                            .sum::<f64>()
                            / around.len() as f64;
                        centre - h / 2.0 - content_top(*g)
                    };
                    let latest = room - remaining;
                    let t = wanted.min(latest).max(next_free);
                    top[i] = t;
                    next_free = t + h + list.get(k + 1).map_or(0.0, |&j| gap(i, j));
                }
            }
        }
    }
    let item_y = |i: usize| content_top(item_group[i]) + top[i];

    let rects: Vec<Rect> = (0..n)
        .map(|i| {
            let l = layer[i];
            Rect {
                x: column_left[l] + (column_width[l] - nodes[i].width) / 2.0,
                y: item_y(i),
                w: nodes[i].width,
                h: nodes[i].height,
            }
        })
        .collect();

    // Routes: a node's ports are spread along its side, ordered by where their edges go.
    let centre_y = |i: usize| item_y(i) + item_height[i] / 2.0;
    let mut right_ports: Vec<Vec<(f64, usize)>> = vec![Vec::new(); n];
    let mut left_ports: Vec<Vec<(f64, usize)>> = vec![Vec::new(); n];
    for (e, chain) in chains.iter().enumerate() {
        if chain.len() < 2 {
            continue;
        }
        right_ports[chain[0]].push((centre_y(chain[1]), e));
        left_ports[chain[chain.len() - 1]].push((centre_y(chain[chain.len() - 2]), e));
    }
    let spread = |ports: &mut Vec<(f64, usize)>, node: usize| -> Vec<(usize, f64)> {
        crate::sort::sort_by(ports, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let h = nodes[node].height;
        let usable = (h - 12.0).max(0.0);
        let k = ports.len();
        ports
            .iter()
            .enumerate()
            .map(|(j, &(_, e))| {
                let offset = if k <= 1 {
                    0.0
                } else {
                    -usable / 2.0 + usable * j as f64 / (k - 1) as f64
                };
                (e, rects[node].y + h / 2.0 + offset)
            })
            .collect()
    };
    let mut start_y = vec![0.0; all_edges];
    let mut end_y = vec![0.0; all_edges];
    for v in 0..n {
        for (e, y) in spread(&mut right_ports[v], v) {
            start_y[e] = y;
        }
        for (e, y) in spread(&mut left_ports[v], v) {
            end_y[e] = y;
        }
    }
    let routes: Vec<Route> = (0..all_edges)
        .map(|e| {
            let chain = &chains[e];
            if chain.len() < 2 {
                return Route::default();
            }
            let (a, b) = (chain[0], chain[chain.len() - 1]);
            let mut points = vec![
                (rects[a].right(), start_y[e]),
                (column_left[layer[a]] + column_width[layer[a]], start_y[e]),
            ];
            for &d in &chain[1..chain.len() - 1] {
                let l = item_layer[d];
                let y = centre_y(d);
                points.push((column_left[l], y));
                points.push((column_left[l] + column_width[l], y));
            }
            points.push((column_left[layer[b]], end_y[e]));
            points.push((rects[b].x, end_y[e]));
            if reversed[e] {
                points.reverse();
            }
            Route {
                points,
                reversed: reversed[e],
            }
        })
        .collect();

    // Group boxes around their nodes' columns and their band.
    let group_boxes: Vec<Option<GroupBox>> = (0..group_count)
        .map(|g| {
            let members: Vec<usize> = (0..n).filter(|&i| nodes[i].group == g).collect();
            let first = members.iter().map(|&i| layer[i]).min()?;
            let last = members.iter().map(|&i| layer[i]).max()?;
            let rect = Rect {
                x: column_left[first] - settings.group_pad,
                y: band_top[g],
                w: column_left[last] + column_width[last] - column_left[first]
                    + 2.0 * settings.group_pad,
                h: heading(g) + band_height[g] + 2.0 * settings.group_pad,
            };
            Some(GroupBox {
                rect,
                heading_at: (column_left[first], band_top[g] + settings.group_pad + 12.0),
                heading_room: column_width[first],
            })
        })
        .collect();

    let width = column_left
        .last()
        .zip(column_width.last())
        .map_or(0.0, |(l, w)| l + w)
        + settings.group_pad
        + settings.margin;
    let height = (y - settings.group_gap + settings.margin).max(0.0);
    Layout {
        nodes: rects,
        layers: layer,
        edges: routes,
        groups: group_boxes,
        width,
        height,
        crossings: best_crossings,
    }
}

/// The SVG path of a route: straight across columns, a smooth S-curve across the gaps.
pub fn svg_path(route: &Route) -> String {
    use std::fmt::Write;
    let mut d = String::new();
    for (k, &(x, y)) in route.points.iter().enumerate() {
        // Whole units: enough for a drawing, and integers format with less code than floats.
        let (x, y) = (x.round() as i64, y.round() as i64);
        if k == 0 {
            let _ = write!(d, "M{x} {y}");
        } else if k % 2 == 1 {
            let _ = write!(d, "L{x} {y}");
        } else {
            let (px, py) = route.points[k - 1];
            let (px, py) = (px.round() as i64, py.round() as i64);
            let mid = (px + x) / 2;
            let _ = write!(d, "C{mid} {py} {mid} {y} {x} {y}");
        }
    }
    d
}

/// Points along a route, as [`svg_path`] draws it (for tests and hit checks).
pub fn sample(route: &Route, per_curve: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (k, pair) in route.points.windows(2).enumerate() {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        for s in 0..=per_curve {
            let t = s as f64 / per_curve as f64;
            if k % 2 == 0 {
                out.push((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t));
            } else {
                // The cubic with control points (mid, y0), (mid, y1).
                let mid = (x0 + x1) / 2.0;
                let u = 1.0 - t;
                let bx =
                    u * u * u * x0 + 3.0 * u * u * t * mid + 3.0 * u * t * t * mid + t * t * t * x1;
                let by =
                    u * u * u * y0 + 3.0 * u * u * t * y0 + 3.0 * u * t * t * y1 + t * t * t * y1;
                out.push((bx, by));
            }
        }
    }
    out
}

/// Eades, Lin and Smyth's greedy order: sinks to the end, sources to the front, otherwise the
/// node whose outgoing weight most exceeds its incoming weight. Edges against it form a small
/// feedback set.
fn greedy_order(n: usize, edges: &[(usize, EdgeSpec)]) -> Vec<usize> {
    let mut out_w = vec![0i64; n];
    let mut in_w = vec![0i64; n];
    let mut outs = vec![Vec::new(); n];
    let mut ins = vec![Vec::new(); n];
    for &(_, e) in edges {
        let w = i64::from(e.weight.max(1));
        out_w[e.from] += w;
        in_w[e.to] += w;
        outs[e.from].push((e.to, w));
        ins[e.to].push((e.from, w));
    }
    let mut out_count: Vec<usize> = outs.iter().map(Vec::len).collect();
    let mut in_count: Vec<usize> = ins.iter().map(Vec::len).collect();
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut done = vec![false; n];
    let mut remaining = n;
    let remove = |v: usize,
                  done: &mut Vec<bool>,
                  out_count: &mut Vec<usize>,
                  in_count: &mut Vec<usize>,
                  out_w: &mut Vec<i64>,
                  in_w: &mut Vec<i64>| {
        done[v] = true;
        for &(t, w) in &outs[v] {
            in_count[t] -= 1;
            in_w[t] -= w;
        }
        for &(s, w) in &ins[v] {
            out_count[s] -= 1;
            out_w[s] -= w;
        }
    };
    while remaining > 0 {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for v in 0..n {
                if !done[v] && out_count[v] == 0 {
                    remove(
                        v,
                        &mut done,
                        &mut out_count,
                        &mut in_count,
                        &mut out_w,
                        &mut in_w,
                    );
                    right.push(v);
                    remaining -= 1;
                    progressed = true;
                }
            }
            for v in 0..n {
                if !done[v] && in_count[v] == 0 {
                    remove(
                        v,
                        &mut done,
                        &mut out_count,
                        &mut in_count,
                        &mut out_w,
                        &mut in_w,
                    );
                    left.push(v);
                    remaining -= 1;
                    progressed = true;
                }
            }
        }
        if remaining == 0 {
            break;
        }
        let v = (0..n)
            .filter(|&v| !done[v])
            .max_by_key(|&v| (out_w[v] - in_w[v], std::cmp::Reverse(v)))
            .expect("a node remains");
        remove(
            v,
            &mut done,
            &mut out_count,
            &mut in_count,
            &mut out_w,
            &mut in_w,
        );
        left.push(v);
        remaining -= 1;
    }
    right.reverse();
    left.extend(right);
    left
}

/// Crossings between adjacent columns: for each pair of columns, the inversions among the
/// edges sorted by their upper end (counted with a Fenwick tree).
fn count_crossings(columns: &[Vec<usize>], down: &[Vec<usize>], items: usize) -> usize {
    let mut position = vec![0usize; items];
    for column in columns {
        for (p, &item) in column.iter().enumerate() {
            position[item] = p;
        }
    }
    let mut total = 0;
    for pair in columns.windows(2) {
        let mut ends: Vec<(usize, usize)> = pair[0]
            .iter()
            .flat_map(|&a| down[a].iter().map(move |&b| (a, b)))
            .map(|(a, b)| (position[a], position[b]))
            .collect();
        crate::sort::sort(&mut ends);
        let size = pair[1].len() + 1;
        let mut tree = vec![0usize; size + 1];
        for (seen, &(_, b)) in ends.iter().enumerate() {
            // Edges already seen whose lower end is below this one's cross it.
            let mut at_most = 0;
            let mut i = b + 1;
            while i > 0 {
                at_most += tree[i];
                i &= i - 1;
            }
            total += seen - at_most;
            let mut i = b + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(group: usize) -> NodeSpec {
        NodeSpec {
            width: 140.0,
            height: 34.0,
            group,
        }
    }

    fn edge(from: usize, to: usize) -> EdgeSpec {
        EdgeSpec {
            from,
            to,
            weight: 1,
        }
    }

    /// Online Boutique's paths once enrolled: the load generator calls the frontend, which
    /// calls seven services; checkout calls five; the kubelet probes all eleven.
    fn boutique() -> (Vec<NodeSpec>, Vec<EdgeSpec>, Vec<GroupSpec>) {
        // 0 kubelet, 1 loadgenerator, 2 frontend, 3 ad, 4 currency, 5 cart, 6 redis,
        // 7 recommendation, 8 checkout, 9 email, 10 payment, 11 shipping, 12 catalog
        let mut nodes = vec![node(0)];
        nodes.extend((1..13).map(|_| node(1)));
        let mut edges: Vec<EdgeSpec> = [
            (1, 2),
            (2, 3),
            (2, 4),
            (2, 5),
            (2, 7),
            (2, 8),
            (2, 11),
            (2, 12),
            (8, 4),
            (8, 5),
            (8, 9),
            (8, 10),
            (8, 11),
            (8, 12),
            (5, 6),
            (7, 12),
        ]
        .iter()
        .map(|&(a, b)| EdgeSpec {
            from: a,
            to: b,
            weight: 10,
        })
        .collect();
        // The frontend admits everyone: weak edges back to it.
        edges.extend((3..13).map(|s| edge(s, 2)));
        edges.extend((2..13).map(|d| edge(0, d)));
        let groups = vec![
            GroupSpec { heading_width: 0.0 },
            GroupSpec {
                heading_width: 50.0,
            },
        ];
        (nodes, edges, groups)
    }

    fn assert_sound(nodes: &[NodeSpec], edges: &[EdgeSpec], groups: &[GroupSpec], l: &Layout) {
        // No two boxes overlap, and none overlaps a heading.
        for (i, a) in l.nodes.iter().enumerate() {
            for b in &l.nodes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        let headings: Vec<Rect> = l
            .groups
            .iter()
            .enumerate()
            .filter_map(|(g, b)| Some((g, (*b)?)))
            .filter(|(g, _)| groups[*g].heading_width > 0.0)
            .map(|(_, b)| Rect {
                x: b.heading_at.0,
                y: b.heading_at.1 - 12.0,
                w: b.heading_room,
                h: 15.0,
            })
            .collect();
        for h in &headings {
            for r in &l.nodes {
                assert!(!h.overlaps(r), "heading {h:?} on node {r:?}");
            }
        }
        // Group boxes are disjoint and hold their nodes.
        let boxes: Vec<Rect> = l.groups.iter().flatten().map(|b| b.rect).collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(b), "groups {a:?} and {b:?} overlap");
            }
        }
        for (i, spec) in nodes.iter().enumerate() {
            let b = l.groups[spec.group]
                .expect("a group with nodes has a box")
                .rect;
            let r = l.nodes[i];
            assert!(r.x >= b.x && r.right() <= b.right() && r.y >= b.y && r.bottom() <= b.bottom());
        }
        // Routes start and end on their nodes' sides and pass through no other box or heading.
        for (e, spec) in edges.iter().enumerate() {
            let route = &l.edges[e];
            if spec.from == spec.to {
                continue;
            }
            let (first, last) = (route.points[0], *route.points.last().expect("points"));
            let (from, to) = (l.nodes[spec.from], l.nodes[spec.to]);
            assert!(first.1 >= from.y && first.1 <= from.bottom());
            assert!(last.1 >= to.y && last.1 <= to.bottom());
            assert!(first.0 == from.x || first.0 == from.right());
            assert!(last.0 == to.x || last.0 == to.right());
            for p in sample(route, 16) {
                for (i, r) in l.nodes.iter().enumerate() {
                    assert!(!r.contains(p), "edge {e} passes through node {i} at {p:?}");
                }
                for h in &headings {
                    assert!(!h.contains(p), "edge {e} crosses a heading at {p:?}");
                }
            }
        }
        assert!(
            l.nodes
                .iter()
                .all(|r| r.right() <= l.width && r.bottom() <= l.height)
        );
    }

    #[test]
    fn boutique_is_sound_and_flows_left_to_right() {
        let (nodes, edges, groups) = boutique();
        let l = layout(&nodes, &edges, &groups, &Settings::default());
        assert_sound(&nodes, &edges, &groups, &l);
        // The specific paths keep their direction: loadgenerator, frontend, checkout, payment.
        assert!(l.layers[1] < l.layers[2]);
        assert!(l.layers[2] < l.layers[8]);
        assert!(l.layers[8] < l.layers[10]);
        assert_eq!(l.layers[0], 0, "the kubelet is a sender");
        for e in edges.iter().filter(|e| e.weight == 10) {
            assert!(!l.edges[edges.iter().position(|x| x == e).unwrap()].reversed);
        }
    }

    #[test]
    fn senders_are_left_of_receivers_on_acyclic_input() {
        // A layered DAG with long edges and edges between groups.
        let nodes: Vec<NodeSpec> = (0..12).map(|i| node(i % 3)).collect();
        let edges: Vec<EdgeSpec> = [
            (0, 1),
            (1, 2),
            (2, 3),
            (0, 3),
            (4, 5),
            (5, 6),
            (4, 11),
            (6, 7),
            (7, 8),
            (1, 9),
            (9, 10),
            (3, 10),
            (8, 11),
        ]
        .iter()
        .map(|&(a, b)| edge(a, b))
        .collect();
        let groups = vec![
            GroupSpec {
                heading_width: 60.0
            };
            3
        ];
        let l = layout(&nodes, &edges, &groups, &Settings::default());
        assert_sound(&nodes, &edges, &groups, &l);
        for e in &edges {
            assert!(l.nodes[e.from].right() < l.nodes[e.to].x, "{e:?}");
            assert!(l.layers[e.from] < l.layers[e.to]);
        }
        assert!(l.edges.iter().all(|r| !r.reversed));
    }

    #[test]
    fn cycles_are_broken_and_every_edge_is_routed() {
        let nodes: Vec<NodeSpec> = (0..5).map(|_| node(0)).collect();
        let edges: Vec<EdgeSpec> = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 2), (4, 4), (3, 4)]
            .iter()
            .map(|&(a, b)| edge(a, b))
            .collect();
        let groups = vec![GroupSpec {
            heading_width: 40.0,
        }];
        let l = layout(&nodes, &edges, &groups, &Settings::default());
        assert!(l.edges[5].points.is_empty(), "a self-loop has no route");
        let without_loop: Vec<EdgeSpec> =
            edges.iter().copied().filter(|e| e.from != e.to).collect();
        let l2 = layout(&nodes, &without_loop, &groups, &Settings::default());
        assert_sound(&nodes, &without_loop, &groups, &l2);
        assert!(l.edges.iter().filter(|r| r.reversed).count() >= 1);
        // A reversed edge still starts at its sender and ends at its receiver.
        for (e, spec) in without_loop.iter().enumerate() {
            let r = &l2.edges[e];
            let (first, last) = (r.points[0], *r.points.last().unwrap());
            assert!(l2.nodes[spec.from].y <= first.1 && first.1 <= l2.nodes[spec.from].bottom());
            assert!(l2.nodes[spec.to].y <= last.1 && last.1 <= l2.nodes[spec.to].bottom());
        }
    }

    #[test]
    fn crossings_are_never_worse_than_the_input_order() {
        let (nodes, edges, groups) = boutique();
        let kept = layout(
            &nodes,
            &edges,
            &groups,
            &Settings {
                sweeps: 0,
                ..Settings::default()
            },
        );
        let swept = layout(&nodes, &edges, &groups, &Settings::default());
        assert!(swept.crossings <= kept.crossings);
        // A crossed pair of edges, input order a b / d c: one crossing that the sweep removes.
        let nodes: Vec<NodeSpec> = (0..4).map(|_| node(0)).collect();
        let edges = [edge(0, 3), edge(1, 2)];
        let groups = [GroupSpec { heading_width: 0.0 }];
        let kept = layout(
            &nodes,
            &edges,
            &groups,
            &Settings {
                sweeps: 0,
                ..Settings::default()
            },
        );
        assert_eq!(kept.crossings, 1);
        assert_eq!(
            layout(&nodes, &edges, &groups, &Settings::default()).crossings,
            0
        );
    }

    #[test]
    fn the_layout_is_deterministic() {
        let (nodes, edges, groups) = boutique();
        let a = layout(&nodes, &edges, &groups, &Settings::default());
        let b = layout(&nodes, &edges, &groups, &Settings::default());
        assert_eq!(a, b);
    }

    #[test]
    fn many_groups_and_wide_nodes_stay_apart() {
        // Sixty nodes in six groups, each calling the next two, with varied widths.
        let nodes: Vec<NodeSpec> = (0..60)
            .map(|i| NodeSpec {
                width: 80.0 + (i * 37 % 160) as f64,
                height: if i % 7 == 0 { 44.0 } else { 34.0 },
                group: i % 6,
            })
            .collect();
        let edges: Vec<EdgeSpec> = (0..58)
            .flat_map(|i| [edge(i, i + 1), edge(i, (i * 7 + 3) % 60)])
            .filter(|e| e.from != e.to)
            .collect();
        let groups = vec![
            GroupSpec {
                heading_width: 70.0
            };
            6
        ];
        let l = layout(&nodes, &edges, &groups, &Settings::default());
        assert_sound(&nodes, &edges, &groups, &l);
    }

    #[test]
    fn empty_and_single_inputs() {
        let l = layout(&[], &[], &[], &Settings::default());
        assert!(l.nodes.is_empty() && l.edges.is_empty());
        let l = layout(&[node(0)], &[edge(0, 3)], &[], &Settings::default());
        assert_eq!(l.nodes.len(), 1);
        assert!(
            l.edges[0].points.is_empty(),
            "edges to unknown nodes are ignored"
        );
    }

    #[test]
    fn the_svg_path_alternates_lines_and_curves() {
        let route = Route {
            points: vec![(0.0, 0.0), (10.0, 0.0), (30.0, 20.0), (40.0, 20.0)],
            reversed: false,
        };
        assert_eq!(svg_path(&route), "M0 0L10 0C20 0 20 20 30 20L40 20");
    }
}
