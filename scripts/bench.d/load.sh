#!/usr/bin/env bash
# Server load (issue 5): award pushes/s and pulls/s from 200 concurrent connections (wrk, a
# second process), p50/p99 latency, on SQLite and on PostgreSQL; beside it, in the same run, the
# raw rate at which the same database (same driver, pool, pragmas, write lock, durability)
# commits what a push stores — the limit. Target: >= 5,000 pushes/s at p99 < 50 ms on SQLite,
# within 2x of the raw limit. Writes docs/benchmarks/load.md.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/postgres.sh"
cd "$ROOT"
OUT="$ROOT/docs/benchmarks/load.md"
DUR="${LOAD_SECONDS:-10}"
CONNS="${LOAD_CONNECTIONS:-200}"
apt_install wrk curl python3
log "load: building the server and the raw-insert peer (release)"
cargo build -q --release -p homeroom-server --bin homeroom-server --example raw_insert
BIN="$ROOT/target/release/homeroom-server"
RAW="$ROOT/target/release/examples/raw_insert"
WORK="$(mktemp -d -t homeroom-load.XXXXXX)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  stop_test_postgres
  rm -rf "$WORK"
}
trap cleanup EXIT

# ms VALUE: wrk's latency ("850.00us", "1.23ms", "2.01s") in milliseconds.
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
# wrk_field FILE: "requests/s p50 p99 non2xx total"
wrk_fields() {
  local f="$1"
  local rps p50 p99 bad total
  rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$f")"
  p50="$(ms "$(awk '$1 == "50%" { print $2 }' "$f")")"
  p99="$(ms "$(awk '$1 == "99%" { print $2 }' "$f")")"
  bad="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")"
  total="$(awk '/requests in/ { print $1 }' "$f")"
  echo "$rps $p50 $p99 ${bad:-0} $total"
}

# count_awards BACKEND: rows in the awards table (checks every 2xx push really stored its award).
count_awards() {
  if [ "$1" = sqlite ]; then
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM awards").fetchone()[0])' "$WORK/$1/homeroom.sqlite3"
  else
    as_postgres "$PG_BIN/psql" -h "$PG_TMP" -p "${PG_PORT}" -U postgres -d homeroom_load -tAc "SELECT COUNT(*) FROM awards"
  fi
}
head_seq() {
  if [ "$1" = sqlite ]; then
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT MAX(seq) FROM changes").fetchone()[0])' "$WORK/$1/homeroom.sqlite3"
  else
    as_postgres "$PG_BIN/psql" -h "$PG_TMP" -p "${PG_PORT}" -U postgres -d homeroom_load -tAc "SELECT MAX(seq) FROM changes"
  fi
}

rows=()
for backend in sqlite postgres; do
  url=""
  if [ "$backend" = postgres ]; then
    PG_DURABLE=1 start_test_postgres || { log "load: PostgreSQL did not start"; exit 1; }
    PG_PORT="${HOMEROOM_TEST_DATABASE_URL##*:}"; PG_PORT="${PG_PORT%%/*}"
    as_postgres "$PG_BIN/psql" -h "$PG_TMP" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE homeroom_load" >/dev/null
    as_postgres "$PG_BIN/psql" -h "$PG_TMP" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE homeroom_raw" >/dev/null
    url="${HOMEROOM_TEST_DATABASE_URL%/*}/homeroom_load"
    raw_url="${HOMEROOM_TEST_DATABASE_URL%/*}/homeroom_raw"
  fi
  mkdir -p "$WORK/$backend"
  log "load: $backend: server up"
  "$BIN" --data-dir "$WORK/$backend" --listen 127.0.0.1:0 --seed-fixture ${url:+--database-url "$url"} \
    > "$WORK/addr" 2> "$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [ -s "$WORK/addr" ] && break; sleep 0.1; done
  # The server prints "homeroom-server listening on http://ADDR".
  base="$(grep -o 'http://[0-9.:]*' "$WORK/addr" | head -1)"
  [ -n "$base" ] || { log "load: the server did not start: $(cat "$WORK/server.log")"; exit 1; }
  token="$(curl -sf "$base/v1/sessions" -H 'content-type: application/json' \
    -d '{"method":"password","email":"ta@greenfield.test","password":"tA-password","device_id":"GREENFIELD-TEST-TABLET"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  before="$(count_awards "$backend")"
  log "load: $backend: pushes, $CONNS connections, ${DUR}s"
  TOKEN="$token" NONCE="$(printf '%08x' $((RANDOM * 32768 + RANDOM)))" \
    wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s scripts/bench.d/load/push.lua "$base" > "$WORK/push.txt"
  read -r prps pp50 pp99 pbad ptotal <<< "$(wrk_fields "$WORK/push.txt")"
  after="$(count_awards "$backend")"
  stored=$((after - before))
  log "load: $backend: pulls at the head of the log"
  TOKEN="$token" SINCE="$(head_seq "$backend")" \
    wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s scripts/bench.d/load/pull.lua "$base" > "$WORK/pull.txt"
  read -r lrps lp50 lp99 lbad ltotal <<< "$(wrk_fields "$WORK/pull.txt")"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
  log "load: $backend: raw insert limit"
  if [ "$backend" = sqlite ]; then
    mkdir -p "$WORK/raw"
    raw="$(CONCURRENCY="$CONNS" DURATION="$DUR" "$RAW" "$WORK/raw")"
  else
    raw="$(CONCURRENCY="$CONNS" DURATION="$DUR" "$RAW" "$WORK/raw-pg" "$raw_url")"
  fi
  rrps="$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["per_second"]))' "$raw")"
  rp50="$(python3 -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["p50_ms"])' "$raw")"
  rp99="$(python3 -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["p99_ms"])' "$raw")"
  ratio="$(python3 -c "print('%.2f' % ($rrps / max($prps, 1)))")"
  rows+=("| $backend | $prps | $pp50 | $pp99 | $pbad of $ptotal | $stored | $lrps | $lp50 | $lp99 | $rrps | $rp50 | $rp99 | ${ratio}× |")
  if [ "$backend" = postgres ]; then stop_test_postgres; fi
done

{
  echo "# Server load benchmark"
  echo
  echo "Run $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared), release build, by \`scripts/bench load\`."
  echo "wrk (a second process on the same 2 cores) drives $CONNS connections for ${DUR} s each; every push"
  echo "is one new award (fresh ids, never a replay) as teacher tA; pulls are incremental pulls at the"
  echo "head of the log. \"stored\" counts the award rows the database gained during the push run"
  echo "(every 2xx must have stored one). The peer is \`server/examples/raw_insert.rs\`: the same"
  echo "database, driver, pool, pragmas, write lock and durability committing the three rows a push"
  echo "stores, one transaction each, from $CONNS tasks — no HTTP, auth or rules. SQLite: WAL,"
  echo "synchronous=NORMAL. PostgreSQL: a throwaway cluster with default durability (fsync on,"
  echo "synchronous_commit on)."
  echo
  echo "| backend | pushes/s | push p50 ms | push p99 ms | non-2xx | awards stored | pulls/s | pull p50 ms | pull p99 ms | raw commits/s (limit) | raw p50 ms | raw p99 ms | limit ÷ pushes |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Target (SQLite): >= 5,000 pushes/s at p99 < 50 ms, and within 2x of the raw limit."
} > "$OUT"
cat "$OUT"
