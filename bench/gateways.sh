#!/usr/bin/env bash
# The gateways benchmark, side by side in one run: the same four subgraphs
# (bench-subgraphs), the same supergraph and query, driven by wrk for a
# bounded time against a plain Hive Router and against Meshwork's gateway.
# Prints RPS, latency percentiles and memory (peak RSS, the highest RSS
# under the load and its anonymous part), the mean ratios of both, and
# appends them to bench/RESULTS.md.
#
# Needs: wrk (Debian package), release builds of `meshwork` and
# `bench-subgraphs`, and a plain Hive Router binary: `hive-router-plain`
# (the engine started by its own crate's entry point, built with Meshwork),
# or set HIVE_ROUTER_BIN to one installed with
#   cargo install hive-router --version =0.2.19 --features graphiql --locked --root DIR
#   cargo build --release --bin meshwork --bin meshwork-gateway --bin hive-router-plain && cargo build --release -p domains --bins
# BENCH_PROFILE=dist: the binaries of `cargo build --profile dist` (fat LTO,
# one codegen unit: how Hive Router's own project builds its releases, and
# how Meshwork ships) instead of target/release; the same for every bench
# script.
# Usage: bench/gateways.sh [seconds per run, default 20] [connections, default 50]
# BENCH_DEDUPE=incoming-off (the router's incoming dedupe off) or off (every
# dedupe off) sets both gateways alike; default: the engine's (all on).
# BENCH_PARITY=1 gives the plain Hive Router what Meshwork turns on by
# default and the engine does not: the Prometheus exporter with the same
# instruments, the cost limit (demand control) and CSRF prevention (kept
# in step with gateway/src/config.rs by hand), so the two differ only by
# Meshwork's own code; unset, each runs its own defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-50}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || echo "${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain")}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup
dedupe=${BENCH_DEDUPE:-default}
case "$dedupe" in
  default) shaping='' ;;
  incoming-off) shaping='traffic_shaping:\n  router:\n    dedupe:\n      enabled: false\n' ;;
  off) shaping='traffic_shaping:\n  all:\n    dedupe_enabled: false\n  router:\n    dedupe:\n      enabled: false\n' ;;
  *) echo "BENCH_DEDUPE must be default, incoming-off or off"; exit 1 ;;
esac
printf "$shaping" >>"$work/router.yaml"
printf "$shaping" >>"$work/hive.yaml"
if [ "${BENCH_PARITY:-}" = 1 ]; then
  {
    echo 'telemetry:'
    echo '  metrics:'
    echo '    exporters:'
    echo '      - kind: prometheus'
    echo '        enabled: true'
    echo '        path: /metrics'
    echo '    instrumentation:'
    echo '      instruments:'
    for name in http.server.request.body.size http.server.response.body.size \
      http.client.request.body.size http.client.response.body.size \
      http.server.active_requests http.client.active_requests \
      hive.router.parse_cache.requests_total hive.router.validate_cache.requests_total \
      hive.router.normalize_cache.requests_total hive.router.plan_cache.requests_total \
      hive.router.parse_cache.duration hive.router.validate_cache.duration \
      hive.router.normalize_cache.duration hive.router.plan_cache.duration \
      hive.router.request.overhead.duration hive.router.request.external_wait.duration \
      hive.router.demand_control.cost.estimated hive.router.demand_control.cost.actual \
      hive.router.demand_control.cost.delta; do
      echo "        $name: false"
    done
    echo '        http.server.request.duration:'
    echo '          attributes: { network.protocol.name: false, network.protocol.version: false, url.scheme: false }'
    echo '        http.client.request.duration:'
    echo '          attributes: { http.request.method: false, server.address: false, server.port: false, network.protocol.name: false, network.protocol.version: false, url.scheme: false }'
    echo 'demand_control:'
    echo '  enabled: true'
    echo '  default_list_size: { all: 10 }'
    echo '  subgraphs_budget: { mode: measure }'
    echo '  operation_cost: { max: 100000, mode: enforce }'
    echo 'csrf:'
    echo '  enabled: true'
    echo '  required_headers: [x-meshwork-csrf, apollo-require-preflight, x-apollo-operation-name, graphql-preflight]'
  } >>"$work/hive.yaml"
fi
# BENCH_MESHWORK_FLAGS: more gateway flags for Meshwork alone (to find
# what a default costs, e.g. `--metrics-path=` for no metrics).
read -r -a meshwork_flags <<<"${BENCH_MESHWORK_FLAGS:-}"
start_meshwork() { start_meshwork_static 4002 --router-config "$work/router.yaml" "${meshwork_flags[@]}"; }

# Alternate the two gateways (A B A B) so drift on a shared machine falls
# on both alike; BENCH_ROUNDS pairs (default 2: one setting's ratio moves
# by about ±3 % between runs, more rounds narrow it).
rounds=${BENCH_ROUNDS:-2}
for round in $(seq 1 "$rounds"); do
  pid=$(start_hive); pids+=("$pid")
  measure "plain Hive Router 0.2.19 (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_meshwork); pids+=("$pid")
  measure "Meshwork gateway, static mode (run $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
done
ratio=$(awk -F'|' '/Hive Router/ {h+=$3; nh++} /Meshwork/ {m+=$3; nm++} END {printf "%.3f", (m/nm)/(h/nh)}' "$work/rows")
# Means of the peak RSS, the RSS under load and its anonymous part.
memory=$(awk -F'|' '
  { split($6, v, /[^0-9.]+/) }  # v[1] is the empty text before the first number
  /Hive Router/ { h1 += v[2]; h2 += v[3]; h3 += v[4]; nh++ }
  /Meshwork/ { m1 += v[2]; m2 += v[3]; m3 += v[4]; nm++ }
  END { printf "peak %.3f, under load %.3f, anonymous %.3f", (m1/nm)/(h1/nh), (m2/nm)/(h2/nh), (m3/nm)/(h3/nh) }' "$work/rows")

{
  echo
  echo "### $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  if [ "${BENCH_PARITY:-}" = 1 ]; then
    echo "Plain Hive Router with Meshwork's default features (BENCH_PARITY=1: Prometheus metrics, cost limit, CSRF prevention)."
    echo
  fi
  if [ -n "${BENCH_MESHWORK_FLAGS:-}" ]; then
    echo "Meshwork with \`${BENCH_MESHWORK_FLAGS}\` (BENCH_MESHWORK_FLAGS)."
    echo
  fi
  # The binary measured, by name (meshwork-gateway.bolt: laid out by bench/bolt.sh).
  as=$(basename "$meshwork_gateway")
  if [ "$dedupe" = default ]; then
    echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS }${BENCH_PARITY:+BENCH_PARITY=$BENCH_PARITY }bench/gateways.sh $duration $connections\` (engine defaults for both, incl. deduplication); Meshwork as \`$as\`."
  else
    echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS }${BENCH_PARITY:+BENCH_PARITY=$BENCH_PARITY }BENCH_DEDUPE=$dedupe bench/gateways.sh $duration $connections\` (dedupe: $dedupe, both alike); Meshwork as \`$as\`."
  fi
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, Meshwork / plain Hive Router: $ratio"
  echo
  echo "Mean memory, Meshwork / plain Hive Router: $memory"
} | tee -a bench/RESULTS.md
