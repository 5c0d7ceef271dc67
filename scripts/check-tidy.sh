#!/usr/bin/env bash
# clang-tidy over the project's own translation units (src/, hub/, connectors/)
# with the checked-in .clang-tidy; any finding fails (a CI stage of scripts/test.sh).
# Needs only a configured build tree for compile_commands.json, not a build.
#
#   scripts/check-tidy.sh            every project TU
#   scripts/check-tidy.sh FILE...    only these files
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/tidy
jobs=${OUTPOST_JOBS:-$(nproc)}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DOUTPOST_BUILD_TESTS=OFF >/dev/null
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'src/*.cpp' 'hub/*.cpp' 'connectors/*.cpp')
fi
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet >"$log" 2>&1 || true
findings=$(grep -cE '^[^ ].*: (warning|error): ' "$log" || true)
if [ "$findings" -gt 0 ]; then
  grep -E -A3 '^[^ ].*: (warning|error): ' "$log" >&2
  echo "check-tidy: $findings findings in ${#files[@]} files" >&2
  exit 1
fi
echo "check-tidy: ${#files[@]} files clean in $(( $(date +%s) - start )) s"
