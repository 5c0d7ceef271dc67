#!/bin/sh
# Compose trial bootstrap (runs in curlimages/curl): waits for the hub, creates
# an agent token and the demo source through the admin API, writes the token
# for the agent (readable by its UID 10001 only), and queues a first job.
set -eu
api=$HUB_URL/v1/admin
auth="Authorization: Bearer $OUTPOST_HUB_ADMIN_TOKEN"
call() {  # METHOD PATH [BODY]
  curl -sS --fail-with-body --cacert /tls/tls.crt -H "$auth" -H 'Content-Type: application/json' \
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
printf '%s\n' "$token" > /agent-token/token
chown 10001:10001 /agent-token/token
chmod 0400 /agent-token/token
echo "bootstrap: agent token written to the agent-token volume"

source_id=$(call POST /sources '{"name": "demo", "type": "postgres", "config": {
  "host": "postgres", "port": 5432, "database": "demo",
  "user": "outpost_reader", "password": "outpost-reader-password", "sslmode": "disable"}}' | field id)
echo "bootstrap: source 'demo' is $source_id"

job_id=$(call POST /jobs "{\"source_id\": \"$source_id\", \"type\": \"test_connection\", \"timeout_ms\": 30000}" | field id)
echo "bootstrap: queued test_connection job $job_id; once the agent is up:"
echo "  curl -sk -H 'Authorization: Bearer \$OUTPOST_ADMIN_TOKEN' https://localhost:8443/api/v1/admin/jobs/$job_id"
