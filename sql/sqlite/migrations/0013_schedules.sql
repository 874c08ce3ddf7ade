-- dbosgen schema, version 13 (SQLite): the ticks of scheduled workflows.
-- See the Postgres migration of the same version.
CREATE TABLE schedules (
    name         TEXT PRIMARY KEY,
    last_tick_ms INTEGER NOT NULL
);
