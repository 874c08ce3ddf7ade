-- name: QueueLoad :one
-- QueueLoad reads the clock and what the limits count: PENDING rows (all
-- executors and this one) and the starts in the rate window
-- (now - period_ms, now] with the oldest of them (0 when none).
SELECT
    now.ms AS now_ms,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'PENDING') AS pending,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'PENDING'
       AND w.executor_id = CAST(@executor_id AS TEXT)) AS pending_here,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT)
       AND w.started_ms > now.ms - CAST(@period_ms AS INTEGER)) AS window_starts,
    (SELECT CAST(coalesce(min(w.started_ms), 0) AS INTEGER) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT)
       AND w.started_ms > now.ms - CAST(@period_ms AS INTEGER)) AS window_oldest_ms
FROM (SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms) AS now;

-- name: ClaimReady :many
-- ClaimReady claims up to max_rows workflows of a queue ready at now_ms.
UPDATE workflows
SET state = 'PENDING',
    executor_id = CAST(@executor_id AS TEXT),
    started_ms = CAST(@now_ms AS INTEGER),
    attempts = attempts + 1,
    deadline_ms = CASE WHEN timeout_ms > 0 THEN CAST(@now_ms AS INTEGER) + timeout_ms END
WHERE workflow_id IN (
    SELECT p.workflow_id FROM workflows p
    WHERE p.queue_name = CAST(@queue_name AS TEXT)
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= CAST(@now_ms AS INTEGER))
    ORDER BY p.priority, p.seq
    LIMIT CAST(@max_rows AS INTEGER)
)
RETURNING *;

-- name: QueueBacklog :one
-- QueueBacklog says whether ENQUEUED rows of a queue are ready at now_ms,
-- and the earliest not_before_ms of those that are not (0 when none).
SELECT
    EXISTS (
        SELECT 1 FROM workflows w
        WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'ENQUEUED'
          AND (w.not_before_ms IS NULL OR w.not_before_ms <= CAST(@now_ms AS INTEGER))
    ) AS ready,
    (SELECT CAST(coalesce(min(w.not_before_ms), 0) AS INTEGER) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'ENQUEUED'
       AND w.not_before_ms > CAST(@now_ms AS INTEGER)) AS next_delayed_ms;
