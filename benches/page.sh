#!/usr/bin/env bash
# Measures the playground on the L cluster in Debian's Chromium (tests/e2e/page.measure.mjs):
# paste to findings, typed edit to findings (the page's performance marks) and typing latency
# (Event Timing), next to a bare textarea holding the same text; then pastes of XL and of 20 MB
# (paste handler, next frame, findings). Prints JSON; the figures go to
# BENCHMARKS.md. Usage: benches/page.sh [SIZE]   (SIZE of the generator, default L)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
setup_build_tools
setup_chromium
cd "$ROOT"
size=${1:-L}
mkdir -p target/perf
step "build the page and the $size cluster"
trunk build --release --offline
cargo run --quiet --release --example gen-cluster -- "$size" 1 > "target/perf/$size.yaml"
cargo run --quiet --release --example gen-cluster -- XL 1 > target/perf/XL.yaml
step "measure in $CHROME_PATH"
(cd tests/e2e && MEASURE=1 CLUSTER="$ROOT/target/perf/$size.yaml" CLUSTER_XL="$ROOT/target/perf/XL.yaml" \
  MEASURE_OUT="$ROOT/target/perf/page-$size.json" playwright test)
