#!/usr/bin/env bash
# Cost of Meshwork's mesh policies on the gateways benchmark scenario: the
# same Meshwork gateway with policies off, and with every policy on: JWT
# authentication by Meshwork from an access snapshot (RS256, issuer and
# audience, nbf), anonymous callers refused, a restricted domain read
# through the consumer's grant, field policies (scopes) on fields the query
# reads, enforced by the engine from the supergraph, and a per-consumer rate
# limit (high enough never to refuse, so every request pays for the check).
# Runs alternate (plain Hive Router, off, on; twice): plain Hive Router
# 0.2.19 in the benchmark's setting (every dedupe on) side by side.
#
# Needs the same binaries as bench/gateways.sh, plus openssl.
# Every domain has a (roomy) plan of its own, so per-domain limits are
# counted on every subgraph fetch too (Meshwork's engine plugin).
# With BENCH_REDIS_URL=redis://… the policies-on gateway counts its limits
# in that Redis (--redis-url) instead of in-process; BENCH_NO_DOMAIN_PLANS=1
# leaves the domains without plans of their own; BENCH_CACHE=1 turns the
# subgraph answer cache on in the policies-on gateway (64 MiB, 60 s for
# answers without Cache-Control: the benchmark's subgraphs send none).
# Usage: bench/policies.sh [seconds per run, default 15] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
connections=${2:-50}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || echo "${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain")}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup

bench_policies_setup

run() { # label supergraph extra-args...
  local label=$1 supergraph=$2
  shift 2
  MESHWORK_LOG=error "$meshwork_gateway" --supergraph "$supergraph" --listen 127.0.0.1:4002 \
    "$@" >"$work/meshwork.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  measure "$label" "$pid" http://127.0.0.1:4002/graphql
  stop "$pid"
}

label="policies on"
redis=()
if [ -n "${BENCH_REDIS_URL:-}" ]; then
  redis=(--redis-url "$BENCH_REDIS_URL")
  label="policies on, limits in Redis"
fi
if [ -n "${BENCH_CACHE:-}" ]; then
  redis+=(--subgraph-cache-mib 64 --subgraph-cache-default-ttl 60s)
  label="$label, subgraph cache on"
fi
for round in 1 2; do
  pid=$(start_hive); pids+=("$pid")
  measure "plain Hive Router 0.2.19, benchmark setting (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  run "policies off (run $round)" "$work/supergraph.graphql"
  run "$label (run $round)" "$work/secured.graphql" "${policies_flags[@]}" "${redis[@]}"
done
ratio=$(awk -F'|' '/policies off/ {o+=$3; no++} /policies on/ {p+=$3; np++} END {printf "%.3f", (p/np)/(o/no)}' "$work/rows")
vs_hive=$(awk -F'|' '/plain Hive Router/ {h+=$3; nh++} /policies on/ {p+=$3; np++} END {printf "%.3f", (p/np)/(h/nh)}' "$work/rows")
off_vs_hive=$(awk -F'|' '/plain Hive Router/ {h+=$3; nh++} /policies off/ {p+=$3; np++} END {printf "%.3f", (p/np)/(h/nh)}' "$work/rows")

{
  echo
  echo "### Mesh policies on vs off: $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }${BENCH_REDIS_URL:+BENCH_REDIS_URL=$BENCH_REDIS_URL }${BENCH_NO_DOMAIN_PLANS:+BENCH_NO_DOMAIN_PLANS=1 }${BENCH_CACHE:+BENCH_CACHE=1 }bench/policies.sh $duration $connections\` (Meshwork as \`$(basename "$meshwork_gateway")\`, static mode; on: RS256 JWT verified by Meshwork, consumer grant on a restricted domain, 3 field policies, anonymous refused, per-consumer rate limit, per-domain plans; plain Hive Router 0.2.19 side by side)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, policies on / off: $ratio"
  echo "Mean requests/s, policies on / plain Hive Router: $vs_hive"
  echo "Mean requests/s, policies off / plain Hive Router: $off_vs_hive"
} | tee -a bench/RESULTS.md
