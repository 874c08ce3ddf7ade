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

-- name: ListQueues :many
-- ListQueues returns, for operators, every queue that has a stored row or
-- unfinished workflows: its declaration (zero limits and declared_by ''
-- when it has none), its pause flag, and what its workflows do now: how
-- many are ENQUEUED and PENDING, and how many started in the last minute
-- and in its rate limit's period (0 without one), by the database clock.
-- Each count reads one of the indexes claims read; a read of all queues
-- takes no lock and never waits for a claim.
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms),
names AS (
    SELECT q.name FROM dbos.queues q
    UNION
    -- Each half reads a partial index of unfinished rows only.
    SELECT w.queue_name FROM dbos.workflows w WHERE w.state = 'ENQUEUED'
    UNION
    SELECT w.queue_name FROM dbos.workflows w
    WHERE w.state = 'PENDING' AND w.queue_name IS NOT NULL
)
SELECT
    n.name::text AS name,
    coalesce(q.concurrency, 0)::bigint AS concurrency,
    coalesce(q.worker_concurrency, 0)::bigint AS worker_concurrency,
    coalesce(q.rate_limit, 0)::bigint AS rate_limit,
    coalesce(q.rate_period_ms, 0)::bigint AS rate_period_ms,
    coalesce(q.partition_concurrency, 0)::bigint AS partition_concurrency,
    coalesce(q.partition_rate_limit, 0)::bigint AS partition_rate_limit,
    coalesce(q.partition_rate_period_ms, 0)::bigint AS partition_rate_period_ms,
    coalesce(q.paused, false)::boolean AS paused,
    coalesce(q.declared_by, '')::text AS declared_by,
    coalesce(q.declared_ms, 0)::bigint AS declared_ms,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = n.name AND w.state = 'ENQUEUED')::bigint AS enqueued,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = n.name AND w.state = 'PENDING')::bigint AS running,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = n.name AND w.started_ms > now.ms - 60000)::bigint AS started_last_minute,
    (CASE WHEN coalesce(q.rate_limit, 0) > 0 THEN
        (SELECT count(*) FROM dbos.workflows w
         WHERE w.queue_name = n.name AND w.started_ms > now.ms - q.rate_period_ms)
     ELSE 0 END)::bigint AS started_in_rate_period
FROM names n
CROSS JOIN now
LEFT JOIN dbos.queues q ON q.name = n.name
ORDER BY n.name;
