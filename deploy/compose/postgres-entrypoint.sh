#!/bin/sh
# First start: initdb into /data/pgdata. Every start: provision the event store's roles and
# the databases "trader" (live) and "trader_research" (backtests, replays) with
# pkg/eventstore/roles.sql (idempotent; it sets the passwords
# given below), then run postgres.
# Auth: SCRAM-SHA-256 passwords for every TCP connection; the superuser postgres only
# through the local socket as OS user postgres (peer), e.g.
#   podman-compose -f deploy/compose/compose.yaml exec postgres runuser -u postgres -- psql trader
# Passwords (16 characters or more; e.g. openssl rand -hex 24), from the environment or
# from files (the compose stack's init service writes them; or Docker/Podman secrets):
# TRADER_PG_OWNER_PASSWORD[_FILE], TRADER_PG_WRITER_PASSWORD[_FILE], TRADER_PG_READER_PASSWORD[_FILE].
set -eu
BIN=/usr/lib/postgresql/15/bin
# secret NAME: $NAME, or the content of the file $NAME_FILE, waiting up to
# TRADER_SECRETS_WAIT_S seconds (default 300) for the file (the compose stack's init service writes it)
secret() {
  eval "value=\${$1:-}; file=\${$1_FILE:-}"
  if [ -z "$value" ] && [ -n "$file" ]; then
    waited=0
    while [ ! -s "$file" ] && [ "$waited" -lt "${TRADER_SECRETS_WAIT_S:-300}" ]; do
      [ "$waited" -eq 0 ] && echo "postgres-entrypoint: waiting for $file" >&2
      waited=$((waited + 1)); sleep 1
    done
    value=$(cat "$file")
  fi
  [ -n "$value" ] || { echo "postgres-entrypoint: set $1 or $1_FILE" >&2; exit 1; }
  printf '%s' "$value"
}
TRADER_PG_OWNER_PASSWORD=$(secret TRADER_PG_OWNER_PASSWORD)
TRADER_PG_WRITER_PASSWORD=$(secret TRADER_PG_WRITER_PASSWORD)
TRADER_PG_READER_PASSWORD=$(secret TRADER_PG_READER_PASSWORD)
export TRADER_PG_OWNER_PASSWORD TRADER_PG_WRITER_PASSWORD TRADER_PG_READER_PASSWORD TRADER_PG_DB=trader
mkdir -p /data/pgdata /run/postgresql
chown -R postgres:postgres /data /run/postgresql
if [ ! -s /data/pgdata/PG_VERSION ]; then
  runuser -u postgres -- "$BIN/initdb" -D /data/pgdata -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 >/dev/null
  # Other containers reach it over the compose network; never as the superuser.
  printf '%s\n' "host all postgres all reject" "host all all all scram-sha-256" >> /data/pgdata/pg_hba.conf
fi
if grep -Eq '^[[:space:]]*[^#[:space:]].*[[:space:]]trust([[:space:]]|$)' /data/pgdata/pg_hba.conf; then
  echo "postgres-entrypoint: /data/pgdata allows trust authentication (created before SCRAM passwords);" \
       "remove the volume, or replace its trust lines with scram-sha-256 and set the superuser's password" >&2
  exit 1
fi
runuser -u postgres -- "$BIN/pg_ctl" -D /data/pgdata -w -o "-c listen_addresses='' -c unix_socket_directories=/run/postgresql" start >/dev/null
runuser -u postgres -- "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h /run/postgresql -d postgres -f /usr/local/share/trader/roles.sql
runuser -u postgres -- "$BIN/pg_ctl" -D /data/pgdata -w stop >/dev/null
exec runuser -u postgres -- "$BIN/postgres" -D /data/pgdata -c listen_addresses='*' \
  -c "unix_socket_directories=/run/postgresql"
