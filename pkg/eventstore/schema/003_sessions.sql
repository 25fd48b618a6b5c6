-- 003_sessions: every event belongs to at most one session (a run of the stack,
-- a replay, a backtest), named by session_id. The recorder assigns it in bus
-- order: a session.started event on session.lifecycle opens a session, and every
-- event after it belongs to that session up to and including its session.ended.
-- Events recorded outside any session (before this migration, or with no ops
-- worker running) have session_id NULL.

ALTER TABLE events ADD COLUMN session_id text;

-- Reads by session (in position order) and counts by type within a session.
CREATE INDEX events_session_position_idx ON events (session_id, position) WHERE session_id IS NOT NULL;
CREATE INDEX events_session_type_idx ON events (session_id, type) WHERE session_id IS NOT NULL;
-- Reads by time range within a session (ts_event is the event's own time, ns UTC).
CREATE INDEX events_session_ts_event_idx ON events (session_id, ts_event) WHERE session_id IS NOT NULL;

-- The hash input now covers session_id too. An event without a session hashes
-- exactly as before (so events chained by 002 still verify); one with a session
-- appends "|s<length>:<session_id>".
CREATE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                  p_client_order_id text, p_ts_event bigint, p_payload jsonb,
                                  p_session_id text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT events_hash_input(p_position, p_msg_id, p_subject, p_type, p_client_order_id, p_ts_event, p_payload)
         || CASE WHEN p_session_id IS NULL THEN '\x'::bytea
                 ELSE convert_to(format('|s%s:%s', length(p_session_id), p_session_id), 'UTF8') END
$$;

CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(8390879497295065200);
  SELECT hash INTO last FROM events ORDER BY position DESC LIMIT 1;
  NEW.prev_hash := coalesce(last, '\x'::bytea);
  NEW.hash := sha256(NEW.prev_hash || events_hash_input(NEW.position, NEW.msg_id, NEW.subject, NEW.type,
                                                        NEW.client_order_id, NEW.ts_event, NEW.payload,
                                                        NEW.session_id));
  RETURN NEW;
END;
$$;
