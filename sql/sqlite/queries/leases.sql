-- name: RenewLease :exec
-- RenewLease records that an executor is alive until now + lease_ms, and
-- what it runs (see the Postgres query).
INSERT INTO executors (executor_id, heartbeat_ms, expires_ms, app_version, functions, queues)
VALUES (
    CAST(@executor_id AS TEXT),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER),
    CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) + CAST(@lease_ms AS INTEGER),
    CAST(@app_version AS TEXT),
    CAST(@functions AS TEXT),
    CAST(@queues AS TEXT)
)
ON CONFLICT (executor_id) DO UPDATE
SET heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms,
    app_version = excluded.app_version, functions = excluded.functions, queues = excluded.queues,
    reaped_ms = NULL;

-- name: ReapExecutors :many
-- ReapExecutors marks as reaped the executors, other than the caller,
-- whose lease expired, and returns their IDs (see the Postgres query).
UPDATE executors
SET reaped_ms = CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
WHERE expires_ms < CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
  AND reaped_ms IS NULL
  AND executor_id <> CAST(@executor_id AS TEXT)
RETURNING executor_id;

-- name: ForgetExecutors :exec
-- ForgetExecutors deletes the executors reaped more than an hour ago that
-- own no PENDING workflow.
DELETE FROM executors
WHERE reaped_ms < CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) - 3600000
  AND NOT EXISTS (
      SELECT 1 FROM workflows w
      WHERE w.state = 'PENDING' AND w.executor_id = executors.executor_id
  );

-- name: OrphanOwners :many
-- OrphanOwners returns the owners of the orphaned PENDING workflows that
-- the caller would move (see the Postgres query).
SELECT CAST(e.executor_id AS TEXT) AS owner
FROM executors e
WHERE e.expires_ms < CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
  AND e.executor_id <> CAST(@executor_id AS TEXT)
  AND EXISTS (
      SELECT 1 FROM workflows
      WHERE state = 'PENDING' AND executor_id = e.executor_id
        AND (queue_name IS NOT NULL OR (
            (CAST(@runs_any AS INTEGER) = 1
             OR signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
             OR (signature = '' AND name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
            AND (CAST(@runs_any AS INTEGER) = 1 OR app_version IS NULL OR app_version = CAST(@run_version AS TEXT))))
  )
UNION ALL
SELECT CAST('' AS TEXT) AS owner
WHERE EXISTS (
    SELECT 1 FROM workflows
    WHERE state = 'PENDING' AND executor_id IS NULL
      AND (queue_name IS NOT NULL OR (
          (CAST(@runs_any AS INTEGER) = 1
           OR signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
           OR (signature = '' AND name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
          AND (CAST(@runs_any AS INTEGER) = 1 OR app_version IS NULL OR app_version = CAST(@run_version AS TEXT))))
);

-- name: TakeOverWorkflows :many
-- TakeOverWorkflows moves the orphaned PENDING workflows of one owner (empty
-- for those owned by none): queued ones back to ENQUEUED, whoever can run
-- them; those started without a queue that the taker runs (see the runs
-- filter of claims.sql) to PENDING under the taker with one more attempt.
-- It leaves the others as they are.
UPDATE workflows
SET state = CASE WHEN queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = CASE WHEN queue_name IS NULL THEN CAST(@executor_id AS TEXT) END,
    attempts = CASE WHEN queue_name IS NULL THEN attempts + 1 ELSE attempts END,
    started_ms = CASE WHEN queue_name IS NULL
        THEN CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) ELSE started_ms END,
    deadline_ms = CASE WHEN queue_name IS NULL THEN deadline_ms END,
    app_version = CASE WHEN queue_name IS NULL
        THEN coalesce(app_version, nullif(CAST(@run_version AS TEXT), '')) ELSE app_version END
WHERE state = 'PENDING'
  AND (executor_id = CAST(@owner AS TEXT) OR (CAST(@owner AS TEXT) = '' AND executor_id IS NULL))
  AND (queue_name IS NOT NULL OR (
      (CAST(@runs_any AS INTEGER) = 1
       OR signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
       OR (signature = '' AND name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
      AND (CAST(@runs_any AS INTEGER) = 1 OR app_version IS NULL OR app_version = CAST(@run_version AS TEXT))))
RETURNING *;

-- name: OwnedWorkflows :many
-- OwnedWorkflows returns which of the given workflows are still PENDING
-- under executor_id: the others were cancelled, finished or taken over.
-- (executor_id comes first: sqlc numbers it ?1, and the slice's
-- placeholders follow it.)
SELECT workflow_id FROM workflows
WHERE executor_id = CAST(@executor_id AS TEXT)
  AND state = 'PENDING'
  AND workflow_id IN (sqlc.slice(ids));

-- name: LiveExecutors :many
-- LiveExecutors returns the executors whose lease has not expired, with
-- what they recorded about themselves (see RenewLease).
SELECT executor_id, app_version, functions, queues, expires_ms
FROM executors
WHERE expires_ms >= CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
ORDER BY executor_id;

-- name: WaitingWork :many
-- WaitingWork counts the workflows that wait for an executor, by function,
-- fingerprint, version, queue and state: the first per_queue ENQUEUED rows
-- of each declared queue in claim order, and every PENDING row whose
-- executor holds no live lease (or that none owns); see the Postgres query.
SELECT x.name AS name,
       x.signature AS signature,
       CAST(coalesce(x.app_version, '') AS TEXT) AS app_version,
       CAST(coalesce(x.queue_name, '') AS TEXT) AS queue_name,
       x.state AS state,
       count(*) AS n
FROM (
    -- Each declared queue's head, found through the claim index: a
    -- window over every ENQUEUED row would read the whole backlog.
    SELECT h.name, h.signature, h.app_version, h.queue_name, h.state
    FROM queues q
    JOIN workflows h ON h.seq IN (
        SELECT x.seq FROM workflows x
        WHERE x.queue_name = q.name AND x.state = 'ENQUEUED'
        ORDER BY x.priority, x.seq
        LIMIT CAST(@per_queue AS INTEGER)
    )
    UNION ALL
    SELECT w.name, w.signature, w.app_version, w.queue_name, w.state
    FROM workflows w
    WHERE w.state = 'PENDING'
      AND NOT EXISTS (
          SELECT 1 FROM executors e
          WHERE e.executor_id = w.executor_id
            AND e.expires_ms >= CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
      )
) AS x
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5;
