-- name: RenewLease :exec
-- RenewLease records that an executor is alive until now + lease_ms, and
-- what it runs: its application version, the functions it registers (a
-- JSON object, name -> fingerprint) and the queues it runs (a JSON array).
INSERT INTO dbos.executors (executor_id, heartbeat_ms, expires_ms, app_version, functions, queues)
SELECT @executor_id::text, now.ms, now.ms + @lease_ms::bigint, @app_version::text, @functions::text, @queues::text
FROM (SELECT dbos.now_ms() AS ms) AS now
ON CONFLICT (executor_id) DO UPDATE
SET heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms,
    app_version = excluded.app_version, functions = excluded.functions, queues = excluded.queues,
    reaped_ms = NULL;

-- name: ReapExecutors :many
-- ReapExecutors marks as reaped the executors, other than the caller,
-- whose lease expired, and returns their IDs. Concurrent reapers each get
-- a disjoint set: a row is marked once (until the executor renews its
-- lease). The rows stay: see OrphanOwners and ForgetExecutors.
UPDATE dbos.executors
SET reaped_ms = now.ms
FROM (SELECT dbos.now_ms() AS ms) AS now
WHERE dbos.executors.expires_ms < now.ms
  AND dbos.executors.reaped_ms IS NULL
  AND dbos.executors.executor_id <> @executor_id::text
RETURNING dbos.executors.executor_id;

-- name: ForgetExecutors :exec
-- ForgetExecutors deletes the executors reaped more than an hour ago that
-- own no PENDING workflow.
DELETE FROM dbos.executors e
WHERE e.reaped_ms < dbos.now_ms() - 3600000
  AND NOT EXISTS (
      SELECT 1 FROM dbos.workflows w
      WHERE w.state = 'PENDING' AND w.executor_id = e.executor_id
  );

-- name: OrphanOwners :many
-- OrphanOwners returns the owners of the orphaned PENDING workflows that
-- the caller would move (see TakeOverWorkflows): the executors, other than
-- the caller, whose lease expired (reaped now or before) and that own
-- queued PENDING workflows or ones the caller runs (see the runs filter of
-- claims.sql), and an empty owner when PENDING workflows that no executor
-- owns (released: left for an executor that can run them) include ones
-- the caller runs.
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms)
SELECT e.executor_id::text AS owner
FROM dbos.executors e, now
WHERE e.expires_ms < now.ms
  AND e.executor_id <> @executor_id::text
  AND EXISTS (
      SELECT 1 FROM dbos.workflows o
      WHERE o.state = 'PENDING' AND o.executor_id = e.executor_id
        AND (o.queue_name IS NOT NULL OR (
            (@runs_any::boolean OR o.signature = ANY(@run_signatures::text[])
             OR (o.signature = '' AND o.name = ANY(@run_names::text[])))
            AND (@runs_any::boolean OR o.app_version IS NULL OR o.app_version = @run_version::text)))
  )
UNION ALL
SELECT ''::text AS owner
WHERE EXISTS (
    SELECT 1 FROM dbos.workflows o
    WHERE o.state = 'PENDING' AND o.executor_id IS NULL
      AND (o.queue_name IS NOT NULL OR (
          (@runs_any::boolean OR o.signature = ANY(@run_signatures::text[])
           OR (o.signature = '' AND o.name = ANY(@run_names::text[])))
          AND (@runs_any::boolean OR o.app_version IS NULL OR o.app_version = @run_version::text)))
);

-- name: TakeOverWorkflows :many
-- TakeOverWorkflows moves the orphaned PENDING workflows of one owner (empty
-- for those owned by none; see OrphanOwners) in one statement: queued ones back to ENQUEUED
-- on their queue (after taking their queues' locks in shared mode, as an
-- enqueue does, see InsertWorkflow), whoever can run them; those started
-- without a queue that the taker runs (see the runs filter of claims.sql)
-- to PENDING under the taker with one more attempt. It leaves the others
-- as they are (under their dead executor, or none), for an executor that
-- can run them.
WITH orphans AS MATERIALIZED (
    SELECT o.workflow_id, o.queue_name
    FROM dbos.workflows o
    WHERE o.state = 'PENDING'
      AND (o.executor_id = @owner::text OR (@owner::text = '' AND o.executor_id IS NULL))
      AND (o.queue_name IS NOT NULL OR (
          (@runs_any::boolean OR o.signature = ANY(@run_signatures::text[])
           OR (o.signature = '' AND o.name = ANY(@run_names::text[])))
          AND (@runs_any::boolean OR o.app_version IS NULL OR o.app_version = @run_version::text)))
),
locks AS MATERIALIZED (
    SELECT count(pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || q.queue_name, 0))) AS n
    FROM (SELECT DISTINCT o.queue_name FROM orphans o WHERE o.queue_name IS NOT NULL ORDER BY o.queue_name) AS q
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM locks)
UPDATE dbos.workflows w
SET state = CASE WHEN w.queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN w.queue_name IS NULL THEN @executor_id::text END,
    attempts = CASE WHEN w.queue_name IS NULL THEN w.attempts + 1 ELSE w.attempts END,
    started_ms = CASE WHEN w.queue_name IS NULL THEN now.ms ELSE w.started_ms END,
    deadline_ms = CASE WHEN w.queue_name IS NULL THEN w.deadline_ms END,
    app_version = CASE WHEN w.queue_name IS NULL
        THEN coalesce(w.app_version, nullif(@run_version::text, '')) ELSE w.app_version END
FROM now, orphans
WHERE w.workflow_id = orphans.workflow_id
  -- Rechecked after waiting for a row lock (another taker may have moved
  -- it), as a row IS NOT DISTINCT FROM so that the planner finds each row
  -- by its ID: see CompleteWorkflows.
  AND (w.state, w.executor_id) IS NOT DISTINCT FROM ('PENDING', nullif(@owner::text, ''))
RETURNING w.*;

-- name: OwnedWorkflows :many
-- OwnedWorkflows returns which of the given workflows are still PENDING
-- under executor_id: the others were cancelled, finished or taken over.
-- The condition on state and executor_id is written so that the planner
-- finds the rows by their IDs: see CompleteWorkflows.
SELECT workflow_id FROM dbos.workflows
WHERE workflow_id = ANY(@ids::text[])
  AND (state, executor_id) IS NOT DISTINCT FROM ('PENDING', @executor_id::text);

-- name: LiveExecutors :many
-- LiveExecutors returns the executors whose lease has not expired, with
-- what they recorded about themselves (see RenewLease).
SELECT executor_id, app_version, functions, queues, expires_ms
FROM dbos.executors
WHERE expires_ms >= dbos.now_ms()
ORDER BY executor_id;

-- name: WaitingWork :many
-- WaitingWork counts the workflows that wait for an executor, by function,
-- fingerprint, version, queue and state: the first per_queue ENQUEUED rows
-- of each declared queue in claim order (work no executor can run stays at
-- the head of its queue while the rest is claimed past it; reading the
-- heads alone keeps this cheap under any backlog), and every PENDING row
-- whose executor holds no live lease (or that none owns).
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms),
heads AS (
    SELECT h.name, h.signature, h.app_version, h.queue_name, h.state
    FROM dbos.queues q
    CROSS JOIN LATERAL (
        SELECT w.name, w.signature, w.app_version, w.queue_name, w.state
        FROM dbos.workflows w
        WHERE w.queue_name = q.name AND w.state = 'ENQUEUED'
        ORDER BY w.priority, w.seq
        LIMIT @per_queue::bigint
    ) AS h
),
orphans AS (
    SELECT w.name, w.signature, w.app_version, w.queue_name, w.state
    FROM dbos.workflows w, now
    WHERE w.state = 'PENDING'
      AND NOT EXISTS (
          SELECT 1 FROM dbos.executors e
          WHERE e.executor_id = w.executor_id AND e.expires_ms >= now.ms
      )
),
waiting AS (
    SELECT * FROM heads
    UNION ALL
    SELECT * FROM orphans
)
SELECT waiting.name::text AS name,
       waiting.signature::text AS signature,
       coalesce(waiting.app_version, '')::text AS app_version,
       coalesce(waiting.queue_name, '')::text AS queue_name,
       waiting.state::text AS state,
       count(*)::bigint AS n
FROM waiting
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5;
