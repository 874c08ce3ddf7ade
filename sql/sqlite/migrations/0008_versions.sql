-- dbosgen schema, version 8 (SQLite): application versions, and what each
-- executor runs. See the Postgres migration of the same version.
ALTER TABLE workflows ADD COLUMN app_version TEXT;
ALTER TABLE workflows ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE executors ADD COLUMN app_version TEXT NOT NULL DEFAULT '';
ALTER TABLE executors ADD COLUMN functions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE executors ADD COLUMN queues TEXT NOT NULL DEFAULT '[]';
ALTER TABLE executors ADD COLUMN reaped_ms INTEGER;
