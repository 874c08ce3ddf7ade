-- name: InsertMessage :one
-- InsertMessage queues a message for workflow destination_id on topic,
-- unless that workflow does not exist: no row is returned then.
INSERT INTO dbos.messages (destination_id, topic, payload, created_ms)
SELECT @destination_id::text, @topic::text, @payload::bytea, dbos.now_ms()
FROM dbos.workflows w
WHERE w.workflow_id = @destination_id::text
RETURNING seq;

-- name: TakeMessage :one
-- TakeMessage deletes and returns the oldest message of (destination_id,
-- topic); no row when none waits. Its caller checkpoints it as a step's
-- outcome in the same transaction.
DELETE FROM dbos.messages m
WHERE m.seq = (
    SELECT o.seq FROM dbos.messages o
    WHERE o.destination_id = @destination_id::text AND o.topic = @topic::text
    ORDER BY o.seq
    LIMIT 1
    FOR UPDATE
)
RETURNING m.payload;

-- name: UpsertEvent :exec
-- UpsertEvent sets the value of a workflow's event key: the latest wins.
INSERT INTO dbos.events (workflow_id, key, value, updated_ms)
VALUES (@workflow_id::text, @key::text, @value::bytea, dbos.now_ms())
ON CONFLICT (workflow_id, key) DO UPDATE
SET value = excluded.value, updated_ms = excluded.updated_ms;

-- name: GetEvent :one
-- GetEvent reads the value of a workflow's event key; no row when unset.
SELECT e.value FROM dbos.events e
WHERE e.workflow_id = @workflow_id::text AND e.key = @key::text;

-- name: PeekMessage :one
-- PeekMessage returns the seq of the oldest message of (destination_id,
-- topic), no row when none waits: a waiting receiver's poll reads it
-- before it opens a transaction to take the message.
SELECT o.seq FROM dbos.messages o
WHERE o.destination_id = @destination_id::text AND o.topic = @topic::text
ORDER BY o.seq
LIMIT 1;
