#!/bin/sh
# Compose trial bootstrap (runs in curlimages/curl): waits for the hub, creates
# an agent token and the demo source through the admin API, writes the token
# for the agent (readable by its UID 10001 only), and queues a first job.
set -eu
# Paths and the database address are those of the Compose services; the
# native check (deploy/tools/run-compose-trial.sh) points them elsewhere.
tls_dir=${TLS_DIR:-/tls}
token_dir=${TOKEN_DIR:-/agent-token}
db_host=${DEMO_DB_HOST:-postgres}
db_port=${DEMO_DB_PORT:-5432}
api=$HUB_URL/v1/admin
auth="Authorization: Bearer $OUTPOST_HUB_ADMIN_TOKEN"
call() {  # METHOD PATH [BODY]
  curl -sS --fail-with-body --cacert "$tls_dir/tls.crt" -H "$auth" -H 'Content-Type: application/json' \
    -X "$1" "$api$2" ${3:+--data "$3"}
}
field() {  # NAME < json: the first string value of that field
  sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n1
}

i=0
until call GET /agents >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 60 ] || { echo "bootstrap: the hub did not answer at $api within 60 s" >&2; exit 1; }
  sleep 1
done

token=$(call POST /tokens '{"name": "compose-agent"}' | field token)
[ -n "$token" ] || { echo "bootstrap: no token in the hub's answer" >&2; exit 1; }
umask 077
printf '%s\n' "$token" > "$token_dir/token"
chown "${TOKEN_OWNER:-10001:10001}" "$token_dir/token"
chmod 0400 "$token_dir/token"
echo "bootstrap: agent token written to the agent-token volume"

source_id=$(call POST /sources '{"name": "demo", "type": "postgres", "config": {
  "host": "'"$db_host"'", "port": '"$db_port"', "database": "demo",
  "user": "outpost_reader", "password": "outpost-reader-password", "sslmode": "disable"}}' | field id)
echo "bootstrap: source 'demo' is $source_id"

job_id=$(call POST /jobs "{\"source_id\": \"$source_id\", \"type\": \"test_connection\", \"timeout_ms\": 30000}" | field id)
echo "bootstrap: queued test_connection job $job_id; once the agent is up:"
echo "  docker compose -f deploy/compose/docker-compose.yml exec -T hub cat /tls/tls.crt > hub-ca.crt"
echo "  curl --cacert hub-ca.crt -H \"Authorization: Bearer \$OUTPOST_ADMIN_TOKEN\" https://localhost:8443/api/v1/admin/jobs/$job_id"
