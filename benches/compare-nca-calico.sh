#!/usr/bin/env bash
# A differential test of our Calico semantics: network-config-analyzer (NCA) 2.1.0, which reads
# Calico's NetworkPolicies and GlobalNetworkPolicies beside Kubernetes NetworkPolicies, and our
# `connectivity --cni calico` on generated clusters (`gen-cluster --calico`), pair by pair and
# per protocol (benches/compare_nca.py --calico). Each cluster is compared four times: as
# generated, where the two known causes of differences show (BENCHMARKS.md, "Calico against
# NCA"), with one cause taken out, with the other, and with both (--ablate), where any difference
# fails the script; and once more without both but with NCA's input in the file's order instead
# of Calico's (NCA breaks ties of `order` by input order), to count what the ties decide. Prints
# a table of the pairs compared and the differences of each run.
#
#   benches/compare-nca-calico.sh [CLUSTERS]     CLUSTERS: how many (default 20), seeds 1..N
#
# NCA is installed from PyPI into a virtualenv under target/ (NCA_VENV overrides) the first time.
# CARGO_TARGET_DIR is honoured; PROFILE=dev uses a debug build (default: release). Not part of
# scripts/test: it needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

clusters=${1:-20}
venv=${NCA_VENV:-target/nca-venv}
work=target/compare-nca-calico
mkdir -p "$work"
profile=${PROFILE:-release}
bin=${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")

if [ ! -x "$venv/bin/nca" ]; then
  echo "installing network-config-analyzer 2.1.0 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet network-config-analyzer==2.1.0
fi
cargo build --quiet --profile "$profile" --bin ambient-netpol --example gen-cluster

# NAMESPACES WORKLOADS KUBERNETES-POLICIES CALICO-POLICIES, in turn.
sizes=("3 12 3 6" "4 20 5 10" "5 30 8 14" "6 40 10 20" "10 50 10 25" "8 60 12 30" "12 120 25 50")

# Runs: as generated; with one known cause taken out (so what is left is the other's); with
# both taken out, where any difference fails.
# Last, both out but NCA given the policies in the input's order, not Calico's: what the ties
# of `order` decide (not a failure).
runs=(full no-pod-nets no-lone-not-selector ablated file-order)
declare -A ablation=([full]= [no-pod-nets]=--ablate=nets \
  [no-lone-not-selector]=--ablate=not-selector [ablated]=--ablate \
  [file-order]=--ablate=nets,not-selector,file-order)
line() { printf '%-5s %-13s %9s %9s %9s %14s %14s %9s %11s\n' "$@"; }
line seed size compared identical different "lone notSel." "pod nets" neither "ties, NCA"
line "" "" "" "" "" "(pod nets out)" "(notSel. out)" "" "file order"
fail=0
total=(0 0 0 0 0 0 0)
for seed in $(seq 1 "$clusters"); do
  read -r namespaces workloads policies calico <<< "${sizes[$(( (seed - 1) % ${#sizes[@]} ))]}"
  base=$work/$seed
  "$bin/examples/gen-cluster" "$namespaces" "$workloads" "$policies" "$seed" \
    --calico="$calico" > "$base-cluster.yaml"
  row=()
  for run in "${runs[@]}"; do
    ablate=${ablation[$run]}
    python3 benches/compare_nca.py --calico-inputs "$base-cluster.yaml" "$base-$run.yaml" \
      "$base-$run-nca.yaml" ${ablate:+"$ablate"}
    if ! "$venv/bin/nca" --connectivity -r "$base-$run-nca.yaml" --output_format txt_no_fw_rules \
      --output_endpoints deployments > "$base-$run-nca.txt" 2> "$base-$run-nca.log"; then
      echo "FAIL: NCA failed on $base-$run-nca.yaml:" >&2
      grep -i error "$base-$run-nca.log" >&2
      exit 1
    fi
    "$bin/ambient-netpol" connectivity --cni calico --pod-cidr 10.244.0.0/16 \
      --host-network pod --format json "$base-$run.yaml" > "$base-$run-ours.json"
    if ! python3 benches/compare_nca.py --calico "$base-$run-nca.txt" "$base-$run-ours.json" \
      ${ablate:+"$ablate"} > "$base-$run-diff.txt" 2>&1; then
      fail=1
    fi
    read -r _ compared same different < <(grep '^RESULT ' "$base-$run-diff.txt")
    if [ "$run" = full ]; then
      row+=("$compared" "$same" "$different")
    else
      row+=("$different")
    fi
  done
  line "$seed" "$namespaces/$workloads/$policies/$calico" "${row[@]}"
  for i in 0 1 2 3 4 5 6; do total[i]=$(( total[i] + row[i] )); done
done
line all "" "${total[@]}"
echo "(size: namespaces/workloads/Kubernetes NetworkPolicies/Calico policies; the details of"
echo " each run are in $work/SEED-RUN-diff.txt)"
if [ "$fail" = 1 ]; then
  echo "FAIL: differences remain once the known causes are taken out:" >&2
  grep -l '^FAIL' "$work"/*-ablated-diff.txt >&2 || true
  exit 1
fi
