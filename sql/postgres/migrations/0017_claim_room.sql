-- dbosgen schema, version 17 (Postgres): rows inserted already claimed.
--
-- InsertAndClaim inserts the rows its executor can start at once already
-- claimed (PENDING under it) when their queue is free: no limit, not
-- paused, nothing ready waiting (the CLAIM state of InsertWorkflows). The
-- claim that follows in the same transaction (ClaimUnlimited) takes what
-- else is ready, up to the room the insert left: claim_room is max_rows
-- less the rows among started_ids that this transaction wrote PENDING
-- under executor_id (the ones the insert started: none when the queue was
-- not free, nor an existing row of the same ID; none for a claim that
-- names no rows, which reads nothing). A function because a LIMIT
-- computed by a subquery is beyond what the query compiler (sqlc) parses.
-- STABLE: it reads with the snapshot of the statement that calls it,
-- which sees the insert before it in the transaction.
CREATE FUNCTION dbos.claim_room(max_rows BIGINT, started_ids TEXT[], executor_id TEXT) RETURNS BIGINT
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN coalesce(cardinality(started_ids), 0) = 0 THEN max_rows
        ELSE greatest(max_rows - (
            SELECT count(*) FROM dbos.workflows s
            WHERE s.workflow_id = ANY(started_ids)
              AND s.state = 'PENDING' AND s.executor_id = claim_room.executor_id
              AND s.xmin = pg_current_xact_id()::xid), 0) END
    $$;
