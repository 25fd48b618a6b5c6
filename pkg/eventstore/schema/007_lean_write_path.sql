-- 007_lean_write_path: the same guarantees for less work per appended event
-- (issue 15; docs/benchmarks.md, "Recorder"). Nothing about what is stored, the
-- hash chain or who may do what changes; what changes is which indexes every
-- append must update, and how cheaply the chain check builds each hash input.
--
-- 1. msg_id stays unique (a redelivered message is stored once), but through a
--    unique index on (length(msg_id), msg_id) instead of one on msg_id. Two
--    msg_ids are equal exactly when that pair is, so the uniqueness is the same;
--    the order differs: a stream's msg_ids "<stream>:<sequence>" grow in length,
--    then bytewise, as the sequence grows, so new entries go to the right edge of
--    the index as the log grows instead of all over it ("EVENTS:10" sorts before
--    "EVENTS:9" as text). An insertion at a random place in the index cost about
--    as much as the rest of the row. A lookup of a msg_id must now give both
--    columns to use the index: `length(msg_id) = length($1) AND msg_id = $1`
--    (PgStore::position_of, events_append_state below). A duplicate still fails
--    with unique_violation (23505).
--
-- 2. Indexes that no read needs at write time go:
--      events_subject_position_idx   (subject, position)
--      events_ts_event_idx           (ts_event)
--      events_session_type_idx       (session_id, type)
--      events_session_ts_event_idx   (session_id, ts_event)
--    No code reads by subject or ts_event except within a session (traderctl's
--    --subject/--from/--to need --session), which the session's index
--    (session_id, position) serves, reading only that session's events; so do
--    the counts by type of one session. EventQuery still filters on all of them,
--    by walking the session's index or the primary key.
--
-- 3. (type, position) stays for every type but market data. Reads by type look
--    for rare events in the whole log (the session.started of every session, the
--    newest risk.policy); market data (quote, trade, bar) is the bulk of the log,
--    and a read of a frequent type finds its events fast by walking the primary
--    key. The partial index serves any query whose type is a constant other than
--    those three (PostgreSQL proves `type = 'x'` implies the index's predicate;
--    PgStore quotes values into its reads). So a quote now updates three indexes
--    (position, msg_id, the session's) instead of nine.
--
-- 4. events_hash_input builds the same bytes with one concat() instead of a
--    chain of || and coalesce() (each of which copied the text built so far):
--    about half its cost in the chain check (004) and in verify(). The hash of
--    every stored event is unchanged, so events chained before this migration
--    verify as before. NULL arguments give what they gave before (''), as
--    concat() skips NULLs.

ALTER TABLE events DROP CONSTRAINT events_msg_id_key;
CREATE UNIQUE INDEX events_msg_id_key ON events (length(msg_id), msg_id);

DROP INDEX events_subject_position_idx, events_ts_event_idx, events_session_type_idx, events_session_ts_event_idx,
           events_type_position_idx;
CREATE INDEX events_type_position_idx ON events (type, position) WHERE type NOT IN ('quote', 'trade', 'bar');

CREATE OR REPLACE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                             p_client_order_id text, p_ts_event bigint, p_payload jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT convert_to(
    concat(p_position, '|', length(p_msg_id), ':', p_msg_id, '|', length(p_subject), ':', p_subject, '|',
           length(p_type), ':', p_type, '|',
           coalesce(length(p_client_order_id) || ':' || p_client_order_id, '-'), '|',
           coalesce(p_ts_event::text, '-'), '|', p_payload),
    'UTF8')
$$;

-- The same with the session suffix (003), written out whole so that it inlines
-- into one expression.
CREATE OR REPLACE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                             p_client_order_id text, p_ts_event bigint, p_payload jsonb,
                                             p_session_id text)
RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT convert_to(
    concat(p_position, '|', length(p_msg_id), ':', p_msg_id, '|', length(p_subject), ':', p_subject, '|',
           length(p_type), ':', p_type, '|',
           coalesce(length(p_client_order_id) || ':' || p_client_order_id, '-'), '|',
           coalesce(p_ts_event::text, '-'), '|', p_payload,
           CASE WHEN p_session_id IS NOT NULL THEN '|s' || length(p_session_id) || ':' || p_session_id END),
    'UTF8')
$$;

-- 006's events_append_state, same answer for less work:
--   - msg_ids are looked up through the new index, one probe each (a bitmap scan,
--     which PostgreSQL picks for a table it has no statistics of yet, such as a
--     new store, cost several times as much);
--   - the positions come from one nextval() and one setval() instead of one
--     nextval() per event. That reserves a block only under the append lock, so
--     the function takes it itself (PgStore has taken it already: a second take in
--     the same transaction is free). A position drawn from the sequence by anyone
--     who bypasses the lock (only the owner may use the sequence) can at worst
--     collide with the block, and then one of the two inserts fails on the primary
--     key: never a duplicate, a fork or a hole in the chain.
CREATE OR REPLACE FUNCTION events_append_state(p_msg_ids text[])
RETURNS TABLE (kind text, value text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET enable_bitmapscan = off AS $$
DECLARE
  fresh bigint;
  first_position bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(8390879497295065200);
  RETURN QUERY
    SELECT 's'::text, e.msg_id FROM events e
     WHERE (length(e.msg_id), e.msg_id) IN (SELECT length(i.m), i.m FROM unnest(p_msg_ids) AS i(m));
  GET DIAGNOSTICS fresh = ROW_COUNT;
  fresh := coalesce(cardinality(p_msg_ids), 0) - fresh;
  RETURN QUERY SELECT 'h'::text, (SELECT encode(e.hash, 'hex') FROM events e ORDER BY e.position DESC LIMIT 1);
  IF fresh > 0 THEN
    first_position := nextval('events_position_seq');
    IF fresh > 1 THEN
      PERFORM setval('events_position_seq', first_position + fresh - 1);
    END IF;
    RETURN QUERY SELECT 'p'::text, g::text FROM generate_series(first_position, first_position + fresh - 1) AS g;
  END IF;
END;
$$;
