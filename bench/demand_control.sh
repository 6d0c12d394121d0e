#!/usr/bin/env bash
# Cost of the engine's demand control (operation cost estimated from
# @cost/@listSize, default list size 10, max 100,000 enforced) on the
# gateways benchmark scenario: the same Meshwork gateway with it off and on,
# alternating (off, on, off, on). Decides whether a cost limit can be on by
# default without losing throughput against a plain Hive Router.
# Needs the same binaries as bench/gateways.sh.
# Usage: bench/demand_control.sh [seconds per run, default 15] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
connections=${2:-50}
source bench/common.sh
bench_init
bench_setup

printf 'log:\n  level: error\n' >"$work/off.yaml"
cat >"$work/on.yaml" <<YAML
log:
  level: error
demand_control:
  enabled: true
  default_list_size:
    all: 10
  subgraphs_budget:
    mode: measure
  operation_cost:
    max: 100000
    mode: enforce
YAML

run() { # label config
  local pid
  pid=$(start_meshwork_static 4002 --router-config "$2")
  pids+=($pid)
  measure "$1" "$pid" http://127.0.0.1:4002/graphql
  stop "$pid"
}

for round in 1 2; do
  run "demand control off (run $round)" "$work/off.yaml"
  run "demand control on (run $round)" "$work/on.yaml"
done
ratio=$(awk -F'|' '/control off/ {o+=$3; no++} /control on/ {p+=$3; np++} END {printf "%.3f", (p/np)/(o/no)}' "$work/rows")

{
  echo
  echo "### Demand control (cost limit) on vs off: $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/demand_control.sh $duration $connections\` (Meshwork gateway, static mode; on: default list size 10, max cost 100,000 enforced; the benchmark query is estimated at 24,480)."
  echo
  echo "| Meshwork gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, demand control on / off: $ratio"
} | tee -a bench/RESULTS.md
