-- name: CancelWorkflow :one
-- CancelWorkflow moves an ENQUEUED or PENDING workflow to CANCELLED and
-- frees its deduplication ID; it returns no row when the workflow is
-- missing or already finished.
UPDATE workflows
SET state = 'CANCELLED',
    error = 'cancelled',
    dedup_id = NULL,
    completed_ms = CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
WHERE workflow_id = CAST(@workflow_id AS TEXT)
  AND state IN ('ENQUEUED', 'PENDING')
RETURNING *;

-- name: ResumeWorkflow :one
-- ResumeWorkflow puts a CANCELLED or DEAD_LETTER workflow back to work: ENQUEUED on its
-- queue, or, started without a queue, PENDING under executor_id with
-- attempts reset, or, when executor_id is empty, PENDING under no executor
-- (released: an executor that can run it takes it over) with attempts 1. Its checkpoints stay, so it resumes after its last finished
-- step. Attempts count afresh (see store.ResumeWorkflow). No row when it
-- is missing or neither CANCELLED nor DEAD_LETTER.
UPDATE workflows
SET state = CASE WHEN queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN queue_name IS NULL THEN nullif(CAST(@executor_id AS TEXT), '') END,
    error = NULL,
    output = NULL,
    completed_ms = NULL,
    started_ms = CASE WHEN queue_name IS NULL AND CAST(@executor_id AS TEXT) <> ''
        THEN CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) END,
    attempts = CASE WHEN queue_name IS NULL AND CAST(@executor_id AS TEXT) <> '' THEN 2 ELSE 1 END,
    deadline_ms = CASE WHEN queue_name IS NULL AND CAST(@executor_id AS TEXT) <> '' AND timeout_ms > 0
        THEN CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) + timeout_ms END
WHERE workflow_id = CAST(@workflow_id AS TEXT) AND state IN ('CANCELLED', 'DEAD_LETTER')
RETURNING *;

-- name: ListWorkflows :many
-- ListWorkflows returns the workflows matching every filter given (NULL:
-- any), newest first, skipping the first skip_rows of them.
SELECT * FROM workflows
WHERE (sqlc.narg(state) IS NULL OR state = sqlc.narg(state))
  AND (sqlc.narg(queue_name) IS NULL OR queue_name = sqlc.narg(queue_name))
  AND (sqlc.narg(name) IS NULL OR name = sqlc.narg(name))
  AND (sqlc.narg(completed_before_ms) IS NULL OR completed_ms < sqlc.narg(completed_before_ms))
  AND (sqlc.narg(created_after_ms) IS NULL OR created_ms > sqlc.narg(created_after_ms))
ORDER BY seq DESC
LIMIT CAST(@max_rows AS INTEGER)
OFFSET CAST(@skip_rows AS INTEGER);
