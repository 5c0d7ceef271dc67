#!/usr/bin/env bash
# Installs dependencies, builds and runs every test suite.
#
#   scripts/test.sh            everything CI runs
#   OUTPOST_SKIP_DEPS=1 ...    skip the apt step (already installed)
#   OUTPOST_STAGES="asan"      run only some stages (dev docs tidy asan tsan console deploy image repro fuzz)
#
# The default stages (docs tidy asan tsan console deploy image repro fuzz) are
# what CI runs within its budget on a 2-core machine: deploy makes the release
# build (build/release, staged in build/image-stage); image builds and runs
# both container images from it (scripts/check-image.sh; its base images are
# made in the background from the start); repro builds outpost-agent and
# outpost-hub a second time from `git archive HEAD` in build/repro, ccache
# off, and compares them byte for byte with deploy's
# (scripts/check-reproducible.sh: a cold compile of the two binaries, about
# 8-10 min on an idle 2-core machine; docs/deployment.md);
# asan builds everything and runs every suite (unit,
# integration, e2e); tidy (about 18 CPU-minutes, 9-10 min on two idle cores)
# runs clang-tidy (.clang-tidy) over every project translation unit from a
# configured, unbuilt tree (scripts/check-tidy.sh);
# tsan (ThreadSanitizer) builds only what the unit and integration suites
# need (the tsan preset sets OUTPOST_BUILD_E2E=OFF) and runs those, with the
# suppressions in tests/tsan.supp (uninstrumented third-party libraries only). `dev` (a clean, timed, ccache-free Debug build) is opt-in:
# OUTPOST_STAGES="dev asan tsan deploy fuzz".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stages=${OUTPOST_STAGES:-"docs tidy asan tsan console deploy image repro fuzz"}
jobs=${OUTPOST_JOBS:-$(nproc)}

log() { printf '\n== %s ==\n' "$*"; }
has_stage() { [[ " $stages " == *" $1 "* ]]; }

if [ -z "${OUTPOST_SKIP_DEPS:-}" ]; then
  log "dependencies"
  scripts/install-deps.sh
fi

# The image stage's base images come from debootstrap (network and disk bound,
# 2-4 min on a cold machine): made in the background while the CPU-bound
# stages run; the image stage waits for it (scripts/check-image.sh makes
# them itself, and says why, if this failed).
base_images_pid=""
if has_stage image && command -v podman >/dev/null && command -v debootstrap >/dev/null; then
  mkdir -p build
  nice -n 10 scripts/make-base-images.sh >build/base-images.log 2>&1 &
  base_images_pid=$!
fi

# Sanitizer settings for every test process (children inherit them).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# TSan reports inside uninstrumented third-party libraries: see tests/tsan.supp.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}:suppressions=$root/tests/tsan.supp"
# Tests that need a database must not skip in CI: the suites read this.
export OUTPOST_REQUIRE_SERVERS=1

if has_stage dev; then
  log "clean dev build (timed, ccache off)"
  rm -rf build/dev
  cmake --preset dev >/dev/null
  start=$(date +%s)
  CCACHE_DISABLE=1 cmake --build build/dev -j "$jobs"
  echo "clean dev build: $(( $(date +%s) - start )) s on $(nproc) cores"
fi

if has_stage docs; then
  log "documentation (links, OpenAPI lint)"
  scripts/check-docs.sh
fi

if has_stage tidy; then
  log "clang-tidy"
  start=$(date +%s)
  OUTPOST_JOBS=$jobs scripts/check-tidy.sh
  echo "tidy: $(( $(date +%s) - start )) s on $(nproc) cores"
fi

run_suite() {  # preset [ctest label regex]
  log "$1 build"
  cmake --preset "$1" >/dev/null
  local start=$(date +%s)
  cmake --build "build/$1" -j "$jobs"
  echo "$1 build: $(( $(date +%s) - start )) s on $(nproc) cores"
  log "$1 tests"
  start=$(date +%s)
  (cd "build/$1" && ctest --output-on-failure --timeout 600 -j "${OUTPOST_TEST_JOBS:-2}" \
    ${2:+-L "$2"})
  echo "$1 tests: $(( $(date +%s) - start )) s"
}

has_stage asan && run_suite asan
has_stage tsan && run_suite tsan 'unit|integration'

if has_stage console && [ -x scripts/check-console.sh ]; then
  log "web console in Chromium"
  # The asan stage built the hub and the agent already; reuse them.
  if has_stage asan; then
    OUTPOST_CONSOLE_BUILD=build/asan OUTPOST_CONSOLE_SKIP_BUILD=1 scripts/check-console.sh
  else
    OUTPOST_CONSOLE_BUILD=build/dev scripts/check-console.sh
  fi
fi

if has_stage deploy && [ -x scripts/check-deploy.sh ]; then
  log "deployment manifests"
  scripts/check-deploy.sh
fi

if has_stage image && [ -x scripts/check-image.sh ]; then
  log "container images (podman/buildah)"
  # The deploy stage staged the release binaries in build/image-stage: the
  # images take them prebuilt (no second compile inside a container).
  if [ -n "$base_images_pid" ]; then
    wait "$base_images_pid" || echo "base images in the background failed (build/base-images.log); check-image.sh retries"
    cat build/base-images.log
  fi
  scripts/check-image.sh
fi

if has_stage repro && [ -x scripts/check-reproducible.sh ]; then
  log "reproducible release binaries (a second release build of the two binaries, ccache off)"
  # Build A is the deploy stage's build/release; B is cold.
  start=$(date +%s)
  scripts/check-reproducible.sh
  echo "repro: $(( $(date +%s) - start )) s on $(nproc) cores"
fi

if has_stage fuzz && [ -x scripts/fuzz.sh ]; then
  log "fuzzing"
  # 10 targets, 45 s each, two at a time (one per core): about 4 minutes.
  OUTPOST_FUZZ_SECONDS=${OUTPOST_FUZZ_SECONDS:-45} scripts/fuzz.sh
fi

log "all stages passed: $stages"
