-- Deleting finished workflows: the retention sweeps (ExpiredCandidates) and
-- DeleteWorkflows (ListedCandidates), each batch in one IMMEDIATE
-- transaction: the candidates, then DeleteStepsOf and DeleteFinished of
-- those marked deletable: in a terminal state, and with no parent or a
-- parent in a terminal state too (a running parent may still read a
-- child's result). See the Postgres queries of the same purpose.

-- name: AcquireSweeper :execrows
-- AcquireSweeper makes executor_id the sweeper for lease_ms (see migration
-- 0009) unless another executor holds the role and its lease has not
-- expired: 1 row when it did, 0 when not.
INSERT INTO retention_sweeper (id, executor_id, expires_ms)
VALUES (
    1, CAST(@executor_id AS TEXT),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) + CAST(@lease_ms AS INTEGER)
)
ON CONFLICT (id) DO UPDATE
SET executor_id = excluded.executor_id,
    expires_ms = excluded.expires_ms
WHERE retention_sweeper.executor_id = excluded.executor_id
   OR retention_sweeper.expires_ms <= CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER);

-- name: RenewSweeper :execrows
-- RenewSweeper extends executor_id's lease on the sweeper role: 0 rows when
-- it lost the role (its lease expired and another executor took it).
UPDATE retention_sweeper
SET expires_ms = CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) + CAST(@lease_ms AS INTEGER)
WHERE id = 1 AND executor_id = CAST(@executor_id AS TEXT);

-- name: ReleaseSweeper :exec
-- ReleaseSweeper gives up executor_id's sweeper role, if it holds it.
UPDATE retention_sweeper SET expires_ms = 0
WHERE id = 1 AND executor_id = CAST(@executor_id AS TEXT);

-- name: ExpiredCandidates :many
-- ExpiredCandidates lists up to max_rows workflows that finished before the
-- database clock minus retention_ms, in order of (completed_ms, seq) after
-- the cursor (after_completed_ms, after_seq), each with whether it may be
-- deleted.
SELECT
    e.workflow_id,
    CAST(e.completed_ms AS INTEGER) AS completed_ms,
    e.seq,
    CAST(e.state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER') AND NOT EXISTS (
        SELECT 1 FROM workflows p
        WHERE p.workflow_id = e.parent_id
          AND p.state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
    ) AS INTEGER) AS deletable
FROM workflows e
WHERE e.completed_ms IS NOT NULL
  AND e.completed_ms < CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) - CAST(@retention_ms AS INTEGER)
  AND (e.completed_ms > CAST(@after_completed_ms AS INTEGER)
       OR (e.completed_ms = CAST(@after_completed_ms AS INTEGER) AND e.seq > CAST(@after_seq AS INTEGER)))
ORDER BY e.completed_ms, e.seq
LIMIT CAST(@max_rows AS INTEGER);

-- name: ListedCandidates :many
-- ListedCandidates lists, as ListWorkflows does (the same filters, newest
-- first), up to max_rows workflows with seq below below_seq after skipping
-- skip_rows, each with whether it may be deleted.
SELECT
    l.workflow_id,
    l.seq,
    CAST(l.state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER') AND NOT EXISTS (
        SELECT 1 FROM workflows p
        WHERE p.workflow_id = l.parent_id
          AND p.state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')
    ) AS INTEGER) AS deletable
FROM workflows l
WHERE (sqlc.narg(state) IS NULL OR l.state = sqlc.narg(state))
  AND (sqlc.narg(queue_name) IS NULL OR l.queue_name = sqlc.narg(queue_name))
  AND (sqlc.narg(name) IS NULL OR l.name = sqlc.narg(name))
  AND (sqlc.narg(completed_before_ms) IS NULL OR l.completed_ms < sqlc.narg(completed_before_ms))
  AND (sqlc.narg(created_after_ms) IS NULL OR l.created_ms > sqlc.narg(created_after_ms))
  AND l.seq < CAST(@below_seq AS INTEGER)
ORDER BY l.seq DESC
LIMIT CAST(@max_rows AS INTEGER)
OFFSET CAST(@skip_rows AS INTEGER);

-- name: DeleteStepsOf :exec
-- DeleteStepsOf deletes the checkpoints of workflows about to be deleted.
DELETE FROM steps WHERE workflow_id IN (sqlc.slice('ids'));

-- name: DeleteFinished :execrows
-- DeleteFinished deletes the workflows of ids that are in a terminal state.
DELETE FROM workflows
WHERE workflow_id IN (sqlc.slice('ids'))
  AND state IN ('SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER');
