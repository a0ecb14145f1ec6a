//! Benchmarks of each stage at sizes S, M and L of the generated cluster, and of `check` on the
//! seed's first example: `cargo bench --bench core`. Figures and the machine are in
//! BENCHMARKS.md; XL is `benches/xl.rs`.

mod support;

use std::sync::OnceLock;

use divan::Bencher;

const SIZES: [&str; 3] = ["S", "M", "L"];

/// The allocator of the CLI, so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// Each size generated once per run.
fn text(size: &str) -> &'static str {
    static TEXTS: OnceLock<Vec<(&str, String)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| SIZES.iter().map(|&s| (s, support::cluster(s))).collect());
    &texts
        .iter()
        .find(|(s, _)| *s == size)
        .expect("a known size")
        .1
}

#[divan::bench(args = SIZES, max_time = 5)]
fn parse(bencher: Bencher, size: &str) {
    let text = text(size);
    bencher.bench(|| support::parse(text));
}

#[divan::bench(args = SIZES, max_time = 5)]
fn model(bencher: Bencher, size: &str) {
    let objects = support::parse(text(size));
    bencher.bench(|| support::model(&objects));
}

#[divan::bench(args = SIZES, max_time = 5)]
fn connectivity(bencher: Bencher, size: &str) {
    let text = text(size);
    bencher.bench(|| support::connectivity_of(text));
}

/// `check` as a CI step runs it: the findings, no fix checked.
#[divan::bench(args = SIZES, max_time = 5)]
fn check(bencher: Bencher, size: &str) {
    let text = text(size);
    bencher.bench(|| support::findings(text));
}

/// `check --diff`: the fix made, checked (with its next rounds) and shown.
#[divan::bench(args = SIZES, max_time = 5)]
fn check_fix(bencher: Bencher, size: &str) {
    let text = text(size);
    bencher.bench(|| support::check(text));
}

#[divan::bench(args = SIZES, max_time = 5)]
fn diff(bencher: Bencher, size: &str) {
    let text = text(size);
    let (report, _) = support::check(text);
    bencher.bench(|| ambient_netpol::diff::unified(&[support::NAME], &[text], &report.fixed.texts));
}

/// L with 100 cluster-wide policies.
fn l_with_100() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| support::cluster_with_tiers("L", 100))
}

/// `check` of L with 100 cluster-wide policies (issue 17's target: within 100 ms, like L).
#[divan::bench(max_time = 5)]
fn check_l_with_100_cluster_policies(bencher: Bencher) {
    bencher.bench(|| support::findings(l_with_100()));
}

/// `check --diff` of L with 100 cluster-wide policies: the fix checked takes two rounds.
#[divan::bench(max_time = 5)]
fn check_fix_l_with_100_cluster_policies(bencher: Bencher) {
    bencher.bench(|| support::check(l_with_100()));
}

/// The seed's first example (`my-app:9090`, HBONE blocked), the page's first view.
#[divan::bench]
fn check_seed(bencher: Bencher) {
    let text = include_str!("../tests/seed/hbone-blocked.yaml");
    bencher.bench(|| support::check(text));
}

/// The path diagram's layout (`ambient_netpol::layout`) of Online Boutique once enrolled, as the
/// page draws it: HBONE and probe edges, one band per namespace.
#[divan::bench]
fn layout_online_boutique(bencher: Bencher) {
    use ambient_netpol::ambient::paths::EdgeKind;
    use ambient_netpol::layout::{EdgeSpec, GroupSpec, NodeSpec, Settings, layout};
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/realworld/online-boutique"
    );
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the Online Boutique manifests")
        .map(|e| e.expect("a file").path())
        .collect();
    files.sort();
    let text: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("YAML") + "\n---\n")
        .collect();
    let paths = support::check(&text).0.paths;
    let nodes: Vec<NodeSpec> = paths
        .nodes
        .iter()
        .map(|n| NodeSpec {
            width: 24.0 + 7.2 * n.label.len() as f64,
            height: 34.0,
            group: usize::from(!n.namespace.is_empty()),
        })
        .collect();
    let index = |id: &str| paths.nodes.iter().position(|n| n.id == id).expect("a node");
    let edges: Vec<EdgeSpec> = paths
        .edges
        .iter()
        .filter(|e| e.kind != EdgeKind::App)
        .map(|e| EdgeSpec {
            from: index(&e.from),
            to: index(&e.to),
            weight: if e.allowed { 1 } else { 10 },
        })
        .collect();
    let groups = [
        GroupSpec { heading_width: 0.0 },
        GroupSpec {
            heading_width: 50.0,
        },
    ];
    bencher.bench(|| layout(&nodes, &edges, &groups, &Settings::default()));
}
