-- dbosgen schema, version 10 (Postgres): when a step started.
--
-- started_ms is the executor's clock (in ms since the epoch) when
-- the step's call began (a step function's first line, a wait for a
-- child's result); created_ms, when its checkpoint was written. The two
-- make a workflow's timeline. NULL for the checkpoints written before this
-- version and for those recorded at once (an enqueue), whose start is their
-- creation.
ALTER TABLE dbos.steps ADD COLUMN started_ms BIGINT;
