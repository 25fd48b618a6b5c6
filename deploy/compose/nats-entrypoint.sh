#!/bin/sh
# nats-entrypoint: waits for the server configuration the compose stack's init service writes
# (init-secrets.sh: nats-server.conf, which includes nats-accounts.conf next to it; every client
# authenticates, no anonymous user), then runs nats-server with it. JetStream keeps its store in /data.
#   NATS_CONFIG (default /secrets/nats-server.conf; compose.cluster.yaml gives each node its own,
#   /secrets/nats-server-n<i>.conf), TRADER_SECRETS_WAIT_S (default 300)
set -eu
conf=${NATS_CONFIG:-/secrets/nats-server.conf}
waited=0
while [ ! -s "$conf" ] || [ ! -s "$(dirname "$conf")/nats-accounts.conf" ]; do
  [ "$waited" -eq 0 ] && echo "nats-entrypoint: waiting for $conf (written by the init service)" >&2
  waited=$((waited + 1))
  if [ "$waited" -gt "${TRADER_SECRETS_WAIT_S:-300}" ]; then
    echo "nats-entrypoint: no $conf after ${TRADER_SECRETS_WAIT_S:-300} s; is the init service done?" >&2
    exit 1
  fi
  sleep 1
done
exec nats-server -c "$conf"
