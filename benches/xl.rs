//! The XL cluster (200 namespaces, 10,000 workloads, 2,500 policies), apart because it is slow:
//! `cargo bench --bench xl`. Connectivity is left out at XL: it lists ~25 M pairs, a cost of the
//! output, not of the analysis.

mod support;

use std::sync::OnceLock;

use divan::Bencher;

/// The allocator of the CLI, so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| support::cluster("XL"))
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse(bencher: Bencher) {
    bencher.bench(|| support::parse(text()));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn model(bencher: Bencher) {
    let objects = support::parse(text());
    bencher.bench(|| support::model(&objects));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn check(bencher: Bencher) {
    bencher.bench(|| support::check(text()));
}
