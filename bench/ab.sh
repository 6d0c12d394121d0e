#!/usr/bin/env bash
# Two builds of Meshwork's gateway side by side (say, the dist build and
# the one bench/bolt.sh laid out) on the benchmark's subgraphs, with a
# query of your choice: what a build step does to traffic it was not
# trained on. Alternates A and B for `rounds`, `seconds` each (the
# measured run of bench/gateways.sh: every answer checked against A's
# first one), prints the rows and B / A, and appends them to
# bench/RESULTS.md.
#
#   bench/ab.sh BINARY_A BINARY_B QUERY [seconds] [rounds] [connections]
#
# QUERY is a GraphQL-over-HTTP body ({"query": ..., "variables": ...}) or a
# .graphql file (sent without variables). Needs wrk and the builds of
# bench/gateways.sh (BENCH_PROFILE as there).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,14p "$0"; exit 1; }
a=$1 b=$2 query=$3
duration=${4:-10}
rounds=${5:-3}
connections=${6:-50}
for bin in "$a" "$b"; do [ -x "$bin" ] || { echo "missing binary: '$bin'"; exit 1; }; done
[ -f "$query" ] || { echo "missing query: '$query'"; exit 1; }
source bench/common.sh
bench_init
bench_setup
bench_hive_setup
# The query replaces the benchmark's in the body every check and load sends.
if [[ $query == *.graphql ]]; then
  python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' "$query" >"$work/body.json"
else
  cp "$query" "$work/body.json"
fi
pid_a=$(meshwork_gateway=$a start_meshwork_static 4002 --router-config "$work/router.yaml")
pid_b=$(meshwork_gateway=$b start_meshwork_static 4003 --router-config "$work/router.yaml")
pids+=("$pid_a" "$pid_b")
# A's answer (without errors) is the one both must give.
fetch_answer http://127.0.0.1:4002/graphql
[ -s "$work/answer.json" ] || { echo "A gave no answer (see $work/meshwork.4002.log)"; exit 1; }
grep -q '"errors"' "$work/answer.json" && { echo "the query fails: $(head -c 300 "$work/answer.json")"; exit 1; }
cp "$work/answer.json" "$work/expected.json"
bench_expected="$work/expected.json"

bench_script=bench/check.lua
for round in $(seq 1 "$rounds"); do
  measure "A (run $round)" "$pid_a" http://127.0.0.1:4002/graphql
  measure "B (run $round)" "$pid_b" http://127.0.0.1:4003/graphql
done
ratio=$(awk -F'|' '$2 ~ /^ A / {a += $3} $2 ~ /^ B / {b += $3} END {printf "%.3f", b / a}' "$work/rows")
echo "B / A requests/s: $ratio"
{
  echo
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), two gateway builds (bench/ab.sh)"
  echo
  echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }bench/ab.sh $(basename "$a") $(basename "$b") $query $duration $rounds $connections\` (A: $(basename "$a"), B: $(basename "$b"); wrk -t1 -c$connections, every answer checked against A's first)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | CPU per request | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, B / A: $ratio"
} >>bench/RESULTS.md
