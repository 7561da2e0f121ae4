# Compiles the Kotlin shell with kotlinc and runs its JUnit 5 tests on the JVM against the real
# Rust library and server. Sourced by scripts/test after scripts/bindings. Sets KOTLIN_PASSED/FAILED.
kotlin_suite() {
  local K="$KOTLINC" J="$JAVA_LIBS" B="$ROOT/target/kotlin"
  local KCP="$J/jna.jar:$K/lib/kotlinx-coroutines-core-jvm.jar"
  local TCP="$J/junit-jupiter-api.jar:$J/apiguardian-api.jar:$J/opentest4j.jar:$J/junit-platform-commons.jar:$K/lib/kotlin-test.jar:$K/lib/kotlin-test-junit5.jar"
  mkdir -p "$B"
  log "kotlinc: shell + bindings"
  "$K/bin/kotlinc" -nowarn -jvm-target 17 -cp "$KCP" -d "$B/homeroom-android.jar" \
    "$ROOT/android/src/main/kotlin" 2>&1 | grep -v '^warning' >&2 || true
  [ -f "$B/homeroom-android.jar" ] || { echo "kotlinc failed" >&2; return 1; }
  log "kotlinc: tests"
  rm -rf "$B/test-classes"
  "$K/bin/kotlinc" -nowarn -jvm-target 17 -cp "$B/homeroom-android.jar:$KCP:$TCP" -d "$B/test-classes" \
    "$ROOT/android/src/test/kotlin" 2>&1 | grep -v '^warning' >&2 || true
  [ -d "$B/test-classes/app" ] || { echo "kotlinc (tests) failed" >&2; return 1; }
  log "junit: Kotlin tests"
  local out rc=0
  out="$(HOMEROOM_SERVER_BIN="$ROOT/target/debug/homeroom-server" HOMEROOM_TEST_PHOTO="$ROOT/target/test-photo.jpg" java \
    -Djna.library.path="$ROOT/target/debug" \
    -jar "$J/junit-platform-console-standalone.jar" \
    -cp "$B/test-classes:$B/homeroom-android.jar:$KCP:$TCP:$K/lib/kotlin-stdlib.jar" \
    --scan-classpath "$B/test-classes" --disable-banner --disable-ansi-colors --details=tree 2>&1)" || rc=$?
  printf '%s\n' "$out" >&2
  KOTLIN_PASSED="$(printf '%s\n' "$out" | sed -n 's/.*\[ *\([0-9]*\) tests successful.*/\1/p' | tail -1)"
  KOTLIN_FAILED="$(printf '%s\n' "$out" | sed -n 's/.*\[ *\([0-9]*\) tests failed.*/\1/p' | tail -1)"
  KOTLIN_PASSED="${KOTLIN_PASSED:-0}"; KOTLIN_FAILED="${KOTLIN_FAILED:-0}"
  [ "$rc" -eq 0 ] && [ "$KOTLIN_FAILED" -eq 0 ] && [ "$KOTLIN_PASSED" -gt 0 ]
}
