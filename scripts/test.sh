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

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
