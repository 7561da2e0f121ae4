#!/usr/bin/env bash
# Offline-first client benchmarks (issue 4): an award on the device vs a bare rusqlite insert +
# commit with the same pragmas (target ≤ 2×), a no-op incremental sync (< 5 ms), a cold initial
# sync of 6,000 awards (< 1 s), live-mode latency, and the issue's class year: cold sync (< 1 s,
# < 64 MB, < 3 MB on the wire) and the first page of Class Story from a cold cache (< 5 ms). Real server on loopback, real SQLite files. Writes docs/benchmarks/sync.md.
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT"
OUT="$ROOT/docs/benchmarks/sync.md"
log "sync: building and running (release)"
table="$(cargo bench -q -p homeroom-e2e --bench sync 2>/dev/null)"
{
  echo "# Offline-first sync benchmarks"
  echo
  echo "Run $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared), release build, by \`scripts/bench sync\`."
  echo "The server runs in the same process on loopback with embedded SQLite; every device is a real"
  echo "core over its own SQLite file, sealed at rest. Award latencies are over 5,000 awards, interleaved"
  echo "in 25 blocks of 200 with the peer so machine noise hits both."
  echo
  echo "$table"
  echo
  echo "Notes: the award includes the rule check against the cached directory, sealing the note and"
  echo "the outbox entry (AES-256-GCM) and two inserts in one transaction; the peer is one unsealed"
  echo "insert. A tap writes three b-tree pages (the award, keyed by its id WITHOUT ROWID; the pupil index;"
  echo "the outbox row: cache schema v8), the peer two (its row and its primary-key index). The cache checkpoints"
  echo "its WAL after each sync on a second connection, not inside a tap's commit (inline only past 4,000 frames,"
  echo "about one tap in 1,300 here, as the bench never syncs between taps); the peer's blocks never reach one."
  echo "The class-year tables come from tests/src/class_year.rs, written through the real API; each cold"
  echo "sync runs in a device process of its own (tests/src/bin/cold-sync.rs) so its peak RSS is its own,"
  echo "through a loopback proxy that counts the bytes both ways as they pass."
} > "$OUT"
cat "$OUT"
