-- name: InsertWorkflow :one
-- InsertWorkflow inserts a workflow unless its ID exists (then no row is
-- returned). A deduplication ID held on the queue fails with a unique
-- violation of workflows_dedup_idx. Empty strings are stored as NULL.
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms)
INSERT INTO dbos.workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    dedup_id, partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms
)
SELECT
    @workflow_id::text,
    @name::text,
    @state::text,
    nullif(@queue_name::text, ''),
    nullif(@executor_id::text, ''),
    @input::bytea,
    @priority::integer,
    nullif(@dedup_id::text, ''),
    nullif(@partition_key::text, ''),
    nullif(@parent_id::text, ''),
    @timeout_ms::bigint,
    CASE WHEN @state::text = 'PENDING' AND @timeout_ms::bigint > 0 THEN now.ms + @timeout_ms::bigint END,
    CASE WHEN @delay_ms::bigint > 0 THEN now.ms + @delay_ms::bigint END,
    CASE WHEN @state::text = 'PENDING' THEN 1 ELSE 0 END,
    now.ms,
    CASE WHEN @state::text = 'PENDING' THEN now.ms END
FROM now
ON CONFLICT (workflow_id) DO NOTHING
RETURNING *;

-- name: GetWorkflow :one
SELECT * FROM dbos.workflows WHERE workflow_id = @workflow_id::text;

-- name: DedupHolder :one
-- DedupHolder returns the workflow holding a deduplication ID on a queue.
SELECT workflow_id FROM dbos.workflows
WHERE queue_name = @queue_name::text AND dedup_id = @dedup_id::text;

-- name: CompleteWorkflow :execrows
-- CompleteWorkflow records a terminal state, fenced by the owner: it changes
-- nothing unless the row is PENDING under executor_id.
UPDATE dbos.workflows
SET state = @state::text,
    output = @output::bytea,
    error = nullif(@error::text, ''),
    dedup_id = NULL,
    completed_ms = dbos.now_ms()
WHERE workflow_id = @workflow_id::text
  AND state = 'PENDING'
  AND executor_id = @executor_id::text;

-- name: ResumePending :many
-- ResumePending counts one more attempt for each PENDING workflow of an
-- executor and returns them.
UPDATE dbos.workflows
SET attempts = attempts + 1
WHERE state = 'PENDING' AND executor_id = @executor_id::text
RETURNING *;
