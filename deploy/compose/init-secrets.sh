#!/bin/sh
# trader-init-secrets: the compose stack's one-shot `init` service (trader image, as root).
# First start: generates every credential into the master volume /secrets (kept across
# restarts: later starts keep every password and key):
#   nats-<user>.password    one per NATS identity (traderctl auth init; one person: operator)
#   nats-accounts.conf      the accounts block with their bcrypt hashes (rewritten each start)
#   nats-server.conf        listen 4222, monitoring 8222, JetStream in /data, include of the above
#   nats-servers            the NATS nodes' host:port list the workers connect to (rewritten each
#                           start; trader-entrypoint.sh reads it): "nats:4222", or with
#                           TRADER_NATS_NODES=3 (compose.cluster.yaml sets it) the three nodes
#   nats-route.password     TRADER_NATS_NODES=3 only: the cluster's route user (openssl rand -hex 24)
#   nats-server-n<i>.conf   TRADER_NATS_NODES=3 only: node i's configuration (rewritten each start):
#                           as nats-server.conf, plus server_name n<i> and a cluster block whose
#                           routes (port 6222) accept only the route user
#   pg-{owner,writer,reader}.password   the event store's roles (openssl rand -hex 24)
#   checkpoint.key/.pub     the recorder's Ed25519 key for signed checkpoints (openssl genpkey)
# Every start: copies to each service's own credentials volume (mounted at /creds/<service>
# here, read-only at /secrets there) only what that service needs, so no worker can read
# another identity's password (e.g. admin's, who may purge the stream) or the owner's.
# Writes are atomic (temporary file, then rename); the files that announce "ready" to a
# waiting service are written last. Also makes /checkpoints writable by the recorder.
set -eu
umask 077
M=/secrets
C=/creds
trader_ids=$(id -u trader):$(id -g trader)

traderctl auth init "$M" --operators operator
for r in owner writer reader; do
  if [ ! -s "$M/pg-$r.password" ]; then
    openssl rand -hex 24 >"$M/pg-$r.password.tmp" && mv "$M/pg-$r.password.tmp" "$M/pg-$r.password"
  fi
done
if [ ! -s "$M/checkpoint.key" ]; then
  openssl genpkey -algorithm ed25519 -out "$M/checkpoint.key.tmp" && mv "$M/checkpoint.key.tmp" "$M/checkpoint.key"
fi
openssl pkey -in "$M/checkpoint.key" -pubout -out "$M/checkpoint.pub.tmp" && mv "$M/checkpoint.pub.tmp" "$M/checkpoint.pub"
cat >"$M/nats-server.conf.tmp" <<CONF
# written by the compose stack's init service (deploy/compose/init-secrets.sh):
# every client authenticates (nats-accounts.conf), there is no anonymous user
listen: "0.0.0.0:4222"
http: "0.0.0.0:8222"
jetstream { store_dir: "/data" }
include "nats-accounts.conf"
CONF
mv "$M/nats-server.conf.tmp" "$M/nats-server.conf"

# The NATS cluster (compose.cluster.yaml): nodes n1..n3 are the services nats, nats-2 and nats-3.
nodes=${TRADER_NATS_NODES:-1}
case $nodes in
  1) echo "nats:4222" >"$M/nats-servers.tmp" ;;
  3)
    if [ ! -s "$M/nats-route.password" ]; then
      openssl rand -hex 24 >"$M/nats-route.password.tmp" && mv "$M/nats-route.password.tmp" "$M/nats-route.password"
    fi
    rpw=$(cat "$M/nats-route.password")
    for i in 1 2 3; do
      cat >"$M/nats-server-n$i.conf.tmp" <<CONF
# written by the compose stack's init service (deploy/compose/init-secrets.sh): node n$i of the
# 3-node cluster; every client authenticates (nats-accounts.conf), there is no anonymous user;
# the routes accept only the cluster's own user. no_advertise: clients are not told the nodes'
# container addresses (a client on the host could not reach them; every container has the list).
server_name: "n$i"
listen: "0.0.0.0:4222"
http: "0.0.0.0:8222"
jetstream { store_dir: "/data" }
include "nats-accounts.conf"
cluster {
  name: "trader"
  listen: "0.0.0.0:6222"
  no_advertise: true
  authorization { user: "route", password: "$rpw" }
  routes: [
    "nats-route://route:$rpw@nats:6222"
    "nats-route://route:$rpw@nats-2:6222"
    "nats-route://route:$rpw@nats-3:6222"
  ]
}
CONF
      mv "$M/nats-server-n$i.conf.tmp" "$M/nats-server-n$i.conf"
    done
    echo "nats:4222 nats-2:4222 nats-3:4222" >"$M/nats-servers.tmp" ;;
  *) echo "trader-init-secrets: TRADER_NATS_NODES must be 1 or 3, not '$nodes'" >&2; exit 2 ;;
esac
mv "$M/nats-servers.tmp" "$M/nats-servers"

# put SERVICE OWNER FILE...: copy FILEs from the master volume into /creds/SERVICE (mode 0600)
put() {
  dir=$C/$1 owner=$2
  shift 2
  [ -d "$dir" ] || { echo "trader-init-secrets: $dir is not mounted" >&2; exit 1; }
  chown "$owner" "$dir" && chmod 0700 "$dir"
  for f in "$@"; do
    cp "$M/$f" "$dir/.$f.tmp" && chown "$owner" "$dir/.$f.tmp" && chmod 0600 "$dir/.$f.tmp" && mv "$dir/.$f.tmp" "$dir/$f"
  done
}
if [ "$nodes" = 3 ]; then
  # nats-2 and nats-3 mount the same volume (read-only), each names its file (NATS_CONFIG)
  put nats 0:0 nats-accounts.conf nats-server-n1.conf nats-server-n2.conf nats-server-n3.conf nats-server.conf
else
  put nats 0:0 nats-accounts.conf nats-server.conf
fi
put postgres 0:0 pg-owner.password pg-writer.password pg-reader.password
put migrate "$trader_ids" pg-owner.password
put stream-init "$trader_ids" nats-servers nats-admin.password
put recorder "$trader_ids" checkpoint.key pg-writer.password nats-servers nats-recorder.password
for w in ops risk-state execution reporter strategy; do
  put "$w" "$trader_ids" pg-reader.password nats-servers "nats-$w.password"
done
put feed "$trader_ids" nats-servers nats-feed.password
put traderctl "$trader_ids" checkpoint.pub pg-reader.password nats-servers nats-operator.password
chown "$trader_ids" /checkpoints && chmod 0700 /checkpoints
echo "trader-init-secrets: credentials ready (master copy in the volume mounted at $M)"
