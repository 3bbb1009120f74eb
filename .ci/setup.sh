#!/usr/bin/env bash
# Shared set-up for the .ci scripts. Source it: `. "$(dirname "$0")/setup.sh"`.
# Every ensure_* function is idempotent and skips work that is already done.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Plain logs under CI, colours on a terminal.
if [ "${CI:-}" = "true" ]; then
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
else
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
fi

log() { echo "==> [${SECONDS}s] $*"; }
die() { echo "==> ERROR: $*" >&2; exit 1; }

_apt_updated=""
_apt_install() {
  if [ -z "$_apt_updated" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update
    _apt_updated=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 \
    || die "cargo not found: the Rust toolchain (rustup) is expected to come with the machine"
  # Capture first: with pipefail, `grep -q` closing the pipe early could fail the test.
  local installed
  installed="$(rustup target list --installed)"
  if grep -qx wasm32-unknown-unknown <<<"$installed"; then
    log "rust target wasm32-unknown-unknown: present"
  else
    log "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if cargo leptos --version >/dev/null 2>&1; then
    log "cargo-leptos: $(cargo leptos --version 2>&1 | head -n1)"
    return
  fi
  local toolchains
  toolchains="$(rustup toolchain list)"
  if ! grep -q '^nightly' <<<"$toolchains"; then
    log "installing nightly toolchain (cargo-leptos needs a newer rustc than stable)"
    rustup toolchain install nightly --profile minimal
  fi
  log "installing cargo-leptos (takes ~15 min on 2 cores)"
  cargo +nightly install cargo-leptos --locked
}

ensure_wasm_bindgen() {
  local want have
  want="$(awk '
    /^\[\[package\]\]/ { in_wb = 0 }
    /^name = "wasm-bindgen"$/ { in_wb = 1; next }
    in_wb && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' "$REPO/Cargo.lock")"
  [ -n "$want" ] || die "no wasm-bindgen entry in $REPO/Cargo.lock"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" = "$want" ]; then
    log "wasm-bindgen-cli $want: present"
    return
  fi
  log "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # No --locked: a locked dependency is missing from the registry here.
  cargo install wasm-bindgen-cli --version "$want"
}

ensure_npm_packages() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    _apt_install nodejs npm
  fi
  local dir="$REPO/end2end"
  if [ ! -d "$dir/node_modules" ] \
    || [ ! -f "$dir/node_modules/.package-lock.json" ] \
    || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in end2end/"
    (cd "$dir" && npm ci)
  else
    log "end2end/node_modules: up to date"
  fi
  # binaryen's wasm-opt for cargo-leptos, playwright for the e2e tests.
  export PATH="$dir/node_modules/.bin:$PATH"
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    log "chromium: present"
  else
    _apt_install chromium
  fi
}

SCHEMATHESIS_VERSION=4.32.5

ensure_schemathesis() {
  if schemathesis --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    log "schemathesis $SCHEMATHESIS_VERSION: present"
    return
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION (PyPI)"
  python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
  hash -r
}

# PostgreSQL from Debian's packages, for the test suite's second run. Idempotent:
# nothing is installed when an initdb is found.
ensure_postgres() {
  local initdb
  initdb="$(postgres_bin initdb || true)"
  if [ -n "$initdb" ]; then
    log "postgresql: $("$initdb" --version)"
    return
  fi
  _apt_install postgresql
  initdb="$(postgres_bin initdb || true)"
  [ -n "$initdb" ] || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
}

# The newest PostgreSQL binary named $1 under /usr/lib/postgresql/*/bin.
postgres_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1)"
  [ -n "$found" ] && echo "$found"
}

# Starts a throwaway PostgreSQL cluster: a temporary directory owned by the
# unprivileged `postgres` user (PostgreSQL refuses to run as root), a generated
# password (scram-sha-256), TCP on 127.0.0.1 only at a free port, its socket in the
# directory, fsync on. Sets PG_CLUSTER_DIR and PG_TEST_URL (a server URL, for
# LATCHKEY_TEST_DATABASE_URL). The caller stops it with stop_postgres_cluster,
# from a trap.
start_postgres_cluster() {
  local initdb pg_ctl password port
  initdb="$(postgres_bin initdb)" || die "no initdb: run ensure_postgres first"
  pg_ctl="$(postgres_bin pg_ctl)" || die "no pg_ctl"
  id postgres >/dev/null 2>&1 || die "no postgres user (Debian's postgresql package creates it)"
  PG_CLUSTER_DIR="$(mktemp -d /tmp/latchkey-pg.XXXXXX)"
  export PG_CLUSTER_DIR
  chown postgres: "$PG_CLUSTER_DIR"
  chmod 700 "$PG_CLUSTER_DIR"
  password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" >"$PG_CLUSTER_DIR/pwfile"
  chown postgres: "$PG_CLUSTER_DIR/pwfile"
  chmod 600 "$PG_CLUSTER_DIR/pwfile"
  runuser -u postgres -- "$initdb" -D "$PG_CLUSTER_DIR/data" -U postgres \
    --pwfile="$PG_CLUSTER_DIR/pwfile" --auth=scram-sha-256 --encoding=UTF8 \
    --locale=C.UTF-8 >"$PG_CLUSTER_DIR/initdb.log" 2>&1 \
    || { cat "$PG_CLUSTER_DIR/initdb.log" >&2; die "initdb failed"; }
  rm -f "$PG_CLUSTER_DIR/pwfile"
  # A free loopback port: ask the kernel for one (a race with another process
  # taking it first is retried below).
  local attempt
  for attempt in 1 2 3 4 5; do
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # Tests run four at a time, some with several instances of up to
    # database_max_connections each: 400 connections leave room.
    if runuser -u postgres -- "$pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w \
      -o "-p $port -k $PG_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=on -c shared_buffers=64MB" \
      start >/dev/null; then
      PG_TEST_URL="postgres://postgres:$password@127.0.0.1:$port/postgres"
      export PG_TEST_URL
      log "postgresql cluster in $PG_CLUSTER_DIR on 127.0.0.1:$port"
      return
    fi
    log "postgresql did not start on port $port (attempt $attempt)"
  done
  cat "$PG_CLUSTER_DIR/server.log" >&2 || true
  die "could not start a postgresql cluster"
}

# Stops the cluster start_postgres_cluster started and removes its directory.
stop_postgres_cluster() {
  [ -n "${PG_CLUSTER_DIR:-}" ] && [ -d "$PG_CLUSTER_DIR" ] || return 0
  local pg_ctl
  pg_ctl="$(postgres_bin pg_ctl || true)"
  if [ -n "$pg_ctl" ] && [ -f "$PG_CLUSTER_DIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_ctl" -D "$PG_CLUSTER_DIR/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$PG_CLUSTER_DIR"
  unset PG_CLUSTER_DIR PG_TEST_URL
}

# nginx for the tests that put two instances behind the repository's
# deploy/nginx.conf (the tests start their own nginx, on loopback ports, with
# every path in a temporary directory; the system's nginx is never used).
ensure_nginx() {
  if [ -x /usr/sbin/nginx ]; then
    log "nginx: present"
  else
    _apt_install nginx-light
    # Debian starts the packaged service; the tests need only the binary.
    if command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
  fi
  command -v openssl >/dev/null 2>&1 || _apt_install openssl
  command -v envsubst >/dev/null 2>&1 || _apt_install gettext-base
}
