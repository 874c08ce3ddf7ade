-- name: InsertWorkflow :one
-- InsertWorkflow inserts a workflow unless its ID exists (then no row is
-- returned). A deduplication ID held on the queue fails with a unique
-- violation of workflows_dedup_idx. Empty strings are stored as NULL.
--
-- An ENQUEUED insert first takes the queue's advisory lock in shared mode
-- (the same key as LockQueue, which limited claims take exclusively) and
-- holds it until its transaction ends; the CTEs make the lock come before
-- the clock is read and before the row draws its seq. Why: seq is drawn at
-- insert, but inserts commit in any order, so without the lock a claimer
-- could see and take seq 6 while seq 5 is still uncommitted, and a
-- Concurrency(1) queue would run 6 before 5. With it:
--   * a limited claim waits, at LockQueue, until every enqueue of the queue
--     that already drew a seq has committed or rolled back (it holds the
--     shared lock until then), and reads the rows after the wait;
--   * an enqueue that starts while a claim holds the lock waits for the
--     claim to commit, so it draws its seq after every seq the claim saw
--     (the identity sequence has CACHE 1: values are handed out in order
--     across sessions).
-- So a limited claim never sees a gap that a later commit fills: what it
-- takes precedes everything it has not seen. Enqueues share the lock and do
-- not wait for each other. Unlimited claims promise no strict order and do
-- not take the lock.
WITH lock AS MATERIALIZED (
    SELECT CASE WHEN @state::text = 'ENQUEUED'
        THEN pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || @queue_name::text, 0))
    END AS locked
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM lock)
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
-- CompleteWorkflow records a terminal state, fenced by the owner's run: it
-- changes nothing unless the row is PENDING under executor_id at attempt
-- `attempts` (the run's fencing token, see store.Owner).
UPDATE dbos.workflows
SET state = @state::text,
    output = @output::bytea,
    error = nullif(@error::text, ''),
    dedup_id = NULL,
    completed_ms = dbos.now_ms()
WHERE workflow_id = @workflow_id::text
  AND state = 'PENDING'
  AND executor_id = @executor_id::text
  AND attempts = @attempts::integer;

-- name: ResumePending :many
-- ResumePending counts one more attempt for each PENDING workflow of an
-- executor and returns them.
UPDATE dbos.workflows
SET attempts = attempts + 1
WHERE state = 'PENDING' AND executor_id = @executor_id::text
RETURNING *;
