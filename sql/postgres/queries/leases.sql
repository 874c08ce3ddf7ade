-- name: RenewLease :exec
-- RenewLease records that an executor is alive until now + lease_ms.
INSERT INTO dbos.executors (executor_id, heartbeat_ms, expires_ms)
SELECT @executor_id::text, now.ms, now.ms + @lease_ms::bigint
FROM (SELECT dbos.now_ms() AS ms) AS now
ON CONFLICT (executor_id) DO UPDATE
SET heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms;

-- name: ReapExecutors :many
-- ReapExecutors deletes the executors, other than the caller, whose lease
-- expired, and returns their IDs. Concurrent reapers each get a disjoint
-- set: a row is deleted once.
DELETE FROM dbos.executors
WHERE expires_ms < dbos.now_ms() AND executor_id <> @executor_id::text
RETURNING executor_id;

-- name: TakeOverWorkflows :many
-- TakeOverWorkflows moves a dead executor's PENDING workflows: queued ones
-- back to ENQUEUED (after taking their queues' locks in shared mode, as an
-- enqueue does, see InsertWorkflow), the others to PENDING under the taker
-- with one more attempt.
WITH queues AS MATERIALIZED (
    SELECT DISTINCT w.queue_name FROM dbos.workflows w
    WHERE w.state = 'PENDING' AND w.executor_id = @dead_id::text AND w.queue_name IS NOT NULL
),
locks AS MATERIALIZED (
    SELECT count(pg_advisory_xact_lock_shared(hashtextextended('dbos.queue:' || q.queue_name, 0))) AS n
    FROM queues q
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms FROM locks)
UPDATE dbos.workflows w
SET state = CASE WHEN w.queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN w.queue_name IS NULL THEN @executor_id::text END,
    attempts = CASE WHEN w.queue_name IS NULL THEN w.attempts + 1 ELSE w.attempts END,
    started_ms = CASE WHEN w.queue_name IS NULL THEN now.ms ELSE w.started_ms END,
    deadline_ms = CASE WHEN w.queue_name IS NULL THEN w.deadline_ms END
FROM now
WHERE w.state = 'PENDING' AND w.executor_id = @dead_id::text
RETURNING w.*;

-- name: OwnedWorkflows :many
-- OwnedWorkflows returns which of the given workflows are still PENDING
-- under executor_id: the others were cancelled, finished or taken over.
-- The condition on state and executor_id is written so that the planner
-- finds the rows by their IDs: see CompleteWorkflows.
SELECT workflow_id FROM dbos.workflows
WHERE workflow_id = ANY(@ids::text[])
  AND (state, executor_id) IS NOT DISTINCT FROM ('PENDING', @executor_id::text);
