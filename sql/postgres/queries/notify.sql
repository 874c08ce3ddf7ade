-- name: ListenEnqueued :exec
LISTEN dbos_enqueued;

-- name: ListenCompleted :exec
LISTEN dbos_completed;

-- name: ListenHungry :exec
LISTEN dbos_hungry;

-- name: ListenMessage :exec
LISTEN dbos_message;

-- name: ListenEvent :exec
LISTEN dbos_event;

-- name: Notify :exec
-- Notify sends one notification per (channel, payload) pair, all in one
-- statement and so in one transaction: Postgres serializes the commits of
-- notifying transactions server-wide, so one commit should carry many.
-- The channels and payloads (Store.Notify builds them, the listener parses
-- them):
--
--   dbos_enqueued   payload: a queue name; ENQUEUED rows appeared on it.
--   dbos_completed  payload: a JSON array of {"queue": q, "id": id} for
--                   workflows that reached a terminal state ("queue" is ""
--                   for a workflow started without a queue), at most 7900
--                   bytes; or the string "resync": listeners must recheck
--                   everything.
--   dbos_hungry     payload: a queue name; a process wants tasks of it that
--                   the queue's concurrency limit keeps it from claiming.
--   dbos_message    payload: a workflow ID; a message was sent to it.
--   dbos_event      payload: a workflow ID; it set an event.
--
-- The transaction commits without waiting for its WAL flush
-- (synchronous_commit off, for this transaction only): it records nothing
-- that must survive a crash, and a crash loses the notifications anyway.
SELECT pg_notify((@channels::text[])[i], (@payloads::text[])[i])
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async,
     generate_subscripts(@channels::text[], 1) AS i;
