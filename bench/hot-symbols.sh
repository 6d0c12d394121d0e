#!/usr/bin/env bash
# Writes src/bin/hot-symbols.txt, the code layout of Meshwork's gateway
# binaries (see build.rs): every function of `meshwork-gateway` that runs
# from start-up through serving the public benchmark's query (and
# /metrics, /health and a refused request), in the order they first run,
# as callgrind sees them in a dist build. Rebuild the dist binaries after
# it (`cargo build --profile dist --bin meshwork-gateway --bin meshwork`);
# the list names symbols of that profile (others are skipped).
#
#   BENCH_PROFILE=dist bench/hot-symbols.sh [seconds]
#
# Needs valgrind and the builds of bench/gateways.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
source bench/common.sh
bench_init
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
bench_setup
bench_hive_setup
out="$work/callgrind.out"
MESHWORK_LOG=error valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$out" \
  "$meshwork_gateway" --supergraph "$work/supergraph.graphql" --listen 127.0.0.1:4002 \
  --router-config "$work/router.yaml" >"$work/gateway.log" 2>&1 &
pid=$!
pids+=("$pid")
check_answer http://127.0.0.1:4002/graphql
wrk -t1 -c4 -d"${seconds}s" -s bench/post.lua http://127.0.0.1:4002/graphql | awk '/requests in/ {print "load:", $1, "requests"}'
curl -s -o /dev/null http://127.0.0.1:4002/metrics
curl -s -o /dev/null http://127.0.0.1:4002/health
curl -s -o /dev/null -H 'content-type: application/json' -d '{"query":"{ nope }"}' http://127.0.0.1:4002/graphql
kill -TERM "$pid"
wait "$pid" || true
# The functions of the gateway binary with cost of their own, by first
# appearance; names as the binary's symbol table has them.
nm --defined-only "$meshwork_gateway" | awk '$2 ~ /^[tT]$/ {print $3}' >"$work/symbols"
python3 - "$out" "$work/symbols" src/bin/hot-symbols.txt <<'PY'
import re, sys
out, symbols, target = sys.argv[1:]
line_rx = re.compile(r'^(fn|cfn|ob|cob)=\((\d+)\)(?: (.*))?$')
names, objects, current, ran = {}, {}, None, []
for line in open(out, errors='replace'):
    m = line_rx.match(line.rstrip('\n'))
    if not m:
        continue
    kind, ident, name = m.groups()
    if kind in ('ob', 'cob'):
        if name:
            objects[ident] = name
        if kind == 'ob':
            current = objects.get(ident, '')
    else:
        if name:
            names[ident] = name
        if kind == 'fn' and current.endswith('meshwork-gateway'):
            ran.append(ident)
known = set(open(symbols).read().split())
order = [n for n in dict.fromkeys(names[i] for i in ran if i in names) if n in known]
open(target, 'w').write('\n'.join(order) + '\n')
print(f'{len(order)} functions written to {target}')
PY
