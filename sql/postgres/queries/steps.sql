-- name: InsertStep :one
-- InsertStep records a checkpoint unless (workflow_id, step_id) is recorded
-- (then no row is returned).
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, created_ms)
VALUES (
    @workflow_id::text,
    @step_id::integer,
    @name::text,
    @output::bytea,
    nullif(@error::text, ''),
    nullif(@child_id::text, ''),
    dbos.now_ms()
)
ON CONFLICT (workflow_id, step_id) DO NOTHING
RETURNING *;

-- name: GetStep :one
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text AND step_id = @step_id::integer;

-- name: ListSteps :many
SELECT * FROM dbos.steps WHERE workflow_id = @workflow_id::text ORDER BY step_id;
