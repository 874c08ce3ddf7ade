-- name: InsertStep :one
-- InsertStep records a checkpoint for the workflow's owner: only while the
-- workflow is PENDING under executor_id at attempt `attempts` (the fencing
-- token its run was given), and unless (workflow_id, step_id) is recorded.
-- No row is returned otherwise.
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, code, created_ms, started_ms)
SELECT
    @workflow_id::text,
    @step_id::integer,
    @name::text,
    @output::bytea,
    nullif(@error::text, ''),
    nullif(@child_id::text, ''),
    @code::text,
    dbos.now_ms(),
    sqlc.narg(started_ms)::bigint
FROM dbos.workflows w
WHERE w.workflow_id = @workflow_id::text
  -- The fence, opaque to the planner: see CompleteWorkflows.
  AND (w.state, w.executor_id, w.attempts) IS NOT DISTINCT FROM ('PENDING', @executor_id::text, @attempts::integer)
ON CONFLICT (workflow_id, step_id) DO NOTHING
RETURNING *;

-- name: GetStep :one
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text AND step_id = @step_id::integer;

-- name: ListSteps :many
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text ORDER BY step_id;

-- name: InsertSteps :execrows
-- InsertSteps is InsertStep for many checkpoints of one workflow in one
-- statement: element i of the arrays describes one. Rows already recorded
-- are skipped; nothing is written unless the workflow is PENDING under the
-- owner (executor_id, attempts).
WITH arg AS (
    SELECT unnest(@step_ids::integer[]) AS step_id,
           unnest(@names::text[]) AS name,
           unnest(@outputs::bytea[]) AS output,
           unnest(@errors::text[]) AS error,
           unnest(@child_ids::text[]) AS child_id,
           unnest(@codes::text[]) AS code,
           unnest(@started_ms::bigint[]) AS started_ms
)
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, code, created_ms, started_ms)
SELECT
    @workflow_id::text,
    a.step_id,
    a.name,
    a.output,
    nullif(a.error, ''),
    nullif(a.child_id, ''),
    a.code,
    dbos.now_ms(),
    nullif(a.started_ms, 0)
FROM arg a
WHERE EXISTS (
    SELECT 1 FROM dbos.workflows w
    WHERE w.workflow_id = @workflow_id::text
      -- The fence, opaque to the planner: see CompleteWorkflows.
      AND (w.state, w.executor_id, w.attempts) IS NOT DISTINCT FROM ('PENDING', @executor_id::text, @attempts::integer)
)
ON CONFLICT (workflow_id, step_id) DO NOTHING;
