-- name: RecordTick :exec
-- RecordTick notes that the tick at last_tick_ms of the scheduled function
-- name was created, unless a later one is noted already.
INSERT INTO schedules (name, last_tick_ms)
VALUES (CAST(@name AS TEXT), CAST(@last_tick_ms AS INTEGER))
ON CONFLICT (name) DO UPDATE
SET last_tick_ms = max(schedules.last_tick_ms, excluded.last_tick_ms);

-- name: LastTick :one
-- LastTick returns the latest tick noted for the scheduled function name.
SELECT last_tick_ms FROM schedules WHERE name = CAST(@name AS TEXT);
