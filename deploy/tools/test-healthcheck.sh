#!/usr/bin/env bash
# Exercises deploy/docker/outpost-healthcheck (the images' HEALTHCHECK)
# against real HTTP servers on loopback ports chosen by the kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
check=deploy/docker/outpost-healthcheck
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

start_server() {  # status-for-/healthz; the port lands in $dir/port.STATUS
  local status=$1 portfile=$dir/port.$1
  python3 - "$status" "$portfile" >/dev/null 2>&1 <<'PY' &
import http.server, sys
status = int(sys.argv[1])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
PY
  pids+=($!)
  local deadline=$((SECONDS + 10))
  until [ -s "$portfile" ]; do
    [ $SECONDS -lt $deadline ] || { echo "test server did not start" >&2; return 1; }
    sleep 0.05  # polling for the port file, bounded by the deadline above
  done
}

fails=0
expect() {  # expected-exit description env...
  local want=$1 what=$2; shift 2
  local got=0
  env "$@" "$check" ${MODE:-} >"$dir/out" 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then
    echo "  ok: $what -> $got ($(cat "$dir/out"))"
  else
    echo "  FAILED: $what: exit $got, expected $want ($(cat "$dir/out"))" >&2
    fails=$((fails + 1))
  fi
}

start_server 200
start_server 503
healthy=$(cat "$dir/port.200")
sick=$(cat "$dir/port.503")
# A port nothing listens on: bind, read the number, close.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

expect 0 "agent healthy (200)" OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:$healthy
expect 0 "wildcard address maps to loopback" OUTPOST_HEALTHCHECK_ADDR=0.0.0.0:$healthy
expect 0 "AGENT_HEALTH_ADDR is honoured" AGENT_HEALTH_ADDR=127.0.0.1:$healthy
expect 1 "agent unhealthy (503)" OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:$sick
expect 1 "nothing listening" OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:$closed
expect 1 "malformed address" OUTPOST_HEALTHCHECK_ADDR=localhost
expect 0 "health endpoint disabled" AGENT_HEALTH_ADDR=off
MODE=hub expect 0 "hub accepts TCP" OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:$sick
MODE=hub expect 1 "hub not listening" OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:$closed
[ "$fails" -eq 0 ]
