#!/usr/bin/env bash
# Runs schemathesis with every check against the OpenAPI document of a live
# latchkey (the binary given as $1) on a free loopback port, with a fresh data
# directory and an HTTP Basic credential; stops the server afterwards.
set -euo pipefail
bin="$(realpath "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export LATCHKEY_CONFIG="$work/none.toml" LATCHKEY_DATA_DIR="$work/data"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
# Cheap hashes and no login throttle: schemathesis sends thousands of requests
# from one address, many of them failed logins.
export LATCHKEY_ARGON2_MEMORY_KIB=1024 LATCHKEY_ARGON2_ITERATIONS=1 LATCHKEY_ARGON2_PARALLELISM=1
export LATCHKEY_THROTTLE_ACCOUNT_FAILURES=1000000 LATCHKEY_THROTTLE_ADDRESS_FAILURES=1000000
unset LATCHKEY_SECRET_KEY DATABASE_URL

password="schema-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
(cd "$work" && printf '%s\n' "$password" | "$bin" user add schemathesis >/dev/null)
(cd "$work" && exec "$bin" serve >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 100); do
  grep -q "listening on http://127.0.0.1:$port" "$work/server.log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done

schemathesis --config-file "$here/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
  --checks all --auth "schemathesis:$password"
