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
source "$here/../start-demo.sh"
start_demo "$bin"
# As a new user would: the admin token is the one the demo prints.
token=$(sed -n 's/^  console sign-in as platform admin: //p' "$demo_log" | head -n 1)
[ -n "$token" ] || { echo "meshwork demo printed no admin token:"; cat "$demo_log"; exit 1; }
node console.mjs "$base" "$token" "$shots"
