#!/usr/bin/env bash
# Runs one read-only query through the Compose trial and prints the finished
# job as the hub reports it:
#   OUTPOST_ADMIN_TOKEN=... deploy/compose/trial-query.sh "select count(*) from demo.orders"
# Needs docker compose, curl and python3 on the host.
set -euo pipefail
sql=${1:?usage: trial-query.sh \"SQL\"}
: "${OUTPOST_ADMIN_TOKEN:?export the OUTPOST_ADMIN_TOKEN the trial was started with}"
api=${HUB_URL:-https://localhost:8443/api}/v1/admin
compose=(docker compose -f "$(dirname "$0")/docker-compose.yml")
ca=$(mktemp)
trap 'rm -f "$ca"' EXIT
# The hub's self-signed certificate, from its volume.
"${compose[@]}" exec -T hub cat /tls/tls.crt >"$ca"
source_id=$("${compose[@]}" logs --no-color bootstrap | sed -n "s/.*source 'demo' is \([^ ]*\).*/\1/p" | tail -n1)
[ -n "$source_id" ] || { echo "trial-query: no source id in the bootstrap logs; did bootstrap run?" >&2; exit 1; }
call() {
  curl -sS --fail-with-body --cacert "$ca" -H "Authorization: Bearer $OUTPOST_ADMIN_TOKEN" \
    -H 'Content-Type: application/json' "$@"
}
body=$(python3 -c 'import json, sys
print(json.dumps({"source_id": sys.argv[1], "type": "query",
                  "params": {"sql": sys.argv[2], "max_rows": 100}, "timeout_ms": 60000}))' "$source_id" "$sql")
job_id=$(call -X POST --data "$body" "$api/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "job $job_id queued; waiting for it to finish (60 s at most)"
for _ in $(seq 1 120); do
  job=$(call "$api/jobs/$job_id")
  status=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["status"])' "$job")
  case $status in
    succeeded | failed | cancelled) python3 -m json.tool <<<"$job"; exit 0 ;;
  esac
  sleep 0.5
done
echo "trial-query: job $job_id still '$status' after 60 s; see docs/operations.md (stuck jobs)" >&2
exit 1
