-- name: InsertStep :one
-- InsertStep records a checkpoint for the workflow's owner: only while the
-- workflow is PENDING under executor_id at attempt `attempts` (the fencing
-- token its run was given), and unless (workflow_id, step_id) is recorded.
-- No row is returned otherwise.
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, created_ms)
SELECT
    @workflow_id::text,
    @step_id::integer,
    @name::text,
    @output::bytea,
    nullif(@error::text, ''),
    nullif(@child_id::text, ''),
    dbos.now_ms()
FROM dbos.workflows w
WHERE w.workflow_id = @workflow_id::text
  AND w.state = 'PENDING'
  AND w.executor_id = @executor_id::text
  AND w.attempts = @attempts::integer
ON CONFLICT (workflow_id, step_id) DO NOTHING
RETURNING *;

-- name: GetStep :one
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text AND step_id = @step_id::integer;

-- name: ListSteps :many
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text ORDER BY step_id;
