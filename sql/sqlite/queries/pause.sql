-- Queue pause (see the Postgres queries of the same name). PauseQueue and
-- UnpauseQueue run after GetQueue in one IMMEDIATE transaction, which holds
-- the file's write lock: claims read the flag before or after the change.

-- name: PauseQueue :exec
-- PauseQueue sets a queue's paused flag, creating the queue's row (no
-- limits, declared_by '': not declared yet) when it has none.
INSERT INTO queues (name, declared_by, declared_ms, paused)
VALUES (
    CAST(@name AS TEXT), '',
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER), 1
)
ON CONFLICT (name) DO UPDATE SET paused = 1;

-- name: UnpauseQueue :exec
-- UnpauseQueue clears a queue's paused flag (nothing when it has no row).
UPDATE queues SET paused = 0 WHERE name = CAST(@name AS TEXT);
