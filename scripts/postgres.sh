#!/usr/bin/env bash
# A throw-away PostgreSQL for the ledger's tests: a cluster in a temporary
# folder, listening on 127.0.0.1 only, on a free port.
#
#   scripts/postgres.sh start    installs Debian's postgresql if initdb is
#                                missing (as root), starts a cluster, prints
#                                its URL (for KMS_TEST_POSTGRES_URL)
#   scripts/postgres.sh url      prints the URL again
#   scripts/postgres.sh env      prints `export` lines for the tests:
#                                KMS_TEST_POSTGRES_URL, KMS_TEST_POSTGRES_CTL
#   scripts/postgres.sh halt     stops the server, keeping its data
#   scripts/postgres.sh resume   starts it again, same port, same data
#   scripts/postgres.sh ca       prints the path of the test CA's certificate
#                                (a cluster started with KMS_PG_TLS=on)
#   scripts/postgres.sh stop     stops it and removes the folder
#
# Where the cluster is recorded: $KMS_PG_STATE, by default
# ${TMPDIR:-/tmp}/kms-test-postgres.state. A test that must stop and start
# a server (the ledger's recovery test) starts its own with another
# KMS_PG_STATE through KMS_TEST_POSTGRES_CTL (this script's path), so the
# server the other tests share is never stopped under them.
#
# The test user `kms` logs in with a password (SCRAM) over TCP and may
# create databases: each test makes its own. fsync is off (KMS_PG_FSYNC=on
# to measure with it). KMS_PG_TLS=on also serves TLS, with a certificate for
# 127.0.0.1 and localhost from a CA made for the cluster (needs openssl),
# and refuses TCP connections without TLS.
set -euo pipefail

state=${KMS_PG_STATE:-${TMPDIR:-/tmp}/kms-test-postgres.state}
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  return 1
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "initdb is missing and only root can install Debian's postgresql"
  command -v apt-get >/dev/null 2>&1 || die "initdb is missing and there is no apt-get"
  echo "postgres.sh: installing Debian's postgresql" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
}

# initdb and the server refuse to run as root: root runs them as `postgres`.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

load() {
  [ -f "$state" ] || die "no cluster recorded in $state (run: $0 start)"
  # shellcheck disable=SC1090
  . "$state"
}

start() {
  if [ -f "$state" ]; then
    load
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      echo "$PG_URL"; return
    fi
    rm -rf "$PG_DIR"; rm -f "$state"
  fi
  local bin dir port password
  bin=$(pg_bin) || { install_postgres; bin=$(pg_bin) || die "no initdb after installing postgresql"; }
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kms-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = ${KMS_PG_FSYNC:-off}
max_connections = 200
EOF
  if [ "${KMS_PG_TLS:-off}" = on ]; then
    command -v openssl >/dev/null 2>&1 || die "KMS_PG_TLS=on needs openssl"
    (
      cd "$dir"
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kms test CA" \
        -keyout ca.key -out ca.pem
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.crt
      chmod 600 server.key
      if [ "$(id -u)" = 0 ]; then chown postgres: server.key server.crt; fi
    ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "could not make the test certificates"; }
    cat >>"$dir/data/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
EOF
    # TLS or nothing over TCP: a test connecting in plain text is refused.
    sed -i 's/^host /hostssl /' "$dir/data/pg_hba.conf"
  fi
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    # Taken if something answers there.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if as_pg "$bin/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/server.log" -w -t 30 start >/dev/null; then
      break
    fi
    port=""
  done
  [ -n "${port:-}" ] || { cat "$dir/server.log" >&2 || true; die "the server would not start"; }
  as_pg "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE kms LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE kms_test OWNER kms" >/dev/null
  local url="postgres://kms:$password@127.0.0.1:$port/kms_test?sslmode=disable"
  umask 077
  cat >"$state" <<EOF
PG_BIN='$bin'
PG_DIR='$dir'
PG_PORT='$port'
PG_URL='$url'
EOF
  echo "$url"
}

case "${1:-}" in
  start) start ;;
  url) load; echo "$PG_URL" ;;
  ca) load; [ -f "$PG_DIR/ca.pem" ] || die "this cluster has no TLS (start it with KMS_PG_TLS=on)"; echo "$PG_DIR/ca.pem" ;;
  env) load; printf 'export KMS_TEST_POSTGRES_URL=%q\nexport KMS_TEST_POSTGRES_CTL=%q\n' "$PG_URL" "$self" ;;
  halt) load; as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null ;;
  resume) load; as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $PG_PORT" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null ;;
  stop)
    [ -f "$state" ] || exit 0
    load
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"; rm -f "$state" ;;
  *) die "usage: $0 start|url|env|ca|halt|resume|stop" ;;
esac
