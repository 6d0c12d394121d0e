# Shared by the bench/*.sh scripts: binaries and the work folder, the
# benchmark's subgraphs and fixtures, the answer check, and one measured
# wrk run. Source it from the repository root.

# Sets $meshwork, $meshwork_gateway (the gateway alone, what replicas and
# static gateways run), $subgraphs (release builds under $CARGO_TARGET_DIR,
# or MESHWORK_BIN / MESHWORK_GATEWAY_BIN / BENCH_SUBGRAPHS_BIN), checks them and any extra binaries
# given, makes $work and the pids array, and stops those on exit.
bench_init() { # extra-binaries...
  local target=${CARGO_TARGET_DIR:-target}
  meshwork=${MESHWORK_BIN:-$target/${BENCH_PROFILE:-release}/meshwork}
  meshwork_gateway=${MESHWORK_GATEWAY_BIN:-$target/${BENCH_PROFILE:-release}/meshwork-gateway}
  subgraphs=${BENCH_SUBGRAPHS_BIN:-$target/${BENCH_PROFILE:-release}/bench-subgraphs}
  for bin in "$meshwork" "$meshwork_gateway" "$subgraphs" "$@"; do
    [ -x "$bin" ] || { echo "missing binary: '$bin' (see the header of bench/gateways.sh)"; exit 1; }
  done
  command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
  work=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Gone before the script ends (a gateway drains first), so the next
  # script's servers find their ports free.
  for _ in $(seq 1 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  rm -rf "$work"
}

bench_setup() {
  "$subgraphs" 127.0.0.1:4200 >"$work/subgraphs.log" 2>&1 &
  pids+=($!)
  sed -E 's#"http://0.0.0.0:4200/([a-z]+)"#"http://127.0.0.1:4200/\1/graphql"#' \
    bench/fixtures/supergraph.graphql >"$work/supergraph.graphql"
  python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' \
    bench/fixtures/query.graphql >"$work/body.json"
  export MESHWORK_BENCH_BODY="$work/body.json"
}

# Waits for URL to answer the benchmark query ($work/body.json) and
# writes the answer to $work/answer.json.
fetch_answer() { # url
  local auth=()
  [ -n "${MESHWORK_BENCH_TOKEN:-}" ] && auth=(-H "authorization: Bearer $MESHWORK_BENCH_TOKEN")
  rm -f "$work/answer.json"
  for _ in $(seq 1 200); do
    curl -sf -o "$work/answer.json" -X POST "$1" -H 'content-type: application/json' "${auth[@]}" \
      --data-binary @"$work/body.json" && break
    sleep 0.1
  done
}

# Waits for URL to answer the benchmark query, then checks the answer is
# exactly bench/fixtures/expected-response.json (or the file
# $bench_expected names).
check_answer() { # url
  fetch_answer "$1"
  python3 - "$work/answer.json" "${bench_expected:-bench/fixtures/expected-response.json}" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
if got != want:
    sys.exit(f"answer differs from {sys.argv[2]}: {json.dumps(got)[:300]}")
PY
}

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { # pid
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Warm-up, then a measured run; appends a table row to $work/rows. Besides
# requests/s (which on a shared machine swings by 10 % or more from run
# to run), the row has the gateway's own CPU time per request, which does
# not depend on how much CPU the load generator and subgraphs left it.
measure() { # label pid url
  local label=$1 pid=$2 url=$3 rps p50 p99 rss errors before after requests cpu
  check_answer "$url"
  local script=${bench_script:-bench/post.lua}
  cp "$work/answer.json" "$work/expected-bytes.json"
  export MESHWORK_BENCH_ANSWER="$work/expected-bytes.json"
  wrk -t1 -c"$connections" -d3s -s "$script" "$url" >/dev/null
  before=$(cpu_ticks "$pid")
  rss_under_load "$pid" "$work/rss.max" &
  local sampler=$!
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$script" "$url" >"$work/run.wrk"
  after=$(cpu_ticks "$pid")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  requests=$(awk '/requests in/ {print $1}' "$work/run.wrk")
  cpu=$(awk -v b="$before" -v a="$after" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (n > 0) printf "%.0f µs", (a - b) / hz * 1e6 / n; else print "n/a" }')
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/run.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$work/run.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$work/run.wrk")
  # The process's peak (VmHWM, whatever moment it came), the highest RSS
  # sampled under the measured load, and of it the highest anonymous
  # part (what the process allocated; the rest is program code and data
  # mapped from its binary, shared with the page cache).
  rss=$(awk -v loaded="$(cut -d' ' -f1 "$work/rss.max" 2>/dev/null || echo 0)" \
    -v anon="$(cut -d' ' -f2 "$work/rss.max" 2>/dev/null || echo 0)" \
    '/VmHWM/ {printf "%.1f MB (%.1f under load, %.1f anon)", $2/1024, loaded/1024, anon/1024}' "/proc/$pid/status")
  errors=$(grep -E "Non-2xx|Socket errors|wrong answers: [1-9]" "$work/run.wrk" | tr '\n' ' ' || true)
  if grep -q "checked answers" "$work/run.wrk"; then
    errors="${errors:-none} ($(awk '/checked answers/ {print $3}' "$work/run.wrk") answers checked)"
  fi
  echo "| $label | $rps | $p50 | $p99 | $rss | $cpu | ${errors:-none} |" | tee -a "$work/rows"
}

# Writes to FILE the highest RSS and the highest anonymous RSS (kB) of
# PID seen every half second ("RSS ANON"), until killed.
rss_under_load() { # pid file
  local max=0 anon_max=0 now anon
  while kill -0 "$1" 2>/dev/null; do
    read -r now anon < <(awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} END {print r+0, a+0}' "/proc/$1/status" 2>/dev/null || echo "0 0")
    [ "${now:-0}" -gt "$max" ] && max=$now
    [ "${anon:-0}" -gt "$anon_max" ] && anon_max=$anon
    echo "$max $anon_max" >"$2"
    sleep 0.5
  done
}

stop() { # pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}

# Config files of bench/gateways.sh and bench/observability.sh: a plain Hive
# Router on 127.0.0.1:4001 over the benchmark's supergraph ($work/hive.yaml)
# and Meshwork's router config ($work/router.yaml).
bench_hive_setup() {
  printf 'log:\n  level: error\n' >"$work/router.yaml"
  printf 'log:\n  level: error\nhttp:\n  host: 127.0.0.1\n  port: 4001\nsupergraph:\n  source: file\n  path: %s\n' "$work/supergraph.graphql" >"$work/hive.yaml"
}

# Starts the plain Hive Router ($hive) and prints its pid.
start_hive() {
  ROUTER_CONFIG_FILE_PATH="$work/hive.yaml" "$hive" >"$work/hive.log" 2>&1 &
  echo $!
}

# Starts Meshwork's static gateway over the benchmark's supergraph on
# 127.0.0.1:PORT with Meshwork's router config ($work/router.yaml, unless
# the extra arguments give another) and prints its pid.
start_meshwork_static() { # port extra-args...
  local port=$1
  shift
  MESHWORK_LOG=error "$meshwork_gateway" --supergraph "$work/supergraph.graphql" --listen "127.0.0.1:$port" \
    "$@" >"$work/meshwork.$port.log" 2>&1 &
  echo $!
}

# Every mesh policy on (bench/policies.sh): exports MESHWORK_BENCH_TOKEN,
# writes $work/secured.graphql and $work/access.json, and sets
# policies_flags, the gateway flags that turn the policies on.
bench_policies_setup() {
# An RS256 token of the test issuer (tests/fixtures/jwt) for consumer
# `bench`, with the scopes the field policies ask for; valid 1 hour.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","kid":"test-rsa-1"}' | b64url)
payload=$(printf '{"sub":"bench","azp":"bench","scope":"read:prices read:users read:reviews","iss":"https://issuer.test","aud":"meshwork","iat":%d,"nbf":%d,"exp":%d}' "$now" "$now" $((now + 3600)) | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign tests/fixtures/jwt/rsa-private.pem -binary | b64url)
export MESHWORK_BENCH_TOKEN="$header.$payload.$signature"

# Policies on: the reviews domain restricted (consumer `bench` holds a
# grant), field policies on fields the query reads, written into the
# supergraph as the catalog does; the issuer, consumer and grant in an
# access snapshot file; anonymous callers refused; a per-consumer rate limit.
cat >"$work/rules.json" <<JSON
{"restricted": ["reviews"],
 "fieldPolicies": [
   {"coordinate": "Product.price", "scopes": [["read:prices"], ["mesh:admin"]]},
   {"coordinate": "User.name", "scopes": [["read:users"]]},
   {"coordinate": "Review.body", "scopes": [["read:reviews", "read:users"]]}]}
JSON
"$meshwork" secure --supergraph "$work/supergraph.graphql" --rules "$work/rules.json" >"$work/secured.graphql"
python3 - "$work/access.json" <<'PY'
import json, os, sys
pem = open("tests/fixtures/jwt/rsa-public.pem").read()
json.dump({
  "issuers": [{"name": "bench-idp", "issuer": "https://issuer.test", "audiences": ["meshwork"],
               "algorithm": "RS256", "secret": None, "publicKeys": pem, "jwksUrl": None,
               "subjectClaim": "sub", "consumerClaim": "azp", "scopesClaim": "scope", "teamsClaim": "groups"}],
  "apiKeys": [],
  "consumers": [{"name": "bench", "introspection": True, "plan": None,
                 "grants": [{"scopes": ["grant:reviews"], "expiresAt": None}]}],
  "domainPlans": {} if os.environ.get("BENCH_NO_DOMAIN_PLANS") else
                 {d: {"name": "roomy", "requestsPerMinute": 100000000, "burst": 1000000,
                      "dailyQuota": None, "maxCost": None}
                  for d in ["accounts", "inventory", "products", "reviews"]},
}, open(sys.argv[1], "w"))
PY
  policies_flags=(--access "$work/access.json" --anonymous deny
    --rate-limit-per-minute 100000000 --rate-limit-burst 1000000)
}
