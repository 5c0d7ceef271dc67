#!/usr/bin/env bash
# Builds a release build and runs the benchmark suites, each printing one
# table (docs/benchmarks.md). Not part of the test run.
#   - bench/outpost_bench.cpp: the agent end to end (a throwaway PostgreSQL,
#     outpost-hub and agents on loopback); writes build/release/bench.json;
#   - bench/hub_bench.cpp: outpost-hub itself over HTTP (memory store, one and
#     two hubs on PostgreSQL, cross-hub wake-up, RSS under retention); writes
#     build/release/hub-bench.json.
#
#   scripts/bench.sh [--runs N] [--quick] [--only SCENARIO]...   both suites (options: the agent's)
#   scripts/bench.sh --agent [options]                            the agent suite only
#   scripts/bench.sh --hub [--jobs N] [--claimers N] [--capacity N] [--wakeups N]
#                          [--rss-jobs N] [--quick] [--only throughput|wakeup|rss]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in
  --hub) mode=hub; shift ;;
  --agent) mode=agent; shift ;;
esac
cmake --preset release -DOUTPOST_BUILD_BENCH=ON >/dev/null
targets=(outpost-hub)
[[ $mode != hub ]] && targets+=(outpost-agent outpost-bench)
[[ $mode != agent ]] && targets+=(outpost-hub-bench)
cmake --build build/release --target "${targets[@]}" -j "$(nproc)"
if [[ $mode != hub ]]; then
  build/release/bench/outpost-bench --agent build/release/src/outpost-agent \
    --hub build/release/hub/outpost-hub --json build/release/bench.json "$@"
fi
if [[ $mode != agent ]]; then
  # Both suites in one run keep to 10 minutes on a fresh machine (build
  # included): the hub's retention case then runs 40,000 jobs, not 100,000.
  hub_args=(--rss-jobs 40000)
  [[ $mode == hub ]] && hub_args=("$@")
  build/release/bench/outpost-hub-bench --hub build/release/hub/outpost-hub \
    --json build/release/hub-bench.json "${hub_args[@]}"
fi
