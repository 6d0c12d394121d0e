#!/usr/bin/env bash
# The whole test suite, as on CI: starts throw-away PostgreSQL and Redis
# (installed from Debian packages when missing and possible), runs
# `cargo test --workspace` against SQLite and PostgreSQL, then the checks
# that need other ecosystems (the GraphQL-over-HTTP audit and the console in
# Chromium need node and npm; the alert rules need promtool). Whatever could
# not run is listed as NOT TESTED at the end, never counted as passed; with
# CI set, anything that cannot run fails the run instead.
# Usage: tests/run.sh   (the README's test command)
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
source .ci/services.sh
not_tested=()
failed=()
ci=${CI:-}

# What tests skip themselves (a missing tool) they write here.
export MESHWORK_SKIP_LOG="$CARGO_TARGET_DIR/meshwork-skipped.txt"
mkdir -p "$CARGO_TARGET_DIR" && : >"$MESHWORK_SKIP_LOG"

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

if [ -z "${MESHWORK_TEST_POSTGRES_URL:-}" ]; then
  if { ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || can_install; } && start_postgres; then
    trap 'stop_postgres; stop_redis' EXIT
  else
    not_tested+=("PostgreSQL: none running and none could be installed (needs root and apt-get); every test ran on SQLite only. Set MESHWORK_TEST_POSTGRES_URL to one.")
  fi
fi
if [ -z "${MESHWORK_TEST_REDIS_URL:-}" ]; then
  if { command -v redis-server >/dev/null || can_install; } && start_redis; then
    trap 'stop_postgres; stop_redis' EXIT
  fi
fi
[ -n "$ci" ] && [ ${#not_tested[@]} -gt 0 ] && { printf '%s\n' "${not_tested[@]}"; exit 1; }

# Python test oracles (tests/python-requirements.txt) in a virtualenv.
venv="${MESHWORK_VENV:-$HOME/.cache/meshwork/venv}"
if ! command -v python3 >/dev/null && can_install; then apt_install python3 python3-venv; fi
if command -v python3 >/dev/null; then
  { [ -x "$venv/bin/python" ] || python3 -m venv "$venv" ||
    { can_install && apt_install python3-venv && python3 -m venv "$venv"; }; } &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python-requirements.txt &&
    export MESHWORK_PYTHON="$venv/bin/python"
fi
# (Tests that need it and cannot find it record themselves as skipped.)

echo "== cargo test --workspace"
cargo test --workspace || failed+=("cargo test --workspace")

echo "== the GraphQL-over-HTTP audit and the console in Chromium"
bin="$CARGO_TARGET_DIR/debug/meshwork"
if command -v node >/dev/null && command -v npm >/dev/null; then
  tests/graphql-http-audit/run.sh "$bin" || failed+=("graphql-http audit (tests/graphql-http-audit)")
  if [ ! -x /usr/bin/chromium ] && can_install; then apt_install chromium; fi
  if [ -x /usr/bin/chromium ]; then
    shots="${MESHWORK_ARTIFACTS:-$HOME/.cache/meshwork/artifacts}/console-screenshots"
    tests/console/run.sh "$bin" "$shots" || failed+=("console in Chromium (tests/console)")
  else
    not_tested+=("the console in a browser: no /usr/bin/chromium (apt-get install chromium)")
  fi
else
  not_tested+=("the graphql-http audit and the console in a browser: no node and npm")
fi

echo "== Prometheus alert rules (promtool)"
if ! command -v promtool >/dev/null && can_install; then apt_install --no-install-recommends prometheus; fi
if command -v promtool >/dev/null; then
  deploy/prometheus/check.sh || failed+=("alert rules (deploy/prometheus/check.sh)")
else
  not_tested+=("the alert rules: no promtool (apt-get install prometheus)")
fi

# One line per reason, with how many tests it concerned.
while IFS= read -r line; do
  [ -n "$line" ] && not_tested+=("$line")
done < <(sed -E 's/ \(([^()]*)\)$//' "$MESHWORK_SKIP_LOG" | sort | uniq -c |
  awk '{n=$1; $1=""; sub(/^ /, ""); printf "%s (%d test%s)\n", $0, n, n == 1 ? "" : "s"}')

echo
echo "== summary"
if [ ${#not_tested[@]} -gt 0 ]; then
  echo "NOT TESTED (${#not_tested[@]}):"
  printf '  - %s\n' "${not_tested[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED:"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
if [ -n "$ci" ] && [ ${#not_tested[@]} -gt 0 ]; then
  echo "CI must test everything."
  exit 1
fi
if [ ${#not_tested[@]} -gt 0 ]; then
  echo "passed, except what is listed as NOT TESTED above"
else
  echo "all passed; nothing skipped"
fi
