-- 005_session_and_stream_summaries: two reads without reading every event.
--
-- At tens of millions of events (docs/benchmarks.md, "Reads at scale"):
--   - sessions() grouped every event by session_id: seconds, growing with the log;
--   - last_msg_id(prefix) and last_event(prefix) for a prefix "<stream>:" (a
--     recorder resuming its stream, a sandbox waiting for its recorder) walked
--     the primary key backwards past every event recorded since that stream's
--     newest one: past the backtests run since the last live session, or past
--     the whole log for a stream with no event yet, unless the planner found the
--     msg_id index usable for the prefix (only in a database with the C collation).
-- Both now read a summary that the same statement that inserts the events
-- keeps up to date, so they cost a few index lookups whatever the log's size:
--
--   event_sessions: per session_id, what sessions() returns (first and last
--     position, number of events, first and last ts_event);
--   event_streams: per stream, the position of the newest event whose msg_id
--     starts with "<stream>:" (stream = msg_id up to its first ':': "EVENTS",
--     a sandbox's "SBX...", "import").
--
-- They are derived data: the events are the record, the hash chain does not
-- cover the summaries, and each can be rebuilt from `events` with the two
-- INSERT ... SELECT below. A trigger per statement (after events_chain, which
-- fires first by name and rejects a bad chain) adds each statement's new
-- events to them; a rolled-back append leaves them as they were. Appends
-- already run one at a time under the append lock, and ON CONFLICT makes the
-- upserts safe even without it. The trigger function runs with its owner's
-- rights (SECURITY DEFINER), so a writer (trader_writer) needs no right to
-- change the summaries; it may only read them.

CREATE TABLE event_sessions (
  session_id     text PRIMARY KEY,
  first_position bigint NOT NULL,
  last_position  bigint NOT NULL,
  events         bigint NOT NULL,
  first_ts_event bigint,          -- min(ts_event) of the session's events (null if none has one)
  last_ts_event  bigint           -- max(ts_event)
);

CREATE TABLE event_streams (
  stream        text PRIMARY KEY,  -- msg_id up to its first ':'
  last_position bigint NOT NULL    -- newest event whose msg_id starts with stream || ':'
);

INSERT INTO event_sessions (session_id, first_position, last_position, events, first_ts_event, last_ts_event)
SELECT session_id, min(position), max(position), count(*), min(ts_event), max(ts_event)
  FROM events WHERE session_id IS NOT NULL GROUP BY session_id;

INSERT INTO event_streams (stream, last_position)
SELECT split_part(msg_id, ':', 1), max(position)
  FROM events WHERE strpos(msg_id, ':') > 0 GROUP BY 1;

CREATE FUNCTION events_summarize() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_summarize
  AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION events_summarize();

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'trader_writer') THEN
    GRANT SELECT ON event_sessions, event_streams TO trader_writer;
  END IF;
END
$$;
