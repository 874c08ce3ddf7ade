-- name: GetQueue :one
-- GetQueue returns a queue's declaration (no row when it has none). Under
-- LockQueue it is the declaration DeclareQueue is about to replace.
SELECT * FROM dbos.queues WHERE name = @name::text;

-- name: UpsertQueue :exec
-- UpsertQueue records a queue's declaration, replacing any earlier one: the
-- newest declaration wins. DeclareQueue runs it under LockQueue, after
-- GetQueue, so that concurrent declarations of one queue are serialized and
-- each one learns exactly which declaration it replaced; the lock is the one
-- limited claims hold, so a claim reads either the old limits or the new
-- ones, never a declaration in flight.
INSERT INTO dbos.queues (
    name, concurrency, worker_concurrency, rate_limit, rate_period_ms,
    partition_concurrency, partition_rate_limit, partition_rate_period_ms,
    declared_by, declared_ms
)
VALUES (
    @name::text, @concurrency::bigint, @worker_concurrency::bigint,
    @rate_limit::bigint, @rate_period_ms::bigint,
    @partition_concurrency::bigint, @partition_rate_limit::bigint,
    @partition_rate_period_ms::bigint,
    @declared_by::text, dbos.now_ms()
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
