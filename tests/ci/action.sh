#!/usr/bin/env bash
# The GitHub Action's script (scripts/github-action.sh) against a locally built binary: the
# binary is packed by scripts/package-release into a release layout (VERSION/archive and
# SHA256SUMS) that a local HTTP server (python3 -m http.server on 127.0.0.1) serves in place of
# GitHub's releases. Checked: the download and its SHA-256 check, a tampered archive refused,
# the cargo-install fallback (with a test double of cargo), annotations, the job summary, the
# SARIF file, the outputs, --fail-on, the archive layout and the krew manifest.
# Usage: tests/ci/action.sh BINARY
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d "${TMPDIR:-/tmp}/ambient-netpol-action.XXXXXX")"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { passed=$((passed + 1)); echo "ok: $*"; }

case "$(uname -m)" in x86_64 | amd64) arch=x86_64 ;; aarch64 | arm64) arch=aarch64 ;; *) fail "unknown machine $(uname -m)" ;; esac
case "$(uname -s)" in Linux) target="$arch-unknown-linux-musl" ;; Darwin) target="$arch-apple-darwin" ;; *) fail "run on Linux or macOS" ;; esac
version=v0.1.0
name="ambient-netpol-$version-$target"

# The release layout, as the release workflow uploads it.
releases="$work/releases"
"$ROOT/scripts/package-release" "$version" "$target" "$BIN" "$releases/$version" >/dev/null
cat "$releases/$version"/*.sha256 >"$releases/$version/SHA256SUMS"
listing="$(tar -tzf "$releases/$version/$name.tar.gz" | sort | tr '\n' ' ')"
[ "$listing" = "$name/ $name/README.md $name/SECURITY.md $name/ambient-netpol " ] ||
  fail "archive layout: $listing"
(cd "$releases/$version" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not verify"
pass "archive layout and SHA256SUMS"

# The krew manifest names the archive and its sum, and links the binary.
"$ROOT/scripts/krew-manifest" "$version" example/ambient-netpol "$releases/$version" >"$work/krew.yaml"
sum="$(cut -d' ' -f1 "$releases/$version/$name.tar.gz.sha256")"
grep -q "uri: https://github.com/example/ambient-netpol/releases/download/$version/$name.tar.gz" "$work/krew.yaml" || fail "krew: uri"
grep -q "sha256: $sum" "$work/krew.yaml" || fail "krew: sha256"
grep -q "bin: ambient-netpol" "$work/krew.yaml" || fail "krew: bin"
pass "krew manifest"

# A tampered copy under another version: its archive no longer matches the sums.
cp -r "$releases/$version" "$releases/v0.1.1"
for f in "$releases/v0.1.1"/ambient-netpol-*; do mv "$f" "${f//$version/v0.1.1}"; done
sed -i.bak "s/$version/v0.1.1/g" "$releases/v0.1.1/SHA256SUMS"
printf 'x' >>"$releases/v0.1.1/ambient-netpol-v0.1.1-$target.tar.gz"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$releases" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/$version/SHA256SUMS" && break
  sleep 0.1
done

# Runs the action's script as action.yml does, in a fresh runner directory; sets $out, $err,
# $status and $runner.
run_action() {
  runner="$work/runner-$RANDOM"
  mkdir -p "$runner"
  : >"$runner/summary.md" >"$runner/path" >"$runner/output"
  status=0
  (cd "$ROOT" && env \
    INPUT_PATHS="${PATHS:-tests/fixtures/client-to-server-app-port}" INPUT_CNI=generic \
    INPUT_MODE=auto INPUT_FAIL_ON="${FAIL_ON:-error}" INPUT_SARIF="$runner/out.sarif" \
    INPUT_VERSION="$1" INPUT_ARGS="" ACTION_PATH="$ROOT" ACTION_REF="" \
    ACTION_REPOSITORY=example/ambient-netpol AMBIENT_NETPOL_RELEASE_URL="http://127.0.0.1:$port" \
    GITHUB_STEP_SUMMARY="$runner/summary.md" GITHUB_PATH="$runner/path" \
    GITHUB_OUTPUT="$runner/output" RUNNER_TEMP="$runner" PATH="${FAKE_PATH:-}$PATH" \
    bash "$ROOT/scripts/github-action.sh" >"$runner/stdout" 2>"$runner/stderr") || status=$?
  out="$(cat "$runner/stdout")"
  err="$(cat "$runner/stderr")"
}

run_action "$version"
[ "$status" = 1 ] || fail "exit $status (want 1: the fixture has an error)\n$err"
grep -q "SHA-256 verified: $sum" <<<"$err" || fail "no verification line: $err"
cmp -s "$BIN" "$runner/ambient-netpol/bin/ambient-netpol" || fail "the installed binary is not the released one"
grep -qx "$runner/ambient-netpol/bin" "$runner/path" || fail "GITHUB_PATH"
grep -q "^::error file=tests/fixtures/client-to-server-app-port/app.yaml,line=57,col=5,title=AMB001%3A " <<<"$out" || fail "annotation: $out"
grep -q "^::warning file=.*title=AMB004%3A " <<<"$out" || fail "warning annotation"
pass "release download, SHA-256 verified, annotations"
grep -q '^| :x: error | AMB001 | `tests/fixtures/client-to-server-app-port/app.yaml:57` |' "$runner/summary.md" || fail "summary: $(cat "$runner/summary.md")"
grep -q '^| 1 | 1 | 0 | 4 | 4 |$' "$runner/summary.md" || fail "summary counts"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); r = d["runs"][0]["results"]; assert [x["ruleId"] for x in r] == ["AMB001", "AMB004"], r' "$runner/out.sarif" || fail "SARIF"
grep -qx "errors=1" "$runner/output" && grep -qx "warnings=1" "$runner/output" || fail "outputs: $(cat "$runner/output")"
pass "job summary, SARIF file, outputs"
summary_shown="$runner/summary.md"
cp "$summary_shown" "$work/summary-shown.md"

FAIL_ON=never run_action "$version"
[ "$status" = 0 ] || fail "--fail-on never: exit $status"
FAIL_ON=warning PATHS=tests/fixtures/endport-covers-15008 run_action "$version"
[ "$status" = 1 ] || fail "--fail-on warning on a warning: exit $status"
pass "fail-on never and warning"

mkdir -p "$work/no-manifests"
PATHS="$work/no-manifests" run_action "$version"
[ "$status" = 2 ] || fail "a folder without manifests: exit $status"
pass "a path without manifests fails (exit 2)"

run_action v0.1.1
[ "$status" = 3 ] || fail "tampered archive: exit $status"
grep -q "SHA-256 mismatch for ambient-netpol-v0.1.1-$target.tar.gz" <<<"$err" || fail "no mismatch message: $err"
[ ! -e "$runner/ambient-netpol/bin/ambient-netpol" ] || fail "the tampered binary was installed"
[ -z "$out" ] || fail "the check ran after a mismatch"
pass "a tampered archive is refused"

# No release for the version: the action builds its source. A test double of cargo records the
# command and installs the local binary where `cargo install --root` would.
mkdir -p "$work/fake-bin"
cat >"$work/fake-bin/cargo" <<FAKE
#!/bin/sh
echo "\$*" >>"$work/cargo.log"
while [ \$# -gt 0 ]; do [ "\$1" = --root ] && root=\$2; shift; done
mkdir -p "\$root/bin" && cp "$BIN" "\$root/bin/ambient-netpol"
FAKE
chmod +x "$work/fake-bin/cargo"
FAKE_PATH="$work/fake-bin:" run_action v9.9.9
[ "$status" = 1 ] || fail "fallback: exit $status: $err"
grep -qx "install --locked --path $ROOT --root $runner/ambient-netpol --bin ambient-netpol" "$work/cargo.log" || fail "cargo: $(cat "$work/cargo.log")"
grep -q "^::error file=" <<<"$out" || fail "fallback: no annotation"
pass "no release: cargo install of the action's source"

echo "--- the job summary of client-to-server-app-port:"
cat "$work/summary-shown.md"
echo "GitHub Action script: $passed passed, 0 failed"
