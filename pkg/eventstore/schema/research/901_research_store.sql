-- 901_research_store: this database is a research store (docs/architecture.md,
-- "Two stores"). Applied by eventstore::migrate_research (`traderctl migrate`)
-- after the common migrations 001..0NN, to the research database only; its row in
-- schema_migrations (version 901) is what marks a database as a research store.
--
-- Backtests, replays and imported sessions are research: they are written here,
-- never into the live append-only audit log. The schema is the live store's (the
-- same workers and tools read and write both), with one difference: a whole
-- session can be removed (`traderctl sessions rm ID`), by research_remove_session
-- below and by nothing else.
--
--   - events stay append-only for every other change: an UPDATE, a TRUNCATE or a
--     DELETE outside research_remove_session is refused as in the live store;
--   - research_remove_session(id) takes the append lock (so no append interleaves),
--     deletes the session's events and their quarantine rows, keeps the summaries
--     (event_sessions, event_streams, event_totals) true, records the removal in
--     research_removals, and returns how many events it removed (0: no such session);
--   - appends stay hash-chained and checked per statement (004), so every append is
--     still whole and in order; but a removed session leaves a gap in the chain, so
--     `traderctl verify` of a research store reports a broken link after a removal.
--     That is why audit data never lives here.
--
-- The writer (trader_writer: the sandbox's recorder, `traderctl backtest
-- --record`, `traderctl import`) may call research_remove_session; nobody gets
-- DELETE on the tables.

DO $$
BEGIN
  IF EXISTS (SELECT FROM events) THEN
    RAISE EXCEPTION 'database % already holds events: a research store is made from a new, empty database '
                    '(TRADER_RESEARCH_DB names it; pkg/eventstore/roles.sql creates it)', current_database()
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
END
$$;

-- Every removal: which session, how many events, the positions it spanned, who and when.
CREATE TABLE research_removals (
  session_id     text NOT NULL,
  events         bigint NOT NULL,
  first_position bigint,
  last_position  bigint,
  removed_by     text NOT NULL,      -- session_user: the login role that asked
  removed_at     timestamptz NOT NULL DEFAULT now()
);

-- The append-only guard of a research store: as events_append_only, except for a
-- DELETE of the one session research_remove_session is removing in this
-- transaction (the transaction-local setting trader.removing_session, which only
-- that function sets; a role would need DELETE on the table to use it, and no
-- service role has it).
CREATE FUNCTION research_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  removing text := current_setting('trader.removing_session', true);
BEGIN
  -- (Nested IFs: PL/pgSQL would resolve OLD.session_id even where the AND is false.)
  IF TG_OP = 'DELETE' AND coalesce(removing, '') <> '' THEN
    IF TG_TABLE_NAME = 'events' THEN
      IF OLD.session_id = removing THEN
        RETURN OLD;
      END IF;
    ELSIF EXISTS (SELECT FROM events e WHERE e.msg_id = OLD.msg_id AND e.session_id = removing) THEN
      RETURN OLD;  -- events_quarantine: the quarantine row of one of the session's events
    END IF;
  END IF;
  RAISE EXCEPTION '% is append-only (% refused; a research session is removed whole, with traderctl sessions rm)',
                  TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER events_no_update_delete ON events;
CREATE TRIGGER events_no_update_delete
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION research_append_only();

DROP TRIGGER events_quarantine_no_update_delete ON events_quarantine;
CREATE TRIGGER events_quarantine_no_update_delete
  BEFORE UPDATE OR DELETE ON events_quarantine
  FOR EACH ROW EXECUTE FUNCTION research_append_only();

CREATE FUNCTION research_remove_session(p_session_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  removed bigint;
  first_pos bigint;
  last_pos bigint;
  touched text[];
BEGIN
  IF coalesce(p_session_id, '') = '' THEN
    RAISE EXCEPTION 'research_remove_session: session_id is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'research_remove_session: run it in a READ COMMITTED transaction (this one is %)',
                    current_setting('transaction_isolation')
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  -- The append lock (004): no append commits between what this reads and deletes.
  PERFORM pg_advisory_xact_lock(8390879497295065200);
  SELECT count(*), min(position), max(position),
         array_agg(DISTINCT split_part(msg_id, ':', 1)) FILTER (WHERE strpos(msg_id, ':') > 0)
    INTO removed, first_pos, last_pos, touched
    FROM events WHERE session_id = p_session_id;
  IF removed = 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('trader.removing_session', p_session_id, true);
  DELETE FROM events_quarantine q USING events e WHERE e.msg_id = q.msg_id AND e.session_id = p_session_id;
  DELETE FROM events WHERE session_id = p_session_id;
  PERFORM set_config('trader.removing_session', '', true);
  -- The summaries (005, 006), as if the session had never been appended.
  DELETE FROM event_sessions WHERE session_id = p_session_id;
  UPDATE event_totals SET events = events - removed;
  IF touched IS NOT NULL THEN
    -- A stream's newest event may have been the session's: find the newest left (one
    -- scan of the events; sandbox streams are one session each, so usually none is left).
    DELETE FROM event_streams WHERE stream = ANY (touched);
    INSERT INTO event_streams (stream, last_position)
    SELECT split_part(msg_id, ':', 1), max(position)
      FROM events WHERE strpos(msg_id, ':') > 0 AND split_part(msg_id, ':', 1) = ANY (touched)
     GROUP BY 1;
  END IF;
  INSERT INTO research_removals (session_id, events, first_position, last_position, removed_by)
  VALUES (p_session_id, removed, first_pos, last_pos, session_user);
  RETURN removed;
END;
$$;

REVOKE ALL ON research_removals FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION research_append_only(), research_remove_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION research_remove_session(text) TO trader_writer;
GRANT SELECT ON research_removals TO trader_reader;
