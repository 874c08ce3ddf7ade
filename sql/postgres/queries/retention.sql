-- Deleting finished workflows: the retention sweeps (DeleteExpired) and
-- DeleteWorkflows (ListForDelete, then DeleteFinished). Both delete, with their steps (and their messages and events), only
-- workflows in a terminal state whose parent, if it still exists, is in a
-- terminal state too (a running parent may still read a child's result),
-- each row locked first (FOR UPDATE SKIP LOCKED: a row another transaction
-- holds is left for the next time) and rechecked under the lock. Neither
-- takes a queue's lock: claims never wait for them. Each is one statement,
-- one short transaction, over at most max_rows rows.

-- name: TryLockSweeper :one
-- TryLockSweeper takes, without waiting, the session-level advisory lock
-- that elects the one process sweeping at a time; false when another
-- session holds it. UnlockSweeper releases it (so does the session's end).
SELECT pg_try_advisory_lock(hashtextextended('dbos.retention', 0))::boolean AS locked;

-- name: UnlockSweeper :one
SELECT pg_advisory_unlock(hashtextextended('dbos.retention', 0))::boolean AS unlocked;

-- name: SweepPlanning :batchexec
-- SweepPlanning makes DeleteExpired, the next statement of its pipeline
-- (one implicit transaction), plan without bitmap scans (for this
-- transaction only; the caller passes 'off'): a bitmap scan of
-- workflows_completed_idx reads every expired row, in no order, to sort
-- them and keep max_rows, and the planner picks it whenever its statistics
-- make the expired rows look few (a table never analyzed); the index read
-- in order stops after max_rows.
SELECT set_config('enable_bitmapscan', @enable_bitmapscan::text, true);

-- name: DeleteExpired :batchone
-- DeleteExpired examines up to max_rows workflows that finished before the
-- database clock minus retention_ms, in order of (completed_ms, seq) after
-- the cursor (after_completed_ms, after_seq), and deletes those it may. It
-- returns how many it examined (fewer than max_rows: the sweep is done),
-- the last one's key (the next batch's cursor; 0, 0 when none), and how
-- many it deleted.
WITH examined AS MATERIALIZED (
    SELECT e.workflow_id, e.completed_ms, e.seq
    FROM dbos.workflows e
    WHERE e.completed_ms IS NOT NULL
      -- The clock as an InitPlan, read once: both bounds bound the index
      -- scan (a CTE's would be a join filter, and the scan would go on
      -- through every finished row not yet expired).
      AND e.completed_ms < (SELECT dbos.now_ms()) - @retention_ms::bigint
      AND (e.completed_ms, e.seq) > (@after_completed_ms::bigint, @after_seq::bigint)
    ORDER BY e.completed_ms, e.seq
    LIMIT @max_rows::bigint
),
doomed AS MATERIALIZED (
    SELECT w.workflow_id
    FROM dbos.workflows w, examined
    WHERE w.workflow_id = examined.workflow_id
      -- Unchanged since examined (rechecked under the row lock). IS NOT
      -- DISTINCT FROM keeps the planner on the primary key: an = would let
      -- it join through workflows_completed_idx, reading every finished row.
      AND w.completed_ms IS NOT DISTINCT FROM examined.completed_ms
      AND w.state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
      AND NOT EXISTS (
          SELECT 1 FROM dbos.workflows p
          WHERE p.workflow_id = w.parent_id
            AND p.state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
      )
    FOR UPDATE OF w SKIP LOCKED
),
steps_deleted AS (
    DELETE FROM dbos.steps s USING doomed WHERE s.workflow_id = doomed.workflow_id
),
messages_deleted AS (
    DELETE FROM dbos.messages m USING doomed WHERE m.destination_id = doomed.workflow_id
),
events_deleted AS (
    DELETE FROM dbos.events v USING doomed WHERE v.workflow_id = doomed.workflow_id
),
deleted AS (
    DELETE FROM dbos.workflows d USING doomed WHERE d.workflow_id = doomed.workflow_id
    RETURNING d.workflow_id
),
last AS (
    SELECT examined.completed_ms, examined.seq FROM examined
    ORDER BY examined.completed_ms DESC, examined.seq DESC
    LIMIT 1
)
SELECT
    (SELECT count(*) FROM examined)::bigint AS examined,
    (SELECT coalesce(max(last.completed_ms), 0) FROM last)::bigint AS last_completed_ms,
    (SELECT coalesce(max(last.seq), 0) FROM last)::bigint AS last_seq,
    (SELECT count(*) FROM deleted)::bigint AS deleted;

-- name: ListForDelete :many
-- ListForDelete lists, as ListWorkflows does (the same filters, newest
-- first), up to max_rows workflows with seq below below_seq after skipping
-- skip_rows, each with whether it was in a terminal state (DeleteFinished
-- rechecks). dbos.workflows has no index on seq (one would cost every
-- enqueue, claim and completion an entry), so each call reads all the
-- matches: DeleteWorkflows lists many rows per call.
SELECT
    l.workflow_id,
    l.seq,
    (l.state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER'))::boolean AS finished
FROM dbos.workflows l
WHERE (sqlc.narg(state)::text IS NULL OR l.state = sqlc.narg(state)::text)
  AND (sqlc.narg(queue_name)::text IS NULL OR l.queue_name = sqlc.narg(queue_name)::text)
  AND (sqlc.narg(name)::text IS NULL OR l.name = sqlc.narg(name)::text)
  AND (sqlc.narg(completed_before_ms)::bigint IS NULL OR l.completed_ms < sqlc.narg(completed_before_ms)::bigint)
  AND (sqlc.narg(created_after_ms)::bigint IS NULL OR l.created_ms > sqlc.narg(created_after_ms)::bigint)
  AND l.seq < @below_seq::bigint
ORDER BY l.seq DESC
LIMIT @max_rows::bigint
OFFSET @skip_rows::bigint;

-- name: DeleteFinished :one
-- DeleteFinished deletes those of the workflows ids it may, with their
-- steps, messages and events, and returns how many it deleted.
WITH doomed AS MATERIALIZED (
    SELECT w.workflow_id
    FROM dbos.workflows w
    WHERE w.workflow_id = ANY (@ids::text[])
      AND w.state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
      AND NOT EXISTS (
          SELECT 1 FROM dbos.workflows p
          WHERE p.workflow_id = w.parent_id
            AND p.state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
      )
    FOR UPDATE OF w SKIP LOCKED
),
steps_deleted AS (
    DELETE FROM dbos.steps s USING doomed WHERE s.workflow_id = doomed.workflow_id
),
messages_deleted AS (
    DELETE FROM dbos.messages m USING doomed WHERE m.destination_id = doomed.workflow_id
),
events_deleted AS (
    DELETE FROM dbos.events v USING doomed WHERE v.workflow_id = doomed.workflow_id
),
deleted AS (
    DELETE FROM dbos.workflows d USING doomed WHERE d.workflow_id = doomed.workflow_id
    RETURNING d.workflow_id
)
SELECT count(*)::bigint AS deleted FROM deleted;

-- name: TryLockSweeperTx :one
-- TryLockSweeperTx is TryLockSweeper for a connection behind a transaction
-- pooler (PgBouncer), where a session-level lock would stay on whichever
-- server connection took it: the transaction-level lock, held while one
-- batch of the sweep runs in the same transaction.
SELECT pg_try_advisory_xact_lock(hashtextextended('dbos.retention', 0))::boolean AS locked;
