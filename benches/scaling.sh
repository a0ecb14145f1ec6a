#!/usr/bin/env bash
# Wall time of `check` on the S, M, L and XL clusters (best of 5; XL of 3) with the release CLI:
# the figures of benches/scaling.csv and of the plot (benches/plot.py). BEFORE=path/to/binary
# also times an older build for the before_ms column.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --locked --bin ambient-netpol --example gen-cluster
mkdir -p target/perf
best_ms() { # binary file runs
  local best=
  for _ in $(seq "$3"); do
    local start; start=$(date +%s%N)
    "$1" check "$2" > /dev/null || [ $? -eq 1 ]
    local ms=$((($(date +%s%N) - start) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
for size in S M L XL; do
  target/release/examples/gen-cluster "$size" 1 > "target/perf/$size.yaml"
  runs=5; [ "$size" = XL ] && runs=3
  line="$size: $(best_ms target/release/ambient-netpol "target/perf/$size.yaml" "$runs") ms"
  if [ -n "${BEFORE:-}" ]; then
    line="$line (before: $(best_ms "$BEFORE" "target/perf/$size.yaml" "$runs") ms)"
  fi
  echo "$line"
done
