-- dbosgen schema, version 6 (Postgres): notifications leave the write path.
--
-- The triggers of version 1 sent NOTIFY from inside every transaction that
-- inserted or finished a workflow. Postgres serializes the commits of
-- notifying transactions server-wide (they take one lock on the database's
-- notification queue and hold it through the commit's WAL flush), so every
-- enqueue and every completion of every process queued behind one another.
-- The runtime now sends the same notifications itself, after its writes
-- commit, batched: many enqueues and completions in one statement of
-- Store.Notify (sql/postgres/queries/notify.sql), which documents the
-- channels and payloads (unchanged).
DROP TRIGGER workflows_notify_inserted ON dbos.workflows;
DROP TRIGGER workflows_notify_updated ON dbos.workflows;
DROP FUNCTION dbos.notify_inserted();
DROP FUNCTION dbos.notify_updated();
