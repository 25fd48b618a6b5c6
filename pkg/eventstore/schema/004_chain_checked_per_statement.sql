-- 004_chain_checked_per_statement: the writer chains its events; the database
-- checks the whole chain of each INSERT or COPY statement at once and rejects
-- it unless it is right.
--
-- Until now a row trigger chained every event as it was inserted: for each row
-- two queries (the append lock, the newest hash) and a hash, which kept appends
-- at a fraction of what the table can take, and which made a COPY as slow as
-- single-row inserts (docs/benchmarks.md, "Recorder"). The formula is unchanged
-- (002_hash_chain, 003_sessions):
--
--   hash(e) = sha256(prev_hash(e) || events_hash_input(e)),  prev_hash(first) = ''
--
-- What changes is who computes it. A writer supplies position, prev_hash and
-- hash (PgStore computes them under the append lock, see PgStore::append), and
-- the trigger events_chain, now once per statement, checks every row the
-- statement inserted before it can commit:
--   1. it takes the append lock (pg_advisory_xact_lock 8390879497295065200), so
--      writers commit one at a time and what it reads below stays the truth;
--   2. the new events must be the newest: no other event at or after the first
--      new position (a writer can neither insert into the middle of the log nor
--      interleave with another writer's uncommitted positions);
--   3. in position order, each new event's prev_hash must be the hash of the
--      event before it ('' before the first event), and
--   4. each hash must equal sha256(prev_hash || events_hash_input(...)).
-- A statement that fails any of these is rejected as a whole with SQLSTATE 23000
-- (integrity_constraint_violation). An INSERT that does not supply the hashes
-- is rejected by their NOT NULL constraints. So an INSERT from any client either
-- continues the chain correctly or is refused: it can never fork the chain.
-- verify() (`traderctl verify`) checks the stored chain exactly as before.
--
-- The check reads only committed events and those of its own transaction, so
-- it needs READ COMMITTED isolation (in REPEATABLE READ or SERIALIZABLE its
-- snapshot could miss an event committed after it began): it refuses the others.
--
-- A writer outside PgStore can chain in SQL, e.g. for one event:
--   BEGIN;  -- READ COMMITTED
--   SELECT pg_advisory_xact_lock(8390879497295065200);
--   INSERT INTO events (position, msg_id, subject, type, payload, prev_hash, hash)
--   OVERRIDING SYSTEM VALUE
--   SELECT p, 'IMPORT:1', 'trading.orders', 'order.submit', j, h,
--          sha256(h || events_hash_input(p, 'IMPORT:1', 'trading.orders', 'order.submit', NULL, NULL, j, NULL))
--     FROM (SELECT nextval('events_position_seq') AS p, '{"type": "order.submit"}'::jsonb AS j,
--                  coalesce((SELECT hash FROM events ORDER BY position DESC LIMIT 1), '\x'::bytea) AS h) x;
--   COMMIT;

-- The hash input, with the same bytes as before but built with || instead of
-- format(), and declared STABLE (convert_to is STABLE) so that PostgreSQL
-- inlines it into the queries of the trigger below and of verify() instead of
-- running it as a separate SQL function per row. NULL arguments give what
-- format() gave them ('').
CREATE OR REPLACE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                             p_client_order_id text, p_ts_event bigint, p_payload jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT convert_to(
    coalesce(p_position::text, '') || '|' ||
    coalesce(length(p_msg_id)::text, '') || ':' || coalesce(p_msg_id, '') || '|' ||
    coalesce(length(p_subject)::text, '') || ':' || coalesce(p_subject, '') || '|' ||
    coalesce(length(p_type)::text, '') || ':' || coalesce(p_type, '') || '|' ||
    coalesce(length(p_client_order_id)::text || ':' || p_client_order_id, '-') || '|' ||
    coalesce(p_ts_event::text, '-') || '|' ||
    coalesce(p_payload::text, ''),
    'UTF8')
$$;

CREATE OR REPLACE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                             p_client_order_id text, p_ts_event bigint, p_payload jsonb,
                                             p_session_id text)
RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT events_hash_input(p_position, p_msg_id, p_subject, p_type, p_client_order_id, p_ts_event, p_payload)
         || CASE WHEN p_session_id IS NULL THEN '\x'::bytea
                 ELSE convert_to('|s' || length(p_session_id)::text || ':' || p_session_id, 'UTF8') END
$$;

-- The row trigger goes; the check per statement takes its name.
DROP TRIGGER events_chain ON events;

CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  first_position bigint;
  added bigint;
  head bytea;
  bad record;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'events: append in a READ COMMITTED transaction (this one is %)',
                    current_setting('transaction_isolation')
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  PERFORM pg_advisory_xact_lock(8390879497295065200);
  SELECT min(position), count(*) INTO first_position, added FROM new_events;
  IF added = 0 THEN
    RETURN NULL;
  END IF;
  IF (SELECT count(*) FROM events WHERE position >= first_position) <> added THEN
    RAISE EXCEPTION 'events: new events must follow every stored event (another event is at or after position %)',
                    first_position
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  head := coalesce((SELECT hash FROM events WHERE position < first_position ORDER BY position DESC LIMIT 1),
                   '\x'::bytea);
  SELECT n.position, n.link_ok INTO bad
    FROM (SELECT position,
                 prev_hash = coalesce(lag(hash) OVER (ORDER BY position), head) AS link_ok,
                 hash = sha256(prev_hash || events_hash_input(position, msg_id, subject, type, client_order_id,
                                                              ts_event, payload, session_id)) AS self_ok
            FROM new_events) n
   WHERE NOT (n.link_ok AND n.self_ok)
   ORDER BY n.position
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'events: the new event at position % %', bad.position,
                    CASE WHEN bad.link_ok THEN 'does not match its hash'
                         ELSE 'does not link to the event before it (prev_hash)' END
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_chain
  AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION events_chain();
