#!/usr/bin/env bash
# BI exports of a large answer: one query returning N rows (default
# 1,000,000) from the bench-rows subgraph through Meshwork's static
# gateway, asked as JSON (the baseline: what the engine does anyway), as
# CSV and as Parquet. Each format runs in a fresh gateway process, so its
# peak RSS (VmHWM) is that format's own. Prints seconds, rows/s, bytes and
# peak RSS, checks the row count of each table, and appends the table to
# bench/RESULTS.md.
#
# Needs release builds: cargo build --release --bin meshwork --bin meshwork-gateway && cargo build --release -p domains --bins
# (BENCH_PROFILE=dist: the gateway and meshwork of `cargo build --profile dist`).
# Usage: bench/export.sh [rows, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
target=${CARGO_TARGET_DIR:-target}
meshwork=${MESHWORK_BIN:-$target/${BENCH_PROFILE:-release}/meshwork}
meshwork_gateway=${MESHWORK_GATEWAY_BIN:-$target/${BENCH_PROFILE:-release}/meshwork-gateway}
subgraph=${BENCH_ROWS_BIN:-$target/release/bench-rows}
for bin in "$meshwork" "$meshwork_gateway" "$subgraph"; do
  [ -x "$bin" ] || { echo "missing binary: '$bin' (see the header of bench/export.sh)"; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$subgraph" 127.0.0.1:4400 >"$work/rows.log" 2>&1 &
pids+=($!)
"$subgraph" --sdl >"$work/rows.graphql"
"$meshwork" compose --subgraph "rows=$work/rows.graphql" --url "rows=http://127.0.0.1:4400/graphql" \
  >"$work/supergraph.graphql"
printf '{"query":"{ rows(count: %d) { id name amount quantity active day } }"}' "$rows" >"$work/body.json"

run() { # label accept
  local label=$1 accept=$2 pid out status
  MESHWORK_LOG=error "$meshwork_gateway" --supergraph "$work/supergraph.graphql" --listen 127.0.0.1:4402 \
    >"$work/gateway.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:4402/health && break; sleep 0.1; done
  out="$work/out.$label"
  read -r status seconds bytes < <(curl -s -o "$out" -w '%{http_code} %{time_total} %{size_download}\n' \
    --max-time 600 -X POST http://127.0.0.1:4402/graphql -H 'content-type: application/json' \
    -H "accept: $accept" --data-binary @"$work/body.json")
  rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ "$status" = 200 ] || { echo "$label: HTTP $status: $(head -c 300 "$out")"; exit 1; }
  count=$("${MESHWORK_PYTHON:-python3}" - "$label" "$out" <<'PY'
import json, sys
label, path = sys.argv[1:3]
if label == "json":
    print(len(json.load(open(path))["data"]["rows"]))
elif label == "csv":
    print(sum(1 for _ in open(path)) - 1)
else:
    try:
        import pyarrow.parquet as pq
        print(pq.ParquetFile(path).metadata.num_rows)
    except ImportError:
        data = open(path, "rb").read()
        assert data[:4] == b"PAR1" and data[-4:] == b"PAR1", "not a Parquet file"
        print("n/a")
PY
)
  [ "$count" = n/a ] || [ "$count" = "$rows" ] || { echo "$label: $count rows, expected $rows"; exit 1; }
  awk -v l="$label" -v s="$seconds" -v b="$bytes" -v n="$rows" -v r="$rss" \
    'BEGIN { printf "| %s | %.2f | %.0f | %.1f MB | %s |\n", l, s, n / s, b / 1e6, r }' | tee -a "$work/table"
}

echo "| format | seconds | rows/s | size | gateway peak RSS |" | tee "$work/table"
echo "| --- | --- | --- | --- | --- |" | tee -a "$work/table"
run json application/json
run csv text/csv
run parquet application/vnd.apache.parquet
{
  echo
  echo "### BI export of $rows rows ($(date -u +%Y-%m-%d), \`bench/export.sh $rows\`)"
  echo
  cat "$work/table"
} >>bench/RESULTS.md
