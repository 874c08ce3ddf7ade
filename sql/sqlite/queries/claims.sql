-- name: QueueLoad :one
-- QueueLoad reads the queue's declared limits (all 0 when it has no
-- declaration), the clock and what the limits count: PENDING rows (all
-- executors and this one) and the starts in the rate window
-- (now - rate_period_ms, now] with the oldest of them (0 when none); and
-- whether the queue is paused (not 0).
SELECT
    now.ms AS now_ms,
    cfg.concurrency,
    cfg.worker_concurrency,
    cfg.rate_limit,
    cfg.rate_period_ms,
    cfg.partition_concurrency,
    cfg.partition_rate_limit,
    cfg.partition_rate_period_ms,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'PENDING') AS pending,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'PENDING'
       AND w.executor_id = CAST(@executor_id AS TEXT)) AS pending_here,
    (SELECT count(*) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT)
       AND w.started_ms > now.ms - cfg.rate_period_ms) AS window_starts,
    (SELECT CAST(coalesce(min(w.started_ms), 0) AS INTEGER) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT)
       AND w.started_ms > now.ms - cfg.rate_period_ms) AS window_oldest_ms,
    cfg.paused
FROM (SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms) AS now,
     (SELECT CAST(coalesce(max(q.concurrency), 0) AS INTEGER) AS concurrency,
             CAST(coalesce(max(q.worker_concurrency), 0) AS INTEGER) AS worker_concurrency,
             CAST(coalesce(max(q.rate_limit), 0) AS INTEGER) AS rate_limit,
             CAST(coalesce(max(q.rate_period_ms), 0) AS INTEGER) AS rate_period_ms,
             CAST(coalesce(max(q.partition_concurrency), 0) AS INTEGER) AS partition_concurrency,
             CAST(coalesce(max(q.partition_rate_limit), 0) AS INTEGER) AS partition_rate_limit,
             CAST(coalesce(max(q.partition_rate_period_ms), 0) AS INTEGER) AS partition_rate_period_ms,
             CAST(coalesce(max(q.paused), 0) AS INTEGER) AS paused
      FROM queues q
      WHERE q.name = CAST(@queue_name AS TEXT)) AS cfg;

-- name: ClaimReady :many
-- ClaimReady claims up to max_rows workflows of a queue ready at now_ms.
-- The caller does not call it for a paused queue (QueueLoad says, in the
-- same transaction).
--
-- Every claim (this one, PickPartitioned) takes only what the claimer runs
-- (store.Runs): rows whose signature (the fingerprint of the function's
-- name and signature when it was enqueued) is in run_signatures, or, for a
-- row written before signatures were recorded (an empty signature), whose
-- name is in run_names (both JSON arrays of strings); and rows not yet
-- started (app_version NULL) or started under run_version. The claim
-- records run_version as the row's app_version when it has none. runs_any
-- = 1 (a claimer that runs anything: tests and tools) lifts both. The
-- backlog reads (QueueBacklog, PartitionBacklog) apply the same filter, so
-- that a claimer that cannot run what waits sees nothing ready and takes
-- no write lock for it.
UPDATE workflows
SET state = 'PENDING',
    executor_id = CAST(@executor_id AS TEXT),
    started_ms = CAST(@now_ms AS INTEGER),
    attempts = attempts + 1,
    deadline_ms = CASE WHEN timeout_ms > 0 THEN CAST(@now_ms AS INTEGER) + timeout_ms END,
    app_version = coalesce(app_version, nullif(CAST(@run_version AS TEXT), ''))
WHERE workflow_id IN (
    SELECT p.workflow_id FROM workflows p
    WHERE p.queue_name = CAST(@queue_name AS TEXT)
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= CAST(@now_ms AS INTEGER))
      AND (CAST(@runs_any AS INTEGER) = 1
           OR p.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
           OR (p.signature = '' AND p.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
      AND (CAST(@runs_any AS INTEGER) = 1 OR p.app_version IS NULL OR p.app_version = CAST(@run_version AS TEXT))
    ORDER BY p.priority, p.seq
    LIMIT CAST(@max_rows AS INTEGER)
)
RETURNING *;

-- name: QueueBacklog :one
-- QueueBacklog says whether ENQUEUED rows of a queue are ready at now_ms,
-- and the earliest not_before_ms of those that are not (0 when none).
-- INDEXED BY: without statistics (a database never analyzed) SQLite took
-- workflows_started_idx for the queue_name alone, reading every row the
-- queue ever had, finished ones included, on every claim (more than half
-- of the CPU of 16 producers on 20,000 tasks).
SELECT
    EXISTS (
        SELECT 1 FROM workflows w INDEXED BY workflows_claim_idx
        WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'ENQUEUED'
          AND (w.not_before_ms IS NULL OR w.not_before_ms <= CAST(@now_ms AS INTEGER))
          AND (CAST(@runs_any AS INTEGER) = 1
               OR w.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
               OR (w.signature = '' AND w.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
          AND (CAST(@runs_any AS INTEGER) = 1 OR w.app_version IS NULL OR w.app_version = CAST(@run_version AS TEXT))
    ) AS ready,
    (SELECT CAST(coalesce(min(w.not_before_ms), 0) AS INTEGER) FROM workflows w
     WHERE w.queue_name = CAST(@queue_name AS TEXT) AND w.state = 'ENQUEUED'
       AND w.not_before_ms > CAST(@now_ms AS INTEGER)
       AND (CAST(@runs_any AS INTEGER) = 1
            OR w.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
            OR (w.signature = '' AND w.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
       AND (CAST(@runs_any AS INTEGER) = 1 OR w.app_version IS NULL OR w.app_version = CAST(@run_version AS TEXT))) AS next_delayed_ms;

-- name: PickPartitioned :many
-- PickPartitioned selects the rows a claim under per-partition limits takes
-- (ClaimIDs then claims them in the same transaction): a ready row is
-- eligible when the rows before it in its partition (FIFO order) plus the
-- partition's PENDING rows (or its starts in the partition's rate window)
-- stay under the partition's limits; the first max_rows eligible rows in
-- FIFO order are picked. 0 disables a partition limit. The caller does not
-- call it for a paused queue (see ClaimReady).
WITH arg AS (
    SELECT CAST(@now_ms AS INTEGER) AS now_ms,
           CAST(@partition_concurrency AS INTEGER) AS concurrency,
           CAST(@partition_rate_limit AS INTEGER) AS rate_limit,
           CAST(@partition_period_ms AS INTEGER) AS period_ms
),
busy AS (
    SELECT coalesce(b.partition_key, '') AS part,
           count(*) FILTER (WHERE b.state = 'PENDING') AS pending,
           count(*) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS starts
    FROM workflows b, arg
    WHERE b.queue_name = CAST(@queue_name AS TEXT)
      AND (b.state = 'PENDING' OR b.started_ms > arg.now_ms - arg.period_ms)
    GROUP BY 1
),
ranked AS (
    SELECT r.workflow_id, r.priority, r.seq, coalesce(r.partition_key, '') AS part,
           row_number() OVER (PARTITION BY coalesce(r.partition_key, '') ORDER BY r.priority, r.seq) AS pos
    FROM workflows r INDEXED BY workflows_claim_idx, arg -- see QueueBacklog
    WHERE r.queue_name = CAST(@queue_name AS TEXT)
      AND r.state = 'ENQUEUED'
      AND (r.not_before_ms IS NULL OR r.not_before_ms <= arg.now_ms)
      AND (CAST(@runs_any AS INTEGER) = 1
           OR r.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
           OR (r.signature = '' AND r.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
      AND (CAST(@runs_any AS INTEGER) = 1 OR r.app_version IS NULL OR r.app_version = CAST(@run_version AS TEXT))
)
SELECT ranked.workflow_id
FROM arg, ranked LEFT JOIN busy ON busy.part = ranked.part
WHERE (arg.concurrency = 0 OR ranked.pos <= arg.concurrency - coalesce(busy.pending, 0))
  AND (arg.rate_limit = 0 OR ranked.pos <= arg.rate_limit - coalesce(busy.starts, 0))
ORDER BY ranked.priority, ranked.seq
LIMIT CAST(@max_rows AS INTEGER);

-- name: ClaimIDs :many
-- ClaimIDs claims the ENQUEUED rows picked by PickPartitioned at now_ms.
UPDATE workflows
SET state = 'PENDING',
    executor_id = CAST(@executor_id AS TEXT),
    started_ms = CAST(@now_ms AS INTEGER),
    attempts = attempts + 1,
    deadline_ms = CASE WHEN timeout_ms > 0 THEN CAST(@now_ms AS INTEGER) + timeout_ms END,
    app_version = coalesce(app_version, nullif(CAST(@run_version AS TEXT), ''))
WHERE state = 'ENQUEUED' AND workflow_id IN (sqlc.slice('ids'))
RETURNING *;

-- name: PartitionBacklog :one
-- PartitionBacklog is QueueBacklog under per-partition limits: ready means
-- ready rows in a partition with room under its limits; partition_free_ms is
-- the earliest moment a partition whose ready rows wait only for its rate
-- window frees a slot (0 when none).
WITH arg AS (
    SELECT CAST(@now_ms AS INTEGER) AS now_ms,
           CAST(@partition_concurrency AS INTEGER) AS concurrency,
           CAST(@partition_rate_limit AS INTEGER) AS rate_limit,
           CAST(@partition_period_ms AS INTEGER) AS period_ms
),
busy AS (
    SELECT coalesce(b.partition_key, '') AS part,
           count(*) FILTER (WHERE b.state = 'PENDING') AS pending,
           count(*) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS starts,
           min(b.started_ms) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS oldest_ms
    FROM workflows b, arg
    WHERE b.queue_name = CAST(@queue_name AS TEXT)
      AND (b.state = 'PENDING' OR b.started_ms > arg.now_ms - arg.period_ms)
    GROUP BY 1
),
waiting AS (
    SELECT DISTINCT coalesce(r.partition_key, '') AS part
    FROM workflows r INDEXED BY workflows_claim_idx, arg -- see QueueBacklog
    WHERE r.queue_name = CAST(@queue_name AS TEXT)
      AND r.state = 'ENQUEUED'
      AND (r.not_before_ms IS NULL OR r.not_before_ms <= arg.now_ms)
      AND (CAST(@runs_any AS INTEGER) = 1
           OR r.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
           OR (r.signature = '' AND r.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
      AND (CAST(@runs_any AS INTEGER) = 1 OR r.app_version IS NULL OR r.app_version = CAST(@run_version AS TEXT))
),
room AS (
    SELECT waiting.part,
           (arg.concurrency = 0 OR coalesce(busy.pending, 0) < arg.concurrency) AS concurrency_room,
           (arg.rate_limit = 0 OR coalesce(busy.starts, 0) < arg.rate_limit) AS rate_room,
           busy.oldest_ms + arg.period_ms AS free_ms
    FROM arg, waiting LEFT JOIN busy ON busy.part = waiting.part
)
SELECT
    EXISTS (SELECT 1 FROM room WHERE room.concurrency_room AND room.rate_room) AS ready,
    (SELECT CAST(coalesce(min(room.free_ms), 0) AS INTEGER) FROM room
     WHERE room.concurrency_room AND NOT room.rate_room) AS partition_free_ms,
    (SELECT CAST(coalesce(min(d.not_before_ms), 0) AS INTEGER) FROM workflows d, arg
     WHERE d.queue_name = CAST(@queue_name AS TEXT) AND d.state = 'ENQUEUED'
       AND d.not_before_ms > arg.now_ms
       AND (CAST(@runs_any AS INTEGER) = 1
            OR d.signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
            OR (d.signature = '' AND d.name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
       AND (CAST(@runs_any AS INTEGER) = 1 OR d.app_version IS NULL OR d.app_version = CAST(@run_version AS TEXT))) AS next_delayed_ms;
