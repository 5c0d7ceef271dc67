#!/usr/bin/env bash
# Reproducible release binaries: a second release build of the same commit,
# in another directory and without ccache, must give bit-identical stripped
# outpost-agent and outpost-hub (scripts/test.sh stage "repro", opt-in: it is
# a full cold compile, see docs/deployment.md for its cost).
#
#   scripts/check-reproducible.sh
#
#   A  build/image-stage (scripts/build-image-steps.sh: build/release, stripped
#      install); built here when missing
#   B  `git archive HEAD` extracted to build/repro/src, `cmake --preset
#      release` there with the same commit id, CCACHE_DISABLE=1, stripped install
#
# Also fails when the sources use __DATE__/__TIME__ or A's unstripped
# binaries name the source directory. SOURCE_DATE_EPOCH is set to the
# commit's time for anything that reads it.
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

if grep -rnE '__DATE__|__TIME__|__TIMESTAMP__' src hub connectors include cmake CMakeLists.txt; then
  fail "timestamps compiled into the binaries (above)"
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  echo "check-reproducible: note: the work tree has uncommitted changes; B builds HEAD"

[ -x build/image-stage/usr/local/bin/outpost-agent ] || OUTPOST_SKIP_DEPS=1 scripts/build-image-steps.sh
for bin in src/outpost-agent hub/outpost-hub; do
  if strings "build/release/$bin" | grep -qF "$root/"; then
    strings "build/release/$bin" | grep -F "$root/" | head -n 5 >&2
    fail "build/release/$bin names the source directory $root"
  fi
done
echo "A: build/release binaries name no build path"

rm -rf "$out"
mkdir -p "$out/src"
git archive HEAD | tar -x -C "$out/src"
commit=$(git rev-parse --short=12 HEAD)
(
  cd "$out/src"
  [ -n "${OUTPOST_REPRO_CCACHE:-}" ] || export CCACHE_DISABLE=1
  cmake --preset release -DOUTPOST_GIT_COMMIT="$commit" >/dev/null
  cmake --build build/release --target outpost-agent outpost-hub -j "$jobs" >"$out/build.log" 2>&1 ||
    { tail -n 30 "$out/build.log" >&2; exit 1; }
  cmake --install build/release --prefix "$out/stage" --strip >/dev/null
  # as scripts/build-image-steps.sh stages a binary without an install rule
  for bin in src/outpost-agent hub/outpost-hub; do
    [ -x "$out/stage/bin/${bin#*/}" ] || install -m 0755 -s "build/release/$bin" "$out/stage/bin/${bin#*/}"
  done
) || fail "build B"
echo "B: built in $((SECONDS - start)) s in ${out#"$root"/}/src"

status=0
for name in outpost-agent outpost-hub; do
  a=build/image-stage/usr/local/bin/$name
  b=$out/stage/bin/$name
  if cmp -s "$a" "$b"; then
    echo "identical: $name $(sha256sum "$a" | cut -d' ' -f1)"
  else
    status=1
    echo "DIFFERENT: $name: $(sha256sum "$a" | cut -c1-16) vs $(sha256sum "$b" | cut -c1-16)" >&2
    readelf -n "$a" "$b" | grep -i 'build id' >&2 || true
  fi
done
[ "$status" = 0 ] || fail "the two builds differ"
echo "check-reproducible: both binaries bit-identical ($((SECONDS - start)) s)"
