-- dbosgen schema, version 8 (Postgres): application versions, and what
-- each executor runs.
--
-- workflows.app_version is the application version a workflow started
-- under, set when it starts (at its claim, or at its insert when it is
-- started directly), NULL until then. Its checkpoints were recorded by
-- that version's code, so only an executor of the same version resumes it,
-- takes it over or claims it again.
--
-- workflows.signature is the fingerprint of the function's registered name
-- and signature (parameter names and types, result type) in the process
-- that enqueued or started it: its input was encoded for those parameters.
-- Only an executor that registers the function with the same fingerprint
-- runs it. Rows written before this version have '': any executor that
-- registers the function's name runs them.
--
-- executors: what each executor recorded about itself with its lease, read
-- to say why work waits: its application version, the functions it
-- registers (a JSON object, name -> fingerprint as in workflows.signature)
-- and the queues it runs (a JSON array of names). An executor that runs
-- nothing (client-only) records no functions and no queues.
--
-- executors.reaped_ms: when a live executor found the executor's lease
-- expired and took over its work (NULL while it renews its lease). The row
-- of a dead executor stays while it owns PENDING workflows nobody has
-- taken over (those no live executor can run, or claimed after it was
-- reaped), so that a taker that can run them finds them; it is deleted an
-- hour after the reap once it owns none.
ALTER TABLE dbos.workflows ADD COLUMN app_version TEXT;
ALTER TABLE dbos.workflows ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE dbos.executors ADD COLUMN app_version TEXT NOT NULL DEFAULT '';
ALTER TABLE dbos.executors ADD COLUMN functions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE dbos.executors ADD COLUMN queues TEXT NOT NULL DEFAULT '[]';
ALTER TABLE dbos.executors ADD COLUMN reaped_ms BIGINT;
