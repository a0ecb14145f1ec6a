#!/usr/bin/env bash
# Runs network-config-analyzer (NCA) 2.1.0, a peer NetworkPolicy analyser, and our `connectivity`
# on the same generated cluster; prints both wall times, the ratio, and the differences between
# the two results (benches/compare_nca.py). Fails when we are not at least 50x faster.
#
#   benches/compare-nca.sh [SIZE]      SIZE: S, M (default), L, or "NAMESPACES WORKLOADS POLICIES"
#
# NCA is installed from PyPI into a virtualenv under target/ (NCA_VENV overrides) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-M}
venv=${NCA_VENV:-target/nca-venv}
work=target/compare-nca
mkdir -p "$work"

if [ ! -x "$venv/bin/nca" ]; then
  echo "installing network-config-analyzer 2.1.0 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet network-config-analyzer==2.1.0
fi
cargo build --quiet --release --bin ambient-netpol --example gen-cluster
# shellcheck disable=SC2086 # the size may be three numbers
target/release/examples/gen-cluster $size 1 > "$work/cluster.yaml"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

start=$(now)
"$venv/bin/nca" --connectivity -r "$work/cluster.yaml" --output_format txt_no_fw_rules \
  --output_endpoints deployments > "$work/nca.txt" 2> "$work/nca.log"
nca_s=$(elapsed "$start" "$(now)")

# Ours: best of five (one run is ~20 ms, where process start-up noise matters).
ours_s=
for _ in 1 2 3 4 5; do
  start=$(now)
  target/release/ambient-netpol connectivity --format json "$work/cluster.yaml" > "$work/ours.json"
  t=$(elapsed "$start" "$(now)")
  if [ -z "$ours_s" ] || [ "$(echo "$t < $ours_s" | bc -l)" = 1 ]; then ours_s=$t; fi
done
ratio=$(echo "$nca_s / $ours_s" | bc -l)
workloads=$(grep -c '^kind: \(Deployment\|StatefulSet\|DaemonSet\|Pod\|Job\|CronJob\|ReplicaSet\)$' "$work/cluster.yaml" || true)
printf 'cluster %s (%s workloads): NCA %.2f s, ambient-netpol %.3f s: %.0fx faster\n' \
  "$size" "$workloads" "$nca_s" "$ours_s" "$ratio"

# NCA applies policies to hostNetwork pods like to any pod: compare in that model first, then
# in our default (`--host-network node`), where the hostNetwork pods differ by design.
target/release/ambient-netpol connectivity --host-network pod --format json "$work/cluster.yaml" \
  > "$work/ours-pod.json"
echo
echo "differences with --host-network pod (NCA's model of hostNetwork pods):"
python3 benches/compare_nca.py "$work/nca.txt" "$work/ours-pod.json"
echo
echo "differences with the default --host-network node:"
python3 benches/compare_nca.py "$work/nca.txt" "$work/ours.json"

if [ "$(echo "$ratio < 50" | bc -l)" = 1 ]; then
  echo "FAIL: ambient-netpol is less than 50x faster than NCA" >&2
  exit 1
fi
