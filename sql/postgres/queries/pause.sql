-- Queue pause (see migration 0009). PauseQueue and UnpauseQueue run under
-- LockQueue, after GetQueue, so that a limited claim reads the flag either
-- before or after the change, and the caller learns the flag it replaced.

-- name: PauseQueue :exec
-- PauseQueue sets a queue's paused flag, creating the queue's row (no
-- limits, declared_by '': not declared yet) when it has none.
INSERT INTO dbos.queues (name, declared_by, declared_ms, paused)
VALUES (@name::text, '', dbos.now_ms(), true)
ON CONFLICT (name) DO UPDATE SET paused = true;

-- name: UnpauseQueue :exec
-- UnpauseQueue clears a queue's paused flag (nothing when it has no row).
UPDATE dbos.queues SET paused = false WHERE name = @name::text;
