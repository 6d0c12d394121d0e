#!/usr/bin/env bash
# Cost of Meshwork's mesh policies on the gateways benchmark scenario: the
# same Meshwork gateway with policies off, and with JWT authentication
# required (RS256, JWKS file, issuer and audience checked, nbf check) and a
# per-caller rate limit on (high enough never to refuse, so every request
# pays for the check). Runs alternate (off, on, off, on).
# Field policies and grants are not built yet, so they are not measured.
#
# Needs the same binaries as bench/gateways.sh, plus openssl.
# Usage: bench/policies.sh [seconds per run, default 15] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
connections=${2:-50}
target=${CARGO_TARGET_DIR:-target}
meshwork=${MESHWORK_BIN:-$target/release/meshwork}
subgraphs=${BENCH_SUBGRAPHS_BIN:-$target/release/bench-subgraphs}
for bin in "$meshwork" "$subgraphs"; do
  [ -x "$bin" ] || { echo "missing binary: '$bin' (see bench/gateways.sh)"; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

source bench/common.sh
bench_setup

# An RS256 token signed with the test key (tests/fixtures/jwt), valid 1 hour.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","kid":"test-rsa-1"}' | b64url)
payload=$(printf '{"sub":"bench","iss":"https://issuer.test","aud":"meshwork","iat":%d,"nbf":%d,"exp":%d}' "$now" "$now" $((now + 3600)) | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign tests/fixtures/jwt/rsa-private.pem -binary | b64url)
export MESHWORK_BENCH_TOKEN="$header.$payload.$signature"

printf 'log:\n  level: error\n' >"$work/off.yaml"
cat >"$work/on.yaml" <<YAML
log:
  level: error
jwt:
  enabled: true
  require_authentication: true
  jwks_providers:
    - source: file
      path: $PWD/tests/fixtures/jwt/jwks.json
  issuers: ["https://issuer.test"]
  audiences: ["meshwork"]
YAML

run() { # label config extra-args...
  local label=$1 config=$2
  shift 2
  MESHWORK_LOG=error "$meshwork" gateway --supergraph "$work/supergraph.graphql" --listen 127.0.0.1:4002 \
    --router-config "$config" "$@" >"$work/meshwork.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  measure "$label" "$pid" http://127.0.0.1:4002/graphql
  stop "$pid"
}

for round in 1 2; do
  run "policies off (run $round)" "$work/off.yaml"
  run "JWT required + rate limit (run $round)" "$work/on.yaml" --rate-limit-per-minute 100000000 --rate-limit-burst 1000000
done
ratio=$(awk -F'|' '/policies off/ {o+=$3; no++} /JWT required/ {p+=$3; np++} END {printf "%.3f", (p/np)/(o/no)}' "$work/rows")

{
  echo
  echo "### Mesh policies on vs off: $(date -u +%Y-%m-%d\ %H:%M) UTC, $(nproc) cores, wrk -t1 -c$connections -d${duration}s"
  echo
  echo "Command: \`bench/policies.sh $duration $connections\` (Meshwork gateway, static mode; field policies not built yet)."
  echo
  echo "| Meshwork gateway | requests/s | p50 | p99 | peak RSS | errors |"
  echo "| --- | --- | --- | --- | --- | --- |"
  cat "$work/rows"
  echo
  echo "Mean requests/s, policies on / off: $ratio"
} | tee -a bench/RESULTS.md
