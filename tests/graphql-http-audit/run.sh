#!/usr/bin/env bash
# Starts `meshwork demo` on a free loopback port, waits for the federated
# endpoint, and runs the graphql-http audit against it.
# Usage: tests/graphql-http-audit/run.sh [path/to/meshwork]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/meshwork}"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
log=$(mktemp)
"$bin" demo --listen 127.0.0.1:0 --supergraph-poll-interval 1s >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  base=$(sed -n 's/^Meshwork serving on //p' "$log" | head -n 1)
  if [ -n "$base" ] && curl -sf "$base/readiness" >/dev/null; then break; fi
  sleep 0.2
done
[ -n "${base:-}" ] || { echo "meshwork demo did not start:"; cat "$log"; exit 1; }
node audit.mjs "$base/graphql"
