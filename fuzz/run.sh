#!/usr/bin/env bash
# Runs one fuzz target (analyze, fix_reanalyse, diff, yaml_fast) for N seconds, seeding its
# corpus from the seed examples and the fixture inputs. Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz --locked`). Crashes land in fuzz/artifacts/<target>/; minimise one
# with `cargo +nightly fuzz tmin <target> <file>` and keep it under tests/fuzz-regressions/.
# Usage: fuzz/run.sh analyze 600
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?target: analyze, fix_reanalyse, diff or yaml_fast}"
seconds="${2:-600}"
mkdir -p "corpus/$target"
if [ "$target" != diff ]; then
  cp ../tests/seed/*.yaml "corpus/$target/"
  for dir in ../tests/fixtures/*/; do
    for file in "$dir"*.yaml "$dir"*.json; do
      [ -f "$file" ] && cp "$file" "corpus/$target/$(basename "$dir")-$(basename "$file")"
    done
  done
fi
exec cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048
