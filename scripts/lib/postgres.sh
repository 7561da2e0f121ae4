# A throwaway PostgreSQL cluster for the server's scale-path tests (issue 5). Sourced by
# scripts/test; the caller's EXIT trap must call stop_test_postgres.
#   start_test_postgres: installs Debian's postgresql if missing, initdb's a cluster in a temp
#   dir, starts it on a free loopback port and exports HOMEROOM_TEST_DATABASE_URL.

PG_TMP=""
PG_BIN=""

# as_postgres CMD...: initdb and postgres refuse to run as root; run them as the postgres user.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# free_port: a loopback TCP port nobody is listening on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# Returns non-zero (and says why) if the cluster could not be started; every step is checked
# explicitly because callers use it in an `if`, where `set -e` does not apply.
start_test_postgres() {
  apt_install postgresql || return 1
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  PG_TMP="$(mktemp -d -t homeroom-pg.XXXXXX)" || return 1
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_TMP" || return 1; fi
  local port; port="$(free_port)" || { log "postgres: no free loopback port"; return 1; }
  log "postgres: throwaway cluster on 127.0.0.1:$port ($PG_TMP)"
  as_postgres "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null \
    || { log "postgres: initdb failed"; return 1; }
  # Durability is pointless for a cluster deleted at exit; speed is not. Benchmarks set
  # PG_DURABLE=1 to measure with PostgreSQL's default (durable) commit settings.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && durability=""
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP $durability -c max_connections=400" \
    start >/dev/null || { log "postgres: the cluster did not start (log: $PG_TMP/log)"; return 1; }
  export HOMEROOM_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_test_postgres() {
  [ -n "$PG_TMP" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  PG_TMP=""
}
