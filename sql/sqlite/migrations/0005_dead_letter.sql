-- dbosgen schema, version 5 (SQLite): the DEAD_LETTER state, for a
-- workflow recovered more times than its max_recovery allows (see the
-- Postgres migration of the same version). SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with the same columns, in
-- the same order, and its indexes made again; AUTOINCREMENT keeps counting
-- from the highest seq.
CREATE TABLE workflows_v5 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id   TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL
        CHECK (state IN ('ENQUEUED', 'PENDING', 'SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER')),
    queue_name    TEXT,              -- NULL: started directly, not enqueued
    executor_id   TEXT,              -- NULL until claimed
    input         BLOB,
    output        BLOB,
    error         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    dedup_id      TEXT,              -- cleared when the workflow finishes
    partition_key TEXT,
    parent_id     TEXT,
    timeout_ms    INTEGER NOT NULL DEFAULT 0,
    deadline_ms   INTEGER,
    not_before_ms INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL,
    started_ms    INTEGER,
    completed_ms  INTEGER
);

INSERT INTO workflows_v5 SELECT * FROM workflows;
DROP TABLE workflows;
ALTER TABLE workflows_v5 RENAME TO workflows;

-- The claim index: only waiting rows, in FIFO order, so finished work leaves it.
CREATE INDEX workflows_claim_idx ON workflows (queue_name, priority, seq)
    WHERE state = 'ENQUEUED';

-- The next delayed row of a queue (RetryAt).
CREATE INDEX workflows_delayed_idx ON workflows (queue_name, not_before_ms)
    WHERE state = 'ENQUEUED' AND not_before_ms IS NOT NULL;

-- Rate windows: starts of a queue by time.
CREATE INDEX workflows_started_idx ON workflows (queue_name, started_ms);

-- Concurrency counts and recovery: running rows by queue and owner.
CREATE INDEX workflows_pending_idx ON workflows (queue_name, executor_id)
    WHERE state = 'PENDING';
CREATE INDEX workflows_pending_executor_idx ON workflows (executor_id, seq)
    WHERE state = 'PENDING';

-- Deduplication: one live holder of a deduplication ID per queue.
CREATE UNIQUE INDEX workflows_dedup_idx ON workflows (queue_name, dedup_id)
    WHERE dedup_id IS NOT NULL;
