-- 001_events: the append-only event log.
--
-- Applied by eventstore::apply_migrations (PgStore's constructor) inside one
-- transaction, under pg_advisory_xact_lock, and recorded in schema_migrations.
-- Never edit an applied migration: add NNN_<name>.sql with the next number.

CREATE TABLE events (
  position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- global position, order of append
  msg_id          text NOT NULL UNIQUE,   -- e.g. "EVENTS:12345" (JetStream stream:sequence): stored once
  subject         text NOT NULL,
  type            text NOT NULL,
  client_order_id text,                   -- extracted from the payload for reads by order
  ts_event        bigint,                 -- ns UTC, from the payload (null if none)
  payload         jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_subject_position_idx ON events (subject, position);
CREATE INDEX events_type_position_idx ON events (type, position);
CREATE INDEX events_client_order_id_idx ON events (client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX events_ts_event_idx ON events (ts_event);

-- Append-only guard. It stops accidents (a stray UPDATE, DELETE or TRUNCATE,
-- even by a superuser); it is not a security boundary, since the table owner
-- can disable triggers. The boundary is the trader_writer role below.
CREATE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events is append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_no_update_delete
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Role for services that record events: INSERT and SELECT only, no UPDATE,
-- DELETE or TRUNCATE. It is a NOLOGIN group role; give a service its own login
-- role that is a member of it, e.g.
--   CREATE ROLE recorder LOGIN PASSWORD '...' IN ROLE trader_writer;
-- Roles are cluster-wide, so a second database reuses the existing role. When
-- the migrating user may not create roles, the role is skipped with a NOTICE
-- (the schema is still created) and the grants follow if the role exists.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trader_writer') THEN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
      BEGIN
        CREATE ROLE trader_writer NOLOGIN;
      EXCEPTION WHEN duplicate_object THEN
        NULL;  -- created concurrently by a migrator of another database
      END;
    ELSE
      RAISE NOTICE 'role trader_writer not created: % may not create roles', current_user;
    END IF;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'trader_writer') THEN
    GRANT SELECT, INSERT ON events TO trader_writer;
    GRANT USAGE ON SEQUENCE events_position_seq TO trader_writer;
    -- PgStore reads schema_migrations to check that the schema is current.
    GRANT SELECT ON schema_migrations TO trader_writer;
  END IF;
END
$$;
