-- dbosgen schema, version 19 (Postgres): claims that give way.
--
-- When another process enqueues, its notification wakes every worker of
-- the queue at once, and they all claim: one of them takes the new rows,
-- the others skip them (SKIP LOCKED) and find nothing. With three worker
-- processes and a producer process on one queue, 2,764 claims took 10,000
-- tasks, two fifths of the statement time of the fleet (pg_stat_statements).
-- A claim woken that way is polite: it takes the queue's polite-claim lock
-- with pg_try_advisory_xact_lock and, when another polite claim holds it,
-- claims nothing and says so (dbos.claim_gave_way, read by QueueBacklog).
-- It loses no task: the claim holding the lock either began after the
-- rows committed (then it sees them) or belongs to a worker that heard the
-- same notification and claims again once it ends; and a polite claim that
-- fills its batch, so more may be ready, tells the other processes again
-- (see dispatch.Dispatcher.claim).
CREATE OR REPLACE FUNCTION dbos.claim_turn(queue_name TEXT, polite BOOLEAN) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    IF NOT polite OR pg_try_advisory_xact_lock(hashtextextended('dbos.polite:' || queue_name, 0)) THEN
        RETURN true;
    END IF;
    PERFORM set_config('dbos.claim_gave_way', 'on', true);
    RETURN false;
END
$$;
