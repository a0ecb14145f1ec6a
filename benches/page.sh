#!/usr/bin/env bash
# Measures the playground on the L cluster in Debian's Chromium (tests/e2e/page.measure.mjs), next
# to the native CLI's `check` and `check --diff` of the same file in the same run: the worker's
# analysis (the page's status line, `Analysis::millis`), paste to findings, typed edit to findings
# (the page's performance marks) and typing latency (Event Timing), next to a bare textarea
# holding the same text; then pastes of XL and of 20 MB (paste handler, next frame, findings).
# Prints JSON; the figures go to BENCHMARKS.md.
# Usage: benches/page.sh [SIZE]   (SIZE of the generator, default L; E2E_DIST and E2E_PORT as for
# the browser tests, CARGO_TARGET_DIR as for cargo)
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
setup_build_tools
setup_chromium
cd "$ROOT"
size=${1:-L}
target=${CARGO_TARGET_DIR:-$ROOT/target}
dist=${E2E_DIST:-$ROOT/dist}
mkdir -p "$target/perf"
step "build the page, the CLI and the $size cluster"
trunk build --release --offline --dist "$dist"
cargo build --quiet --release --locked --bin ambient-netpol --example gen-cluster
"$target/release/examples/gen-cluster" "$size" 1 > "$target/perf/$size.yaml"
"$target/release/examples/gen-cluster" XL 1 > "$target/perf/XL.yaml"

# The native counterparts of the worker's two answers: `check` makes the findings (and the fix,
# unchecked), as the worker's first answer does; `check --diff` also checks the fix and writes
# the diff, as its complete answer does.
native_best() {
  local best= start ms
  for _ in 1 2 3 4 5 6 7; do
    start=$(date +%s%N)
    # Exit 1: the cluster has errors, as it should.
    "$target/release/ambient-netpol" check "$@" "$target/perf/$size.yaml" > /dev/null || [ $? -eq 1 ]
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
step "native check of the $size cluster (release CLI, best of 7): check, then check --diff"
check_ms=$(native_best)
diff_ms=$(native_best --diff)
echo "native check: $check_ms ms; check --diff: $diff_ms ms"

step "measure in $CHROME_PATH"
(cd tests/e2e && E2E_DIST="$dist" MEASURE=1 NATIVE_CHECK_MS="$check_ms" NATIVE_DIFF_MS="$diff_ms" CLUSTER="$target/perf/$size.yaml" \
  CLUSTER_XL="$target/perf/XL.yaml" MEASURE_OUT="$target/perf/page-$size.json" playwright test)
