#!/usr/bin/env bash
# Starts `meshwork demo` on a free loopback port, waits for the federated
# endpoint, and runs the graphql-http audit against it.
# Usage: tests/graphql-http-audit/run.sh [path/to/meshwork]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/meshwork}"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
source "$here/../start-demo.sh"
start_demo "$bin"
node audit.mjs "$base/graphql"
