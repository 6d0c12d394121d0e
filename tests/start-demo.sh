# Sourced by the browser and HTTP audit scripts: starts `meshwork demo` on a
# free loopback port (binary $1), waits until it serves a supergraph, and
# sets $base (its URL), $demo_log (its output) and $demo_pid; stops it on
# exit.
start_demo() { # meshwork-binary
  demo_log=$(mktemp)
  env -u MESHWORK_ADMIN_TOKEN "$1" demo --listen 127.0.0.1:0 --supergraph-poll-interval 1s >"$demo_log" 2>&1 &
  demo_pid=$!
  trap 'kill $demo_pid 2>/dev/null || true; rm -f "$demo_log"' EXIT
  base=
  for _ in $(seq 1 300); do
    base=$(sed -n 's/^Meshwork serving on //p' "$demo_log" | head -n 1)
    if [ -n "$base" ] && curl -sf "$base/readiness" >/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "meshwork demo did not start:"
  cat "$demo_log"
  exit 1
}
