-- name: ForkSource :one
-- ForkSource reads what a fork needs of its original: the last step it
-- recorded (0 when none). It locks the original's row in KEY SHARE mode
-- until the fork's transaction ends, so the original cannot be deleted
-- while its checkpoints are copied (its updates do not wait). No row when
-- the original does not exist.
SELECT w.workflow_id,
       coalesce((SELECT max(s.step_id) FROM dbos.steps s WHERE s.workflow_id = w.workflow_id), 0)::integer AS last_step
FROM dbos.workflows w
WHERE w.workflow_id = @workflow_id::text
FOR KEY SHARE OF w;

-- name: InsertFork :one
-- InsertFork inserts a fork's row, as InsertWorkflow inserts a workflow
-- (the same shared lock of the queue before the clock is read and the
-- seq drawn, for the same reason), with the attempts given (see
-- store.ForkParams) and no deduplication ID. No row when the ID exists.
-- A PENDING fork may have no executor: one that runs it takes it over.
WITH lock AS MATERIALIZED (
    SELECT CASE WHEN @state::text = 'ENQUEUED'
        THEN pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || @queue_name::text, 0))
    END AS locked
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM lock)
INSERT INTO dbos.workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms, signature, app_version
)
SELECT
    @workflow_id::text,
    @name::text,
    @state::text,
    nullif(@queue_name::text, ''),
    nullif(@executor_id::text, ''),
    @input::bytea,
    @priority::integer,
    nullif(@partition_key::text, ''),
    nullif(@parent_id::text, ''),
    @timeout_ms::bigint,
    CASE WHEN @state::text = 'PENDING' AND @timeout_ms::bigint > 0 THEN now.ms + @timeout_ms::bigint END,
    CASE WHEN @delay_ms::bigint > 0 THEN now.ms + @delay_ms::bigint END,
    @attempts::integer,
    now.ms,
    CASE WHEN @state::text = 'PENDING' THEN now.ms END,
    @signature::text,
    CASE WHEN @state::text = 'PENDING' THEN nullif(@app_version::text, '') END
FROM now
ON CONFLICT (workflow_id) DO NOTHING
RETURNING *;

-- name: CopySteps :execrows
-- CopySteps copies the checkpoints of one workflow with step_id below
-- before_step to another, as they were recorded.
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, code, created_ms)
SELECT @to_workflow_id::text, s.step_id, s.name, s.output, s.error, s.child_id, s.code, s.created_ms
FROM dbos.steps s
WHERE s.workflow_id = @from_workflow_id::text AND s.step_id < @before_step::integer;
