#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset `fuzz`) and runs each for
# OUTPOST_FUZZ_SECONDS (default 60) on a copy of its corpus from tests/fuzz/corpus.
# A crash, leak or abort fails the script and leaves the reproducer in build/fuzz/findings.
# tests/fuzz/dictionaries/<name>.dict, when present, is passed as -dict.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${OUTPOST_FUZZ_SECONDS:-60}
cmake --preset fuzz >/dev/null
cmake --build build/fuzz --target fuzzers -j "$(nproc)"
mkdir -p build/fuzz/findings
status=0
for bin in build/fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  work=build/fuzz/corpus/$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  dict=()
  [[ -f tests/fuzz/dictionaries/$name.dict ]] && dict=(-dict=tests/fuzz/dictionaries/"$name".dict)
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      "${dict[@]}" -artifact_prefix=build/fuzz/findings/"$name"- -print_final_stats=1 "$work" \
      > build/fuzz/"$name".log 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 build/fuzz/"$name".log; status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/"$name".log | sed "s/^/  $name /"
done
exit $status
