#!/usr/bin/env bash
# The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit try-repo` (from
# PyPI, on PATH: scripts/ci-tests puts its venv there) on a temporary git repository holding a
# fixture case: `ambient-netpol` fails with the finding; `ambient-netpol-fix` corrects the file,
# after which `ambient-netpol` passes.
#
# pre-commit builds the hook with `cargo install` (`language: rust`) from a snapshot of this
# working tree (tracked and untracked files, not the ignored ones) committed with a fixed date,
# so an unchanged tree is the same revision and pre-commit's cache (under the target directory)
# skips the build. The build uses a quick profile (no LTO, opt-level 0) and its own target dir.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
command -v pre-commit >/dev/null || { echo "pre-commit is not on PATH" >&2; exit 1; }

export PRE_COMMIT_HOME="$TARGET/pre-commit/home"
export CARGO_TARGET_DIR="$TARGET/pre-commit/cargo"
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false
# `cargo install` re-resolves the dependencies (pre-commit passes no --locked): offline, it
# takes the versions `cargo test` already downloaded.
export CARGO_NET_OFFLINE=true
export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@localhost GIT_COMMITTER_NAME=ci \
  GIT_COMMITTER_EMAIL=ci@localhost GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" \
  GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }

# The hook repository: this working tree as one commit.
hooks="$TARGET/pre-commit/hook-repo"
rm -rf "$hooks"
mkdir -p "$hooks"
(cd "$ROOT" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf -) | tar -xf - -C "$hooks"
git -C "$hooks" init -q -b main
git -C "$hooks" add -A
git -C "$hooks" commit -q -m snapshot
echo "hook repository: $hooks at $(git -C "$hooks" rev-parse --short HEAD)"

# The repository that uses the hooks: one fixture case, and a workflow file the hooks skip.
repo="$TARGET/pre-commit/user-repo"
rm -rf "$repo"
mkdir -p "$repo/deploy" "$repo/.github/workflows"
cp "$ROOT/tests/fixtures/client-to-server-app-port/app.yaml" "$repo/deploy/app.yaml"
printf 'on: push\njobs: {}\n' >"$repo/.github/workflows/ci.yml"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" commit -q -m fixture
cd "$repo"

BIN="${1:-$TARGET/debug/ambient-netpol}"

# One run of both hooks (try-repo builds the hook in a throwaway store each time, so once):
# `ambient-netpol` runs first and must fail with the finding, then `ambient-netpol-fix` must
# correct the file (and fail, as it changed it).
echo "-- pre-commit try-repo (both hooks) on the fixture, which has AMB001"
if out=$(pre-commit try-repo "$hooks" --all-files --color never 2>&1); then
  echo "$out"
  fail "the hooks passed"
fi
echo "$out"
check_part=$(sed -n '/^ambient-netpol (NetworkPolicies/,/^ambient-netpol --write/p' <<<"$out")
grep -q "Failed" <<<"$check_part" || fail "the check hook did not fail"
grep -q "deploy/app.yaml:57:5: AMB001 error" <<<"$check_part" || fail "no AMB001 finding"
fix_part=$(sed -n '/^ambient-netpol --write/,$p' <<<"$out")
grep -q "files were modified by this hook" <<<"$fix_part" || fail "the fix hook changed nothing"
grep -q "ambient-netpol: corrected deploy/app.yaml" <<<"$fix_part" || fail "no 'corrected' line"
grep -q "ci.yml" <<<"$out" && fail "the workflow file was checked"
git diff -- deploy/app.yaml | grep -q '^+.*15008' || fail "the correction does not admit 15008"

echo "-- the corrected file has no error left (the tool itself, $BIN)"
"$BIN" check deploy/app.yaml >/dev/null || fail "the corrected file still has errors"
echo "pre-commit hooks: 2 passed, 0 failed"
