#!/usr/bin/env bash
# Builds a release build and runs the benchmark suite (bench/outpost_bench.cpp):
# a throwaway PostgreSQL, outpost-hub and agents on loopback; prints one table
# and writes build/release/bench.json. Not part of the test run.
#
#   scripts/bench.sh [--runs N] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release -DOUTPOST_BUILD_BENCH=ON >/dev/null
cmake --build build/release --target outpost-agent outpost-hub outpost-bench -j "$(nproc)"
exec build/release/bench/outpost-bench --agent build/release/src/outpost-agent \
  --hub build/release/hub/outpost-hub --json build/release/bench.json "$@"
