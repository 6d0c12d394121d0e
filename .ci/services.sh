# Services the test suite needs, installed from Debian packages when missing
# and started as throw-away instances on loopback. Sourced by .ci/run;
# developers can source it too: `source .ci/services.sh && start_postgres`.

apt_install() {
  if [ -z "${MESHWORK_APT_UPDATED:-}" ]; then
    apt-get update -qq
    MESHWORK_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The first port from $1 up that nothing listens on (a developer's own
# PostgreSQL or Redis, or an earlier run, may hold the usual one).
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
while True:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            print(port)
            break
        except OSError:
            port += 1
PY
}

# Starts PostgreSQL on 127.0.0.1:${MESHWORK_PG_PORT:-55432 or the next free port} with a fresh data
# folder and exports MESHWORK_TEST_POSTGRES_URL.
start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    echo "installing PostgreSQL from Debian packages"
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local port=${MESHWORK_PG_PORT:-$(free_port 55432)}
  MESHWORK_PG_BIN=$bin
  MESHWORK_PG_DATA=$(mktemp -d /tmp/meshwork-pg.XXXXXX)
  chown postgres:postgres "$MESHWORK_PG_DATA"
  su postgres -s /bin/sh -c "$bin/initdb -D $MESHWORK_PG_DATA -A trust -U postgres" >/dev/null
  su postgres -s /bin/sh -c "$bin/pg_ctl -D $MESHWORK_PG_DATA -l $MESHWORK_PG_DATA/server.log -w \
    -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start" >/dev/null
  export MESHWORK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $($bin/postgres --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  if [ -n "${MESHWORK_PG_DATA:-}" ]; then
    su postgres -s /bin/sh -c "${MESHWORK_PG_BIN:-}/pg_ctl -D $MESHWORK_PG_DATA -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$MESHWORK_PG_DATA"
  fi
}

# Starts Redis on 127.0.0.1:${MESHWORK_REDIS_PORT:-56379}, nothing saved to
# disk, and exports MESHWORK_TEST_REDIS_URL (shared rate-limit tests).
start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing Redis from Debian packages"
    apt_install redis-server
  fi
  local port=${MESHWORK_REDIS_PORT:-$(free_port 56379)}
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "/tmp/meshwork-redis-$port.pid" >/dev/null
  MESHWORK_REDIS_PIDFILE="/tmp/meshwork-redis-$port.pid"
  export MESHWORK_TEST_REDIS_URL="redis://127.0.0.1:$port/"
  echo "$(redis-server --version | awk '{print $1, $2, $3}') on 127.0.0.1:$port"
}

stop_redis() {
  if [ -n "${MESHWORK_REDIS_PIDFILE:-}" ] && [ -f "$MESHWORK_REDIS_PIDFILE" ]; then
    kill "$(cat "$MESHWORK_REDIS_PIDFILE")" 2>/dev/null || true
  fi
}
