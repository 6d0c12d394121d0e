#!/usr/bin/env bash
# Where the memory goes, Meshwork's static gateway against the plain
# engine on the public gateways benchmark's scenario: for each, RSS by kind
# (smaps_rollup: anonymous, file-backed) right after start and under load,
# and which crates' code is resident (the pages of the binary's text
# mapped, from /proc/PID/pagemap, attributed to the symbols they hold).
# Appends the summary to bench/RESULTS.md.
#
#   bench/memory.sh [seconds of load, default 10] [connections, default 50]
#
# Needs the builds of bench/gateways.sh (BENCH_PROFILE as there), root or
# the right to read /proc/PID/pagemap, nm (binutils) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-50}
hive=${HIVE_ROUTER_BIN:-${CARGO_TARGET_DIR:-target}/${BENCH_PROFILE:-release}/hive-router-plain}
source bench/common.sh
bench_init "$hive"
bench_setup
bench_hive_setup

# RSS, anonymous and file-backed RSS, in MB.
kinds() { # pid
  awk '/^Rss:/ {r=$2} /^Anonymous:/ {a=$2} END {printf "%.1f MB (anonymous %.1f, file-backed %.1f)", r/1024, a/1024, (r-a)/1024}' "/proc/$1/smaps_rollup"
}

# The resident pages of the binary's code, by crate (largest first).
resident_code() { # pid
  python3 - "$1" <<'PY'
import bisect, collections, re, struct, subprocess, sys
pid = int(sys.argv[1])
binary = subprocess.run(["readlink", "-f", f"/proc/{pid}/exe"], capture_output=True, text=True).stdout.strip()
base = text = None
for line in open(f"/proc/{pid}/maps"):
    fields = line.split()
    if len(fields) < 6 or fields[5] != binary:
        continue
    start, end = (int(x, 16) for x in fields[0].split("-"))
    if int(fields[2], 16) == 0 and base is None:
        base = start
    if fields[1].startswith("r-x"):
        text = (start, end)
symbols = []
for line in subprocess.run(["nm", "-C", "-n", "-S", binary], capture_output=True, text=True).stdout.splitlines():
    parts = line.split(None, 3)
    if len(parts) == 4 and parts[2] in "tT":
        symbols.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
starts = [s[0] for s in symbols]
def crate(name):
    name = re.sub(r"^(dyn |mut |impl )", "", name.lstrip("<&*"))
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", name)
    return m.group(0) if m else "?"
resident = collections.Counter()
pages = 0
with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
    for page in range(text[0], text[1], 4096):
        pagemap.seek(page // 4096 * 8)
        if not (struct.unpack("<Q", pagemap.read(8))[0] >> 63) & 1:
            continue
        pages += 1
        low, high = page - base, page - base + 4096
        i = max(bisect.bisect_right(starts, low) - 1, 0)
        cover = collections.Counter()
        while i < len(symbols) and symbols[i][0] < high:
            address, size, name = symbols[i]
            overlap = min(high, address + size) - max(low, address)
            if overlap > 0:
                cover[crate(name)] += overlap
            i += 1
        total = sum(cover.values()) or 1
        for name, n in (cover or {"?": 1}).items():
            resident[name] += n / total
print(f"resident code {pages * 4 / 1024:.1f} MB; by crate (kB):",
      ", ".join(f"{name} {n * 4:.0f}" for name, n in resident.most_common(12)))
PY
}

run() { # label pid url
  local label=$1 pid=$2 url=$3 idle loaded code
  check_answer "$url"
  idle=$(kinds "$pid")
  wrk -t1 -c"$connections" -d"${duration}s" -s bench/post.lua "$url" >/dev/null &
  local load=$!
  sleep $((duration * 3 / 4))
  loaded=$(kinds "$pid")
  code=$(resident_code "$pid")
  wait "$load"
  echo "- $label: after start $idle; under load $loaded; $code" | tee -a "$work/rows"
}

pid=$(start_hive); pids+=("$pid")
run "plain Hive Router 0.2.19" "$pid" "http://127.0.0.1:4001/graphql"
stop "$pid"
pid=$(start_meshwork_static 4002 --router-config "$work/router.yaml"); pids+=("$pid")
run "Meshwork gateway, static mode" "$pid" "http://127.0.0.1:4002/graphql"
stop "$pid"

{
  echo
  echo "### $(date -u +%Y-%m-%d\ %H:%M) UTC, memory by kind"
  echo
  echo "Command: \`${BENCH_PROFILE:+BENCH_PROFILE=$BENCH_PROFILE }bench/memory.sh $duration $connections\` (Meshwork as \`$(basename "$meshwork_gateway")\`; wrk -t1 -c$connections; under load: sampled $((duration * 3 / 4)) s into the load)."
  echo
  cat "$work/rows"
} >>bench/RESULTS.md
