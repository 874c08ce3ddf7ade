-- dbosgen schema, version 4 (SQLite): executor leases. See the Postgres
-- migration of the same version for the rules.
CREATE TABLE executors (
    executor_id  TEXT PRIMARY KEY,
    heartbeat_ms INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
);
