-- name: InsertMessage :one
-- InsertMessage queues a message for workflow destination_id on topic,
-- unless that workflow does not exist: no row is returned then.
INSERT INTO messages (destination_id, topic, payload, created_ms)
SELECT
    CAST(@destination_id AS TEXT),
    CAST(@topic AS TEXT),
    CAST(@payload AS BLOB),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
FROM workflows w
WHERE w.workflow_id = CAST(@destination_id AS TEXT)
RETURNING seq;

-- name: TakeMessage :one
-- TakeMessage deletes and returns the oldest message of (destination_id,
-- topic); no row when none waits. Its caller checkpoints it as a step's
-- outcome in the same transaction.
DELETE FROM messages
WHERE seq = (
    SELECT o.seq FROM messages o
    WHERE o.destination_id = CAST(@destination_id AS TEXT) AND o.topic = CAST(@topic AS TEXT)
    ORDER BY o.seq
    LIMIT 1
)
RETURNING payload;

-- name: UpsertEvent :exec
-- UpsertEvent sets the value of a workflow's event key: the latest wins.
INSERT INTO events (workflow_id, key, value, updated_ms)
VALUES (
    CAST(@workflow_id AS TEXT),
    CAST(@key AS TEXT),
    CAST(@value AS BLOB),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
)
ON CONFLICT (workflow_id, key) DO UPDATE
SET value = excluded.value, updated_ms = excluded.updated_ms;

-- name: GetEvent :one
-- GetEvent reads the value of a workflow's event key; no row when unset.
SELECT e.value FROM events e
WHERE e.workflow_id = CAST(@workflow_id AS TEXT) AND e.key = CAST(@key AS TEXT);

-- name: DeleteMessagesOf :exec
-- DeleteMessagesOf deletes the messages sent to workflows about to be
-- deleted.
DELETE FROM messages WHERE destination_id IN (sqlc.slice('ids'));

-- name: DeleteEventsOf :exec
-- DeleteEventsOf deletes the events of workflows about to be deleted.
DELETE FROM events WHERE workflow_id IN (sqlc.slice('ids'));

-- name: PeekMessage :one
-- PeekMessage returns the seq of the oldest message of (destination_id,
-- topic), no row when none waits: a waiting receiver's poll reads it
-- without taking the write lock, which TakeMessage's transaction holds.
SELECT o.seq FROM messages o
WHERE o.destination_id = CAST(@destination_id AS TEXT) AND o.topic = CAST(@topic AS TEXT)
ORDER BY o.seq
LIMIT 1;
