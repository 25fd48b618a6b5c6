-- roles.sql: the event store's roles and database (issue 11). Not a migration:
-- it needs a superuser (or CREATEROLE and CREATEDB), and migrations run as the
-- owner it creates. The one implementation used by the test harness
-- (tests/support PgServer), deploy/local/lib.sh (up, demo) and the compose image
-- (deploy/compose/postgres-entrypoint.sh). Run it with psql; passwords come from
-- the environment, never from a command line:
--
--   TRADER_PG_DB=trader TRADER_PG_OWNER_PASSWORD=... TRADER_PG_WRITER_PASSWORD=... \
--   TRADER_PG_READER_PASSWORD=... psql -X -q -d postgres -f pkg/eventstore/roles.sql
--
-- It creates two databases with the same owner and grants: the live store
-- TRADER_PG_DB, and the research store (backtests, replays, imports:
-- pkg/eventstore/research.hpp) TRADER_PG_RESEARCH_DB, by default
-- TRADER_PG_DB with "_research" appended. Tools find the research store by
-- the same rule (TRADER_RESEARCH_DB names another).
--
-- Idempotent: creates what is missing, sets the three passwords (SCRAM-SHA-256)
-- every time, so a re-run with the same password files changes nothing.
--
--   trader_owner     LOGIN; owns database TRADER_PG_DB and so its public schema:
--                    `traderctl migrate` (TRADER_OWNER_DATABASE_URL) connects as it
--   trader_writer    NOLOGIN group: INSERT-only (schema/006_least_privilege.sql)
--   trader_recorder  LOGIN, member of trader_writer: the recorder
--   trader_reader    NOLOGIN group: SELECT-only
--   trader_readonly  LOGIN, member of trader_reader: traderctl, risk-state, execution
--
-- None of them is a superuser or may create roles or databases. PUBLIC may not
-- connect to the database, nor create temporary objects in it.

\set ON_ERROR_STOP on
\getenv db TRADER_PG_DB
\getenv owner_password TRADER_PG_OWNER_PASSWORD
\getenv writer_password TRADER_PG_WRITER_PASSWORD
\getenv reader_password TRADER_PG_READER_PASSWORD
\getenv research_db TRADER_PG_RESEARCH_DB
\if :{?db}
\else
  \set db ''
\endif
\if :{?research_db}
\else
  \set research_db :db '_research'
\endif
\if :{?owner_password}
\else
  \set owner_password ''
\endif
\if :{?writer_password}
\else
  \set writer_password ''
\endif
\if :{?reader_password}
\else
  \set reader_password ''
\endif
SELECT :'db' ~ '^[a-z_][a-z0-9_]*$' AND :'research_db' ~ '^[a-z_][a-z0-9_]*$' AND :'research_db' <> :'db'
       AND length(:'db') <= 63 AND length(:'research_db') <= 63 AND length(:'owner_password') >= 16 AND length(:'writer_password') >= 16
       AND length(:'reader_password') >= 16 AS roles_sql_ok \gset
\if :roles_sql_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'roles.sql: set TRADER_PG_DB (a plain lowercase name; TRADER_PG_RESEARCH_DB, if set, another) '
                              'and TRADER_PG_OWNER_PASSWORD, '
                              'TRADER_PG_WRITER_PASSWORD, TRADER_PG_READER_PASSWORD (16 characters or more)'; END $$;
\endif

SET password_encryption = 'scram-sha-256';

SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['trader_owner', 'trader_writer', 'trader_recorder', 'trader_reader', 'trader_readonly']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE trader_writer NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE trader_reader NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE trader_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
ALTER ROLE trader_recorder LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
  PASSWORD :'writer_password';
ALTER ROLE trader_readonly LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
  PASSWORD :'reader_password';
GRANT trader_writer TO trader_recorder;
GRANT trader_reader TO trader_readonly;

SELECT format('CREATE DATABASE %I OWNER trader_owner', d)
  FROM unnest(ARRAY[:'db', :'research_db']) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d) \gexec
ALTER DATABASE :"db" OWNER TO trader_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO trader_writer, trader_reader;
ALTER DATABASE :"research_db" OWNER TO trader_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE :"research_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"research_db" TO trader_writer, trader_reader;
