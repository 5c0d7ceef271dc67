#!/usr/bin/env bash
# Documentation checks (a CI stage of scripts/test.sh):
#   1. every relative link in the project's Markdown points at a file that exists;
#   2. docs/openapi.yaml passes Redocly CLI's lint with 0 errors.
# Redocly comes from npm into build/docs-tools (never global), pinned in
# docs/tools/package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/build/docs-tools

echo "check-docs: relative links"
python3 - <<'PY'
import os, re, subprocess, sys
files = subprocess.run(["git", "ls-files", "*.md"], capture_output=True, text=True,
                       check=True).stdout.split()
link = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
broken = []
for md in files:
    in_fence = False
    with open(md, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            if in_fence:
                continue
            for target in link.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue
                path = target.split("#", 1)[0]
                if not path:
                    continue
                resolved = os.path.normpath(os.path.join(os.path.dirname(md), path))
                if not os.path.exists(resolved):
                    broken.append(f"{md}:{no}: link to '{target}' ({resolved} does not exist)")
for b in broken:
    print("check-docs:", b, file=sys.stderr)
print(f"check-docs: {len(files)} Markdown files, {len(broken)} broken links")
sys.exit(1 if broken else 0)
PY

echo "check-docs: OpenAPI lint"
mkdir -p "$tools"
if ! cmp -s docs/tools/package.json "$tools/package.json" || [ ! -x "$tools/node_modules/.bin/redocly" ]; then
  cp docs/tools/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error --prefix "$tools" >/dev/null)
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$tools/node_modules/.bin/redocly" lint --config docs/tools/redocly.yaml \
  --format stylish docs/openapi.yaml
echo "check-docs: passed"
