-- name: ListenEnqueued :exec
LISTEN dbos_enqueued;

-- name: ListenCompleted :exec
LISTEN dbos_completed;
