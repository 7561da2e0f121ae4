#!/usr/bin/env bash
# Consent-filter face detection (issue 7, REQ-CON-2): CenterFace through tract (ours) at each model
# input size side by side with rustface (SeetaFace's funnel cascade, pure Rust) in ONE run: recall and
# false alarms on dlib's labelled set per size, then time per 1600x1200 and 4032x3024 JPEG, decode
# included, single thread; then each variant alone under /usr/bin/time for peak RSS.
# Target: < 150 ms per 12 MP photo end to end. Writes the measured part of docs/benchmarks/faces.md
# (between its MEASURED markers; the reading around it is written by hand).
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT"
apt_install time
OUT="$ROOT/docs/benchmarks/faces.md"
HOMEROOM_FACE_MODEL="$(scripts/fetch-face-model)"
HOMEROOM_FACE_TESTSET="$(scripts/fetch-face-testset)"
export HOMEROOM_FACE_MODEL HOMEROOM_FACE_TESTSET
log "faces: building the bench (release)"
nice -n 10 cargo bench -q -p homeroom-core --bench faces --no-run 2>/dev/null
# rustface ships SeetaFace's model inside its crate; cargo has just fetched it.
RUSTFACE_MODEL="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin' | head -1)"
[ -f "$RUSTFACE_MODEL" ] || { echo "rustface model not found in the cargo registry" >&2; exit 1; }
export RUSTFACE_MODEL
bin="$(find target/release/deps -maxdepth 1 -name 'faces-*' -type f -executable -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2)"
log "faces: accuracy per input size, then every variant interleaved per photo"
table="$("$bin")"
rss() { FACES_BENCH_ONLY="$1" FACES_BENCH_REPS=2 /usr/bin/time -f '%M' "$bin" 2>&1 >/dev/null | tail -1; }
rss_rows=""
for v in centerface-640 centerface-480 centerface-416 centerface-320 rustface-640; do
  rss_rows+="| $v | $(rss "$v") |"$'\n'
done
measured="$(
  echo "Run $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared; load average $(cut -d' ' -f1 /proc/loadavg) at the end),"
  echo "release build, one thread, by \`scripts/bench faces\`. Timing input: dlib's labelled group photo"
  echo "2008_007676.jpg (7 faces) upscaled with grain to a 1600x1200 and a 4032x3024 quality-90 JPEG."
  echo "\"decode\" is the core's own \`decode_oriented_bytes\` (mozjpeg, DCT-domain scaling, then EXIF"
  echo "orientation) to the size shown; \"detect\" is letterbox + model + decode of its output + NMS."
  echo "Medians of the reps after a warm-up, variants interleaved rep by rep."
  echo
  echo "$table"
  echo
  echo "Peak RSS of the bench process timing one variant alone (both photos; includes rustface's model):"
  echo
  echo "| variant | peak RSS (KB) |"
  echo "|---|---|"
  printf '%s' "$rss_rows"
)"
python3 - "$OUT" "$measured" <<'PY'
import sys
path, measured = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- MEASURED: scripts/bench faces -->", "<!-- /MEASURED -->"
a, b = text.index(start) + len(start), text.index(end)
open(path, "w").write(text[:a] + "\n" + measured + "\n" + text[b:])
PY
cat "$OUT"
