#!/usr/bin/env bash
# The Compose trial without a container engine: the same programs and
# scripts, run natively on loopback ports the kernel picks.
#
#   deploy/tools/run-compose-trial.sh AGENT_BINARY HUB_BINARY
#
#   postgres   PostgreSQL 15 in a temp dir, loaded with deploy/compose/init-demo.sql
#   certs      a self-signed certificate like the "certs" service makes
#   hub        the hub service's `command:` (TLS), --listen moved to 127.0.0.1
#   bootstrap  deploy/compose/bootstrap.sh (token, source, first job via the admin API)
#   agent      the agent service's `command:`, URL and allow-list pointed at loopback
#
# Passes when the bootstrap's test_connection job and a query job through
# the agent both succeed, and the agent and hub stop cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/../.."
agent=$(realpath "$1")
hub=$(realpath "$2")
compose=deploy/compose/docker-compose.yml
pg_bin=/usr/lib/postgresql/15/bin

work=$(mktemp -d)
chmod 0755 "$work"
pids=()
pg_started=0
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ "$pg_started" = 1 ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "compose trial: FAILED: $*" >&2
  for f in "$work"/*.log "$work"/pg/*.log; do echo "--- $(basename "$f")" >&2; tail -n 15 "$f" >&2; done
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
service_command() {  # service -> its command, one word a line
  python3 -c 'import sys, yaml
print("\n".join(yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]]["command"]))' "$compose" "$1"
}

# postgres
pg_port=$(free_port)
mkdir -p "$work/pg/sock"
chown -R postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U demo_owner --auth-local=trust \
  --auth-host=scram-sha-256 >"$work/initdb.log" 2>&1 || fail "initdb"
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w -t 60 \
  -o "-p $pg_port -k $work/pg/sock -c listen_addresses=127.0.0.1" start >/dev/null || fail "postgres did not start"
pg_started=1
runuser -u postgres -- "$pg_bin/psql" -h "$work/pg/sock" -p "$pg_port" -U demo_owner -d postgres \
  -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE demo' >"$work/psql.log" 2>&1 || fail "create database"
runuser -u postgres -- "$pg_bin/psql" -h "$work/pg/sock" -p "$pg_port" -U demo_owner -d demo \
  -v ON_ERROR_STOP=1 -q -f deploy/compose/init-demo.sql >>"$work/psql.log" 2>&1 || fail "init-demo.sql"
echo "compose trial: postgres on 127.0.0.1:$pg_port with the demo data"

# certs (what the "certs" service does, with 127.0.0.1 as a name)
mkdir -p "$work/tls" "$work/agent-token"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=hub \
  -addext subjectAltName=DNS:hub,DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/tls/tls.key" -out "$work/tls/tls.crt" 2>/dev/null

# hub
hub_port=$(free_port)
admin=$(openssl rand -hex 16)
mapfile -t hub_args < <(service_command hub)
for i in "${!hub_args[@]}"; do
  case ${hub_args[$i]} in /tls/*) hub_args[$i]=$work${hub_args[$i]} ;; esac
  [ "${hub_args[$i]}" != --listen ] || hub_args[$((i + 1))]=127.0.0.1:$hub_port
done
OUTPOST_HUB_ADMIN_TOKEN=$admin "$hub" "${hub_args[@]}" >"$work/hub.log" 2>&1 &
pids+=($!)
hub_pid=$!
wait_for 30 "$work/hub.log" "hub started" || fail "hub did not start"
echo "compose trial: hub on https://127.0.0.1:$hub_port/api"

# bootstrap
HUB_URL=https://127.0.0.1:$hub_port/api OUTPOST_HUB_ADMIN_TOKEN=$admin TLS_DIR=$work/tls \
  TOKEN_DIR=$work/agent-token TOKEN_OWNER="$(id -u):$(id -g)" DEMO_DB_HOST=127.0.0.1 \
  DEMO_DB_PORT=$pg_port sh deploy/compose/bootstrap.sh >"$work/bootstrap.log" 2>&1 || fail "bootstrap.sh"
first_job=$(sed -n 's/.*queued test_connection job \([^;]*\);.*/\1/p' "$work/bootstrap.log")
source_id=$(sed -n "s/.*source 'demo' is \(.*\)/\1/p" "$work/bootstrap.log")
[ -n "$first_job" ] && [ -n "$source_id" ] || fail "bootstrap printed no job or source id"
echo "compose trial: bootstrap made a token, source $source_id and job $first_job"

# agent
mapfile -t agent_args < <(service_command agent)
for i in "${!agent_args[@]}"; do
  case ${agent_args[$i]} in /tls/* | /agent-token/*) agent_args[$i]=$work${agent_args[$i]} ;; esac
done
(cd "$work" && exec env -u AGENT_URL -u AGENT_TOKEN "$agent" "${agent_args[@]}" \
  --url="https://127.0.0.1:$hub_port/api" --allow-hosts=127.0.0.1 --health-addr=off >"$work/agent.log" 2>&1) &
pids+=($!)
agent_pid=$!
wait_for 30 "$work/agent.log" "agent started" || fail "agent did not connect"

admin_call() {
  curl -sS --fail-with-body --cacert "$work/tls/tls.crt" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' "$@"
}
wait_job() {  # job id -> prints the final job JSON
  local deadline=$((SECONDS + 60)) job status
  while [ $SECONDS -lt $deadline ]; do
    job=$(admin_call "https://127.0.0.1:$hub_port/api/v1/admin/jobs/$1")
    status=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["status"])' "$job")
    case $status in succeeded | failed | cancelled) printf '%s' "$job"; return 0 ;; esac
    sleep 0.1  # polling the admin API, bounded by the deadline
  done
  return 1
}
job=$(wait_job "$first_job") || fail "test_connection job $first_job did not finish"
python3 -c 'import json, sys; j = json.loads(sys.argv[1]); assert j["status"] == "succeeded", j' "$job" \
  || fail "test_connection job: $job"
echo "compose trial: test_connection succeeded: $(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["result"])' "$job")"

query_id=$(admin_call -X POST "https://127.0.0.1:$hub_port/api/v1/admin/jobs" --data \
  "{\"source_id\": \"$source_id\", \"type\": \"query\", \"params\": {\"sql\": \"select count(*) as n from demo.orders\"}}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
job=$(wait_job "$query_id") || fail "query job $query_id did not finish"
python3 - "$job" <<'EOF' || fail "query job: $job"
import json, sys
job = json.loads(sys.argv[1])
assert job["status"] == "succeeded", job
rows = job.get("rows") or job.get("result", {}).get("rows")
assert [int(v) for v in rows[0]] == [500], rows
EOF
echo "compose trial: query through the agent returned 500 demo orders"

kill -TERM "$agent_pid"
agent_exit=0
wait "$agent_pid" || agent_exit=$?
[ "$agent_exit" = 0 ] || fail "agent exited $agent_exit on SIGTERM"
grep -q "agent stopped" "$work/agent.log" || fail "no 'agent stopped' line"
kill -TERM "$hub_pid"
hub_exit=0
wait "$hub_pid" || hub_exit=$?
[ "$hub_exit" = 0 ] || fail "hub exited $hub_exit on SIGTERM"
pids=()
echo "compose trial: agent and hub stopped cleanly"
