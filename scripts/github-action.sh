#!/usr/bin/env bash
# The GitHub Action's logic (action.yml runs it): installs ambient-netpol, runs `check`,
# annotates the pull request, writes the job summary and, when asked, a SARIF file.
#
# Install: the release binary for the runner's platform, from
#   $AMBIENT_NETPOL_RELEASE_URL/VERSION/ambient-netpol-VERSION-TARGET.tar.gz (.zip on Windows)
# (default URL: the action's repository's GitHub releases), verified against the release's
# SHA256SUMS; a mismatch stops the step. Without a release for that version or platform, it
# builds the action's own source with `cargo install --locked`.
#
# Inputs (environment, set by action.yml): INPUT_PATHS (whitespace-separated), INPUT_CNI,
# INPUT_MODE, INPUT_FAIL_ON, INPUT_SARIF (a file to write, or empty), INPUT_VERSION (a tag, or
# empty: the action's own ref when it is a tag), INPUT_ARGS (more `check` flags). ACTION_PATH
# and ACTION_REPOSITORY name the action's checkout and repository. GitHub's files:
# GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_OUTPUT; RUNNER_TEMP for the download.
# Exit status: check's (0, 1 as --fail-on decides, 2 unusable input), or 3 when installing fails.
set -euo pipefail

log() { echo "ambient-netpol action: $*" >&2; }
die() { log "$*"; exit 3; }

ACTION_PATH="${ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
RUNNER_TEMP="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
INSTALL_DIR="$RUNNER_TEMP/ambient-netpol"

# The version: the input, else the action's ref when it is a release tag (uses: ...@v0.1.0).
version="${INPUT_VERSION:-}"
if [ -z "$version" ] && [[ "${ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  version="$ACTION_REF"
fi

# The Rust target triple of this runner, as the release names its archives.
platform() {
  local os arch
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) return 1 ;;
  esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) [ "$arch" = x86_64 ] && echo "x86_64-pc-windows-msvc" ;;
    *) return 1 ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Downloads and verifies the release archive; returns 1 when the release has no such file (the
# caller then builds from source), dies on a checksum mismatch or a broken archive.
install_release() {
  local target=$1 base archive url sums expected actual
  base="${AMBIENT_NETPOL_RELEASE_URL:-https://github.com/${ACTION_REPOSITORY:-}/releases/download}"
  case "$target" in *windows*) archive="ambient-netpol-$version-$target.zip" ;; *) archive="ambient-netpol-$version-$target.tar.gz" ;; esac
  url="$base/$version/$archive"
  mkdir -p "$INSTALL_DIR/download" "$INSTALL_DIR/bin"
  log "downloading $url"
  if ! curl -fsSL --retry 3 -o "$INSTALL_DIR/download/$archive" "$url"; then
    log "no release archive at $url"
    return 1
  fi
  sums="$INSTALL_DIR/download/SHA256SUMS"
  curl -fsSL --retry 3 -o "$sums" "$base/$version/SHA256SUMS" || die "the release has $archive but no SHA256SUMS: not installing an unverified binary"
  expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$sums")"
  [ -n "$expected" ] || die "SHA256SUMS lists no $archive: not installing an unverified binary"
  actual="$(sha256_of "$INSTALL_DIR/download/$archive")"
  [ "$actual" = "$expected" ] || die "SHA-256 mismatch for $archive: expected $expected, got $actual; not installing it"
  log "SHA-256 verified: $actual"
  case "$archive" in
    *.zip) (cd "$INSTALL_DIR/download" && unzip -oq "$archive") ;;
    *) tar -xzf "$INSTALL_DIR/download/$archive" -C "$INSTALL_DIR/download" ;;
  esac
  local folder="$INSTALL_DIR/download/${archive%.tar.gz}"
  folder="${folder%.zip}"
  local exe=ambient-netpol
  case "$target" in *windows*) exe=ambient-netpol.exe ;; esac
  [ -f "$folder/$exe" ] || die "$archive has no $(basename "$folder")/$exe"
  cp "$folder/$exe" "$INSTALL_DIR/bin/$exe"
  chmod 755 "$INSTALL_DIR/bin/$exe"
}

install_from_source() {
  command -v cargo >/dev/null || die "no release binary to download and no cargo to build one"
  log "building from the action's source with cargo install (several minutes)"
  cargo install --locked --path "$ACTION_PATH" --root "$INSTALL_DIR" --bin ambient-netpol ||
    die "cargo install failed"
}

target="$(platform)" || target=""
installed=""
if [ -n "$version" ] && [ -n "$target" ]; then
  install_release "$target" && installed=release
elif [ -z "$version" ]; then
  log "no version given and the action is not used at a release tag"
else
  log "no release binary for $(uname -s) $(uname -m)"
fi
[ -n "$installed" ] || install_from_source
export PATH="$INSTALL_DIR/bin:$PATH"
[ -n "${GITHUB_PATH:-}" ] && echo "$INSTALL_DIR/bin" >>"$GITHUB_PATH"
log "$(ambient-netpol --version)"

# The check: annotations (workflow commands on stdout), the job summary, SARIF.
# Whitespace (spaces or lines) separates paths and flags.
read -r -d '' -a paths < <(printf '%s' "${INPUT_PATHS:-.}") || true
read -r -d '' -a extra < <(printf '%s' "${INPUT_ARGS:-}") || true
[ "${#paths[@]}" -gt 0 ] || paths=(.)
flags=(--cni "${INPUT_CNI:-generic}" --mode "${INPUT_MODE:-auto}" --fail-on "${INPUT_FAIL_ON:-error}")
flags+=(${extra[@]+"${extra[@]}"})

status=0
ambient-netpol check --format github "${flags[@]}" "${paths[@]}" >"$INSTALL_DIR/annotations" || status=$?
cat "$INSTALL_DIR/annotations"
if [ "$status" -le 1 ]; then
  summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
  ambient-netpol check --format markdown "${flags[@]}" "${paths[@]}" >>"$summary" || true
  if [ -n "${INPUT_SARIF:-}" ]; then
    ambient-netpol check --format sarif "${flags[@]}" "${paths[@]}" >"$INPUT_SARIF" || true
    log "SARIF written to $INPUT_SARIF"
  fi
  # Counts for later steps, from the summary line ("1 error, 2 warnings, 0 info in ...").
  line="$(tail -n 1 "$INSTALL_DIR/annotations")"
  if [ -n "${GITHUB_OUTPUT:-}" ] && [[ "$line" =~ ^([0-9]+)\ errors?,\ ([0-9]+)\ warnings?,\ ([0-9]+)\ info ]]; then
    {
      echo "errors=${BASH_REMATCH[1]}"
      echo "warnings=${BASH_REMATCH[2]}"
      echo "info=${BASH_REMATCH[3]}"
      echo "sarif=${INPUT_SARIF:-}"
    } >>"$GITHUB_OUTPUT"
  fi
fi
exit "$status"
