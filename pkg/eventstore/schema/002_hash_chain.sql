-- 002_hash_chain: every event carries a SHA-256 hash chained to the previous one,
-- so a change, deletion or reordering made behind the store's back (say, by a
-- superuser who disables the append-only triggers) is detected by
-- `traderctl verify` (eventstore::PgStore::verify).
--
--   hash(e) = sha256(prev_hash(e) || events_hash_input(e)),  prev_hash(first) = ''
--
-- The input covers every stored column but recorded_at, each length-prefixed so
-- that no two different events share an input. The chain proves the store is
-- consistent with itself; truncating the newest events, or rewriting the whole
-- chain, is only caught against a head hash kept elsewhere (verify prints it).

CREATE FUNCTION events_hash_input(p_position bigint, p_msg_id text, p_subject text, p_type text,
                                  p_client_order_id text, p_ts_event bigint, p_payload jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT convert_to(
    format('%s|%s:%s|%s:%s|%s:%s|%s|%s|%s',
           p_position,
           length(p_msg_id), p_msg_id,
           length(p_subject), p_subject,
           length(p_type), p_type,
           coalesce(length(p_client_order_id) || ':' || p_client_order_id, '-'),
           coalesce(p_ts_event::text, '-'),
           p_payload::text),
    'UTF8')
$$;

ALTER TABLE events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- Chain the events already stored (the append-only trigger is off for this alone).
ALTER TABLE events DISABLE TRIGGER events_no_update_delete;
DO $$
DECLARE
  r record;
  last bytea := '\x'::bytea;
BEGIN
  FOR r IN SELECT * FROM events ORDER BY position LOOP
    UPDATE events
       SET prev_hash = last,
           hash = sha256(last || events_hash_input(r.position, r.msg_id, r.subject, r.type,
                                                   r.client_order_id, r.ts_event, r.payload))
     WHERE position = r.position
     RETURNING hash INTO last;
  END LOOP;
END
$$;
ALTER TABLE events ENABLE TRIGGER events_no_update_delete;
ALTER TABLE events ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

-- New events: chained on insert. The trigger takes PgStore's append lock
-- (pg_advisory_xact_lock 0x747264722d617070), so even an INSERT from another
-- client cannot fork the chain. Earlier rows of the same INSERT statement are
-- visible here (PostgreSQL: row-level BEFORE triggers see rows processed before).
CREATE FUNCTION events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(8390879497295065200);
  SELECT hash INTO last FROM events ORDER BY position DESC LIMIT 1;
  NEW.prev_hash := coalesce(last, '\x'::bytea);
  NEW.hash := sha256(NEW.prev_hash || events_hash_input(NEW.position, NEW.msg_id, NEW.subject, NEW.type,
                                                        NEW.client_order_id, NEW.ts_event, NEW.payload));
  RETURN NEW;
END;
$$;

CREATE TRIGGER events_chain
  BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION events_chain();
