#!/usr/bin/env bash
# Instructions per request, Meshwork's static gateway against the plain
# engine, on the public gateways benchmark's scenario: each gateway runs
# under valgrind's callgrind, is warmed up (5 s of load), then only the
# requests of `seconds` of load are counted (instruction counts repeat run to run and do not depend on
# what else the machine does, unlike requests/s). Prints the totals and
# each gateway's most expensive functions (inclusive), and appends the
# totals to bench/RESULTS.md.
#
#   bench/profile.sh [seconds] [connections]
#
# Needs the release builds of bench/gateways.sh and valgrind (and, with
# BENCH_POLICIES=1, those of bench/policies.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
connections=${2:-4}
hive=${HIVE_ROUTER_BIN:-${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain}
source bench/common.sh
bench_init "$hive"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
bench_setup
bench_hive_setup
dedupe=${BENCH_DEDUPE:-default}
case "$dedupe" in
  default) shaping='' ;;
  off) shaping='traffic_shaping:\n  all:\n    dedupe_enabled: false\n  router:\n    dedupe:\n      enabled: false\n' ;;
  *) echo "BENCH_DEDUPE must be default or off"; exit 1 ;;
esac
printf "$shaping" >>"$work/router.yaml"
printf "$shaping" >>"$work/hive.yaml"
# Extra settings for Meshwork only, to find what a default costs:
# BENCH_MESHWORK_CONFIG (YAML appended to its router config) and
# BENCH_MESHWORK_FLAGS (command-line flags).
printf '%s\n' "${BENCH_MESHWORK_CONFIG:-}" >>"$work/router.yaml"
read -r -a meshwork_flags <<<"${BENCH_MESHWORK_FLAGS:-}"
# BENCH_CACHE_SIM=1: also simulate caches and branch prediction (slower).
sim=()
[ "${BENCH_CACHE_SIM:-}" = 1 ] && sim=(--cache-sim=yes --branch-sim=yes)
# BENCH_POLICIES=1: Meshwork with every mesh policy on, as in
# bench/policies.sh (both gateways get the caller's token).
meshwork_supergraph="$work/supergraph.graphql"
if [ "${BENCH_POLICIES:-}" = 1 ]; then
  bench_policies_setup
  meshwork_supergraph="$work/secured.graphql"
  meshwork_flags+=("${policies_flags[@]}")
fi

# Load for `seconds` over `connections` connections; prints how many
# requests completed.
send() { # url seconds
  wrk -t1 -c"$connections" -d"$2s" -s bench/post.lua "$1" | awk '/requests in/ {print $1}'
}

profile() { # label url env-assignments... command...
  local label=$1 url=$2 out pid total requests
  shift 2
  out="$work/callgrind.$label"
  local vars=()
  while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  env "${vars[@]}" valgrind --tool=callgrind --instr-atstart=no "${sim[@]}" --callgrind-out-file="$out.%p" "$@" \
    >"$work/$label.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  check_answer "$url"
  send "$url" 5 >/dev/null
  callgrind_control -i on "$pid" >/dev/null
  requests=$(send "$url" "$seconds")
  callgrind_control -i off "$pid" >/dev/null
  callgrind_control -d "$pid" >/dev/null
  stop "$pid"
  # The dump taken after the load (`.1`); the file written at exit holds
  # nothing (instrumentation was off).
  out="$out.$pid.1"
  [ -s "$out" ] || { echo "no callgrind dump for $label"; exit 1; }
  cp "$out" "${PROFILE_KEEP:-$work}/callgrind.$label"
  total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}')
  echo "$label: $total instructions for $requests requests: $((total / requests)) per request" | tee -a "$work/totals"
  if [ ${#sim[@]} -gt 0 ]; then
    # Every simulated event per request: instruction and data reads and
    # writes, first-level and last-level cache misses, branches and their
    # mispredictions.
    callgrind_annotate "$out" 2>/dev/null | awk -v n="$requests" -v label="$label" '
      /^ *Ir / && !names {names = $0}
      /PROGRAM TOTALS/ && !done {
        k = split(names, h); line = label " per request:"; j = 0
        for (i = 1; i <= NF && j < k; i++) {
          if ($i !~ /^[0-9,]+$/) continue
          v = $i; gsub(",", "", v); j++; line = line sprintf(" %s %.0f", h[j], v / n)
        }
        print line; done = 1
      }' | tee -a "$work/totals"
  fi
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -E "^ *[0-9,]+ " >"$work/top.$label" || true
}

profile hive "http://127.0.0.1:4001/graphql" ROUTER_CONFIG_FILE_PATH="$work/hive.yaml" "$hive"
profile meshwork "http://127.0.0.1:4002/graphql" MESHWORK_LOG=error "$meshwork_gateway" \
  --supergraph "$meshwork_supergraph" --listen 127.0.0.1:4002 --router-config "$work/router.yaml" "${meshwork_flags[@]}"
for label in hive meshwork; do
  echo "--- $label: most expensive functions (inclusive)"
  head -40 "$work/top.$label"
done
{
  echo
  echo "### $(date -u +%Y-%m-%d\ %H:%M) UTC, instructions per request (callgrind)"
  echo
  extra=""
  [ -n "${BENCH_MESHWORK_CONFIG:-}${BENCH_MESHWORK_FLAGS:-}" ] &&
    extra="BENCH_MESHWORK_CONFIG='${BENCH_MESHWORK_CONFIG:-}' BENCH_MESHWORK_FLAGS='${BENCH_MESHWORK_FLAGS:-}' "
  [ "${BENCH_POLICIES:-}" = 1 ] && extra="BENCH_POLICIES=1 $extra"
  [ "${BENCH_CACHE_SIM:-}" = 1 ] && extra="BENCH_CACHE_SIM=1 $extra"
  echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }${extra}BENCH_DEDUPE=$dedupe bench/profile.sh $seconds $connections\` (Meshwork as \`$(basename "$meshwork_gateway")\`; release builds under callgrind; the requests of $seconds s of wrk load, $connections connections, counted after 5 s of warm-up)."
  echo
  sed 's/^/- /' "$work/totals"
} | tee -a bench/RESULTS.md
