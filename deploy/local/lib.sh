# Shared functions for deploy/local/{up,down,demo} and tests/run. Sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${TRADER_BUILD_DIR:-$ROOT/build}
WORKERS=(recorder ops risk-state execution reporter strategy)
# Debian 12 packages: build tools, libraries, and the two servers.
PACKAGES=(build-essential cmake ninja-build pkg-config libnats-dev libsimdjson-dev libfmt-dev catch2
          libpqxx-dev libpq-dev zlib1g-dev libssl-dev nats-server postgresql)

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ensure_packages [EXTRA...]: installs the missing ones among PACKAGES and EXTRA
ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" = 0 ]; then
    log "installing: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing Debian packages; run as root: apt-get install -y ${missing[*]}"
  fi
}

build() {
  # An existing build dir keeps its generator and build type (changing the type would
  # rebuild everything, silently); CMAKE_BUILD_TYPE set in the environment wins.
  local conf=()
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || conf=(-G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}")
  [ -f "$BUILD_DIR/CMakeCache.txt" ] && [ -n "${CMAKE_BUILD_TYPE:-}" ] && conf=(-DCMAKE_BUILD_TYPE="$CMAKE_BUILD_TYPE")
  log "building into $BUILD_DIR (a first build takes several minutes on 2 cores)"
  cmake -S "$ROOT" -B "$BUILD_DIR" "${conf[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null || cmake --build "$BUILD_DIR" -j1
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# first free port at or above $1
free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }

# as_pg CMD...: run as the postgres user when we are root (PostgreSQL refuses root)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# start_nats STATE_DIR PORT
start_nats() {
  local dir=$1 port=$2
  mkdir -p "$dir/nats" "$dir/logs" "$dir/pids"
  port_free "$port" || die "port $port is in use (NATS); set TRADER_NATS_PORT"
  nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/nats" >"$dir/logs/nats-server.log" 2>&1 &
  echo $! >"$dir/pids/nats-server.pid"
  for _ in $(seq 1 100); do port_free "$port" || return 0; sleep 0.1; done
  die "nats-server did not start (see $dir/logs/nats-server.log)"
}

# start_pg STATE_DIR PORT: initdb on first use, then start; database "trader"
start_pg() {
  local dir=$1 port=$2 bin; bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL binaries not found"
  local data="$dir/pg/data" sock="$dir/pg/sock"
  mkdir -p "$dir/pg" "$dir/logs" "$dir/pids" "$sock"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir/pg" "$sock"
    runuser -u postgres -- test -x "$dir/pg" || die "user postgres cannot reach $dir (move the repository out of a private home directory)"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$dir/logs/initdb.log" 2>&1 \
      || die "initdb failed (see $dir/logs/initdb.log)"
  fi
  port_free "$port" || die "port $port is in use (PostgreSQL); set TRADER_PG_PORT"
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/pg/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sock" start >/dev/null \
    || die "postgres did not start (see $dir/pg/postgres.log)"
  head -1 "$data/postmaster.pid" >"$dir/pids/postgres.pid"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='trader'" postgres | grep -q 1 \
    || "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres trader
}

# start_workers STATE_DIR: env NATS_URL and DATABASE_URL must be set;
# settings from TRADER_CONFIG (default deploy/config/trader.conf)
start_workers() {
  local dir=$1
  export TRADER_CONFIG=${TRADER_CONFIG:-$ROOT/deploy/config/trader.conf}
  mkdir -p "$dir/logs" "$dir/pids"
  for w in "${WORKERS[@]}"; do
    "$BUILD_DIR/cmd/$w" >"$dir/logs/$w.log" 2>&1 &
    echo $! >"$dir/pids/$w.pid"
    # the recorder creates the JetStream stream: nobody may publish before it is ready
    if [ "$w" = recorder ]; then
      for _ in $(seq 1 100); do grep -q "ready" "$dir/logs/recorder.log" && break
        kill -0 "$(cat "$dir/pids/recorder.pid")" 2>/dev/null || die "recorder exited: $(tail -3 "$dir/logs/recorder.log")"
        sleep 0.1; done
    fi
  done
  "$BUILD_DIR/cmd/traderctl" wait-ready --timeout-s 30 "${WORKERS[@]}" >/dev/null \
    || die "workers did not come up; logs in $dir/logs"
}

# stop_pid NAME STATE_DIR: SIGTERM, wait up to 10 s, then SIGKILL
stop_pid() {
  local f="$2/pids/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

stop_all() {
  local dir=$1 w
  # strategy first (no new orders), recorder last among workers (it drains the stream)
  for w in feed strategy reporter execution risk-state ops recorder; do stop_pid "$w" "$dir"; done
  if [ -f "$dir/pids/postgres.pid" ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || stop_pid postgres "$dir"
    rm -f "$dir/pids/postgres.pid"
  fi
  stop_pid nats-server "$dir"
}
