-- dbosgen schema, version 9 (SQLite): queue pause and retention. See the
-- Postgres migration of the same version for paused and the index (here the
-- index's rowid, seq, orders ties).
ALTER TABLE queues ADD COLUMN paused BOOLEAN NOT NULL DEFAULT 0;

CREATE INDEX workflows_completed_idx ON workflows (completed_ms)
    WHERE completed_ms IS NOT NULL;

-- The retention sweeper's election: at most one process sweeps at a time.
-- A process sweeps only after it set its executor ID here with expires_ms in
-- the future (taking the row over only once it expired), renews expires_ms
-- with every batch it deletes, and sets it to 0 when done. A process that
-- dies while sweeping holds the row until it expires.
CREATE TABLE retention_sweeper (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    executor_id TEXT NOT NULL,
    expires_ms  INTEGER NOT NULL
);
