#!/usr/bin/env bash
# The proxy of the end-to-end tests: a second release instance sharing the e2e
# server's database, and nginx with the repository's deploy/nginx.conf (rendered
# into a temporary directory, TLS with a throwaway certificate) in front of both.
# Source it from .ci/test (after setup.sh): start_proxy DATA_DIR, stop_proxy.
# Exports LATCHKEY_E2E_PROXY_URL for end2end/tests/proxy.spec.ts.

PROXY_HTTPS_PORT=3443
PROXY_HTTP_PORT=3080
SECOND_INSTANCE=127.0.0.1:3002
_proxy_dir=""
_second_pid=""

start_proxy() {
  local data_dir="$1" port
  for port in "$PROXY_HTTPS_PORT" "$PROXY_HTTP_PORT" "${SECOND_INSTANCE##*:}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "something already listens on 127.0.0.1:$port; the proxy test needs it"
    fi
  done
  _proxy_dir="$(mktemp -d)"
  log "second instance on $SECOND_INSTANCE over the e2e database"
  LEPTOS_SITE_ADDR="$SECOND_INSTANCE" LATCHKEY_DATA_DIR="$data_dir" \
    "$REPO/target/release/latchkey" serve >"$_proxy_dir/second.log" 2>&1 &
  _second_pid=$!
  log "nginx with deploy/nginx.conf on https://127.0.0.1:$PROXY_HTTPS_PORT"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$_proxy_dir/key.pem" -out "$_proxy_dir/cert.pem" 2>/dev/null
  LATCHKEY_A=127.0.0.1:3000 LATCHKEY_B="$SECOND_INSTANCE" \
    HTTP_LISTEN="127.0.0.1:$PROXY_HTTP_PORT" HTTPS_LISTEN="127.0.0.1:$PROXY_HTTPS_PORT" \
    SERVER_NAME="127.0.0.1 localhost" \
    TLS_CERTIFICATE="$_proxy_dir/cert.pem" TLS_CERTIFICATE_KEY="$_proxy_dir/key.pem" \
    NGINX_STATE="$_proxy_dir" \
    envsubst '${LATCHKEY_A} ${LATCHKEY_B} ${HTTP_LISTEN} ${HTTPS_LISTEN} ${SERVER_NAME}
              ${TLS_CERTIFICATE} ${TLS_CERTIFICATE_KEY} ${NGINX_STATE}' \
    <"$REPO/deploy/nginx.conf" >"$_proxy_dir/nginx.conf"
  /usr/sbin/nginx -t -q -p "$_proxy_dir" -c "$_proxy_dir/nginx.conf" -e "$_proxy_dir/error.log"
  /usr/sbin/nginx -p "$_proxy_dir" -c "$_proxy_dir/nginx.conf" -e "$_proxy_dir/error.log"
  export LATCHKEY_E2E_PROXY_URL="https://127.0.0.1:$PROXY_HTTPS_PORT"
  export LATCHKEY_E2E_PROXY_UPSTREAMS="127.0.0.1:3000 $SECOND_INSTANCE"
}

stop_proxy() {
  if [ -n "$_proxy_dir" ] && [ -f "$_proxy_dir/nginx.pid" ]; then
    kill -TERM "$(cat "$_proxy_dir/nginx.pid")" 2>/dev/null || true
  fi
  if [ -n "$_second_pid" ]; then
    kill -TERM "$_second_pid" 2>/dev/null || true
    wait "$_second_pid" 2>/dev/null || true
  fi
  [ -n "$_proxy_dir" ] && rm -rf "$_proxy_dir"
  _proxy_dir=""
  _second_pid=""
}
