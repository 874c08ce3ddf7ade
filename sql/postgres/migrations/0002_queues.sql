-- dbosgen schema, version 2 (Postgres): queue declarations.
--
-- One row per declared queue: the limits its latest declaration set (the
-- newest Launch of any process declaring the queue), which every claim of
-- every process reads, so that the database, not each process's memory, is
-- the single source of truth for a queue's limits. 0 means "no limit"; a
-- queue without a row (enqueued to but never declared) has no limits.
-- Periods are whole milliseconds. declared_by is the executor ID of the
-- process whose declaration this is, declared_ms the database clock then.
CREATE TABLE dbos.queues (
    name                     TEXT PRIMARY KEY,
    concurrency              BIGINT NOT NULL DEFAULT 0,
    worker_concurrency       BIGINT NOT NULL DEFAULT 0,
    rate_limit               BIGINT NOT NULL DEFAULT 0,
    rate_period_ms           BIGINT NOT NULL DEFAULT 0,
    partition_concurrency    BIGINT NOT NULL DEFAULT 0,
    partition_rate_limit     BIGINT NOT NULL DEFAULT 0,
    partition_rate_period_ms BIGINT NOT NULL DEFAULT 0,
    declared_by              TEXT NOT NULL,
    declared_ms              BIGINT NOT NULL,
    CONSTRAINT queues_limits_check CHECK (
        concurrency >= 0 AND worker_concurrency >= 0
        AND rate_limit >= 0 AND rate_period_ms >= 0
        AND (rate_limit = 0 OR rate_period_ms > 0)
        AND partition_concurrency >= 0
        AND partition_rate_limit >= 0 AND partition_rate_period_ms >= 0
        AND (partition_rate_limit = 0 OR partition_rate_period_ms > 0)
    )
);
