-- name: InsertStep :one
-- InsertStep records a checkpoint for the workflow's owner: only while the
-- workflow is PENDING under executor_id at attempt `attempts` (the fencing
-- token its run was given), and unless (workflow_id, step_id) is recorded.
-- No row is returned otherwise.
INSERT INTO steps (workflow_id, step_id, name, output, error, child_id, code, created_ms, started_ms)
SELECT
    CAST(@workflow_id AS TEXT),
    CAST(@step_id AS INTEGER),
    CAST(@name AS TEXT),
    CAST(@output AS BLOB),
    nullif(CAST(@error AS TEXT), ''),
    nullif(CAST(@child_id AS TEXT), ''),
    CAST(@code AS TEXT),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER),
    CAST(sqlc.narg(started_ms) AS INTEGER)
FROM workflows w
WHERE w.workflow_id = CAST(@workflow_id AS TEXT)
  AND w.state = 'PENDING'
  AND w.executor_id = CAST(@executor_id AS TEXT)
  AND w.attempts = CAST(@attempts AS INTEGER)
ON CONFLICT (workflow_id, step_id) DO NOTHING
RETURNING *;

-- name: GetStep :one
SELECT * FROM steps WHERE workflow_id = CAST(@workflow_id AS TEXT) AND step_id = CAST(@step_id AS INTEGER);

-- name: ListSteps :many
SELECT * FROM steps WHERE workflow_id = CAST(@workflow_id AS TEXT) ORDER BY step_id;
