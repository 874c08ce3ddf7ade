-- dbosgen schema, version 12 (SQLite): messages between workflows and
-- workflows' events. See the Postgres migration of the same version.
CREATE TABLE messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id TEXT NOT NULL,
    topic          TEXT NOT NULL,
    payload        BLOB NOT NULL,
    created_ms     INTEGER NOT NULL
);

CREATE INDEX messages_destination_idx ON messages (destination_id, topic, seq);

CREATE TABLE events (
    workflow_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BLOB NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, key)
) WITHOUT ROWID;
