#!/usr/bin/env bash
# Starts `meshwork demo` on a free loopback port, signs in with the admin
# token it prints, and drives the console in Debian's Chromium
# (tests/console/console.mjs).
# Usage: tests/console/run.sh [path/to/meshwork] [screenshot dir]
# Needs node, npm and /usr/bin/chromium (.ci/run installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/meshwork}"
shots="${2:-${MESHWORK_ARTIFACTS:-$here/../../target/artifacts}/console-screenshots}"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
rm -rf "$shots" && mkdir -p "$shots"
log=$(mktemp)
# As a new user would: the admin token is the one the demo prints.
env -u MESHWORK_ADMIN_TOKEN "$bin" demo --listen 127.0.0.1:0 --supergraph-poll-interval 1s >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  base=$(sed -n 's/^Meshwork serving on //p' "$log" | head -n 1)
  if [ -n "$base" ] && curl -sf "$base/readiness" >/dev/null; then break; fi
  sleep 0.2
done
[ -n "${base:-}" ] || { echo "meshwork demo did not start:"; cat "$log"; exit 1; }
token=$(sed -n 's/^  console sign-in as platform admin: //p' "$log" | head -n 1)
[ -n "$token" ] || { echo "meshwork demo printed no admin token:"; cat "$log"; exit 1; }
node console.mjs "$base" "$token" "$shots"
