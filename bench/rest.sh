#!/usr/bin/env bash
# REST domains against GraphQL domains: the same shipments data served by a
# REST API (its subgraph derived from its OpenAPI document, answered by the
# control plane's /rest/shipments/graphql) and by an equivalent GraphQL
# subgraph, each in its own `meshwork serve`, the same query through each
# gateway. Runs alternate (REST, GraphQL, REST, GraphQL); the answers must
# be equal. Issue 10 asks REST/GraphQL >= 0.9.
#
# Needs release builds: cargo build --release --bin meshwork --bin meshwork-gateway && cargo build --release -p domains --bin bench-shipments
# Usage: bench/rest.sh [seconds per run, default 10] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-50}
target=${CARGO_TARGET_DIR:-target}
meshwork=$target/release/meshwork
shipments=$target/release/bench-shipments
for bin in "$meshwork" "$shipments"; do
  [ -x "$bin" ] || { echo "missing binary: $bin"; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$shipments" 127.0.0.1:4300 127.0.0.1:4301 >"$work/shipments.log" 2>&1 &
pids+=($!)
start_mesh() { # port db
  MESHWORK_LOG=warn "$meshwork" serve --listen "127.0.0.1:$1" --database "$work/$2.db" \
    --supergraph-poll-interval 1s >"$work/$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/ready" >/dev/null && return 0; sleep 0.1; done
  echo "mesh on $1 did not start"; exit 1
}
register() { # port spec-json
  curl -sf "http://127.0.0.1:$1/catalog/graphql" -H 'content-type: application/json' \
    -d "{\"query\":\"mutation(\$s: DomainSpec!) { registerDomain(spec: \$s) { name } }\",\"variables\":{\"s\":$2}}" >/dev/null
}
start_mesh 4310 rest
start_mesh 4311 graphql
register 4310 '{"name":"shipments","ownerTeam":"logistics","contact":"l@example.com","kind":"REST","apiUrl":"http://127.0.0.1:4300","schemaEndpoint":"http://127.0.0.1:4300/openapi.json"}'
register 4311 '{"name":"shipments","ownerTeam":"logistics","contact":"l@example.com","apiUrl":"http://127.0.0.1:4301/graphql"}'

query='{ shipmentsByDate(date: "2026-11-25") { id orderId carrier status } }'
python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$query" >"$work/body.json"
export MESHWORK_BENCH_BODY="$work/body.json"
answer() { # port
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
        --data-binary @"$work/body.json" -o "$work/answer-$1.json" \
        && grep -q '"shipmentsByDate":\[' "$work/answer-$1.json"; then
      return 0
    fi
    sleep 0.2
  done
  echo "no answer on $1: $(cat "$work/answer-$1.json" 2>/dev/null)"; exit 1
}
answer 4310
answer 4311
cmp -s "$work/answer-4310.json" "$work/answer-4311.json" || {
  echo "answers differ:"; cat "$work/answer-4310.json"; echo; cat "$work/answer-4311.json"; exit 1; }
echo "answer (both): $(cat "$work/answer-4310.json")"

run() { # label port
  wrk -t1 -c"$connections" -d3s -s bench/post.lua "http://127.0.0.1:$2/graphql" >/dev/null
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s bench/post.lua "http://127.0.0.1:$2/graphql" >"$work/run.wrk"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/run.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$work/run.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$work/run.wrk")
  errors=$(grep -E "Non-2xx|Socket errors" "$work/run.wrk" | tr '\n' ' ' || true)
  echo "| $1 | $rps | $p50 | $p99 | ${errors:-none} |"
  echo "$1 $rps" >>"$work/rps"
}
echo "| domain API | requests/s | p50 | p99 | errors |"
echo "| --- | --- | --- | --- | --- |"
for round in 1 2; do
  run "REST (derived subgraph), run $round" 4310
  run "GraphQL subgraph, run $round" 4311
done
awk '/^REST/ {r+=$NF; nr++} /^GraphQL/ {g+=$NF; ng++} END {printf "REST / GraphQL = %.3f\n", (r/nr)/(g/ng)}' "$work/rps"
