#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset `fuzz`) and runs each for
# OUTPOST_FUZZ_SECONDS (default 60) on a copy of its corpus from tests/fuzz/corpus.
# A crash, leak or abort fails the script and leaves the reproducer in build/fuzz/findings.
# Targets run OUTPOST_FUZZ_JOBS at a time (default: one per core).
# tests/fuzz/dictionaries/<name>.dict, when present, is passed as -dict.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${OUTPOST_FUZZ_SECONDS:-60}
cmake --preset fuzz >/dev/null
cmake --build build/fuzz --target fuzzers -j "$(nproc)"
mkdir -p build/fuzz/findings
parallel=${OUTPOST_FUZZ_JOBS:-$(nproc)}  # targets fuzzed at once, one core each

fuzz_one() {  # BINARY: fuzzes one target; its log in build/fuzz/NAME.log
  local bin=$1 name work dict=()
  name=$(basename "$bin"); name=${name#fuzz_}
  work=build/fuzz/corpus/$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  [[ -f tests/fuzz/dictionaries/$name.dict ]] && dict=(-dict=tests/fuzz/dictionaries/"$name".dict)
  "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    "${dict[@]}" -artifact_prefix=build/fuzz/findings/"$name"- -print_final_stats=1 "$work" \
    >build/fuzz/"$name".log 2>&1
}

report() {  # NAME STATUS
  if [ "$2" -ne 0 ]; then
    echo "fuzz: $1 FAILED"; tail -40 build/fuzz/"$1".log; status=1
  else
    echo "fuzz: $1 passed"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/"$1".log | sed "s/^/  $1 /"
}

status=0
declare -A running=()  # pid -> target name
for bin in build/fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  echo "fuzz: $name for ${seconds}s"
  fuzz_one "$bin" &
  running[$!]=$name
  while [ ${#running[@]} -ge "$parallel" ]; do
    rc=0; wait -n -p done_pid || rc=$?
    report "${running[$done_pid]}" "$rc"; unset "running[$done_pid]"
  done
done
while [ ${#running[@]} -gt 0 ]; do
  rc=0; wait -n -p done_pid || rc=$?
  report "${running[$done_pid]}" "$rc"; unset "running[$done_pid]"
done
exit $status
