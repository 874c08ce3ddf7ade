-- dbosgen schema, version 1 (SQLite).
--
-- The same tables as on Postgres, without a schema. Times are epoch
-- milliseconds read from the database clock:
--   CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
-- (unixepoch('subsec') * 1000 without needing SQLite 3.42). SQLite has no
-- notifications: processes poll.

-- Applied migration versions (the numeric prefix of each file name).
CREATE TABLE migrations (
    version    INTEGER PRIMARY KEY,
    applied_ms INTEGER NOT NULL
);

CREATE TABLE workflows (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id   TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL
        CHECK (state IN ('ENQUEUED', 'PENDING', 'SUCCESS', 'ERROR', 'CANCELLED')),
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

-- Checkpoints: the recorded outcome of each step of a workflow.
CREATE TABLE steps (
    workflow_id TEXT NOT NULL,
    step_id     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    output      BLOB,
    error       TEXT,
    child_id    TEXT,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, step_id)
) WITHOUT ROWID;
