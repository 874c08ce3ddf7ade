-- name: InsertWorkflow :one
-- InsertWorkflow inserts a workflow unless its ID exists (then no row is
-- returned), with the attempts given (storekit.InsertAttempts: 1 for a
-- PENDING row, 0 for an ENQUEUED one; a fork's may be one more, see
-- store.ForkParams). A deduplication ID held on the queue fails with a
-- unique violation of workflows_dedup_idx. Empty strings are stored as
-- NULL.
--
-- An ENQUEUED insert first takes the queue's enqueue lock in shared mode
-- and holds it until its transaction ends; the CTEs make the lock come
-- before the clock is read and before the row draws its seq. Why: seq is
-- drawn at insert, but inserts commit in any order, so without the lock a
-- claimer could see and take seq 6 while seq 5 is still uncommitted, and a
-- Concurrency(1) queue would run 6 before 5. A limited claim passes the
-- claim barrier (dbos.claim_barrier, in LockQueue): it takes the same lock
-- exclusively, so it waits until every enqueue of the queue that already
-- drew a seq has committed or rolled back, reads the last seq handed out,
-- and lets the lock go at once; it then claims only rows up to that seq
-- (the identity sequence has CACHE 1: values are handed out in order
-- across sessions). So a limited claim never sees a gap that a later
-- commit fills, and an enqueue waits at most for the enqueues in flight
-- when a claim passed the barrier, never for a claim's transaction.
-- Enqueues share the lock and do not wait for each other. Unlimited claims
-- promise no strict order and do not take the lock.
WITH lock AS MATERIALIZED (
    SELECT CASE WHEN @state::text = 'ENQUEUED'
        THEN pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || @queue_name::text, 0))
    END AS locked
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM lock)
INSERT INTO dbos.workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    dedup_id, partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms, signature, app_version,
    trace_context
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
    @attempts::integer,
    now.ms,
    CASE WHEN @state::text = 'PENDING' THEN now.ms END,
    @signature::text,
    CASE WHEN @state::text = 'PENDING' THEN nullif(@app_version::text, '') END,
    nullif(@trace_context::text, '')
FROM now
ON CONFLICT (workflow_id) DO NOTHING
RETURNING *;

-- name: InsertWorkflows :batchmany
-- InsertWorkflows is InsertWorkflow for many workflows in one statement:
-- element i of the arrays describes one. It returns the rows it inserted;
-- it skips (inserts nothing for) a workflow whose ID exists or whose
-- deduplication ID is held on its queue, also by a row inserted before it
-- by the same statement. Before drawing any seq it takes, in shared mode,
-- the enqueue lock of each queue it enqueues to, in the order of the queue
-- names (see InsertWorkflow).
--
-- trace_contexts may be NULL (no element at all) when no workflow carries
-- one: the arrays' unnest then pads the column with NULLs, so the untraced
-- enqueues of the hot path send no array for it.
--
-- A state of 'CLAIM' (InsertAndClaim's, for a workflow the inserting
-- executor, executor_ids[i], runs and has room for) inserts the row
-- PENDING under that executor, as a claim would leave it (attempts 1,
-- started now, its app_version), when its queue is free: no limit
-- declared, not paused, and no ready ENQUEUED row waiting (it would come
-- first); otherwise ENQUEUED, like any other. One row written once
-- instead of inserted and then updated by a claim.
WITH arg AS (
    SELECT unnest(@workflow_ids::text[]) AS workflow_id,
           unnest(@names::text[]) AS name,
           unnest(@states::text[]) AS state,
           unnest(@queue_names::text[]) AS queue_name,
           unnest(@executor_ids::text[]) AS executor_id,
           unnest(@inputs::bytea[]) AS input,
           unnest(@priorities::integer[]) AS priority,
           unnest(@dedup_ids::text[]) AS dedup_id,
           unnest(@partition_keys::text[]) AS partition_key,
           unnest(@parent_ids::text[]) AS parent_id,
           unnest(@timeouts_ms::bigint[]) AS timeout_ms,
           unnest(@delays_ms::bigint[]) AS delay_ms,
           unnest(@signatures::text[]) AS signature,
           unnest(@app_versions::text[]) AS app_version,
           unnest(@trace_contexts::text[]) AS trace_context,
           generate_subscripts(@workflow_ids::text[], 1) AS ord
),
lock AS MATERIALIZED (
    SELECT count(pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || l.queue_name, 0))) AS locked
    FROM (
        SELECT DISTINCT a.queue_name FROM arg a
        WHERE a.state IN ('ENQUEUED', 'CLAIM')
        ORDER BY a.queue_name
    ) AS l
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM lock),
free AS MATERIALIZED (
    SELECT c.queue_name
    FROM (SELECT DISTINCT a.queue_name FROM arg a WHERE a.state = 'CLAIM') AS c, now
    WHERE NOT EXISTS (
              SELECT 1 FROM dbos.queues l
              WHERE l.name = c.queue_name
                AND (l.concurrency > 0 OR l.worker_concurrency > 0 OR l.rate_limit > 0
                     OR l.partition_concurrency > 0 OR l.partition_rate_limit > 0
                     OR l.paused))
      AND NOT EXISTS (
              SELECT 1 FROM dbos.workflows w
              WHERE w.queue_name = c.queue_name AND w.state = 'ENQUEUED'
                AND (w.not_before_ms IS NULL OR w.not_before_ms <= now.ms))
),
resolved AS (
    SELECT a.*,
           CASE WHEN a.state <> 'CLAIM' THEN a.state
                WHEN a.queue_name IN (SELECT f.queue_name FROM free f) THEN 'PENDING'
                ELSE 'ENQUEUED' END AS st
    FROM arg a
)
INSERT INTO dbos.workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    dedup_id, partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms, signature, app_version,
    trace_context
)
SELECT
    a.workflow_id,
    a.name,
    a.st,
    nullif(a.queue_name, ''),
    CASE WHEN a.st = 'PENDING' THEN nullif(a.executor_id, '') END,
    a.input,
    a.priority,
    nullif(a.dedup_id, ''),
    nullif(a.partition_key, ''),
    nullif(a.parent_id, ''),
    a.timeout_ms,
    CASE WHEN a.st = 'PENDING' AND a.timeout_ms > 0 THEN now.ms + a.timeout_ms END,
    CASE WHEN a.delay_ms > 0 THEN now.ms + a.delay_ms END,
    CASE WHEN a.st = 'PENDING' THEN 1 ELSE 0 END,
    now.ms,
    CASE WHEN a.st = 'PENDING' THEN now.ms END,
    a.signature,
    CASE WHEN a.st = 'PENDING' THEN nullif(a.app_version, '') END,
    nullif(a.trace_context, '')
FROM resolved a, now
ORDER BY a.ord
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetWorkflow :one
SELECT * FROM dbos.workflows WHERE workflow_id = @workflow_id::text;

-- name: DedupHolder :one
-- DedupHolder returns the workflow holding a deduplication ID on a queue.
SELECT workflow_id FROM dbos.workflows
WHERE queue_name = @queue_name::text AND dedup_id = @dedup_id::text;

-- name: CompleteWorkflows :batchmany
-- CompleteWorkflows records terminal states in one statement, each fenced
-- by its owner's run: element i of the arrays describes one outcome. It
-- returns the IDs of the workflows it finished; the others were not
-- PENDING under their executor_ids[i] at attempt attempts[i] (the run's
-- fencing token, see store.Owner) and are unchanged. An ID must not appear
-- twice.
--
-- The fence is written as a row IS NOT DISTINCT FROM (the same as = here:
-- the values are never NULL) so that the planner cannot use it to pick a
-- partial index: without statistics (a table never analyzed, as when
-- autovacuum is off or has not run yet) the partial indexes on state look
-- empty, and it would find each row by scanning every PENDING row of the
-- executor (workflows_pending_executor_idx) instead of by its primary key.
UPDATE dbos.workflows w
SET state = c.state,
    output = c.output,
    error = nullif(c.error, ''),
    dedup_id = NULL,
    completed_ms = dbos.now_ms()
FROM (
    SELECT unnest(@workflow_ids::text[]) AS workflow_id,
           unnest(@executor_ids::text[]) AS executor_id,
           unnest(@attempts::integer[]) AS attempts,
           unnest(@states::text[]) AS state,
           unnest(@outputs::bytea[]) AS output,
           unnest(@errors::text[]) AS error
) AS c
WHERE w.workflow_id = c.workflow_id
  AND (w.state, w.executor_id, w.attempts) IS NOT DISTINCT FROM ('PENDING', c.executor_id, c.attempts)
RETURNING w.workflow_id;

-- name: ResumePending :many
-- ResumePending takes back, at an executor's launch, its PENDING
-- workflows: each one it runs (see the runs filter of claims.sql) counts
-- one more attempt and stays its own (with run_version as its app_version
-- when it has none); the others are released for an executor that can run
-- them: queued ones back to ENQUEUED on their queue (after taking their
-- queues' locks in shared mode, as an enqueue does, see InsertWorkflow),
-- the others PENDING under no executor. It returns them all.
WITH mine AS MATERIALIZED (
    SELECT m.workflow_id, m.queue_name,
           ((@runs_any::boolean OR m.signature = ANY(@run_signatures::text[])
             OR (m.signature = '' AND m.name = ANY(@run_names::text[])))
            AND (@runs_any::boolean OR m.app_version IS NULL OR m.app_version = @run_version::text))::boolean AS runs
    FROM dbos.workflows m
    WHERE m.state = 'PENDING' AND m.executor_id = @executor_id::text
),
locks AS MATERIALIZED (
    SELECT count(pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || q.queue_name, 0))) AS n
    FROM (SELECT DISTINCT m.queue_name FROM mine m
          WHERE NOT m.runs AND m.queue_name IS NOT NULL ORDER BY m.queue_name) AS q
)
UPDATE dbos.workflows w
SET attempts = CASE WHEN mine.runs THEN w.attempts + 1 ELSE w.attempts END,
    state = CASE WHEN mine.runs OR w.queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN mine.runs THEN w.executor_id END,
    deadline_ms = CASE WHEN mine.runs OR w.queue_name IS NULL THEN w.deadline_ms END,
    app_version = CASE WHEN mine.runs
        THEN coalesce(w.app_version, nullif(@run_version::text, '')) ELSE w.app_version END
FROM mine, locks
WHERE w.workflow_id = mine.workflow_id
  -- Rechecked after waiting for a row lock, as a row IS NOT DISTINCT FROM
  -- so that the planner finds each row by its ID: see CompleteWorkflows.
  AND (w.state, w.executor_id) IS NOT DISTINCT FROM ('PENDING', @executor_id::text)
RETURNING w.*;

-- name: ReleaseWorkflow :one
-- ReleaseWorkflow gives up a workflow its owner's run cannot run, fenced
-- by that run (see CompleteWorkflows): queued, back to ENQUEUED on its
-- queue (after taking the queue's lock in shared mode, as an enqueue does,
-- see InsertWorkflow); started without a queue, PENDING under no executor,
-- for one that can run it to take over. No row when the run is stale.
WITH target AS MATERIALIZED (
    SELECT t.queue_name FROM dbos.workflows t WHERE t.workflow_id = @workflow_id::text
),
lock AS MATERIALIZED (
    SELECT CASE WHEN target.queue_name IS NOT NULL
        THEN pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || target.queue_name, 0))
    END AS locked
    FROM target
)
UPDATE dbos.workflows w
SET state = CASE WHEN w.queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = NULL,
    deadline_ms = CASE WHEN w.queue_name IS NULL THEN w.deadline_ms END
FROM lock
WHERE w.workflow_id = @workflow_id::text
  AND (w.state, w.executor_id, w.attempts) IS NOT DISTINCT FROM ('PENDING', @executor_id::text, @attempts::integer)
RETURNING w.*;
