# Builds the Swift package in the Debian trixie chroot (swiftlang) and runs its XCTests against
# the real Rust library and server. Sourced by scripts/test after scripts/bindings; the caller's
# EXIT trap must call umount_chroot. Sets SWIFT_PASSED/FAILED.
swift_suite() {
  local dst="$SWIFT_ROOT/build/ios"
  # One Swift build at a time per chroot (worktrees may share it through HOMEROOM_TOOLS); the lock
  # is held until this process exits, so the caller's EXIT trap unmounts before the next one mounts.
  exec 9>"$SWIFT_ROOT/.homeroom-swift.lock"
  flock 9
  mount_chroot
  mkdir -p "$dst" "$SWIFT_ROOT/build/bin"
  rm -rf "$dst/Package.swift" "$dst/Sources" "$dst/Tests" "$dst/lib"
  cp -a "$ROOT/ios/Package.swift" "$ROOT/ios/Sources" "$ROOT/ios/Tests" "$ROOT/ios/lib" "$dst/"
  cp "$ROOT/target/debug/homeroom-server" "$SWIFT_ROOT/build/bin/"
  cp "$ROOT/target/test-photo.jpg" "$SWIFT_ROOT/build/test-photo.jpg"
  log "swift build + test (chroot)"
  local out rc=0
  out="$(in_chroot 'cd /build/ios && swift build --build-tests -q 2>&1 && HOMEROOM_SERVER_BIN=/build/bin/homeroom-server HOMEROOM_TEST_PHOTO=/build/test-photo.jpg swift test --skip-build 2>&1')" || rc=$?
  printf '%s\n' "$out" >&2
  # XCTest: "Executed 6 tests, with 0 failures (0 unexpected) in ..."
  local line
  line="$(printf '%s\n' "$out" | grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' | tail -1)"
  local total failed
  total="$(printf '%s' "$line" | sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}.*/\1/p')"
  failed="$(printf '%s' "$line" | sed -n 's/.*with \([0-9]*\) failures\{0,1\}.*/\1/p')"
  total="${total:-0}"; failed="${failed:-0}"
  # Swift Testing: "✔ Test run with 1 test passed after …" (counted only when the run succeeded).
  local st
  st="$(printf '%s\n' "$out" | sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} passed.*/\1/p' | tail -1)"
  SWIFT_FAILED="$failed"; SWIFT_PASSED=$((total - failed + ${st:-0}))
  [ "$rc" -eq 0 ] && [ "$SWIFT_FAILED" -eq 0 ] && [ "$SWIFT_PASSED" -gt 0 ]
}
