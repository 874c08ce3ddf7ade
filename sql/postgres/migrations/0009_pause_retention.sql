-- dbosgen schema, version 9 (Postgres): queue pause and retention.
--
-- paused: a paused queue starts nothing. Every claim of every process
-- (limited or not, by a dispatcher, a completion or an enqueue) reads the
-- flag in the lookup of the queue's row it already makes, and claims nothing
-- while it is set; running workflows finish, enqueues are accepted and wait
-- as ENQUEUED. Pausing a queue that has no row creates one without limits
-- and with declared_by '' (not declared yet); a declaration (UpsertQueue)
-- never changes the flag.
ALTER TABLE dbos.queues ADD COLUMN paused BOOLEAN NOT NULL DEFAULT false;

-- Retention: finished workflows in order of completion, for the sweeps that
-- delete those that finished longer ago than Config.Retention. Partial:
-- completed_ms is set exactly while a workflow is in a terminal state, so
-- enqueues and claims never add to it; a completion adds one entry.
CREATE INDEX workflows_completed_idx ON dbos.workflows (completed_ms, seq)
    WHERE completed_ms IS NOT NULL;
