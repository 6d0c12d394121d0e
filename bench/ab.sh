#!/usr/bin/env bash
# Two builds of Meshwork's gateway side by side (say, the dist build and
# the one bench/bolt.sh laid out) on the benchmark's subgraphs, with a
# query of your choice: what a build step does to traffic it was not
# trained on. Alternates A and B for `rounds`, `seconds` each, checks
# that both give the same answer, prints requests/s and CPU per request
# and appends them to bench/RESULTS.md.
#
#   bench/ab.sh BINARY_A BINARY_B QUERY_JSON [seconds] [rounds] [connections]
#
# QUERY_JSON is a GraphQL-over-HTTP body ({"query": ..., "variables": ...}),
# or a .graphql file (sent without variables).
# Needs wrk and the builds of bench/gateways.sh (BENCH_PROFILE as there).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,12p "$0"; exit 1; }
a=$1 b=$2 body=$3 query=$3
seconds=${4:-10}
rounds=${5:-3}
connections=${6:-50}
for bin in "$a" "$b"; do [ -x "$bin" ] || { echo "missing binary: '$bin'"; exit 1; }; done
[ -f "$body" ] || { echo "missing query body: '$body'"; exit 1; }
source bench/common.sh
bench_init
bench_setup
bench_hive_setup
if [[ $body == *.graphql ]]; then
  python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$body" >"$work/query.json"
  body="$work/query.json"
fi
export MESHWORK_BENCH_BODY=$body

start() { # binary port
  MESHWORK_LOG=error "$1" --supergraph "$work/supergraph.graphql" --listen "127.0.0.1:$2" \
    --router-config "$work/router.yaml" >"$work/gateway.$2.log" 2>&1 &
  echo $!
}
answer() { # port
  for _ in $(seq 1 200); do
    curl -sf -X POST "http://127.0.0.1:$1/graphql" -H 'content-type: application/json' \
      --data-binary @"$body" && return 0
    sleep 0.1
  done
  echo "no answer on port $1" >&2
  exit 1
}
pid_a=$(start "$a" 4002)
pid_b=$(start "$b" 4003)
pids+=("$pid_a" "$pid_b")
answer 4002 >"$work/a.json"
answer 4003 >"$work/b.json"
cmp -s "$work/a.json" "$work/b.json" || { echo "A and B answer differently"; head -c 300 "$work/a.json" "$work/b.json"; exit 1; }
grep -q '"errors"' "$work/a.json" && { echo "the query fails: $(head -c 300 "$work/a.json")"; exit 1; }

rows=()
run() { # label pid port
  local before after requests
  before=$(cpu_ticks "$2")
  requests=$(wrk -t1 -c"$connections" -d"${seconds}s" -s bench/post.lua "http://127.0.0.1:$3/graphql" |
    awk '/requests in/ {print $1}')
  after=$(cpu_ticks "$2")
  local rps cpu
  rps=$(awk -v r="$requests" -v s="$seconds" 'BEGIN {printf "%.1f", r / s}')
  cpu=$(awk -v t=$((after - before)) -v r="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", t / hz / r * 1e6}')
  echo "$1: $rps requests/s, $cpu µs CPU per request"
  rows+=("| $1 | $rps | $cpu µs |")
}
wrk -t1 -c"$connections" -d3s -s bench/post.lua http://127.0.0.1:4002/graphql >/dev/null
wrk -t1 -c"$connections" -d3s -s bench/post.lua http://127.0.0.1:4003/graphql >/dev/null
for round in $(seq 1 "$rounds"); do
  run "A (run $round)" "$pid_a" 4002
  run "B (run $round)" "$pid_b" 4003
done
ratio=$(printf '%s\n' "${rows[@]}" | awk -F'|' '$2 ~ /A/ {a += $3} $2 ~ /B/ {b += $3} END {printf "%.3f", b / a}')
echo "B / A requests/s: $ratio"
{
  echo
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), two gateway builds (bench/ab.sh)"
  echo
  echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }bench/ab.sh $(basename "$a") $(basename "$b") $query $seconds $rounds $connections\` (A: $(basename "$a"), B: $(basename "$b"); same answer checked; wrk -t1 -c$connections)."
  echo
  echo "| build | requests/s | CPU per request |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Mean requests/s, B / A: $ratio"
} >>bench/RESULTS.md
