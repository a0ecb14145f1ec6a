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

#[divan::bench(args = SIZES, max_time = 5)]
fn check(bencher: Bencher, size: &str) {
    let text = text(size);
    bencher.bench(|| support::check(text));
}

#[divan::bench(args = SIZES, max_time = 5)]
fn diff(bencher: Bencher, size: &str) {
    let text = text(size);
    let (report, _) = support::check(text);
    bencher.bench(|| ambient_netpol::diff::unified(&[support::NAME], &[text], &report.fixed.texts));
}

/// The seed's first example (`my-app:9090`, HBONE blocked), the page's first view.
#[divan::bench]
fn check_seed(bencher: Bencher) {
    let text = include_str!("../tests/seed/hbone-blocked.yaml");
    bencher.bench(|| support::check(text));
}
