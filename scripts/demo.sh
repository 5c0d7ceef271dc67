#!/usr/bin/env bash
# End-to-end demo on loopback: builds outpost-hub and outpost-agent, starts
# both, creates an agent token, a source and jobs through the hub's admin API
# (docs: shared contract hub-admin-api.md), prints the results, and stops
# everything (also on Ctrl-C or an error).
#
#   scripts/demo.sh                      dev build (fast to compile)
#   OUTPOST_DEMO_PRESET=release ...      optimised build
#   OUTPOST_SKIP_DEPS=1 ...              skip the apt step
#   OUTPOST_SKIP_BUILD=1 ...             use binaries already built
#
# Each demo is a function taking the hub's base URL; add one (for another
# connector) and list it in run_demos.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
preset=${OUTPOST_DEMO_PRESET:-dev}
build_dir="$root/build/$preset"
work=$(mktemp -d -t outpost-demo.XXXXXX)
admin_token="demo-admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# The throwaway PostgreSQL of demo_postgres (empty until it is started).
pg_bin=/usr/lib/postgresql/15/bin
pg_root=""
# Runs a PostgreSQL tool as the postgres OS user (the server refuses to run as root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_postgres() {
  [ -n "$pg_root" ] || return 0
  as_postgres "$pg_bin/pg_ctl" -D "$pg_root/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ] && [ -f "$pg_root/postgres.log" ]; then
    cp "$pg_root/postgres.log" "$work/postgres.log" 2>/dev/null || true
  fi
  rm -rf "$pg_root"
}
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  stop_postgres
  if [ "$status" -ne 0 ] && [ -d "$work" ]; then
    echo "demo failed; logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for command "$1" to succeed.
wait_until() {
  local cmd=$1 seconds=$2 i
  for ((i = 0; i < seconds * 10; i++)); do
    if eval "$cmd" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

install_deps() {
  [ -n "${OUTPOST_SKIP_DEPS:-}" ] && return
  say "dependencies"
  scripts/install-deps.sh
}

build() {
  [ -n "${OUTPOST_SKIP_BUILD:-}" ] && return
  say "build ($preset preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build "$build_dir" --target outpost-agent outpost-hub
}

# admin METHOD PATH [JSON]: one admin API call; prints the body, fails on non-2xx.
admin() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS --fail-with-body -X "$method" -H "Authorization: Bearer $admin_token")
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' -d "$body"); fi
  curl "${args[@]}" "$hub_url/v1/admin$path"
}

start_hub() {
  say "start outpost-hub"
  local port
  port=$(free_port)
  hub_url="http://127.0.0.1:$port/api"
  "$build_dir/hub/outpost-hub" --listen "127.0.0.1:$port" --admin-token "$admin_token" \
    --log-level warn >"$work/hub.log" 2>&1 &
  pids+=($!)
  wait_until "curl -sf -H 'Authorization: Bearer $admin_token' $hub_url/v1/admin/agents" 20 ||
    die "hub did not start (see $work/hub.log)"
  echo "hub listening on $hub_url"
}

start_agent() {
  say "start outpost-agent"
  local token health_port
  token=$(admin POST /tokens '{"name": "demo-agent"}' | jq -r .token)
  health_port=$(free_port)
  health_url="http://127.0.0.1:$health_port"
  # The token goes in through a file, so it is in neither argv nor the environment.
  printf '%s\n' "$token" >"$work/agent.token"
  chmod 600 "$work/agent.token"
  # --sqlite-dirs: the only directory SQLite files may be opened from (the
  # demo's shop.db lives there); without it every SQLite file is refused.
  "$build_dir/src/outpost-agent" -u "$hub_url" --token-file "$work/agent.token" \
    --health-addr "127.0.0.1:$health_port" --sqlite-dirs "$work" \
    --log-format text >"$work/agent.log" 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")
  wait_until "grep -q 'agent started' '$work/agent.log'" 20 ||
    die "agent did not connect (see $work/agent.log)"
  grep 'agent started' "$work/agent.log"
  curl -sf "$health_url/readyz" >/dev/null && echo "agent ready ($health_url/readyz)"
}

# run_job SOURCE_ID TYPE PARAMS_JSON: schedules a job, waits, prints it.
run_job() {
  local source_id=$1 type=$2 params=$3 id status i
  id=$(admin POST /jobs "{\"source_id\": \"$source_id\", \"type\": \"$type\", \"params\": $params, \"timeout_ms\": 30000}" |
    jq -r .id)
  for ((i = 0; i < 300; i++)); do
    status=$(admin GET "/jobs/$id" | jq -r .status)
    case $status in succeeded | failed | cancelled) break ;; esac
    sleep 0.1
  done
  echo "-- $type $params -> $status"
  admin GET "/jobs/$id" | jq -c '{status, attempt, error, result: (.result // {} | del(.rows)), rows}'
}

demo_sqlite() {
  say "demo: SQLite"
  local db="$work/shop.db" source_id
  sqlite3 "$db" <<'SQL'
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                    total NUMERIC, placed_at TEXT);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
INSERT INTO customers(name, country) VALUES ('Ada', 'UK'), ('Grace', 'US'), ('Linus', 'FI');
INSERT INTO orders(customer_id, total, placed_at) VALUES
  (1, 120.50, '2026-11-01'), (2, 15.00, '2026-11-02'), (1, 300.00, '2026-11-03');
SQL
  source_id=$(admin POST /sources "{\"name\": \"shop\", \"type\": \"sqlite\", \"config\": {\"path\": \"$db\"}}" |
    jq -r .id)
  run_job "$source_id" test_connection '{}'
  run_job "$source_id" metadata '{}'
  run_job "$source_id" query '{"sql": "SELECT c.name, count(o.id) AS orders, sum(o.total) AS spent FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY spent DESC"}'
  run_job "$source_id" query '{"sql": "DELETE FROM orders"}'
}

# A throwaway PostgreSQL 15 cluster (initdb + pg_ctl as the postgres user, in
# a temp dir it owns, on a free loopback port; stopped by cleanup) with a
# small shop schema and a read-only login for the agent.
demo_postgres() {
  say "demo: PostgreSQL"
  [ -x "$pg_bin/initdb" ] || die "PostgreSQL 15 is missing (scripts/install-deps.sh installs it)"
  local port source_id password
  port=$(free_port)
  password="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  pg_root=$(mktemp -d -t outpost-demo-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$pg_root"
  as_postgres "$pg_bin/initdb" -D "$pg_root/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 >"$pg_root/initdb.log" 2>&1 ||
    die "initdb failed: $(cat "$pg_root/initdb.log")"
  as_postgres "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_root" start >/dev/null ||
    die "PostgreSQL did not start: $(cat "$pg_root/postgres.log")"
  echo "PostgreSQL $("$pg_bin/postgres" -V | awk '{print $3}') listening on 127.0.0.1:$port"
  # The password goes in on stdin (a psql variable), not on a command line.
  {
    printf '\\set pw %s\n' "'$password'"
    cat <<'SQL'
CREATE ROLE demo_reader LOGIN PASSWORD :'pw';
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, name text NOT NULL, country char(2));
CREATE TABLE shop.orders (id serial PRIMARY KEY, customer_id int REFERENCES shop.customers(id),
                          total numeric(10,2) NOT NULL, placed_at timestamptz NOT NULL);
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 100;
INSERT INTO shop.customers (name, country) VALUES ('Ada', 'UK'), ('Grace', 'US'), ('Linus', 'FI');
INSERT INTO shop.orders (customer_id, total, placed_at) VALUES
  (1, 120.50, '2026-11-01 09:30+00'), (2, 15.00, '2026-11-02 14:00+00'),
  (1, 300.00, '2026-11-03 18:45+00');
ANALYZE;
GRANT USAGE ON SCHEMA shop TO demo_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO demo_reader;
SQL
  } | as_postgres "$pg_bin/psql" -h "$pg_root" -p "$port" -U postgres -d postgres -q \
    -v ON_ERROR_STOP=1 >/dev/null || die "could not create the demo schema"
  source_id=$(admin POST /sources "{\"name\": \"shop-pg\", \"type\": \"postgres\", \"config\": {\"host\": \"127.0.0.1\", \"port\": $port, \"database\": \"postgres\", \"user\": \"demo_reader\", \"password\": \"$password\", \"sslmode\": \"disable\"}}" |
    jq -r .id)
  run_job "$source_id" test_connection '{}'
  run_job "$source_id" metadata '{"schemas": ["shop"]}'
  run_job "$source_id" query '{"sql": "SELECT c.name, count(o.id) AS orders, sum(o.total) AS spent, max(o.placed_at) AS last_order FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY spent DESC NULLS LAST"}'
  run_job "$source_id" query '{"sql": "DELETE FROM shop.orders"}'
}

run_demos() {
  demo_sqlite
  demo_postgres
}

show_metrics() {
  say "agent metrics"
  curl -sf "$health_url/metrics" | grep -E '^outpost_(jobs_total|claims_total|jobs_running|stale)' || true
}

stop_agent() {
  say "stop (SIGTERM)"
  kill -TERM "$agent_pid"
  wait "$agent_pid" && echo "agent exited 0"
  grep 'agent stopped' "$work/agent.log" || true
}

install_deps
build
command -v jq >/dev/null || die "jq is missing (scripts/install-deps.sh installs it)"
command -v sqlite3 >/dev/null || die "sqlite3 is missing (scripts/install-deps.sh installs it)"
start_hub
start_agent
run_demos
show_metrics
stop_agent
say "done"
