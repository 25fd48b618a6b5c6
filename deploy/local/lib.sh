# Shared functions for deploy/local/{up,down,demo} and tests/run. Sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${TRADER_BUILD_DIR:-$ROOT/build}
WORKERS=(recorder ops risk-state execution reporter strategy)
# Each worker's health and metrics endpoint: TRADER_HTTP_PORT_BASE + its index in WORKERS
# (0: each worker takes a free port and logs it, as deploy/local/demo does beside `up`).
HTTP_PORT_BASE=${TRADER_HTTP_PORT_BASE:-9460}
# http_port WORKER: that worker's port
http_port() {
  local i
  [ "$HTTP_PORT_BASE" = 0 ] && { echo 0; return; }
  for i in "${!WORKERS[@]}"; do [ "${WORKERS[$i]}" = "$1" ] && { echo $((HTTP_PORT_BASE + i)); return; }; done
  die "http_port: no worker $1"
}
# Debian 12 packages: build tools, libraries, the two servers, and prometheus (for promtool).
# libjs-chart.js: Chart.js, inlined into the report page at build time (pkg/reportpage).
PACKAGES=(build-essential cmake ninja-build pkg-config libnats-dev libsimdjson-dev libfmt-dev catch2
          libpqxx-dev libpq-dev zlib1g-dev libssl-dev libcrypt-dev openssl nats-server postgresql
          libcpp-httplib-dev libspdlog-dev libjs-chart.js prometheus curl)

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

# ---- An authenticated bus (issue 11) ------------------------------------------------
# nats-server runs with accounts and one user per identity (pkg/auth: the workers,
# admin, and one DESK account per person); nobody connects anonymously. Passwords are
# made once by `traderctl auth init` into $STATE/creds/nats-<user>.password (0600), the
# server configuration holds their bcrypt hashes only. Needs a build (traderctl).

# first_operator: the first of TRADER_OPERATORS (default "operator")
first_operator() { local o=${TRADER_OPERATORS:-operator}; echo "${o%%,*}"; }

# nats_url USER: the NATS URL of identity USER, with its password (after start_nats); on a
# cluster the server list, every node's URL with the password (what NATS_URL takes)
nats_url() {
  local f="$NATS_CREDS/nats-$1.password" hp out=""
  [ -r "$f" ] || die "no credentials for NATS user '$1' in $NATS_CREDS"
  for hp in $NATS_HOSTPORTS; do out+="${out:+,}nats://$1:$(cat "$f")@$hp"; done
  echo "$out"
}

# start_nats STATE_DIR PORT [OPERATORS]: credentials (kept across restarts), the server's
# configuration in $STATE/creds/nats-server.conf, nats-server -c, then the event stream and
# the recorder's consumer created as admin (traderctl stream-init). OPERATORS: comma-separated
# people (default "operator"). Sets NATS_CREDS and NATS_HOSTPORTS.
# TRADER_NATS_NODES=N (default 1) starts a cluster of N nodes instead (docs/scaling.md):
# node i listens on PORT+i-1, its routes on TRADER_NATS_ROUTE_PORT (6222)+i-1 and its
# monitoring on TRADER_NATS_MONITOR_PORT (8222)+i-1, all on 127.0.0.1, with server_name n<i>,
# its store in $STATE/nats/n<i> and routes that accept only the cluster's own user (password
# in creds/nats-route.password); the event stream then has min(N, 3) replicas.
start_nats() {
  local dir=$1 port=$2 operators=${3:-${TRADER_OPERATORS:-operator}} creds nodes=${TRADER_NATS_NODES:-1}
  creds=$(creds_dir "$dir")
  [[ "$nodes" =~ ^[1-9]$ ]] || die "TRADER_NATS_NODES: 1..9, got '$nodes'"
  mkdir -p "$dir/nats" "$dir/logs" "$dir/pids"
  "$BUILD_DIR/cmd/traderctl" auth init "$creds" --operators "$operators" >/dev/null \
    || die "traderctl auth init failed"
  NATS_CREDS=$creds NATS_HOSTPORTS=""
  if [ "$nodes" = 1 ]; then
    port_free "$port" || die "port $port is in use (NATS); set TRADER_NATS_PORT"
    # include paths are resolved from the configuration file's directory
    (umask 077; cat >"$creds/nats-server.conf" <<CONF
# written by deploy/local (lib.sh start_nats): every client authenticates, no anonymous user
listen: "127.0.0.1:$port"
jetstream { store_dir: "$dir/nats" }
include "nats-accounts.conf"
CONF
    )
    NATS_HOSTPORTS="127.0.0.1:$port"
    nats-server -c "$creds/nats-server.conf" >"$dir/logs/nats-server.log" 2>&1 &
    echo $! >"$dir/pids/nats-server.pid"
  else
    local route_base=${TRADER_NATS_ROUTE_PORT:-6222} monitor_base=${TRADER_NATS_MONITOR_PORT:-8222} i routes="" rpw
    [ -s "$creds/nats-route.password" ] || (umask 077; openssl rand -hex 24 >"$creds/nats-route.password")
    rpw=$(cat "$creds/nats-route.password")
    for i in $(seq 1 "$nodes"); do
      routes+="    \"nats-route://route:$rpw@127.0.0.1:$((route_base + i - 1))\""$'\n'
    done
    for i in $(seq 1 "$nodes"); do
      local p=$((port + i - 1)) rp=$((route_base + i - 1)) mp=$((monitor_base + i - 1))
      for q in "$p" "$rp" "$mp"; do port_free "$q" || die "port $q is in use (NATS node n$i); set TRADER_NATS_PORT, TRADER_NATS_ROUTE_PORT or TRADER_NATS_MONITOR_PORT"; done
      mkdir -p "$dir/nats/n$i"
      (umask 077; cat >"$creds/nats-server-n$i.conf" <<CONF
# written by deploy/local (lib.sh start_nats): node n$i of a $nodes-node cluster; every client
# authenticates, no anonymous user; routes accept only the cluster's own user
server_name: "n$i"
listen: "127.0.0.1:$p"
http: "127.0.0.1:$mp"
jetstream { store_dir: "$dir/nats/n$i" }
include "nats-accounts.conf"
cluster {
  name: "trader"
  listen: "127.0.0.1:$rp"
  authorization { user: "route", password: "$rpw" }
  routes: [
$routes  ]
}
CONF
      )
      NATS_HOSTPORTS+="${NATS_HOSTPORTS:+ }127.0.0.1:$p"
      nats-server -c "$creds/nats-server-n$i.conf" >"$dir/logs/nats-server-n$i.log" 2>&1 &
      echo $! >"$dir/pids/nats-server-n$i.pid"
    done
  fi
  local up=0 hp
  for hp in $NATS_HOSTPORTS; do
    up=0
    for _ in $(seq 1 100); do port_free "${hp##*:}" || { up=1; break; }; sleep 0.1; done
    [ "$up" = 1 ] || die "nats-server on $hp did not start (see $dir/logs/nats-server*.log)"
  done
  # A cluster's JetStream answers once its nodes have elected a meta leader: retry.
  local replicas=$((nodes < 3 ? nodes : 3)) ok=0
  for _ in $(seq 1 60); do
    if NATS_URL=$(nats_url admin) "$BUILD_DIR/cmd/traderctl" stream-init --replicas "$replicas" \
        >"$dir/logs/stream-init.log" 2>&1; then ok=1; break; fi
    [ "$nodes" = 1 ] && break
    sleep 0.5
  done
  [ "$ok" = 1 ] || die "traderctl stream-init failed: $(tail -3 "$dir/logs/stream-init.log")"
}

# write_operator_env STATE_DIR [USER]: $STATE/creds/<USER>.env (0600), a shell file a person
# sources: NATS_URL as that operator, DATABASE_URL read-only, and the checkpoint settings of
# traderctl verify. Also $STATE/creds/feed.env (NATS_URL as feed) for running the feed by
# hand, and strategy-ext.env (NATS_URL as strategy-ext) for an external strategy program.
# Prints the operator file's path.
write_operator_env() {
  local dir=$1 user=${2:-$(first_operator)} f
  f="$NATS_CREDS/$user.env"
  (umask 077; cat >"$f" <<ENV
# $user's credentials for this stack (deploy/local): source it, then use traderctl or nats.
export NATS_URL='$(nats_url "$user")'
export DATABASE_URL='$TRADER_READER_DATABASE_URL'
export TRADER_CHECKPOINT_FILE='${TRADER_CHECKPOINT_FILE:-}'
export TRADER_CHECKPOINT_PUBKEY='${TRADER_CHECKPOINT_PUBKEY:-}'
ENV
  )
  (umask 077; printf "# the feed's identity (publishes market.data.>): source it before running cmd/feed\nexport NATS_URL='%s'\n" \
    "$(nats_url feed)" >"$NATS_CREDS/feed.env")
  (umask 077; printf "# strategy-ext: a strategy program in any language (answers strategy.external.>; docs/strategies.md)\nexport NATS_URL='%s'\n" \
    "$(nats_url strategy-ext)" >"$NATS_CREDS/strategy-ext.env")
  echo "$f"
}

# ---- PostgreSQL without trust (issue 11) ---------------------------------------------
# Every connection needs a SCRAM-SHA-256 password. Passwords are generated once
# (openssl rand -hex 24) into $STATE/creds (mode 0700; files 0600); the roles and the
# database are provisioned by pkg/eventstore/roles.sql (the one implementation, also
# used by the test harness and the compose image); migrations run as the owner.
#   trader_owner    -> TRADER_OWNER_DATABASE_URL   (traderctl migrate only)
#   trader_recorder -> TRADER_WRITER_DATABASE_URL  (the recorder; traderctl import/replay/backtest)
#   trader_readonly -> TRADER_READER_DATABASE_URL  (DATABASE_URL of every other worker and of traderctl)
# all three in $STATE/creds/pg.env (0600). Use: start_pg, migrate_store, load_pg_env.

# creds_dir STATE_DIR: $STATE/creds, created with mode 0700
creds_dir() { mkdir -p "$1"; (umask 077; mkdir -p "$1/creds"); chmod 0700 "$1/creds"; echo "$1/creds"; }

# secret_file PATH: prints PATH's content, generating it first (openssl rand -hex 24, mode 0600) if missing
secret_file() {
  [ -s "$1" ] || (umask 077; openssl rand -hex 24 >"$1.tmp" && mv "$1.tmp" "$1") || die "cannot write $1"
  cat "$1"
}

# pg_env_file STATE_DIR: where start_pg writes the three URLs
pg_env_file() { echo "$1/creds/pg.env"; }

# load_pg_env STATE_DIR: sets TRADER_OWNER_DATABASE_URL, TRADER_WRITER_DATABASE_URL and
# TRADER_READER_DATABASE_URL (not exported) from pg.env
load_pg_env() {
  local f; f=$(pg_env_file "$1")
  [ -r "$f" ] || die "no $f (start_pg writes it)"
  # shellcheck disable=SC1090
  source "$f"
}

# start_pg STATE_DIR PORT: initdb on first use (SCRAM only), start, provision the roles and
# the databases "trader" (live) and "trader_research" (backtests, replays; roles.sql, every
# start, so an older state dir gains it), write $STATE/creds/pg.env. Migrations: migrate_store.
start_pg() {
  local dir=$1 port=$2 bin; bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL binaries not found"
  command -v openssl >/dev/null || die "openssl is missing (apt-get install -y openssl)"
  local data="$dir/pg/data" sock="$dir/pg/sock" creds; creds=$(creds_dir "$dir")
  mkdir -p "$dir/pg" "$dir/logs" "$dir/pids" "$sock"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir/pg" "$sock"
    runuser -u postgres -- test -x "$dir/pg" || die "user postgres cannot reach $dir (move the repository out of a private home directory)"
  fi
  local superuser owner writer reader
  superuser=$(secret_file "$creds/pg-superuser.password")
  owner=$(secret_file "$creds/pg-owner.password")
  writer=$(secret_file "$creds/pg-writer.password")
  reader=$(secret_file "$creds/pg-reader.password")
  if [ ! -s "$data/PG_VERSION" ]; then
    # initdb reads the superuser's password from a file user postgres can read, removed at once.
    local pwfile="$dir/pg/initdb.pw"
    (umask 077; printf '%s\n' "$superuser" >"$pwfile")
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 \
      >"$dir/logs/initdb.log" 2>&1 || { rm -f "$pwfile"; die "initdb failed (see $dir/logs/initdb.log)"; }
    rm -f "$pwfile"
  elif grep -Eq '^[[:space:]]*[^#[:space:]].*[[:space:]]trust([[:space:]]|$)' "$data/pg_hba.conf"; then
    die "$dir/pg was created with trust authentication (before SCRAM passwords): remove $dir/pg, or move it away, and start again"
  fi
  port_free "$port" || die "port $port is in use (PostgreSQL); set TRADER_PG_PORT"
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/pg/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sock" start >/dev/null \
    || die "postgres did not start (see $dir/pg/postgres.log)"
  head -1 "$data/postmaster.pid" >"$dir/pids/postgres.pid"
  PGPASSWORD=$superuser TRADER_PG_DB=trader TRADER_PG_OWNER_PASSWORD=$owner TRADER_PG_WRITER_PASSWORD=$writer \
    TRADER_PG_READER_PASSWORD=$reader "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -f "$ROOT/pkg/eventstore/roles.sql" >"$dir/logs/roles.log" 2>&1 \
    || die "provisioning the roles failed (see $dir/logs/roles.log)"
  (umask 077; cat >"$(pg_env_file "$dir")" <<ENV
TRADER_OWNER_DATABASE_URL=postgresql://trader_owner:$owner@127.0.0.1:$port/trader
TRADER_WRITER_DATABASE_URL=postgresql://trader_recorder:$writer@127.0.0.1:$port/trader
TRADER_READER_DATABASE_URL=postgresql://trader_readonly:$reader@127.0.0.1:$port/trader
ENV
  )
}

# migrate_store STATE_DIR: traderctl migrate as the owner (after build and start_pg)
migrate_store() {
  local TRADER_OWNER_DATABASE_URL TRADER_WRITER_DATABASE_URL TRADER_READER_DATABASE_URL
  load_pg_env "$1"
  TRADER_OWNER_DATABASE_URL=$TRADER_OWNER_DATABASE_URL "$BUILD_DIR/cmd/traderctl" migrate >"$1/logs/migrate.log" 2>&1 \
    || die "traderctl migrate failed: $(tail -3 "$1/logs/migrate.log")"
}

# checkpoint_keys STATE_DIR: the Ed25519 key pair the recorder signs checkpoints of the event
# store's head with (traderctl verify then catches a truncated or re-chained log), made once:
# $STATE/creds/checkpoint.key (mode 0600: the recorder's alone) and $STATE/creds/checkpoint.pub.
# The checkpoints go to $STATE/checkpoints.jsonl, outside PostgreSQL. Exports
# TRADER_CHECKPOINT_FILE and TRADER_CHECKPOINT_PUBKEY, which traderctl verify reads.
checkpoint_keys() {
  local creds; creds=$(creds_dir "$1")
  if [ ! -s "$creds/checkpoint.key" ]; then
    (umask 077; openssl genpkey -algorithm ed25519 -out "$creds/checkpoint.key.tmp" 2>/dev/null       && mv "$creds/checkpoint.key.tmp" "$creds/checkpoint.key") || die "openssl genpkey failed"
    openssl pkey -in "$creds/checkpoint.key" -pubout -out "$creds/checkpoint.pub" || die "openssl pkey failed"
  fi
  chmod 0600 "$creds/checkpoint.key"
  export TRADER_CHECKPOINT_FILE="$1/checkpoints.jsonl" TRADER_CHECKPOINT_PUBKEY="$creds/checkpoint.pub"
}

# supervise NAME LOG CMD...: runs CMD, and runs it again whenever it exits, after a back-off
# of 1, 2, 4 ... 30 s (back to 1 s once a run lasted 60 s). SIGTERM stops the worker
# (forwarded) and then the supervisor. Run it in the background; its PID is the worker's
# handle ($STATE/pids/NAME.pid), the worker's own PID is in NAME.child. Start it with its
# standard streams redirected (everything goes to LOG), so it holds no caller's pipe.
supervise() {
  set +e
  local name=$1 logf=$2 child=0 delay=1 stopping=0 rc started
  shift 2
  trap 'stopping=1; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null' TERM INT
  while :; do
    started=$SECONDS
    "$@" >>"$logf" 2>&1 &
    child=$!
    echo "$child" >"$SUPERVISE_PIDS/$name.child"
    wait "$child"; rc=$?
    while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done   # woken by the trap
    [ "$stopping" = 1 ] && exit 0
    ((SECONDS - started >= 60)) && delay=1
    printf 'supervisor: %s exited (code %s); starting it again in %s s\n' "$name" "$rc" "$delay" >>"$logf"
    sleep "$delay" & wait $!
    [ "$stopping" = 1 ] && exit 0
    delay=$((delay < 16 ? delay * 2 : 30))
  done
}

# start_workers STATE_DIR: after start_nats and load_pg_env. Each worker connects to NATS as
# itself (nats_url NAME); the recorder gets the writer's URL as its DATABASE_URL, every other
# worker the reader's (TRADER_READER_DATABASE_URL); none gets the owner's. Each runs under
# supervise (restarted with a back-off when it dies). The recorder signs checkpoints with
# $STATE/creds/checkpoint.key if checkpoint_keys made it. Settings from TRADER_CONFIG
# (default deploy/config/trader.conf).
start_workers() {
  local dir=$1 checkpoints=()
  [ -n "${TRADER_WRITER_DATABASE_URL:-}" ] || die "start_workers: TRADER_WRITER_DATABASE_URL is not set"
  [ -s "$dir/creds/checkpoint.key" ] && checkpoints=(RECORDER_CHECKPOINT_KEY="$dir/creds/checkpoint.key"
                                                    RECORDER_CHECKPOINT_FILE="$dir/checkpoints.jsonl")
  export TRADER_CONFIG=${TRADER_CONFIG:-$ROOT/deploy/config/trader.conf}
  mkdir -p "$dir/logs" "$dir/pids"
  SUPERVISE_PIDS="$dir/pids"
  local clean=(env -u TRADER_OWNER_DATABASE_URL -u TRADER_WRITER_DATABASE_URL -u TRADER_READER_DATABASE_URL)
  for w in "${WORKERS[@]}"; do
    : >"$dir/logs/$w.log"
    if [ "$w" = recorder ]; then
      supervise "$w" "$dir/logs/$w.log" "${clean[@]}" NATS_URL="$(nats_url "$w")" HTTP_PORT="$(http_port "$w")" \
        DATABASE_URL="$TRADER_WRITER_DATABASE_URL" "${checkpoints[@]}" "$BUILD_DIR/cmd/$w" </dev/null >/dev/null 2>&1 &
    else
      supervise "$w" "$dir/logs/$w.log" "${clean[@]}" NATS_URL="$(nats_url "$w")" HTTP_PORT="$(http_port "$w")" \
        DATABASE_URL="$TRADER_READER_DATABASE_URL" "$BUILD_DIR/cmd/$w" </dev/null >/dev/null 2>&1 &
    fi
    echo $! >"$dir/pids/$w.pid"
  done
  NATS_URL=$(nats_url "$(first_operator)") "$BUILD_DIR/cmd/traderctl" wait-ready --timeout-s 30 "${WORKERS[@]}" >/dev/null \
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
  # a supervised worker's own process, should its supervisor have been killed first
  if [ -f "$2/pids/$1.child" ]; then
    pid=$(cat "$2/pids/$1.child")
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$2/pids/$1.child"
  fi
}

# prometheus_config: a Prometheus configuration (stdout) that scrapes every worker's
# /metrics on 127.0.0.1 (http_port) as job "trader", each target labelled with its worker,
# and loads the stack's alert rules (deploy/prometheus/alerts.yml).
prometheus_config() {
  local w
  cat <<YML
# Written by deploy/local/up (prometheus_config in deploy/local/lib.sh).
global: {scrape_interval: 5s, evaluation_interval: 5s}
rule_files: ["$ROOT/deploy/prometheus/alerts.yml"]
scrape_configs:
  - job_name: trader
    honor_labels: true   # each sample's own worker label (the same as the target's)
    static_configs:
YML
  for w in "${WORKERS[@]}"; do
    printf '      - targets: ["127.0.0.1:%s"]\n        labels: {worker: %s}\n' "$(http_port "$w")" "$w"
  done
}

# start_prometheus STATE_DIR PORT: Prometheus (Debian's) on 127.0.0.1:PORT scraping the
# workers, its data in STATE_DIR/prometheus.
start_prometheus() {
  local dir=$1 port=$2
  command -v prometheus >/dev/null || die "prometheus is missing (apt-get install -y prometheus)"
  mkdir -p "$dir/prometheus" "$dir/logs" "$dir/pids"
  prometheus_config >"$dir/prometheus.yml"
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus" \
    --web.listen-address="127.0.0.1:$port" </dev/null >"$dir/logs/prometheus.log" 2>&1 &
  echo $! >"$dir/pids/prometheus.pid"
  local i
  for i in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$dir/pids/prometheus.pid")" 2>/dev/null || die "prometheus exited; see $dir/logs/prometheus.log"
    sleep 0.1
  done
  die "prometheus not ready on 127.0.0.1:$port; see $dir/logs/prometheus.log"
}

stop_all() {
  local dir=$1 w
  stop_pid prometheus "$dir"
  # strategy first (no new orders), recorder last among workers (it drains the stream)
  for w in feed strategy reporter execution risk-state ops recorder; do stop_pid "$w" "$dir"; done
  if [ -f "$dir/pids/postgres.pid" ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || stop_pid postgres "$dir"
    rm -f "$dir/pids/postgres.pid"
  fi
  local f
  for f in "$dir"/pids/nats-server*.pid; do [ -e "$f" ] && stop_pid "$(basename "$f" .pid)" "$dir"; done
  return 0
}
