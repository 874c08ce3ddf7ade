-- name: ClaimUnlimited :many
-- ClaimUnlimited claims up to max_rows ready workflows of a queue without
-- limits in one statement, skipping rows that concurrent claimers hold.
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms),
picked AS (
    SELECT p.workflow_id
    FROM dbos.workflows p, now
    WHERE p.queue_name = @queue_name::text
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= now.ms)
    ORDER BY p.priority, p.seq
    LIMIT @max_rows::bigint
    FOR UPDATE OF p SKIP LOCKED
)
UPDATE dbos.workflows w
SET state = 'PENDING',
    executor_id = @executor_id::text,
    started_ms = now.ms,
    attempts = w.attempts + 1,
    deadline_ms = CASE WHEN w.timeout_ms > 0 THEN now.ms + w.timeout_ms END
FROM picked, now
WHERE w.workflow_id = picked.workflow_id
RETURNING w.*;

-- name: LockQueue :exec
-- LockQueue serializes the claimers of one limited queue until the
-- transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('dbos.queue:' || @queue_name::text, 0));

-- name: QueueLoad :one
-- QueueLoad reads, under LockQueue, the clock and what the limits count:
-- PENDING rows (all executors and this one) and the starts in the rate
-- window (now - period_ms, now] with the oldest of them (0 when none).
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms)
SELECT
    now.ms::bigint AS now_ms,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING')::bigint AS pending,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING'
       AND w.executor_id = @executor_id::text)::bigint AS pending_here,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text
       AND w.started_ms > now.ms - @period_ms::bigint)::bigint AS window_starts,
    (SELECT coalesce(min(w.started_ms), 0) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text
       AND w.started_ms > now.ms - @period_ms::bigint)::bigint AS window_oldest_ms
FROM now;

-- name: ClaimLimited :many
-- ClaimLimited claims up to max_rows ready workflows at now_ms (read by
-- QueueLoad) under LockQueue. It waits for row locks instead of skipping
-- them so that the order stays strict.
WITH now AS (SELECT @now_ms::bigint AS ms),
picked AS (
    SELECT p.workflow_id
    FROM dbos.workflows p, now
    WHERE p.queue_name = @queue_name::text
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= now.ms)
    ORDER BY p.priority, p.seq
    LIMIT @max_rows::bigint
    FOR UPDATE OF p
)
UPDATE dbos.workflows w
SET state = 'PENDING',
    executor_id = @executor_id::text,
    started_ms = now.ms,
    attempts = w.attempts + 1,
    deadline_ms = CASE WHEN w.timeout_ms > 0 THEN now.ms + w.timeout_ms END
FROM picked, now
WHERE w.workflow_id = picked.workflow_id
RETURNING w.*;

-- name: QueueBacklog :one
-- QueueBacklog says whether ENQUEUED rows of a queue are ready at now_ms
-- (NULL: the database clock), and the earliest not_before_ms of those that
-- are not (0 when none).
WITH now AS MATERIALIZED (SELECT coalesce(sqlc.narg(now_ms)::bigint, dbos.now_ms()) AS ms)
SELECT
    now.ms::bigint AS now_ms,
    EXISTS (
        SELECT 1 FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
          AND (w.not_before_ms IS NULL OR w.not_before_ms <= now.ms)
    )::boolean AS ready,
    (SELECT coalesce(min(w.not_before_ms), 0) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
       AND w.not_before_ms > now.ms)::bigint AS next_delayed_ms
FROM now;
