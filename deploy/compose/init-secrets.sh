#!/bin/sh
# trader-init-secrets: the compose stack's one-shot `init` service (trader image, as root).
# First start: generates every credential into the master volume /secrets (kept across
# restarts: later starts keep every password and key):
#   nats-<user>.password    one per NATS identity (traderctl auth init; one person: operator)
#   nats-accounts.conf      the accounts block with their bcrypt hashes (rewritten each start)
#   nats-server.conf        listen 4222, monitoring 8222, JetStream in /data, include of the above
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
put nats 0:0 nats-accounts.conf nats-server.conf
put postgres 0:0 pg-owner.password pg-writer.password pg-reader.password
put migrate "$trader_ids" pg-owner.password
put stream-init "$trader_ids" nats-admin.password
put recorder "$trader_ids" checkpoint.key pg-writer.password nats-recorder.password
for w in ops risk-state execution reporter strategy; do
  put "$w" "$trader_ids" pg-reader.password "nats-$w.password"
done
put feed "$trader_ids" nats-feed.password
put traderctl "$trader_ids" checkpoint.pub pg-reader.password nats-operator.password
chown "$trader_ids" /checkpoints && chmod 0700 /checkpoints
echo "trader-init-secrets: credentials ready (master copy in the volume mounted at $M)"
