-- name: RenewLease :exec
-- RenewLease records that an executor is alive until now + lease_ms.
INSERT INTO executors (executor_id, heartbeat_ms, expires_ms)
VALUES (
    CAST(@executor_id AS TEXT),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) + CAST(@lease_ms AS INTEGER)
)
ON CONFLICT (executor_id) DO UPDATE
SET heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms;

-- name: ReapExecutors :many
-- ReapExecutors deletes the executors, other than the caller, whose lease
-- expired, and returns their IDs.
DELETE FROM executors
WHERE expires_ms < CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
  AND executor_id <> CAST(@executor_id AS TEXT)
RETURNING executor_id;

-- name: TakeOverWorkflows :many
-- TakeOverWorkflows moves a dead executor's PENDING workflows: queued ones
-- back to ENQUEUED, the others to PENDING under the taker with one more
-- attempt.
UPDATE workflows
SET state = CASE WHEN queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN queue_name IS NULL THEN CAST(@executor_id AS TEXT) END,
    attempts = CASE WHEN queue_name IS NULL THEN attempts + 1 ELSE attempts END,
    started_ms = CASE WHEN queue_name IS NULL
        THEN CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) ELSE started_ms END
WHERE state = 'PENDING' AND executor_id = CAST(@dead_id AS TEXT)
RETURNING *;

-- name: OwnedWorkflows :many
-- OwnedWorkflows returns which of the given workflows are still PENDING
-- under executor_id: the others were cancelled, finished or taken over.
-- (executor_id comes first: sqlc numbers it ?1, and the slice's
-- placeholders follow it.)
SELECT workflow_id FROM workflows
WHERE executor_id = CAST(@executor_id AS TEXT)
  AND state = 'PENDING'
  AND workflow_id IN (sqlc.slice(ids));
