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
