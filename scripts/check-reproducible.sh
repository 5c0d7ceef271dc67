#!/usr/bin/env bash
# Reproducible release binaries (scripts/test.sh stage "repro", a default
# CI stage; docs/deployment.md): a second release build of the same commit,
# in another directory and without ccache, must give bit-identical stripped
# outpost-agent and outpost-hub.
#
#   scripts/check-reproducible.sh
#
#   A  the release build the deploy stage already made: build/release and its
#      stripped install build/image-stage (scripts/build-image-steps.sh; run
#      here when missing or when it names another commit)
#   B  `git archive HEAD` extracted to build/repro/src, `cmake --preset
#      release` there with the same commit id, CCACHE_DISABLE=1 (a cache hit
#      would hand B A's objects and prove nothing), only outpost-agent and
#      outpost-hub built, stripped install
#
# Compared byte for byte (cmp); when they differ, the ELF sections that differ
# are named (a sha256 per section of the unstripped binaries, by readelf offsets). Also
# fails when the sources use __DATE__/__TIME__ or A's unstripped binaries name
# the source directory. SOURCE_DATE_EPOCH is the commit's time.
#   OUTPOST_REPRO_CCACHE=1   let build B use ccache (cheap, but then B reuses
#                            A's objects and only the link is compared)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/repro
jobs=${OUTPOST_JOBS:-$(nproc)}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
fail() { echo "check-reproducible: FAILED: $*" >&2; exit 1; }
start=$SECONDS
commit=$(git rev-parse --short=12 HEAD)

# (comment lines, # or //, do not count: cmake/Reproducible.cmake names them)
if grep -rnE '__DATE__|__TIME__|__TIMESTAMP__' src hub connectors include cmake CMakeLists.txt |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(#|//)'; then
  fail "timestamps compiled into the binaries (above)"
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  echo "check-reproducible: note: the work tree has uncommitted changes; A builds them, B builds HEAD"

mkdir -p "$root/build"
staged=build/image-stage/usr/local/bin
if [ ! -x "$staged/outpost-agent" ] || [ ! -x "$staged/outpost-hub" ] ||
  ! "$staged/outpost-agent" --version | grep -qx "commit: $commit"; then
  echo "A: build/image-stage missing or of another commit: scripts/build-image-steps.sh"
  OUTPOST_SKIP_DEPS=1 scripts/build-image-steps.sh >"$root/build/repro-a.log" 2>&1 ||
    { tail -n 30 "$root/build/repro-a.log" >&2; fail "build A"; }
fi
for bin in src/outpost-agent hub/outpost-hub; do
  if strings "build/release/$bin" | grep -qF "$root/"; then
    strings "build/release/$bin" | grep -F "$root/" | head -n 5 >&2
    fail "build/release/$bin names the source directory $root"
  fi
done
echo "A: build/release (commit $commit) names no build path"

rm -rf "$out"
mkdir -p "$out/src"
git archive HEAD | tar -x -C "$out/src"
b_start=$SECONDS
(
  cd "$out/src"
  [ -n "${OUTPOST_REPRO_CCACHE:-}" ] || export CCACHE_DISABLE=1
  cmake --preset release -DOUTPOST_GIT_COMMIT="$commit" >/dev/null
  cmake --build build/release --target outpost-agent outpost-hub -j "$jobs" >"$out/build.log" 2>&1 ||
    { tail -n 30 "$out/build.log" >&2; exit 1; }
  mkdir -p "$out/stage/bin"
  # as scripts/build-image-steps.sh stages them (install --strip)
  for bin in src/outpost-agent hub/outpost-hub; do
    install -m 0755 -s "build/release/$bin" "$out/stage/bin/${bin#*/}"
  done
) || fail "build B"
echo "B: built outpost-agent and outpost-hub in $((SECONDS - b_start)) s in ${out#"$root"/}/src (ccache ${OUTPOST_REPRO_CCACHE:+on}${OUTPOST_REPRO_CCACHE:-off})"

section_sums() {  # ELF: "NAME SHA256" per section with contents (offsets from readelf -SW)
  readelf -SW "$1" | python3 -c '
import hashlib, re, sys
data = open(sys.argv[1], "rb").read()
for line in sys.stdin:
    m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if m and m.group(2) not in ("NULL", "NOBITS"):
        off, size = int(m.group(3), 16), int(m.group(4), 16)
        print(m.group(1), hashlib.sha256(data[off:off + size]).hexdigest()[:16])
' "$1"
}
status=0
for bin in src/outpost-agent hub/outpost-hub; do
  name=${bin#*/}
  a=$staged/$name
  b=$out/stage/bin/$name
  if cmp -s "$a" "$b"; then
    echo "identical: $name $(sha256sum "$a" | cut -d' ' -f1) ($(stat -c %s "$a") bytes)"
  else
    status=1
    echo "DIFFERENT: $name: $(sha256sum "$a" | cut -c1-16) vs $(sha256sum "$b" | cut -c1-16); sections that differ (unstripped):" >&2
    diff <(section_sums "build/release/$bin") <(section_sums "$out/src/build/release/$bin") |
      sed -n 's/^[<>] /  /p' | sort | uniq >&2 || true
  fi
done
[ "$status" = 0 ] || fail "the two builds differ"
echo "check-reproducible: both binaries bit-identical ($((SECONDS - start)) s)"
