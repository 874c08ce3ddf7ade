-- name: GetQueue :one
-- GetQueue returns a queue's declaration (no row when it has none). In
-- DeclareQueue's IMMEDIATE transaction it is the declaration about to be
-- replaced.
SELECT * FROM queues WHERE name = CAST(@name AS TEXT);

-- name: UpsertQueue :exec
-- UpsertQueue records a queue's declaration, replacing any earlier one: the
-- newest declaration wins. DeclareQueue runs it after GetQueue in one
-- IMMEDIATE transaction, which holds the file's write lock: concurrent
-- declarations (and claims) of any process are serialized with it.
INSERT INTO queues (
    name, concurrency, worker_concurrency, rate_limit, rate_period_ms,
    partition_concurrency, partition_rate_limit, partition_rate_period_ms,
    declared_by, declared_ms
)
VALUES (
    CAST(@name AS TEXT), CAST(@concurrency AS INTEGER),
    CAST(@worker_concurrency AS INTEGER), CAST(@rate_limit AS INTEGER),
    CAST(@rate_period_ms AS INTEGER), CAST(@partition_concurrency AS INTEGER),
    CAST(@partition_rate_limit AS INTEGER),
    CAST(@partition_rate_period_ms AS INTEGER),
    CAST(@declared_by AS TEXT),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
)
ON CONFLICT (name) DO UPDATE
SET concurrency = excluded.concurrency,
    worker_concurrency = excluded.worker_concurrency,
    rate_limit = excluded.rate_limit,
    rate_period_ms = excluded.rate_period_ms,
    partition_concurrency = excluded.partition_concurrency,
    partition_rate_limit = excluded.partition_rate_limit,
    partition_rate_period_ms = excluded.partition_rate_period_ms,
    declared_by = excluded.declared_by,
    declared_ms = excluded.declared_ms;

-- name: ListQueues :many
-- ListQueues returns, for operators, every queue that has a stored row or
-- unfinished workflows: its declaration (zero limits and declared_by ''
-- when it has none), its pause flag, and what its workflows do now: how
-- many are ENQUEUED and PENDING, and how many started in the last minute
-- and in its rate limit's period (0 without one). Each count reads one of
-- the indexes claims read.
WITH now AS (SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms),
names AS (
    SELECT q.name FROM queues q
    UNION
    -- Each half reads a partial index of unfinished rows only.
    SELECT w.queue_name FROM workflows w WHERE w.state = 'ENQUEUED'
    UNION
    SELECT w.queue_name FROM workflows w
    WHERE w.state = 'PENDING' AND w.queue_name IS NOT NULL
)
SELECT
    CAST(n.name AS TEXT) AS name,
    CAST(coalesce(q.concurrency, 0) AS INTEGER) AS concurrency,
    CAST(coalesce(q.worker_concurrency, 0) AS INTEGER) AS worker_concurrency,
    CAST(coalesce(q.rate_limit, 0) AS INTEGER) AS rate_limit,
    CAST(coalesce(q.rate_period_ms, 0) AS INTEGER) AS rate_period_ms,
    CAST(coalesce(q.partition_concurrency, 0) AS INTEGER) AS partition_concurrency,
    CAST(coalesce(q.partition_rate_limit, 0) AS INTEGER) AS partition_rate_limit,
    CAST(coalesce(q.partition_rate_period_ms, 0) AS INTEGER) AS partition_rate_period_ms,
    CAST(coalesce(q.paused, 0) AS INTEGER) AS paused,
    CAST(coalesce(q.declared_by, '') AS TEXT) AS declared_by,
    CAST(coalesce(q.declared_ms, 0) AS INTEGER) AS declared_ms,
    CAST((SELECT count(*) FROM workflows w
     WHERE w.queue_name = n.name AND w.state = 'ENQUEUED') AS INTEGER) AS enqueued,
    CAST((SELECT count(*) FROM workflows w
     WHERE w.queue_name = n.name AND w.state = 'PENDING') AS INTEGER) AS running,
    CAST((SELECT count(*) FROM workflows w
     WHERE w.queue_name = n.name AND w.started_ms > now.ms - 60000) AS INTEGER) AS started_last_minute,
    CAST(CASE WHEN coalesce(q.rate_limit, 0) > 0 THEN
        (SELECT count(*) FROM workflows w
         WHERE w.queue_name = n.name AND w.started_ms > now.ms - q.rate_period_ms)
     ELSE 0 END AS INTEGER) AS started_in_rate_period
FROM names n
CROSS JOIN now
LEFT JOIN queues q ON q.name = n.name
ORDER BY n.name;
