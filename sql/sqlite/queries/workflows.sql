-- name: InsertWorkflow :one
-- InsertWorkflow inserts a workflow unless its ID exists (then no row is
-- returned), with the attempts given (storekit.InsertAttempts: 1 for a
-- PENDING row, 0 for an ENQUEUED one; a fork's may be one more, see
-- store.ForkParams). A deduplication ID held on the queue fails with a
-- unique violation of workflows_dedup_idx. Empty strings are stored as
-- NULL.
--
-- Unlike Postgres (see its InsertWorkflow), no lock is needed to keep
-- strict order: SQLite lets one writer in at a time, across connections
-- and processes, so a row draws its seq and commits before any claim (a
-- write transaction) can begin; a claim never sees a seq whose
-- predecessor commits later.
INSERT INTO workflows (
    workflow_id, name, state, queue_name, executor_id, input, priority,
    dedup_id, partition_key, parent_id, timeout_ms, deadline_ms,
    not_before_ms, attempts, created_ms, started_ms, signature, app_version,
    trace_context
)
SELECT
    CAST(@workflow_id AS TEXT),
    CAST(@name AS TEXT),
    CAST(@state AS TEXT),
    nullif(CAST(@queue_name AS TEXT), ''),
    nullif(CAST(@executor_id AS TEXT), ''),
    CAST(@input AS BLOB),
    CAST(@priority AS INTEGER),
    nullif(CAST(@dedup_id AS TEXT), ''),
    nullif(CAST(@partition_key AS TEXT), ''),
    nullif(CAST(@parent_id AS TEXT), ''),
    CAST(@timeout_ms AS INTEGER),
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' AND CAST(@timeout_ms AS INTEGER) > 0
         THEN now.ms + CAST(@timeout_ms AS INTEGER) END,
    CASE WHEN CAST(@delay_ms AS INTEGER) > 0 THEN now.ms + CAST(@delay_ms AS INTEGER) END,
    CAST(@attempts AS INTEGER),
    now.ms,
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' THEN now.ms END,
    CAST(@signature AS TEXT),
    CASE WHEN CAST(@state AS TEXT) = 'PENDING' THEN nullif(CAST(@app_version AS TEXT), '') END,
    nullif(CAST(@trace_context AS TEXT), '')
FROM (SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) AS ms) AS now
WHERE true
ON CONFLICT (workflow_id) DO NOTHING
RETURNING *;

-- name: GetWorkflow :one
SELECT * FROM workflows WHERE workflow_id = CAST(@workflow_id AS TEXT);

-- name: DedupHolder :one
-- DedupHolder returns the workflow holding a deduplication ID on a queue.
SELECT workflow_id FROM workflows
WHERE queue_name = CAST(@queue_name AS TEXT) AND dedup_id = CAST(@dedup_id AS TEXT);

-- name: CompleteWorkflow :execrows
-- CompleteWorkflow records a terminal state, fenced by the owner's run: it
-- changes nothing unless the row is PENDING under executor_id at attempt
-- `attempts` (the run's fencing token, see store.Owner).
UPDATE workflows
SET state = CAST(@state AS TEXT),
    output = CAST(@output AS BLOB),
    error = nullif(CAST(@error AS TEXT), ''),
    dedup_id = NULL,
    completed_ms = CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
WHERE workflow_id = CAST(@workflow_id AS TEXT)
  AND state = 'PENDING'
  AND executor_id = CAST(@executor_id AS TEXT)
  AND attempts = CAST(@attempts AS INTEGER);

-- name: ReleaseUnrunnable :many
-- ReleaseUnrunnable releases, at an executor's launch, the PENDING
-- workflows of the executor that it does not run (see the runs filter of
-- claims.sql), for an executor that can run them: queued ones back to
-- ENQUEUED on their queue, the others PENDING under no executor. It
-- returns them. ResumePending, in the same transaction, then takes the
-- rest.
UPDATE workflows
SET state = CASE WHEN queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = NULL,
    deadline_ms = CASE WHEN queue_name IS NULL THEN deadline_ms END
WHERE state = 'PENDING' AND executor_id = CAST(@executor_id AS TEXT)
  AND CAST(@runs_any AS INTEGER) = 0
  AND NOT (
      (signature IN (SELECT value FROM json_each(CAST(@run_signatures AS TEXT)))
       OR (signature = '' AND name IN (SELECT value FROM json_each(CAST(@run_names AS TEXT)))))
      AND (app_version IS NULL OR app_version = CAST(@run_version AS TEXT)))
RETURNING *;

-- name: ResumePending :many
-- ResumePending counts one more attempt for each PENDING workflow of an
-- executor and returns them, with run_version as the app_version of those
-- that have none.
UPDATE workflows
SET attempts = attempts + 1,
    app_version = coalesce(app_version, nullif(CAST(@run_version AS TEXT), ''))
WHERE state = 'PENDING' AND executor_id = CAST(@executor_id AS TEXT)
RETURNING *;

-- name: ReleaseWorkflow :one
-- ReleaseWorkflow gives up a workflow its owner's run cannot run, fenced
-- by that run: queued, back to ENQUEUED on its queue; started without a
-- queue, PENDING under no executor, for one that can run it to take over.
-- No row when the run is stale.
UPDATE workflows
SET state = CASE WHEN queue_name IS NULL THEN 'PENDING' ELSE 'ENQUEUED' END,
    executor_id = NULL,
    deadline_ms = CASE WHEN queue_name IS NULL THEN deadline_ms END
WHERE workflow_id = CAST(@workflow_id AS TEXT)
  AND state = 'PENDING'
  AND executor_id = CAST(@executor_id AS TEXT)
  AND attempts = CAST(@attempts AS INTEGER)
RETURNING *;
