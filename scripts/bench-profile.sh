#!/usr/bin/env bash
# The profile benchmark (docs/benchmarks.md, "profile"): a 5,000,000-row,
# 10-column PostgreSQL table profiled by the connector and by the equivalent
# hand-written aggregate query in psql, side by side in one run.
#   scripts/bench-profile.sh [--rows N] [--runs N] [--preset release|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
args=()
while (($#)); do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
cmake --preset "$preset" -DOUTPOST_BUILD_BENCH=ON >/dev/null
cmake --build "build/$preset" --target outpost-profile-bench -j "$(nproc)"
"build/$preset/bench/outpost-profile-bench" "${args[@]}"
