#!/usr/bin/env bash
# The gateways benchmark, side by side in one run: the same four subgraphs
# (bench-subgraphs), the same supergraph and query, driven by wrk for a
# bounded time against a plain Hive Router and against Meshwork's gateway.
# Prints RPS, latency percentiles and peak RSS, and appends them to
# bench/RESULTS.md.
#
# Needs: wrk (Debian package), release builds of `meshwork` and
# `bench-subgraphs`, and a plain Hive Router binary:
#   cargo build --release -p meshwork -p domains --bins
#   cargo install hive-router --version =0.2.19 --features graphiql --locked --root DIR
# Usage: bench/gateways.sh [seconds per run, default 20] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20}
connections=${2:-50}
target=${CARGO_TARGET_DIR:-target}
meshwork=${MESHWORK_BIN:-$target/release/meshwork}
subgraphs=${BENCH_SUBGRAPHS_BIN:-$target/release/bench-subgraphs}
hive=${HIVE_ROUTER_BIN:-$(command -v hive-router || true)}
for bin in "$meshwork" "$subgraphs" "$hive"; do
  [ -x "$bin" ] || { echo "missing binary: '$bin' (see the header of $0)"; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$subgraphs" 127.0.0.1:4200 >"$work/subgraphs.log" 2>&1 &
pids+=($!)
sed -E 's#"http://0.0.0.0:4200/([a-z]+)"#"http://127.0.0.1:4200/\1/graphql"#' bench/fixtures/supergraph.graphql >"$work/supergraph.graphql"
python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' bench/fixtures/query.graphql >"$work/body.json"
export MESHWORK_BENCH_BODY="$work/body.json"
printf 'log:\n  level: error\n' >"$work/router.yaml"
printf 'log:\n  level: error\nhttp:\n  host: 127.0.0.1\n  port: 4001\nsupergraph:\n  source: file\n  path: %s\n' "$work/supergraph.graphql" >"$work/hive.yaml"

wait_ready() { # url
  for _ in $(seq 1 200); do
    if curl -sf -o /dev/null -X POST "$1" -H 'content-type: application/json' --data-binary @"$work/body.json"; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1"; exit 1
}

check_answer() { # url
  curl -s -X POST "$1" -H 'content-type: application/json' --data-binary @"$work/body.json" >"$work/answer.json"
  python3 - "$work/answer.json" bench/fixtures/expected-response.json <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
if got != want:
    sys.exit(f"answer differs from expected-response.json: {json.dumps(got)[:300]}")
PY
}

run() { # label pid url
  local label=$1 pid=$2 url=$3
  wait_ready "$url"
  check_answer "$url"
  wrk -t1 -c"$connections" -d3s -s bench/post.lua "$url" >/dev/null  # warm-up
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s bench/post.lua "$url" >"$work/$label.wrk"
  local rps p50 p99 rss
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$label.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$work/$label.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$work/$label.wrk")
  rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status")
  errors=$(grep -E "Non-2xx|Socket errors" "$work/$label.wrk" | tr '\n' ' ' || true)
  echo "| $label | $rps | $p50 | $p99 | $rss | ${errors:-none} |" | tee -a "$work/rows"
}

stop() { # pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}
start_hive() {
  ROUTER_CONFIG_FILE_PATH="$work/hive.yaml" "$hive" >"$work/hive.log" 2>&1 &
  echo $!
}
start_meshwork() {
  MESHWORK_LOG=error "$meshwork" gateway --supergraph "$work/supergraph.graphql" --listen 127.0.0.1:4002 \
    --router-config "$work/router.yaml" >"$work/meshwork.log" 2>&1 &
  echo $!
}

# Alternate the two gateways (A B A B) so drift on a shared machine falls
# on both alike.
for round in 1 2; do
  pid=$(start_hive); pids+=("$pid")
  run "plain Hive Router 0.2.19 (run $round)" "$pid" "http://127.0.0.1:4001/graphql"
  stop "$pid"
  pid=$(start_meshwork); pids+=("$pid")
  run "Meshwork gateway, static mode (run $round)" "$pid" "http://127.0.0.1:4002/graphql"
  stop "$pid"
done
ratio=$(awk -F'|' '/Hive Router/ {h+=$3; nh++} /Meshwork/ {m+=$3; nm++} END {printf "%.3f", (m/nm)/(h/nh)}' "$work/rows")

{
  echo
  echo "### $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/gateways.sh $duration $connections\` (engine defaults for both, incl. deduplication)."
  echo
  echo "| gateway | requests/s | p50 | p99 | peak RSS | errors |"
  echo "| --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, Meshwork / plain Hive Router: $ratio"
} | tee -a bench/RESULTS.md
