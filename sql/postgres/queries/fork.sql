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

-- name: CopySteps :execrows
-- CopySteps copies the checkpoints of one workflow with step_id below
-- before_step to another, as they were recorded.
INSERT INTO dbos.steps (workflow_id, step_id, name, output, error, child_id, code, created_ms, started_ms)
SELECT @to_workflow_id::text, s.step_id, s.name, s.output, s.error, s.child_id, s.code, s.created_ms, s.started_ms
FROM dbos.steps s
WHERE s.workflow_id = @from_workflow_id::text AND s.step_id < @before_step::integer;
