#!/bin/sh
# trader-entrypoint: the trader image's entrypoint (deploy/compose/Dockerfile). Builds this
# container's connection URLs from the credential files the compose stack's `init` service
# writes (init-secrets.sh), then execs the command. Without TRADER_NATS_USER and
# TRADER_PG_ROLE it only execs the command (e.g. `podman run --rm localhost/trader traderctl --help`).
#   TRADER_NATS_USER   the NATS identity (recorder, ops, ..., feed, operator, admin):
#                      NATS_URL=nats://USER:<$TRADER_SECRETS/nats-USER.password>@HOST:PORT, one URL
#                      per NATS node, comma-separated (a cluster's server list: the client fails
#                      over between them), the nodes from TRADER_NATS_HOSTPORT (one or more
#                      host:port, space- or comma-separated), else from $TRADER_SECRETS/nats-servers
#                      (init-secrets.sh writes it: the 3 nodes under TRADER_NATS_NODES=3), else nats:4222
#   TRADER_PG_ROLE     owner  -> TRADER_OWNER_DATABASE_URL (trader_owner: traderctl migrate only)
#                      writer -> DATABASE_URL and TRADER_WRITER_DATABASE_URL (trader_recorder)
#                      reader -> DATABASE_URL (trader_readonly)
#                      from $TRADER_SECRETS/pg-<role>.password, on $TRADER_PG_HOSTPORT/$TRADER_PG_DB
#   TRADER_SECRETS     where the credential files are (default /secrets, the service's own volume)
#   TRADER_SECRETS_WAIT_S  wait this long for them (the init service may not have run yet; default 300)
#   TRADER_RETRY_S     one-shots (migrate, stream-init): run the command again every 2 s until it
#                      exits 0, for at most this many seconds (its dependency may not be up yet)
# Passwords are hex (traderctl auth init, openssl rand -hex): nothing to escape in a URL.
set -eu
secrets=${TRADER_SECRETS:-/secrets}
me=${TRADER_NATS_USER:-${1:-trader}}

# secret FILE: its content, once it exists (waits up to TRADER_SECRETS_WAIT_S)
secret() {
  waited=0
  while [ ! -s "$secrets/$1" ]; do
    [ "$waited" -eq 0 ] && echo "trader-entrypoint ($me): waiting for $secrets/$1 (written by the init service)" >&2
    waited=$((waited + 1))
    if [ "$waited" -gt "${TRADER_SECRETS_WAIT_S:-300}" ]; then
      echo "trader-entrypoint ($me): no $secrets/$1 after ${TRADER_SECRETS_WAIT_S:-300} s; is the init service done?" >&2
      exit 1
    fi
    sleep 1
  done
  cat "$secrets/$1"
}

if [ -n "${TRADER_NATS_USER:-}" ]; then
  pw=$(secret "nats-$TRADER_NATS_USER.password")   # init writes nats-servers before it
  hostports=${TRADER_NATS_HOSTPORT:-}
  [ -n "$hostports" ] || [ ! -s "$secrets/nats-servers" ] || hostports=$(cat "$secrets/nats-servers")
  NATS_URL=""
  for hp in $(echo "${hostports:-nats:4222}" | tr ',' ' '); do
    NATS_URL="${NATS_URL:+$NATS_URL,}nats://$TRADER_NATS_USER:$pw@$hp"
  done
  export NATS_URL
fi
if [ -n "${TRADER_PG_ROLE:-}" ]; then
  case $TRADER_PG_ROLE in
    owner) role=trader_owner ;;
    writer) role=trader_recorder ;;
    reader) role=trader_readonly ;;
    *) echo "trader-entrypoint ($me): TRADER_PG_ROLE must be owner, writer or reader, not '$TRADER_PG_ROLE'" >&2; exit 2 ;;
  esac
  url="postgresql://$role:$(secret "pg-$TRADER_PG_ROLE.password")@${TRADER_PG_HOSTPORT:-postgres:5432}/${TRADER_PG_DB:-trader}"
  case $TRADER_PG_ROLE in
    owner) TRADER_OWNER_DATABASE_URL=$url; export TRADER_OWNER_DATABASE_URL ;;
    writer) DATABASE_URL=$url TRADER_WRITER_DATABASE_URL=$url; export DATABASE_URL TRADER_WRITER_DATABASE_URL ;;
    reader) DATABASE_URL=$url; export DATABASE_URL ;;
  esac
fi
[ "$#" -gt 0 ] || { echo "trader-entrypoint: no command given" >&2; exit 2; }

if [ -n "${TRADER_RETRY_S:-}" ]; then
  start=$(date +%s)
  until "$@"; do
    if [ $(($(date +%s) - start)) -ge "$TRADER_RETRY_S" ]; then
      echo "trader-entrypoint ($me): '$*' still fails after $TRADER_RETRY_S s; giving up" >&2
      exit 1
    fi
    echo "trader-entrypoint ($me): '$*' failed; again in 2 s" >&2
    sleep 2
  done
  exit 0
fi
exec "$@"
