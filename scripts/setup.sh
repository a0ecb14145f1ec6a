# Sourced by scripts/serve and scripts/test: installs what is missing, skips what is present at
# the right version. Every tool comes from a package registry (crates.io, npm, Debian), never
# from a download of a prebuilt binary, because that is all these machines reach.
#
# Measured on a fresh 2-core machine: Trunk about 6-10 min and the wasm-bindgen CLI 2-5 min the
# first time (cargo install), seconds afterwards.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14" # 0.22 needs rustc 1.96.1
export PATH="$ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

setup_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

setup_trunk() {
  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    step "installing Trunk $TRUNK_VERSION (cargo install, several minutes the first time)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

setup_wasm_bindgen() {
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    step "installing the wasm-bindgen CLI $want (cargo install, a few minutes the first time)"
    # Not --locked: one of its locked dependencies is no longer on crates.io.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

setup_npm_tools() {
  # wasm-opt (npm binaryen; Debian's is too old for current rustc output) and Playwright.
  local stamp="$ROOT/node_modules/.installed-lock"
  if ! cmp -s "$ROOT/package-lock.json" "$stamp" 2>/dev/null; then
    step "installing npm tools (binaryen, Playwright) into node_modules"
    (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp "$ROOT/package-lock.json" "$stamp"
  fi
}

setup_chromium() {
  # The browser tests drive Debian's Chromium; Playwright never downloads a browser here.
  if [ -n "${CHROME_PATH:-}" ]; then
    [ -x "$CHROME_PATH" ] || { echo "CHROME_PATH=$CHROME_PATH is not an executable" >&2; return 1; }
    return 0
  fi
  local found
  for found in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [ -x "$found" ]; then export CHROME_PATH="$found"; return 0; fi
  done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing Debian's chromium (apt-get, about a minute)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    export CHROME_PATH=/usr/bin/chromium
    return 0
  fi
  cat >&2 <<'MSG'
No Chromium found for the browser tests. Either:
  - install it: sudo apt-get install chromium   (Debian/Ubuntu), or
  - point CHROME_PATH at an existing Chromium or Chrome binary: CHROME_PATH=/path/to/chrome scripts/test
MSG
  return 1
}

setup_build_tools() {
  setup_wasm_target
  setup_trunk
  setup_wasm_bindgen
  setup_npm_tools
}
