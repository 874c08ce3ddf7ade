-- dbosgen schema, version 18 (Postgres): claim_room in PL/pgSQL.
--
-- As a SQL function (version 17) claim_room could not be inlined into the
-- LIMIT of ClaimUnlimited, so Postgres planned its body again on every
-- claim, also the claims that name no rows and read nothing: 0.17 ms of
-- planning per claim when three worker processes claimed one queue
-- (pg_stat_statements, track_planning on: 471 ms over 2,842 claims), a
-- fifth of the claims' time. PL/pgSQL returns max_rows at once when no
-- rows are named, and keeps the plan of its count for the session. Still
-- STABLE: its query reads with the snapshot of the statement that calls
-- it, which sees the insert before it in the transaction.
CREATE OR REPLACE FUNCTION dbos.claim_room(max_rows BIGINT, started_ids TEXT[], executor_id TEXT) RETURNS BIGINT
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    started BIGINT;
BEGIN
    IF coalesce(cardinality(started_ids), 0) = 0 THEN
        RETURN max_rows;
    END IF;
    SELECT count(*) INTO started FROM dbos.workflows s
    WHERE s.workflow_id = ANY(started_ids)
      AND s.state = 'PENDING' AND s.executor_id = claim_room.executor_id
      AND s.xmin = pg_current_xact_id()::xid;
    RETURN greatest(max_rows - started, 0);
END
$$;
