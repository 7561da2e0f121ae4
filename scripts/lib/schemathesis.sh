# Property-based API tests (issue 5, item 5): schemathesis from PyPI, in a venv under $TOOLS, run
# against the real server binary on loopback, seeded with the fixture school and signed in as a
# teacher, reading the served /v1/openapi.json. Sourced by scripts/test after the server binary
# is built; the caller's EXIT trap must call stop_schemathesis_server.
#   ensure_schemathesis: installs the pinned version (skipped when present).
#   schemathesis_suite:  runs it; sets SCHEMATHESIS_PASSED/SCHEMATHESIS_FAILED (test cases).

SCHEMATHESIS_VERSION="4.32.5"
# A local SMTP sink, so invitation emails (REQ-ACC-2) go out for real instead of answering 503.
AIOSMTPD_VERSION="1.4.6"
SCHEMATHESIS_VENV="$TOOLS/venv"
# Examples per operation and phase: two runs of ~40 operations stay within ~2 minutes on 2 cores.
SCHEMATHESIS_EXAMPLES="${SCHEMATHESIS_EXAMPLES:-40}"
ST_SERVER_PID=""
ST_SMTP_PID=""
ST_DIR=""

ensure_schemathesis() {
  if [ -x "$SCHEMATHESIS_VENV/bin/schemathesis" ] \
    && "$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION" \
    && "$SCHEMATHESIS_VENV/bin/python" -m aiosmtpd --version 2>/dev/null | grep -qF "$AIOSMTPD_VERSION"; then
    return 0
  fi
  # Debian's python3 needs its venv module packaged separately.
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "pip: schemathesis $SCHEMATHESIS_VERSION and aiosmtpd $AIOSMTPD_VERSION into $SCHEMATHESIS_VENV"
  mkdir -p "$TOOLS"
  [ -x "$SCHEMATHESIS_VENV/bin/pip" ] || python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" "aiosmtpd==$AIOSMTPD_VERSION"
}

stop_schemathesis_server() {
  if [ -n "$ST_SERVER_PID" ]; then
    kill "$ST_SERVER_PID" 2>/dev/null || true
    wait "$ST_SERVER_PID" 2>/dev/null || true
    ST_SERVER_PID=""
ST_SMTP_PID=""
  fi
  [ -z "$ST_DIR" ] || rm -rf "$ST_DIR"
  ST_DIR=""
}

# start_schemathesis_server: an SMTP sink and the built server on free loopback ports with the
# fixture school; sets ST_URL. Returns non-zero (and says why) if either does not come up.
start_schemathesis_server() {
  ST_DIR="$(mktemp -d -t homeroom-st.XXXXXX)" || return 1
  local smtp_port
  smtp_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$SCHEMATHESIS_VENV/bin/python" -m aiosmtpd -n -c aiosmtpd.handlers.Sink \
    -l "127.0.0.1:$smtp_port" >"$ST_DIR/smtp.log" 2>&1 &
  ST_SMTP_PID=$!
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { log "schemathesis: the SMTP sink did not start (log: $ST_DIR/smtp.log)"; return 1; }
    sleep 0.1
  done
  "$ROOT/target/debug/homeroom-server" --data-dir "$ST_DIR/data" --listen 127.0.0.1:0 \
    --seed-fixture --smtp-host 127.0.0.1 --smtp-port "$smtp_port" --smtp-tls none \
    --smtp-from homeroom@greenfield.test >"$ST_DIR/out" 2>"$ST_DIR/server.log" &
  ST_SERVER_PID=$!
  # The first stdout line names the address (port 0 picked a free one).
  local line=""
  tries=0
  until line="$(head -n1 "$ST_DIR/out" 2>/dev/null)" && [ -n "$line" ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 600 ] && kill -0 "$ST_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  ST_URL="${line##*listening on }"
  case "$ST_URL" in
    http://127.0.0.1:*) return 0 ;;
    *) log "schemathesis: the server did not start (log: $ST_DIR/server.log)"; return 1 ;;
  esac
}

# session_token URL WHO: a session token for fixture person WHO (on the enrolled tablet, so staff
# may sign in: REQ-ACC-6).
session_token() {
  local email; email="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')@greenfield.test"
  curl -fsS -H 'content-type: application/json' \
    -d "{\"method\":\"password\",\"email\":\"$email\",\"password\":\"$2-password\",\"device_id\":\"GREENFIELD-TEST-TABLET\"}" \
    "$1/v1/sessions" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# schemathesis_as WHO: one run signed in as fixture person WHO; returns its exit status and
# adds its test-case counts to SCHEMATHESIS_PASSED/FAILED.
schemathesis_as() {
  local who="$1" token out="$ST_DIR/schemathesis-$1.out" rc=0 started=$SECONDS
  token="$(session_token "$ST_URL" "$who")" || { log "schemathesis: $who could not sign in"; return 1; }
  log "schemathesis as $who: $SCHEMATHESIS_EXAMPLES examples per operation against $ST_URL"
  # Checks: no 5xx ever, and every answer's status, content type and body as documented.
  # Excluded, with reasons:
  #  - DELETE /v1/sessions/current revokes the token the run signs with, and every later request
  #    would test only the 401 path (sign-out is covered by tests/tests/server_http.rs).
  #  - GET /v1/events is an endless event stream: a request never completes by design
  #    (covered by tests/tests/live.rs).
  "$SCHEMATHESIS_VENV/bin/schemathesis" run "$ST_URL/v1/openapi.json" \
    --url "$ST_URL" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$SCHEMATHESIS_EXAMPLES" \
    --workers 2 \
    --seed "${SCHEMATHESIS_SEED:-20261123}" \
    --request-timeout 10 \
    --exclude-path /v1/sessions/current \
    --exclude-path /v1/events \
    --no-color \
    --suppress-health-check all >"$out" 2>&1 || rc=$?
  cat "$out" >&2
  # The summary line counts test cases: "N generated, N passed" or "N generated, N found …".
  local generated found
  generated="$(grep -oE '[0-9]+ generated' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)"
  found="$(grep -oE 'generated, [0-9]+ found' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)"
  SCHEMATHESIS_PASSED=$((SCHEMATHESIS_PASSED + generated - found))
  SCHEMATHESIS_FAILED=$((SCHEMATHESIS_FAILED + found))
  log "schemathesis as $who: $((SECONDS - started)) s, $generated cases, $found failing"
  [ "$rc" -eq 0 ] && [ "$generated" -gt 0 ]
}

# schemathesis_suite: a teacher's run, then the admin's (who reaches the admin-only operations),
# against one server; fails on any failing case, a run that tested nothing, or a server error
# in the server's log.
schemathesis_suite() {
  SCHEMATHESIS_PASSED=0; SCHEMATHESIS_FAILED=0
  start_schemathesis_server || { SCHEMATHESIS_FAILED=1; return 1; }
  local rc=0
  schemathesis_as tA || rc=1
  schemathesis_as H || rc=1
  if grep -q 'ERROR\|panicked' "$ST_DIR/server.log"; then
    log "schemathesis: the server logged errors:"; grep 'ERROR\|panicked' "$ST_DIR/server.log" | head -20 >&2
    rc=1
  fi
  stop_schemathesis_server
  [ "$rc" -eq 0 ] && [ "$SCHEMATHESIS_FAILED" -eq 0 ] && [ "$SCHEMATHESIS_PASSED" -gt 0 ]
}
