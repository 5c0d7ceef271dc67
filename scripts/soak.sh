#!/usr/bin/env bash
# Soak run (issue 10; not part of CI): builds the dev preset's agent, hub and
# tests/soak driver, then runs 30 minutes (by default) of mixed jobs against
# a throwaway PostgreSQL, a SQLite file, outpost-hub and two agents, with a
# random fault injected every 20-60 s. Samples each agent's RSS and open fds
# every 10 s and fails on growth, lost jobs, or an agent that stops answering.
#
#   scripts/soak.sh [--minutes N] [--json FILE] [--seed N] [--rate JOBS_PER_S] [--fault-gap MIN:MAX]
#                   [--store memory|postgres] [--retain DURATION]
#
# --store postgres: TWO hubs on one PostgreSQL store (a database of the
# throwaway cluster), the agents split over both, the driver's admin calls on
# hub A; the report prints each hub's RSS trend. --retain (e.g. 2m) is passed
# to the hubs; jobs it deletes after they finished are counted, not lost.
#
# Environment: SOAK_BUILD_DIR (default build/dev), SOAK_PRESET (default dev), SOAK_LOG_DIR (default
# $SOAK_BUILD_DIR/soak-logs). Exit status: the driver's (0 = every check passed).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${SOAK_BUILD_DIR:-build/dev}
log_dir=${SOAK_LOG_DIR:-$build_dir/soak-logs}
args=()
json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes | --seed | --rate | --fault-gap | --store | --retain)
      [[ $# -ge 2 ]] || { echo "soak.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    --json)
      [[ $# -ge 2 ]] || { echo "soak.sh: --json needs a file" >&2; exit 2; }
      json=$2; shift 2 ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$json" ]] || json=$build_dir/soak.json

# SOAK_PRESET=release (with SOAK_BUILD_DIR=build/release) reuses the release
# tree (scripts/bench.sh, scripts/build-image-steps.sh) with the soak driver added.
preset=${SOAK_PRESET:-dev}
extra=()
[[ "$preset" == release ]] && extra=(-DOUTPOST_BUILD_TESTS=ON)
if [[ "$build_dir" == "build/$preset" ]]; then
  cmake --preset "$preset" "${extra[@]}" >/dev/null
else
  cmake --preset "$preset" -B "$build_dir" "${extra[@]}" >/dev/null
fi
cmake --build "$build_dir" --target outpost-agent outpost-hub outpost-soak -j "$(nproc)"

rm -rf "$log_dir"
mkdir -p "$log_dir"
exec "$build_dir/tests/soak/outpost-soak" --agent "$build_dir/src/outpost-agent" \
  --hub "$build_dir/hub/outpost-hub" --json "$json" --log-dir "$log_dir" "${args[@]}"
