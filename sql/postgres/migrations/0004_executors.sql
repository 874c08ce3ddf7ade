-- dbosgen schema, version 4 (Postgres): executor leases.
--
-- Every live process (an executor) renews its lease: expires_ms is the
-- database clock plus the lease duration. An executor whose lease expired
-- is presumed dead: a live executor deletes its row and takes over its
-- PENDING workflows (queued ones go back to ENQUEUED on their queue, others
-- run on the taker), which resume from their checkpoints. A presumed-dead
-- process that was only slow cannot commit late: completions are fenced by
-- the owning executor ID, and a checkpoint is written once per step.
CREATE TABLE dbos.executors (
    executor_id  TEXT PRIMARY KEY,
    heartbeat_ms BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
