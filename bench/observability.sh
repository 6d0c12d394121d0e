#!/usr/bin/env bash
# What observability on by default costs: Meshwork's static gateway with its
# defaults (/metrics, request ids in every answer) against the same
# gateway with the metrics endpoint off (--metrics-path ""), and a plain
# Hive Router, on the gateways benchmark scenario; the three alternate
# for several rounds (A B C A B C …) so drift on a shared machine falls on
# all alike, and the medians are compared. Appends to bench/RESULTS.md.
#
# Needs what bench/gateways.sh needs.
# Usage: bench/observability.sh [rounds, default 4] [seconds per run, default 15] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-4}
duration=${2:-15}
connections=${3:-50}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || echo "${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain")}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup
start_meshwork() { # metrics path
  start_meshwork_static 4002 --router-config "$work/router.yaml" --metrics-path "$1"
}

for round in $(seq 1 "$rounds"); do
  pid=$(start_hive); pids+=("$pid")
  measure "plain Hive Router 0.2.19 (round $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_meshwork /metrics); pids+=("$pid")
  # The defaults really are on: the metrics endpoint answers, and every
  # answer carries its request id.
  check_answer "http://127.0.0.1:4002/graphql"
  curl -sf -D - -o /dev/null -X POST http://127.0.0.1:4002/graphql -H 'content-type: application/json' \
    --data-binary @"$work/body.json" | grep -qi '^x-request-id:' || { echo "no x-request-id"; exit 1; }
  curl -sf "http://127.0.0.1:4002/metrics" | grep -q '^http_server_request_duration_seconds_count' \
    || { echo "metrics are not served"; exit 1; }
  measure "Meshwork, defaults: /metrics + request ids (round $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
  pid=$(start_meshwork ""); pids+=("$pid")
  measure "Meshwork, metrics off (round $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
done

median() { # label-pattern [column: 3 requests/s, 7 CPU µs per request]
  awk -F'|' -v p="$1" -v c="${2:-3}" 'index($2, p) {print $c+0}' "$work/rows" | sort -n |
    awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'
}
hive_m=$(median "plain Hive Router")
on_m=$(median "Meshwork, defaults")
off_m=$(median "Meshwork, metrics off")
hive_cpu=$(median "plain Hive Router" 7)
on_cpu=$(median "Meshwork, defaults" 7)
off_cpu=$(median "Meshwork, metrics off" 7)
{
  echo
  echo "### $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, $rounds rounds, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/observability.sh $rounds $duration $connections\` (the gateways benchmark scenario; engine defaults, incl. deduplication)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Median requests/s: plain Hive Router $hive_m, Meshwork defaults $on_m, Meshwork metrics off $off_m."
  echo "Median gateway CPU per request: plain Hive Router $hive_cpu µs, Meshwork defaults $on_cpu µs, Meshwork metrics off $off_cpu µs."
  awk -v on="$on_m" -v off="$off_m" -v h="$hive_m" -v con="$on_cpu" -v coff="$off_cpu" -v ch="$hive_cpu" 'BEGIN {
    printf "Meshwork defaults / metrics off: %.3f requests/s; CPU per request %.3f (cost of /metrics: %.1f %% CPU). Meshwork defaults / plain Hive Router: %.3f requests/s, CPU per request %.3f.\n", on/off, con/coff, (con/coff-1)*100, on/h, con/ch }'
} | tee -a bench/RESULTS.md
