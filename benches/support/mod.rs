//! What the benchmarks share: the generated clusters and one call per pipeline stage, so
//! `benches/core.rs` (S, M, L, the seed) and `benches/xl.rs` (XL) measure the same things.

#![allow(dead_code)] // each bench file takes what it needs

#[path = "../../tests/support/cluster.rs"]
mod cluster;

use ambient_netpol::pipeline::connectivity::{Connection, connectivity};
use ambient_netpol::pipeline::engine::Engine;
use ambient_netpol::{Options, Report, Source, analyze, diff, input, load, pipeline};

pub const NAME: &str = "cluster.yaml";

/// The generated cluster of a size (`S`, `M`, `L`, `XL`), seed 1 as in BENCHMARKS.md.
pub fn cluster(size: &str) -> String {
    let size = match size {
        "S" => cluster::S,
        "M" => cluster::M,
        "L" => cluster::L,
        "XL" => cluster::XL,
        other => panic!("unknown size {other}"),
    };
    cluster::generate(size, 1)
}

/// [`cluster`] with `n` cluster-wide policies (Admin and Baseline tiers, both API versions).
pub fn cluster_with_tiers(size: &str, n: usize) -> String {
    let namespaces = match size {
        "S" | "M" => 10,
        "L" => 50,
        _ => 200,
    };
    let mut text = cluster(size);
    text.push_str(&cluster::cluster_policies(n, namespaces, 1));
    text
}

pub fn source(text: &str) -> [Source<'_>; 1] {
    [Source { name: NAME, text }]
}

/// YAML to objects (syntax, documents, kinds).
pub fn parse(text: &str) -> input::Loaded {
    input::load(&source(text))
}

/// Objects to the cluster model (validation, workloads, policies).
pub fn model(objects: &input::Loaded) -> usize {
    pipeline::load(&objects.objects).0.workloads.len()
}

/// Every allowed pair between workloads and address ranges.
pub fn connectivity_of(text: &str) -> Vec<Connection> {
    let loaded = load(&source(text));
    connectivity(&Engine::new(&loaded.cluster))
}

/// What `check` does: analysis with fixes, and the diff of the fixed text.
/// `check` without an output that shows the fix (text, SARIF, the CI formats): the findings,
/// the fix made but not checked.
pub fn findings(text: &str) -> Report {
    ambient_netpol::findings(&source(text), &Options::default())
}

/// `check --diff` (and JSON): the fix made, checked, and its diff.
pub fn check(text: &str) -> (Report, String) {
    let report = analyze(&source(text), &Options::default());
    let diff = diff::unified(&[NAME], &[text], &report.fixed.texts);
    (report, diff)
}
