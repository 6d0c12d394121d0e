#!/usr/bin/env bash
# Profile-guided code layout of Meshwork's gateway binaries with LLVM BOLT:
# the dist (or release) binary is instrumented, serves the public gateways
# benchmark's query for `seconds` twice (engine defaults; then every mesh
# policy on, as bench/policies.sh), plus /metrics, /health and refused
# requests, and is then rewritten from the counted branches: the hot
# blocks of each function together, cold blocks split off, functions
# ordered by how they call each other, identical functions folded. The
# compiler's instructions stay as they are; only where they sit changes.
# The plain engine of the benchmark (`hive-router-plain`) is not touched.
#
#   BENCH_PROFILE=dist bench/bolt.sh [seconds] [meshwork-gateway|meshwork]
#
# Writes BINARY.bolt next to the binary (`meshwork` is trained through its
# `gateway` command) after checking it answers the benchmark query
# exactly; benchmark it with MESHWORK_GATEWAY_BIN=.../meshwork-gateway.bolt.
# Needs `llvm-bolt` and `merge-fdata` (Debian: bolt-22; or set LLVM_BOLT
# to the llvm-bolt to use), wrk, and the builds of bench/gateways.sh. The
# binary must keep its relocations (build.rs links optimised builds of
# both with --emit-relocs). BOLT_FLAGS adds optimisation flags (to try
# some); BOLT_KEEP_PROFILE=FILE keeps the merged profile.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
which=${2:-meshwork-gateway}
bolt=${LLVM_BOLT:-$(command -v llvm-bolt || command -v llvm-bolt-22 || echo /usr/lib/llvm-22/bin/llvm-bolt)}
[ -x "$bolt" ] || { echo "llvm-bolt is missing: apt-get install bolt-22 (or set LLVM_BOLT)"; exit 1; }
merge=$(dirname "$(readlink -f "$bolt")")/merge-fdata
[ -x "$merge" ] || merge=$(command -v merge-fdata || command -v merge-fdata-22 || true)
[ -x "$merge" ] || { echo "merge-fdata is missing (it comes with llvm-bolt: apt-get install bolt-22)"; exit 1; }
source bench/common.sh
bench_init
case "$which" in
  meshwork-gateway) original=$meshwork_gateway; command=() ;;
  meshwork) original=$meshwork; command=(gateway) ;;
  *) echo "the binary to lay out is meshwork-gateway or meshwork, not '$which'"; exit 1 ;;
esac
readelf -S "$original" | grep -q '\.rela\.text' ||
  { echo "$original has no relocations: rebuild it optimised (build.rs links it with --emit-relocs)"; exit 1; }
bench_setup
bench_hive_setup
bench_policies_setup
token=$MESHWORK_BENCH_TOKEN
unset MESHWORK_BENCH_TOKEN # the first workload is anonymous
out="$original.bolt"

echo "instrumenting $original"
"$bolt" "$original" -instrument -o "$work/instrumented" \
  --instrumentation-file="$work/profile.fdata" --instrumentation-sleep-time=5 --instrumentation-no-counters-clear >"$work/instrument.log" 2>&1 ||
  { cat "$work/instrument.log"; exit 1; }

# Serves the benchmark query for `seconds` from BINARY over SUPERGRAPH
# with the gateway flags given, and a few other requests, then stops.
serve() { # binary supergraph flags...
  local binary=$1 supergraph=$2 pid
  shift 2
  MESHWORK_LOG=error "$binary" "${command[@]}" --supergraph "$supergraph" --listen 127.0.0.1:4002 \
    --router-config "$work/router.yaml" "$@" >"$work/gateway.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  check_answer http://127.0.0.1:4002/graphql
  if [ "$binary" = "$work/instrumented" ]; then
    wrk -t1 -c50 -d"${seconds}s" -s bench/post.lua http://127.0.0.1:4002/graphql |
      awk '/requests in/ {print "  profiled:", $1, "requests"}'
    curl -s -o /dev/null http://127.0.0.1:4002/metrics
    curl -s -o /dev/null http://127.0.0.1:4002/health
    curl -s -o /dev/null -H 'content-type: application/json' -d '{"query":"{ nope }"}' http://127.0.0.1:4002/graphql
    curl -s -o /dev/null -H 'content-type: text/plain' -d 'x' http://127.0.0.1:4002/graphql
    sleep 6 # the profile is written every 5 s, and at exit
  fi
  stop "$pid"
  if [ -s "$work/profile.fdata" ]; then mv "$work/profile.fdata" "$work/profile.$pid.fdata"; fi
}

echo "engine defaults"
serve "$work/instrumented" "$work/supergraph.graphql"
echo "every mesh policy on"
export MESHWORK_BENCH_TOKEN=$token
serve "$work/instrumented" "$work/secured.graphql" "${policies_flags[@]}"
shopt -s nullglob
profiles=("$work"/profile.*.fdata)
[ ${#profiles[@]} -eq 2 ] || { echo "a workload wrote no profile"; cat "$work/gateway.log"; exit 1; }
"$merge" "${profiles[@]}" -o "$work/merged.fdata" 2>/dev/null
[ -n "${BOLT_KEEP_PROFILE:-}" ] && cp "$work/merged.fdata" "$BOLT_KEEP_PROFILE"

echo "laying out $out"
read -r -a extra <<<"${BOLT_FLAGS:-}"
"$bolt" "$original" -o "$out.tmp" -data="$work/merged.fdata" \
  -reorder-blocks=ext-tsp -reorder-functions=cdsort -split-functions -split-all-cold \
  -split-eh -icf=safe -use-gnu-stack -dyno-stats "${extra[@]}" >"$work/optimise.log" 2>&1 ||
  { cat "$work/optimise.log"; exit 1; }
grep -E "BOLT-INFO: [0-9]+ out of [0-9]+ functions" "$work/optimise.log" || true

# The rewritten binary must answer exactly, in both settings.
unset MESHWORK_BENCH_TOKEN
serve "$out.tmp" "$work/supergraph.graphql"
export MESHWORK_BENCH_TOKEN=$token
serve "$out.tmp" "$work/secured.graphql" "${policies_flags[@]}"
mv "$out.tmp" "$out"
echo "wrote $out (answers checked)"
