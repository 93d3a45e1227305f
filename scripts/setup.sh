# Installs what a fresh machine of this kind lacks, and nothing twice: each step is skipped
# when its tool is already there. Sourced by serve.sh and test.sh; `--browser` adds Chromium.
# Pinned versions and the reasons for them: ../shared/TOOLCHAIN.md.

want_browser=false
[ "${1:-}" = "--browser" ] && want_browser=true

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

# cargo-leptos 0.3.11+ needs a newer rustc than this machine has.
cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos 0.3.10" \
  || CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
     cargo install cargo-leptos --locked --version 0.3.10

# cargo-leptos runs the wasm-bindgen found on PATH, and otherwise downloads one from GitHub,
# which fails here. Its version must equal the lockfile's; `--locked` asks for a webpki-roots
# the registry lacks.
wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen 0.2.130" \
  || cargo install wasm-bindgen-cli --version 0.2.130

if $want_browser; then
  # Debian's Chromium: Playwright's own browser download cannot work here.
  { command -v chromium >/dev/null && command -v chromedriver >/dev/null; } \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }
  # A CJK font, or the Chinese screenshots the tests make show boxes.
  fc-list :lang=zh | grep -q . \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk; }
fi

# npm's binaryen gives the wasm-opt release builds need (cargo-leptos would otherwise try to
# download one, and Debian's binaryen breaks hydration); end2end/ also holds Playwright.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -x end2end/node_modules/.bin/playwright ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
