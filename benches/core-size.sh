#!/usr/bin/env bash
# The size of the analysis alone as wasm (BENCHMARKS.md "Size"): a scratch crate, outside the
# repository, whose one export does the worker's work (the fix checked, the diff, the fixed
# text's paths, the report as JSON) with the core and nothing of the page: no Leptos, no
# wasm-bindgen. Built as the page is (opt-level "z", fat LTO, panic = "abort", wasm-opt -Oz,
# SIMD); prints the bytes, raw and gzipped.
# Usage: benches/core-size.sh   (CARGO_TARGET_DIR as for cargo)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
setup_build_tools
cd "$ROOT"
crate=$(mktemp -d)
trap 'rm -rf "$crate"' EXIT
mkdir "$crate/src"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "core-size"
version = "0.0.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]

[dependencies]
ambient-netpol = { path = "$ROOT", default-features = false }
serde_json = "1"

[profile.release]
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
TOML
cat > "$crate/src/lib.rs" <<'RUST'
use ambient_netpol::{Options, Source, analyze, analyze_unchecked, diff};

#[unsafe(no_mangle)]
pub extern "C" fn alloc(n: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(n);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// The worker's work on the text at (ptr, len); returns the JSON, NUL-terminated.
#[unsafe(no_mangle)]
pub extern "C" fn run(ptr: *mut u8, len: usize) -> *const u8 {
    let text = unsafe { String::from_raw_parts(ptr, len, len) };
    let options = Options::default();
    let sources = [Source { name: "playground.yaml", text: &text }];
    let report = analyze(&sources, &options);
    let fixed = report.fixed.combined();
    let diff = diff::unified(&["playground.yaml"], &[&text], std::slice::from_ref(&fixed));
    let fixed_sources = [Source { name: "playground.yaml", text: &fixed }];
    let paths = analyze_unchecked(&fixed_sources, &options).report.paths;
    let mut out = serde_json::to_string(&(report, diff, paths)).unwrap_or_default();
    out.push('\0');
    let p = out.as_ptr();
    std::mem::forget(out);
    p
}
RUST
target=${CARGO_TARGET_DIR:-$ROOT/target}/core-size
step "build the core alone for wasm32 (scratch crate in $crate)"
# The scratch crate is outside the repository: pass the page's wasm flags (.cargo/config.toml's
# SIMD; not its inlining threshold, to measure the smallest build).
(cd "$crate" && RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR="$target" \
  cargo build --quiet --release --target wasm32-unknown-unknown)
wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-simd \
  "$target/wasm32-unknown-unknown/release/core_size.wasm" -o "$crate/core.wasm"
echo "the analysis alone: $(wc -c < "$crate/core.wasm") B, $(gzip -9 -c "$crate/core.wasm" | wc -c) B gzipped"
