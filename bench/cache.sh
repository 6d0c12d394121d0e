#!/usr/bin/env bash
# The subgraph answer cache on the gateways benchmark, side by side in one
# run: plain Hive Router with incoming (router-level) deduplication off and
# with the benchmark's setting (every dedupe on), against Meshwork's static
# gateway with the cache on (the benchmark's subgraphs send no
# Cache-Control and their data is static: a default TTL of 60 s) and
# incoming dedupe off. Every answer under load is compared with the one
# checked against expected-response.json (bench/check.lua); a wrong answer
# shows in the errors column.
#
# Needs what bench/gateways.sh needs (wrk, release builds of meshwork,
# hive-router-plain and the domains' bench binaries).
# Usage: bench/cache.sh [seconds per run, default 20] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-50}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || echo "${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain")}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup
bench_script=bench/check.lua
no_incoming_dedupe='traffic_shaping:\n  router:\n    dedupe:\n      enabled: false\n'
printf "log:\n  level: error\n$no_incoming_dedupe" >"$work/router.yaml"
cp "$work/hive.yaml" "$work/hive-default.yaml"
printf "$no_incoming_dedupe" >>"$work/hive.yaml"

start_hive_default() {
  ROUTER_CONFIG_FILE_PATH="$work/hive-default.yaml" "$hive" >"$work/hive.log" 2>&1 &
  echo $!
}
start_meshwork_cached() {
  start_meshwork_static 4002 --router-config "$work/router.yaml" --subgraph-cache-mib 64 \
    --subgraph-cache-default-ttl 60s
}

for round in 1 2; do
  pid=$(start_hive); pids+=("$pid")
  measure "plain Hive Router 0.2.19, incoming dedupe off (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_hive_default); pids+=("$pid")
  measure "plain Hive Router 0.2.19, benchmark setting (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_meshwork_cached); pids+=("$pid")
  measure "Meshwork, subgraph cache on, incoming dedupe off (run $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
done
ratio() { # pattern-a pattern-b
  awk -F'|' -v a="$1" -v b="$2" '$2 ~ a {x+=$3; nx++} $2 ~ b {y+=$3; ny++} END {printf "%.2f", (x/nx)/(y/ny)}' "$work/rows"
}

{
  echo
  echo "### Subgraph cache: $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/cache.sh $duration $connections\` (every answer compared under load)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, Meshwork with the cache / plain Hive Router with incoming dedupe off: $(ratio Meshwork 'Hive Router.*incoming')"
  echo "Mean requests/s, Meshwork with the cache / plain Hive Router in the benchmark's setting: $(ratio Meshwork 'Hive Router.*benchmark')"
} | tee -a bench/RESULTS.md
