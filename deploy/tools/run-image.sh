#!/usr/bin/env bash
# Runs the built images (scripts/check-image.sh step 5). `podman run` needs
# namespaces this machine does not give, so each command runs with
# `buildah run --isolation chroot` in a working container of the image, which
# shares the host's network: the hub and the agent meet on 127.0.0.1.
#
#   deploy/tools/run-image.sh AGENT_IMAGE HUB_IMAGE
#
#   hub     the hub image as uid 10001, --listen 127.0.0.1:0 (port read from
#           its "hub started" log line), admin token from a mounted file;
#           `outpost-hub healthcheck` healthy (GET /healthz 200), and
#           unhealthy (exit 1) on a port nothing serves
#   agent   the agent image as uid 10001 with the seed's flags (-u URL -t
#           TOKEN): connects, runs a query job on a mounted SQLite file,
#           serves /healthz (`outpost-agent healthcheck` says healthy),
#           stops on SIGTERM; --version, --help, no token (exit 2), a wrong
#           token (exit 3); writes nothing outside /tmp (the container's
#           overlay upper layer is compared before and after)
set -euo pipefail
cd "$(dirname "$0")/../.."
agent_image=$1 hub_image=$2
work=$(mktemp -d)
chmod 0755 "$work"
ctrs=() pids=()
kill_tree() {  # PID SIGNAL: the process and everything it started (buildah's chroot helpers)
  local child
  for child in $(ps -o pid= --ppid "$1"); do kill_tree "$child" "$2"; done
  kill "-$2" "$1" 2>/dev/null || true
}
cleanup() {
  for pid in "${pids[@]}"; do kill_tree "$pid" KILL; done
  for ctr in "${ctrs[@]}"; do buildah rm "$ctr" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "run-image: FAILED: $*" >&2
  for f in "$work"/*.log; do echo "--- $(basename "$f")" >&2; tail -n 15 "$f" >&2; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # seconds file text
  local deadline=$((SECONDS + $1))
  until grep -q "$3" "$2" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1  # polling a log file, bounded by the deadline
  done
}
in_ctr() {  # [OPTIONS] CTR -- COMMAND...: as the image's user, the host's loopback shared
  buildah run --isolation chroot --user 10001:10001 "$@" </dev/null
}
descendant() {  # PID COMM: the pid of the process named COMM that PID started (at any depth)
  local child found
  for child in $(ps -o pid= --ppid "$1"); do
    if [ "$(cat "/proc/$child/comm" 2>/dev/null)" = "$2" ]; then echo "$child"; return 0; fi
    found=$(descendant "$child" "$2") && { echo "$found"; return 0; }
  done
  return 1
}
stop() {  # PID COMM: SIGTERM to the containerised process, as `docker stop` sends it
  # (buildah run itself answers SIGTERM with SIGKILL to its child); exit status in stop_status
  local target
  target=$(descendant "$1" "$2") || fail "no $2 process under buildah run $1"
  kill -TERM "$target"
  stop_status=0
  wait "$1" || stop_status=$?
}
start_bg() {  # LOG [OPTIONS] CTR -- COMMAND...: in_ctr in the background; its pid in bg_pid
  local log=$1
  shift
  (exec buildah run --isolation chroot --user 10001:10001 "$@" </dev/null >"$log" 2>&1) &
  bg_pid=$!
  pids+=("$bg_pid")
}
expect_exit() {  # STATUS DESCRIPTION COMMAND...
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$work/out.txt" 2>&1 || got=$?
  [ "$got" = "$want" ] || fail "$what: exit $got, expected $want: $(head -n 3 "$work/out.txt")"
  echo "ok: $what: exit $got: $(head -n 1 "$work/out.txt" | cut -c1-100)"
}

# secrets and data the containers get as read-only volumes
mkdir -p "$work/secrets" "$work/data"
openssl rand -hex 24 >"$work/secrets/admin-token"
admin=$(cat "$work/secrets/admin-token")
chmod 0444 "$work/secrets/admin-token"
python3 - "$work/data/demo.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("create table orders (id integer primary key, total real)")
db.executemany("insert into orders (total) values (?)", [(i * 1.5,) for i in range(42)])
db.commit()
PY
chmod 0444 "$work/data/demo.db"

# hub image
hub_ctr=$(buildah from --pull=never "$hub_image")
ctrs+=("$hub_ctr")
expect_exit 0 "hub image: outpost-hub --help" in_ctr "$hub_ctr" -- outpost-hub --help
start_bg "$work/hub.log" -v "$work/secrets:/secrets:ro" "$hub_ctr" -- outpost-hub --listen 127.0.0.1:0 \
  --admin-token-file /secrets/admin-token
hub_pid=$bg_pid
wait_for 60 "$work/hub.log" "hub started" || fail "the hub image did not start"
port=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    if "hub started" in line: print(json.loads(line)["port"]); break' "$work/hub.log")
api=http://127.0.0.1:$port/api
echo "ok: hub image serves $api as uid 10001"
expect_exit 0 "hub image: outpost-hub healthcheck (HEALTHCHECK, address from OUTPOST_HEALTHCHECK_ADDR)" \
  in_ctr --env OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:"$port" "$hub_ctr" -- outpost-hub healthcheck
grep -q "answered 200" "$work/out.txt" || fail "hub healthcheck did not GET /healthz: $(cat "$work/out.txt")"
expect_exit 1 "hub image: outpost-hub healthcheck on a port nothing serves" \
  in_ctr "$hub_ctr" -- outpost-hub healthcheck 127.0.0.1:"$(free_port)"
admin_call() {  # METHOD PATH [BODY]
  curl -sS --fail-with-body -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -X "$1" "$api/v1/admin$2" ${3:+--data "$3"}
}
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
token=$(admin_call POST /tokens '{"name": "image-check"}' | json_field token)
source_id=$(admin_call POST /sources '{"name": "image-demo", "type": "sqlite", "config": {"path": "/data/demo.db"}}' |
  json_field id)

# agent image: the entrypoint's documented behaviour
ctr=$(buildah from --pull=never "$agent_image")
ctrs+=("$ctr")
expect_exit 0 "agent image: --version" in_ctr "$ctr" -- outpost-agent --version
grep -q "^outpost-agent " "$work/out.txt" || fail "--version printed $(head -n1 "$work/out.txt")"
expect_exit 0 "agent image: --help" in_ctr "$ctr" -- outpost-agent --help
grep -q "outpost-agent healthcheck \[HOST:PORT\]" "$work/out.txt" || fail "--help does not list the healthcheck subcommand"
expect_exit 2 "agent image: -u URL without a token" in_ctr "$ctr" -- outpost-agent -u "$api"
expect_exit 3 "agent image: -u URL -t WRONG" \
  in_ctr "$ctr" -- outpost-agent -u "$api" -t "wrong-$RANDOM-token" --health-addr off
if grep -q "wrong-.*-token" "$work/out.txt"; then fail "the wrong token was echoed"; fi

# nothing written outside /tmp: the overlay's upper layer before and after
mnt=$(buildah mount "$ctr")
upper=${mnt%/merged}/diff
[ -d "$upper" ] || fail "no overlay upper layer next to $mnt"
changes() { (cd "$upper" && find . -mindepth 1 -not -path './tmp/*' -printf '%y %m %s %p\n' | sort); }
# buildah makes mount points (/dev, /proc, /etc/hosts, the volume's /data) in
# the upper layer on a first run: take the baseline after one.
in_ctr -v "$work/data:/data:ro" "$ctr" -- outpost-agent --version >/dev/null
changes >"$work/writes-before.txt"

health_port=$(free_port)
start_bg "$work/agent.log" -v "$work/data:/data:ro" "$ctr" -- outpost-agent -u "$api" -t "$token" \
  --health-addr 127.0.0.1:"$health_port" --sqlite-dirs /data
agent_pid=$bg_pid
wait_for 60 "$work/agent.log" "agent started" || fail "the agent image did not connect to the hub"
echo "ok: agent image connected to the hub as uid 10001 with -u URL -t TOKEN"
expect_exit 0 "agent image: outpost-agent healthcheck (HEALTHCHECK, address from OUTPOST_HEALTHCHECK_ADDR)" \
  in_ctr --env OUTPOST_HEALTHCHECK_ADDR=127.0.0.1:"$health_port" "$ctr" -- outpost-agent healthcheck
expect_exit 1 "agent image: outpost-agent healthcheck on a port nothing serves" \
  in_ctr "$ctr" -- outpost-agent healthcheck 127.0.0.1:"$(free_port)"

job_id=$(admin_call POST /jobs "{\"source_id\": \"$source_id\", \"type\": \"query\",
  \"params\": {\"sql\": \"select count(*) as n from orders\"}}" | json_field id)
deadline=$((SECONDS + 60))
while :; do
  job=$(admin_call GET "/jobs/$job_id")
  status=$(json_field status <<<"$job")
  case $status in succeeded | failed | cancelled) break ;; esac
  [ $SECONDS -lt $deadline ] || fail "job $job_id still $status after 60 s"
  sleep 0.1  # polling the admin API, bounded by the deadline
done
python3 - "$job" <<'PY' || fail "query job: $job"
import json, sys
job = json.loads(sys.argv[1])
assert job["status"] == "succeeded", job
rows = job.get("rows") or job.get("result", {}).get("rows")
assert [int(v) for v in rows[0]] == [42], rows
PY
echo "ok: agent image ran query job $job_id on /data/demo.db: 42 rows counted"

stop "$agent_pid" outpost-agent
[ "$stop_status" = 0 ] || fail "agent exited $stop_status on SIGTERM"
grep -q "agent stopped" "$work/agent.log" || fail "no 'agent stopped' after SIGTERM"
echo "ok: agent image stopped cleanly on SIGTERM"
changes >"$work/writes-after.txt"
if ! diff -u "$work/writes-before.txt" "$work/writes-after.txt" >"$work/writes.diff"; then
  cat "$work/writes.diff" >&2
  fail "the agent wrote outside /tmp"
fi
echo "ok: agent image wrote nothing outside /tmp (read-only root file system is safe)"

stop "$hub_pid" outpost-hub
[ "$stop_status" = 0 ] || fail "hub exited $stop_status on SIGTERM"
pids=()
echo "ok: hub image stopped cleanly on SIGTERM"
