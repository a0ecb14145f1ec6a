#!/usr/bin/env bash
# Runs network-config-analyzer (NCA) 2.1.0, a peer NetworkPolicy analyser, and our `connectivity`
# on the same generated cluster; prints both wall times, the ratio, and the differences between
# the two results (benches/compare_nca.py). Fails when we are not at least 50x faster.
#
#   benches/compare-nca.sh [SIZE]      SIZE: S, M (default), L, or "NAMESPACES WORKLOADS POLICIES"
#   benches/compare-nca.sh --authz [SIZE]
#
# --authz compares ztunnel's verdicts on Istio AuthorizationPolicies instead, on a cluster of
# `gen-cluster --authz` (everything in the ambient mesh): first without the NetworkPolicies (the
# AuthorizationPolicy layer alone), then with them on the pairs where NetworkPolicy's verdict is
# the same under ambient and in NCA's sidecar model (BENCHMARKS.md, "AuthorizationPolicies");
# both again without the known causes of differences, where it fails on any difference left.
# It does not time.
#
# NCA is installed from PyPI into a virtualenv under target/ (NCA_VENV overrides) the first time.
# CARGO_TARGET_DIR is honoured; PROFILE=dev uses a debug build (default: release).
set -euo pipefail
cd "$(dirname "$0")/.."

authz=
if [ "${1:-}" = --authz ]; then
  authz=1
  shift
fi
size=${1:-M}
venv=${NCA_VENV:-target/nca-venv}
work=target/compare-nca
mkdir -p "$work"
profile=${PROFILE:-release}
bin=${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")

if [ ! -x "$venv/bin/nca" ]; then
  echo "installing network-config-analyzer 2.1.0 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet network-config-analyzer==2.1.0
fi
cargo build --quiet --profile "$profile" --bin ambient-netpol --example gen-cluster

nca() {
  "$venv/bin/nca" --connectivity -r "$1" --output_format txt_no_fw_rules \
    --output_endpoints deployments > "$2" 2> "${2%.txt}.log"
}

if [ -n "$authz" ]; then
  # shellcheck disable=SC2086 # the size may be three numbers
  "$bin/examples/gen-cluster" $size 1 --authz > "$work/authz-cluster.yaml"
  for run in authz-only with-netpol ablated-authz-only ablated-with-netpol; do
    layers=${run#ablated-}
    keep=
    ablate=
    [ "$layers" = with-netpol ] && keep=--keep-netpol
    [ "$run" != "$layers" ] && ablate=--ablate
    python3 benches/compare_nca.py --authz-inputs "$work/authz-cluster.yaml" \
      "$work/$run.yaml" "$work/$run-nca.yaml" ${keep:+"$keep"} ${ablate:+"$ablate"}
    nca "$work/$run-nca.yaml" "$work/$run-nca.txt"
    "$bin/ambient-netpol" connectivity --mode ambient --host-network pod --format json \
      "$work/$run.yaml" > "$work/$run-ours.json"
    echo
    what="AuthorizationPolicies alone"
    [ -n "$keep" ] && what="NetworkPolicies and AuthorizationPolicies"
    [ -n "$ablate" ] && what="$what, without hostNetwork pods and negative sources"
    echo "cluster $size --authz, $what (TCP):"
    python3 benches/compare_nca.py --authz "$work/$run-nca.txt" "$work/$run-ours.json" \
      "$work/$run.yaml" ${keep:+"$keep"} ${ablate:+"$ablate"}
  done
  exit 0
fi

# shellcheck disable=SC2086 # the size may be three numbers
"$bin/examples/gen-cluster" $size 1 > "$work/cluster.yaml"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

start=$(now)
nca "$work/cluster.yaml" "$work/nca.txt"
nca_s=$(elapsed "$start" "$(now)")

# Ours: best of five (one run is ~20 ms, where process start-up noise matters).
ours_s=
for _ in 1 2 3 4 5; do
  start=$(now)
  "$bin/ambient-netpol" connectivity --format json "$work/cluster.yaml" > "$work/ours.json"
  t=$(elapsed "$start" "$(now)")
  if [ -z "$ours_s" ] || [ "$(echo "$t < $ours_s" | bc -l)" = 1 ]; then ours_s=$t; fi
done
ratio=$(echo "$nca_s / $ours_s" | bc -l)
workloads=$(grep -c '^kind: \(Deployment\|StatefulSet\|DaemonSet\|Pod\|Job\|CronJob\|ReplicaSet\)$' "$work/cluster.yaml" || true)
printf 'cluster %s (%s workloads): NCA %.2f s, ambient-netpol %.3f s: %.0fx faster\n' \
  "$size" "$workloads" "$nca_s" "$ours_s" "$ratio"

# NCA applies policies to hostNetwork pods like to any pod: compare in that model first, then
# in our default (`--host-network node`), where the hostNetwork pods differ by design.
"$bin/ambient-netpol" connectivity --host-network pod --format json "$work/cluster.yaml" \
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
