-- name: ForkSource :one
-- ForkSource reads what a fork needs of its original: the last step it
-- recorded (0 when none). No row when the original does not exist. (The
-- fork's transaction holds the write lock: nothing changes meanwhile.)
SELECT w.workflow_id,
       CAST(coalesce((SELECT max(s.step_id) FROM steps s WHERE s.workflow_id = w.workflow_id), 0) AS INTEGER) AS last_step
FROM workflows w
WHERE w.workflow_id = CAST(@workflow_id AS TEXT);

-- name: CopySteps :execrows
-- CopySteps copies the checkpoints of one workflow with step_id below
-- before_step to another, as they were recorded.
INSERT INTO steps (workflow_id, step_id, name, output, error, child_id, code, created_ms, started_ms)
SELECT CAST(@to_workflow_id AS TEXT), s.step_id, s.name, s.output, s.error, s.child_id, s.code, s.created_ms, s.started_ms
FROM steps s
WHERE s.workflow_id = CAST(@from_workflow_id AS TEXT) AND s.step_id < CAST(@before_step AS INTEGER);
