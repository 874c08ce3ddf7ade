-- name: ForkSource :one
-- ForkSource reads what a fork needs of its original: the last step it
-- recorded (0 when none). No row when the original does not exist. (The
-- fork's transaction holds the write lock: nothing changes meanwhile.)
SELECT w.workflow_id,
       CAST(coalesce((SELECT max(s.step_id) FROM steps s WHERE s.workflow_id = w.workflow_id), 0) AS INTEGER) AS last_step
FROM workflows w
WHERE w.workflow_id = CAST(@workflow_id AS TEXT);

-- name: InsertFork :one
-- InsertFork inserts a fork's row, as InsertWorkflow inserts a workflow,
-- with the attempts given (see store.ForkParams) and no deduplication ID.
-- No row when the ID exists.
INSERT INTO workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms, signature, app_version
)
SELECT
    CAST(@workflow_id AS TEXT),
    CAST(@name AS TEXT),
    CAST(@state AS TEXT),
    nullif(CAST(@queue_name AS TEXT), ''),
    nullif(CAST(@executor_id AS TEXT), ''),
    CAST(@input AS BLOB),
    CAST(@priority AS INTEGER),
    nullif(CAST(@partition_key AS TEXT), ''),
    nullif(CAST(@parent_id AS TEXT), ''),
    CAST(@timeout_ms AS INTEGER),
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' AND CAST(@timeout_ms AS INTEGER) > 0
         THEN now.ms + CAST(@timeout_ms AS INTEGER) END,
    CASE WHEN CAST(@delay_ms AS INTEGER) > 0 THEN now.ms + CAST(@delay_ms AS INTEGER) END,
    CAST(@attempts AS INTEGER),
    now.ms,
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' THEN now.ms END,
    CAST(@signature AS TEXT),
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' THEN nullif(CAST(@app_version AS TEXT), '') END
FROM (SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms) AS now
WHERE true
ON CONFLICT (workflow_id) DO NOTHING
RETURNING *;

-- name: CopySteps :execrows
-- CopySteps copies the checkpoints of one workflow with step_id below
-- before_step to another, as they were recorded.
INSERT INTO steps (workflow_id, step_id, name, output, error, child_id, code, created_ms)
SELECT CAST(@to_workflow_id AS TEXT), s.step_id, s.name, s.output, s.error, s.child_id, s.code, s.created_ms
FROM steps s
WHERE s.workflow_id = CAST(@from_workflow_id AS TEXT) AND s.step_id < CAST(@before_step AS INTEGER);
