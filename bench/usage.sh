#!/usr/bin/env bash
# What observing costs: the gateways benchmark scenario through Meshwork
# gateway replicas that follow a control plane (the bench subgraphs
# registered as four domains), with field-usage recording on (the default:
# every operation's coordinates batched and sent every 5 s, stored by the
# catalog) and off (--usage-flush-interval 0s; per-domain traffic is
# counted either way), beside a static Meshwork gateway (nothing reported)
# and a plain Hive Router, all in one run, alternated. The control plane
# runs on the same machine and stores what the replica reports.
#
# Needs the same binaries as bench/gateways.sh.
# Usage: bench/usage.sh [seconds per run, default 20] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-50}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || echo "${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain")}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup

key=bench-usage-cdn-key-0123456789abcdef
MESHWORK_LOG=error MESHWORK_CDN_KEY=$key "$meshwork" serve --listen 127.0.0.1:4000 \
  --database "$work/catalog.db" >"$work/control.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:4000/health && break; sleep 0.2; done
for name in accounts inventory products reviews; do
  curl -sf -X POST http://127.0.0.1:4000/catalog/graphql -H 'content-type: application/json' \
    -d "{\"query\":\"mutation { registerDomain(spec: { name: \\\"$name\\\", ownerTeam: \\\"bench\\\", contact: \\\"bench@example.com\\\", apiUrl: \\\"http://127.0.0.1:4200/$name/graphql\\\" }) { name } }\"}" >/dev/null
done
members=0
for _ in $(seq 1 100); do
  members=$(curl -s -X POST http://127.0.0.1:4000/catalog/graphql -H 'content-type: application/json' \
    -d '{"query":"{ composition { status members { domain } } }"}' |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["data"]["composition"] or {}; print(len(c.get("members", [])) if c.get("status") == "SUCCESS" else 0)')
  [ "$members" -ge 5 ] && break
  sleep 0.2
done
[ "$members" -ge 5 ] || { echo "the control plane never composed the four bench domains"; cat "$work/control.log"; exit 1; }

start_replica() { # extra-args...
  MESHWORK_LOG=error "$meshwork_gateway" --control-plane http://127.0.0.1:4000 --cdn-key "$key" \
    --poll-interval 1s --listen 127.0.0.1:4002 "$@" >"$work/replica.log" 2>&1 &
  echo $!
}
start_static() { start_meshwork_static 4003 --router-config "$work/router.yaml"; }

for round in 1 2; do
  pid=$(start_hive); pids+=("$pid")
  measure "plain Hive Router 0.2.19 (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_static); pids+=("$pid")
  measure "Meshwork static gateway, nothing reported (run $round)" "$pid" "http://127.0.0.1:4003/graphql"
  stop "$pid"
  pid=$(start_replica --usage-flush-interval 0s); pids+=("$pid")
  measure "Meshwork replica, usage off (run $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
  pid=$(start_replica); pids+=("$pid")
  measure "Meshwork replica, usage on (run $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
done
recorded=$(curl -s -X POST http://127.0.0.1:4000/catalog/graphql -H 'content-type: application/json' \
  -d '{"query":"{ fieldUsage(coordinate: \"Query.topProducts\") { count } }"}' || true)
ratio() { awk -F'|' -v a="$1" -v b="$2" '$2 ~ a {x+=$3; nx++} $2 ~ b {y+=$3; ny++} END {printf "%.3f", (x/nx)/(y/ny)}' "$work/rows"; }
{
  echo
  echo "### Usage recording: $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/usage.sh $duration $connections\` (replicas follow a control plane on the same machine; engine defaults, incl. deduplication)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, replica usage on / usage off: $(ratio 'usage on' 'usage off'); usage on / plain Hive Router: $(ratio 'usage on' 'Hive Router'); static / plain Hive Router: $(ratio 'static' 'Hive Router')."
  echo
  echo "What the catalog recorded for Query.topProducts: \`$recorded\`"
} | tee -a bench/RESULTS.md
