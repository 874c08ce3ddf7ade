-- dbosgen schema, version 16 (Postgres): the claim barrier.
--
-- Claimers of a limited queue serialize on the queue's claim lock (the
-- advisory key 'dbos.claim:<queue>', taken exclusively by LockQueue and
-- held to the end of the claim's transaction). Enqueues never take it:
-- they hold the queue's enqueue lock ('dbos.queue:<queue>') in shared mode
-- until they commit (see InsertWorkflow), and a claim only passes that
-- lock once, here, without keeping it.
--
-- claim_barrier waits until every enqueue of the queue that has drawn its
-- seq has committed or rolled back (it takes the enqueue lock exclusively,
-- in a subtransaction that it then rolls back, which releases the lock at
-- once), and reads the last seq handed out meanwhile: every row with a seq
-- up to it is committed or gone, so a claim that takes only those rows
-- never skips a lower seq that a later commit would fill. Enqueues that
-- start after the barrier draw higher seqs and do not wait for the claim's
-- commit; the next claim takes them. The bound is left in the transaction's
-- setting dbos.claim_seq_bound for the claim statements, and returned.
CREATE FUNCTION dbos.claim_barrier(queue_name TEXT) RETURNS BIGINT
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    bound BIGINT;
BEGIN
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('dbos.queue:' || queue_name, 0));
        SELECT s.last_value INTO bound FROM dbos.workflows_seq_seq s;
        -- Roll the subtransaction back: that releases the lock it took.
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'dbos.claim_barrier: release';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM set_config('dbos.claim_seq_bound', bound::text, true);
    RETURN bound;
END
$$;
