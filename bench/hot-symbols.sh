#!/usr/bin/env bash
# Writes src/bin/hot-symbols.txt, the code layout of Meshwork's gateway
# binaries (see build.rs): every function of `meshwork-gateway` that runs
# from start-up through serving the public benchmark's query (and
# /metrics, /health and a refused request), as callgrind sees them in a
# dist build: the busiest first (by their own instructions, so the code
# that runs for every request shares the fewest cache lines and pages),
# then the rest in the order they first run. Rebuild the dist binaries after
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
cost, function, after_call = {}, None, False
for line in open(out, errors='replace'):
    line = line.rstrip('\n')
    m = line_rx.match(line)
    if m:
        kind, ident, name = m.groups()
        if kind in ('ob', 'cob'):
            if name:
                objects[ident] = name
            if kind == 'ob':
                current = objects.get(ident, '')
        else:
            if name:
                names[ident] = name
            if kind == 'fn':
                function = ident if current.endswith('meshwork-gateway') else None
                if function:
                    ran.append(ident)
        continue
    if line.startswith('calls='):
        after_call = True  # the next cost line is the call's, not the function's own
        continue
    if line[:1] in '0123456789+-*' and function is not None:
        if after_call:
            after_call = False
            continue
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            cost[function] = cost.get(function, 0) + int(parts[1])
    else:
        after_call = False
known = set(open(symbols).read().split())
first = [i for i in dict.fromkeys(ran) if i in names and names[i] in known]
busy = sorted((i for i in first if cost.get(i, 0) > 0), key=lambda i: -cost[i])
total = sum(cost.get(i, 0) for i in first)
hot, running = [], 0
for i in busy:  # the functions of 99.9 % of the instructions
    if running > total * 0.999:
        break
    hot.append(i)
    running += cost[i]
order = list(dict.fromkeys([names[i] for i in hot] + [names[i] for i in first]))
open(target, 'w').write('\n'.join(order) + '\n')
print(f'{len(order)} functions written to {target} ({len(hot)} busiest first)')
PY
