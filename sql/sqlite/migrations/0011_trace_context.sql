-- dbosgen schema, version 11 (SQLite): the enqueuer's trace context. See
-- the Postgres migration of the same version.
ALTER TABLE workflows ADD COLUMN trace_context TEXT;
