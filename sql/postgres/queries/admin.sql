-- name: CancelWorkflow :one
-- CancelWorkflow moves an ENQUEUED or PENDING workflow to CANCELLED and
-- frees its deduplication ID; it returns no row when the workflow is
-- missing or already finished.
UPDATE dbos.workflows
SET state = 'CANCELLED',
    error = 'cancelled',
    dedup_id = NULL,
    completed_ms = dbos.now_ms()
WHERE workflow_id = @workflow_id::text
  AND state IN ('ENQUEUED', 'PENDING')
RETURNING *;

-- name: ResumeWorkflow :one
-- ResumeWorkflow puts a CANCELLED or DEAD_LETTER workflow back to work: ENQUEUED on its
-- queue (taking the queue's lock in shared mode first, as an enqueue does,
-- see InsertWorkflow), or, started without a queue, PENDING under
-- executor_id with attempts reset, or, when executor_id is empty, PENDING
-- under no executor (released: an executor that can run it takes it over)
-- with attempts 1, which the takeover makes 2. Its checkpoints stay, so it resumes
-- after its last finished step. Attempts count afresh (see store.ResumeWorkflow). No row when it
-- is missing or neither CANCELLED nor DEAD_LETTER.
WITH target AS MATERIALIZED (
    SELECT t.queue_name FROM dbos.workflows t
    WHERE t.workflow_id = @workflow_id::text AND t.state IN ('CANCELLED', 'DEAD_LETTER')
),
lock AS MATERIALIZED (
    SELECT CASE WHEN target.queue_name IS NOT NULL
        THEN pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || target.queue_name, 0))
    END AS locked
    FROM target
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM lock)
UPDATE dbos.workflows w
SET state = CASE WHEN w.queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN w.queue_name IS NULL THEN nullif(@executor_id::text, '') END,
    error = NULL,
    output = NULL,
    completed_ms = NULL,
    started_ms = CASE WHEN w.queue_name IS NULL AND @executor_id::text <> '' THEN now.ms END,
    attempts = CASE WHEN w.queue_name IS NULL AND @executor_id::text <> '' THEN 2 ELSE 1 END,
    deadline_ms = CASE WHEN w.queue_name IS NULL AND @executor_id::text <> '' AND w.timeout_ms > 0
        THEN now.ms + w.timeout_ms END
FROM now
WHERE w.workflow_id = @workflow_id::text AND w.state IN ('CANCELLED', 'DEAD_LETTER')
RETURNING w.*;

-- name: ListWorkflows :many
-- ListWorkflows returns the workflows matching every filter given (NULL:
-- any), newest first, skipping the first skip_rows of them.
SELECT * FROM dbos.workflows
WHERE (sqlc.narg(state)::text IS NULL OR state = sqlc.narg(state)::text)
  AND (sqlc.narg(queue_name)::text IS NULL OR queue_name = sqlc.narg(queue_name)::text)
  AND (sqlc.narg(name)::text IS NULL OR name = sqlc.narg(name)::text)
  AND (sqlc.narg(completed_before_ms)::bigint IS NULL OR completed_ms < sqlc.narg(completed_before_ms)::bigint)
  AND (sqlc.narg(created_after_ms)::bigint IS NULL OR created_ms > sqlc.narg(created_after_ms)::bigint)
ORDER BY seq DESC
LIMIT @max_rows::bigint
OFFSET @skip_rows::bigint;
