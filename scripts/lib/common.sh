# Shared helpers for the project's scripts: paths, logging, and idempotent installers.
# Sourced, never run. Every installer skips work that is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${HOMEROOM_TOOLS:-$ROOT/.tools}"
KOTLIN_VERSION="2.4.20"
KOTLINC="$TOOLS/kotlinc-$KOTLIN_VERSION"
SWIFT_ROOT="${HOMEROOM_SWIFT_ROOT:-$TOOLS/swiftroot}"
JAVA_LIBS=/usr/share/java

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# apt_install PKG...: installs only the packages that are missing; waits for another dpkg.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  if [ ! -f "$TOOLS/.apt-updated" ] || [ -n "$(find "$TOOLS/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    mkdir -p "$TOOLS"
    apt-get -o DPkg::Lock::Timeout=600 update -qq && touch "$TOOLS/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_build_tools: what the native photo codecs build with — cmake and g++ for jpegli
# (jpegli-sys), nasm for mozjpeg's x86 SIMD (issue 6).
ensure_build_tools() {
  apt_install cmake g++ nasm
}

# ensure_kotlin: the Kotlin compiler from the npm package (ships kotlinx-coroutines 1.8 too).
ensure_kotlin() {
  apt_install libjna-java junit5
  [ -x "$KOTLINC/bin/kotlinc" ] && return 0
  log "npm: fetching kotlin-compiler@$KOTLIN_VERSION"
  mkdir -p "$TOOLS"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf "kotlin-compiler-$KOTLIN_VERSION.tgz")
  rm -rf "$KOTLINC"
  mv "$tmp/package" "$KOTLINC"
  chmod +x "$KOTLINC"/bin/*
  rm -rf "$tmp"
}

# in_chroot CMD: runs a shell command inside the Swift chroot with a clean environment.
in_chroot() {
  chroot "$SWIFT_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive bash -c "$1"
}

# mount_chroot / umount_chroot: the bind mounts swift needs; always undone by the caller's trap.
mount_chroot() {
  local m
  for m in proc dev dev/pts sys; do
    mountpoint -q "$SWIFT_ROOT/$m" && continue
    case "$m" in
      proc) mount -t proc proc "$SWIFT_ROOT/proc" ;;
      *) mount --bind "/$m" "$SWIFT_ROOT/$m" ;;
    esac
  done
}
umount_chroot() {
  local m
  for m in sys dev/pts dev proc; do
    if mountpoint -q "$SWIFT_ROOT/$m" 2>/dev/null; then umount -l "$SWIFT_ROOT/$m" || true; fi
  done
}

# debian_mirror: the Debian archive this host already uses (no host is named in the project).
debian_mirror() {
  grep -rhoE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian ' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -v -e snapshot -e security | head -n1 | tr -d ' '
}

# ensure_swift: a Debian trixie chroot with swiftlang (bookworm has no Swift compiler).
ensure_swift() {
  apt_install debootstrap
  if [ ! -f "$SWIFT_ROOT/.debootstrap-done" ]; then
    log "debootstrap: trixie into $SWIFT_ROOT (one-time, ~1 min)"
    umount_chroot
    if grep -q " $SWIFT_ROOT/" /proc/mounts; then
      echo "refusing to delete $SWIFT_ROOT: something is still mounted under it" >&2; return 1
    fi
    rm -rf "$SWIFT_ROOT"
    mkdir -p "$SWIFT_ROOT"
    debootstrap --variant=minbase trixie "$SWIFT_ROOT" "$(debian_mirror)" >/dev/null
    touch "$SWIFT_ROOT/.debootstrap-done"
  fi
  if [ ! -f "$SWIFT_ROOT/.swiftlang-done" ]; then
    log "chroot: installing swiftlang (one-time, ~1 min)"
    mount_chroot
    in_chroot 'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >/dev/null && apt-get clean'
    touch "$SWIFT_ROOT/.swiftlang-done"
  fi
}
