-- name: RecordTick :exec
-- RecordTick notes that the tick at last_tick_ms of the scheduled function
-- name was created, unless a later one is noted already.
INSERT INTO dbos.schedules (name, last_tick_ms)
VALUES (@name::text, @last_tick_ms::bigint)
ON CONFLICT (name) DO UPDATE
SET last_tick_ms = greatest(dbos.schedules.last_tick_ms, excluded.last_tick_ms);

-- name: LastTick :one
-- LastTick returns the latest tick noted for the scheduled function name.
SELECT last_tick_ms FROM dbos.schedules WHERE name = @name::text;
