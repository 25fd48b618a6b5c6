-- 006_least_privilege: nothing that logs in as a service can change or forge the record.
--
-- Roles (provisioned by a superuser with pkg/eventstore/roles.sql, which also
-- creates the database owned by trader_owner; this migration creates the two
-- group roles itself only if the migrating user may create roles):
--
--   trader_owner   owns the schema: every table, sequence and function. Only
--                  migrations (`traderctl migrate`) connect as it.
--   trader_writer  NOLOGIN group; the recorder logs in as a member of it
--                  (trader_recorder). INSERT on events and events_quarantine,
--                  nothing else: no SELECT, UPDATE, DELETE or TRUNCATE, no
--                  sequence, no summary table. What an append and a recorder's
--                  resume must read is served by three SECURITY DEFINER
--                  functions below, EXECUTE granted to trader_writer alone.
--   trader_reader  NOLOGIN group; traderctl and the workers that rebuild their
--                  state from the store (risk-state, execution) log in as a
--                  member of it (trader_readonly). SELECT only.
--
-- Neither service role owns a table, so neither can ALTER it (e.g. DISABLE
-- TRIGGER) or DROP it; session_replication_role, which would skip triggers, is
-- a superuser setting. The append-only triggers and the chain check therefore
-- bind every service; only the owner and superusers can switch them off, and
-- signed checkpoints outside PostgreSQL (`traderctl verify`) catch what they
-- then do to the newest events or to a re-chained history.
--
-- Triggers: events_chain (004) and events_summarize (005) read and write tables
-- the writer may not touch, so both run as their owner: SECURITY DEFINER with
-- search_path pinned to public, pg_temp (pg_temp last, so no temporary object
-- can shadow a table). A trigger function is not callable directly, and EXECUTE
-- on them is revoked from PUBLIC anyway. This is preferred over granting the
-- writer SELECT on events (which it must not have) or write access to the
-- summaries (which it could then falsify).
--
-- New here:
--   event_totals       one row: the number of stored events, kept by
--                      events_summarize in the appending statement (the count a
--                      signed checkpoint carries, without counting the log).
--   events_quarantine  the raw bytes and PostgreSQL's reason for each event the
--                      store refused; the event itself is stored in `events` as
--                      a placeholder of type "quarantined" with the same msg_id
--                      (EventStore::append_or_quarantine). Append-only too.

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['trader_writer', 'trader_reader'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
        BEGIN
          EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object THEN
          NULL;  -- created concurrently by a migrator of another database
        END;
      ELSE
        RAISE EXCEPTION 'role % does not exist: provision the roles first (pkg/eventstore/roles.sql)', r
          USING ERRCODE = 'undefined_object';
      END IF;
    END IF;
  END LOOP;
END
$$;

-- The guard names the table it protects (events, events_quarantine).
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TABLE event_totals (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  events    bigint NOT NULL
);
INSERT INTO event_totals (events) SELECT count(*) FROM events;

CREATE TABLE events_quarantine (
  msg_id      text PRIMARY KEY,        -- the placeholder in `events` has the same msg_id
  subject     text NOT NULL,           -- as the placeholder's (the original, when storable)
  reason      text NOT NULL,           -- PostgreSQL's error text (or the store's own refusal)
  raw         bytea NOT NULL,          -- the payload as received, whole
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER events_quarantine_no_update_delete
  BEFORE UPDATE OR DELETE ON events_quarantine
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_quarantine_no_truncate
  BEFORE TRUNCATE ON events_quarantine
  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- The chain check reads `events`: run it as the owner.
ALTER FUNCTION events_chain() SECURITY DEFINER SET search_path = public, pg_temp;

-- 005's summaries, plus the total.
CREATE OR REPLACE FUNCTION events_summarize() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- least() and greatest() skip NULLs, as min() and max() do.
  INSERT INTO event_sessions AS s (session_id, first_position, last_position, events, first_ts_event, last_ts_event)
  SELECT session_id, min(position), max(position), count(*), min(ts_event), max(ts_event)
    FROM new_events WHERE session_id IS NOT NULL GROUP BY session_id
  ON CONFLICT (session_id) DO UPDATE
    SET first_position = least(s.first_position, excluded.first_position),
        last_position = greatest(s.last_position, excluded.last_position),
        events = s.events + excluded.events,
        first_ts_event = least(s.first_ts_event, excluded.first_ts_event),
        last_ts_event = greatest(s.last_ts_event, excluded.last_ts_event);
  INSERT INTO event_streams AS s (stream, last_position)
  SELECT split_part(msg_id, ':', 1), max(position)
    FROM new_events WHERE strpos(msg_id, ':') > 0 GROUP BY 1
  ON CONFLICT (stream) DO UPDATE
    SET last_position = greatest(s.last_position, excluded.last_position);
  UPDATE event_totals SET events = events + (SELECT count(*) FROM new_events);
  RETURN NULL;
END;
$$;

-- PgStore::append, under the append lock (the caller takes it first, in a READ
-- COMMITTED transaction): which of `p_msg_ids` are stored already ('s', msg_id),
-- the newest hash ('h', hex, NULL for an empty log) and one new position for each
-- msg_id not stored ('p', ascending in the order returned). Positions come from
-- the owner's sequence, so the writer needs no right on it.
CREATE FUNCTION events_append_state(p_msg_ids text[])
RETURNS TABLE (kind text, value text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH stored AS MATERIALIZED (SELECT e.msg_id FROM events e WHERE e.msg_id = ANY (p_msg_ids))
  SELECT 's', s.msg_id FROM stored s
  UNION ALL SELECT 'h', (SELECT encode(e.hash, 'hex') FROM events e ORDER BY e.position DESC LIMIT 1)
  UNION ALL SELECT 'p', nextval('events_position_seq')::text
    FROM generate_series(1, coalesce(cardinality(p_msg_ids), 0) - (SELECT count(*) FROM stored))
$$;

-- PgStore::last_event / last_msg_id for a role without SELECT on events (the
-- recorder resuming its stream): the newest event whose msg_id starts with
-- p_prefix, through event_streams for a prefix "<stream>:" (no other ':'), else
-- by walking the primary key back. Columns as PgStore reads them.
CREATE FUNCTION events_newest(p_prefix text)
RETURNS TABLE ("position" bigint, msg_id text, subject text, type text, client_order_id text, ts_event bigint,
               payload text, session_id text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
  IF p_prefix <> '' AND strpos(p_prefix, ':') = length(p_prefix) THEN
    RETURN QUERY
      SELECT e.position, e.msg_id, e.subject, e.type, e.client_order_id, e.ts_event, e.payload::text, e.session_id
        FROM events e
       WHERE e.position = (SELECT s.last_position FROM event_streams s WHERE s.stream = left(p_prefix, -1));
  ELSE
    RETURN QUERY
      SELECT e.position, e.msg_id, e.subject, e.type, e.client_order_id, e.ts_event, e.payload::text, e.session_id
        FROM events e
       WHERE starts_with(e.msg_id, p_prefix)
       ORDER BY e.position DESC
       LIMIT 1;
  END IF;
END;
$$;

-- The head a signed checkpoint covers (PgStore::head): the newest event's
-- position and hash (hex), and the number of stored events. One row; position
-- and hash are NULL for an empty log.
CREATE FUNCTION events_head()
RETURNS TABLE (head_position bigint, head_hash text, events bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT h.position, encode(h.hash, 'hex'), t.events
    FROM event_totals t
    LEFT JOIN LATERAL (SELECT e.position, e.hash FROM events e ORDER BY e.position DESC LIMIT 1) h ON true
$$;

-- Privileges. PUBLIC gets nothing; EXECUTE on functions is PUBLIC's by default.
REVOKE ALL ON events, events_quarantine, event_sessions, event_streams, event_totals, schema_migrations FROM PUBLIC;
REVOKE ALL ON SEQUENCE events_position_seq FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION events_append_state(text[]), events_newest(text), events_head(), events_chain(),
                           events_summarize(), events_append_only() FROM PUBLIC;

REVOKE ALL ON events, event_sessions, event_streams FROM trader_writer;  -- 001 and 005 granted SELECT
REVOKE ALL ON SEQUENCE events_position_seq FROM trader_writer;
GRANT INSERT ON events, events_quarantine TO trader_writer;
GRANT SELECT ON schema_migrations TO trader_writer;                      -- PgStore checks the schema version
GRANT EXECUTE ON FUNCTION events_append_state(text[]), events_newest(text), events_head() TO trader_writer;

GRANT SELECT ON events, events_quarantine, event_sessions, event_streams, event_totals, schema_migrations
  TO trader_reader;

-- No new objects in the public schema for anyone but its owner (PostgreSQL 15's
-- default already; explicit for a database created by an older one).
DO $$
BEGIN
  IF pg_has_role(current_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'USAGE') THEN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  END IF;
END
$$;
