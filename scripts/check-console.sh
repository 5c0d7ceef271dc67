#!/usr/bin/env bash
# Browser tests of the hub's web console (tests/browser/): a real outpost-hub
# and outpost-agent on loopback, a throwaway SQLite database, a throwaway
# PostgreSQL server (Unix socket only, run as the postgres user), and Debian's
# Chromium driven by playwright-core (pinned in tests/browser/package.json,
# installed with npm into build/console-tools, never globally; Chromium is
# never downloaded). scripts/test.sh's "console" stage runs it.
#
#   OUTPOST_CONSOLE_BUILD=build/dev   where the binaries are (built here unless
#                                     OUTPOST_CONSOLE_SKIP_BUILD=1)
# Screenshots of every page go to $OUTPOST_CONSOLE_BUILD/console-screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${OUTPOST_CONSOLE_BUILD:-build/dev}
tools=$root/build/console-tools

for cmd in node npm sqlite3 /usr/bin/chromium /usr/sbin/runuser "${OUTPOST_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb"; do
  command -v "$cmd" >/dev/null || { echo "check-console: $cmd is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

if [ -z "${OUTPOST_CONSOLE_SKIP_BUILD:-}" ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then cmake --preset "$(basename "$build")" >/dev/null; fi
  cmake --build "$build" --target outpost-hub outpost-agent -j "${OUTPOST_JOBS:-2}"
fi

mkdir -p "$tools"
if ! cmp -s tests/browser/package-lock.json "$tools/package-lock.json" || [ ! -d "$tools/node_modules/playwright-core" ]; then
  cp tests/browser/package.json tests/browser/package-lock.json "$tools/"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the system Chromium is used, nothing is fetched.
  (cd "$tools" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The tests run from the tools folder so they resolve playwright-core there.
cp tests/browser/*.mjs "$tools/"

export OUTPOST_HUB_BIN=$root/$build/hub/outpost-hub
export OUTPOST_AGENT_BIN=$root/$build/src/outpost-agent
export OUTPOST_CONSOLE_SHOTS=$root/$build/console-screenshots
rm -rf "$OUTPOST_CONSOLE_SHOTS"
start=$(date +%s)
node --test --test-concurrency=1 --test-reporter=spec "$tools/console.test.mjs"
echo "check-console: passed in $(( $(date +%s) - start )) s; screenshots in $OUTPOST_CONSOLE_SHOTS"
