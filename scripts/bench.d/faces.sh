#!/usr/bin/env bash
# Consent-filter face detection (issue 7, REQ-CON-2): CenterFace through tract (ours) side by side
# with rustface (SeetaFace's funnel cascade, pure Rust) in ONE run, on a dlib group photo upscaled
# to 1600x1200 and 4032x3024 JPEGs, decode included, single thread; then each detector alone under
# /usr/bin/time for peak RSS. Target: < 150 ms per 12 MP photo end to end. Writes docs/benchmarks/faces.md.
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT"
apt_install time
OUT="$ROOT/docs/benchmarks/faces.md"
HOMEROOM_FACE_MODEL="$(scripts/fetch-face-model)"
HOMEROOM_FACE_TESTSET="$(scripts/fetch-face-testset)"
export HOMEROOM_FACE_MODEL HOMEROOM_FACE_TESTSET
log "faces: building the bench (release)"
cargo bench -q -p homeroom-core --bench faces --no-run 2>/dev/null
# rustface ships SeetaFace's model inside its crate; cargo has just fetched it.
RUSTFACE_MODEL="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin' | head -1)"
[ -f "$RUSTFACE_MODEL" ] || { echo "rustface model not found in the cargo registry" >&2; exit 1; }
export RUSTFACE_MODEL
bin="$(find target/release/deps -maxdepth 1 -name 'faces-*' -type f -executable -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2)"
log "faces: both detectors, interleaved per photo"
table="$("$bin")"
rss() { FACES_BENCH_ONLY="$1" FACES_BENCH_REPS=2 /usr/bin/time -f '%M' "$bin" 2>&1 >/dev/null | tail -1; }
cf_rss="$(rss centerface)"; rf_rss="$(rss rustface)"
{
  echo "# Face detection benchmark (consent filter)"
  echo
  echo "Run $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared), release build, one thread,"
  echo "by \`scripts/bench faces\`. Input: dlib's labelled group photo 2008_007676.jpg (7 faces) upscaled"
  echo "with grain to a 1600x1200 and a 4032x3024 quality-90 JPEG. \"decode\" is the core's own"
  echo "\`decode_oriented_bytes\` (mozjpeg with DCT-domain scaling straight to the long edge shown, then"
  echo "EXIF orientation); \"detect\" is the detector on that image. Medians of 5 runs after a warm-up."
  echo
  echo "$table"
  echo
  echo "Peak RSS of the whole bench process with one detector (both photos, both sizes):"
  echo "CenterFace ${cf_rss} KB, rustface ${rf_rss} KB."
} > "$OUT"
cat "$OUT"
