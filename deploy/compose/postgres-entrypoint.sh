#!/bin/sh
# First start: initdb into /data/pgdata and create the database "trader"; then run postgres.
# Auth: trust on the compose network only (the port is published on 127.0.0.1 alone).
set -eu
BIN=/usr/lib/postgresql/15/bin
mkdir -p /data/pgdata /run/postgresql
chown -R postgres:postgres /data /run/postgresql
if [ ! -s /data/pgdata/PG_VERSION ]; then
  runuser -u postgres -- "$BIN/initdb" -D /data/pgdata -U postgres --auth=trust -E UTF8 >/dev/null
  echo "host all all 0.0.0.0/0 trust" >> /data/pgdata/pg_hba.conf
  runuser -u postgres -- "$BIN/pg_ctl" -D /data/pgdata -w -o "-c listen_addresses=''" start >/dev/null
  runuser -u postgres -- "$BIN/createdb" trader
  runuser -u postgres -- "$BIN/pg_ctl" -D /data/pgdata -w stop >/dev/null
fi
exec runuser -u postgres -- "$BIN/postgres" -D /data/pgdata -c listen_addresses='*' \
  -c "unix_socket_directories=/run/postgresql"
