-- dbosgen schema, version 1 (Postgres).
--
-- Everything lives in the schema "dbos". Times are epoch milliseconds read
-- from the database clock (dbos.now_ms()), never from a caller's clock, so
-- limits are decided by one clock for every process.
--
-- Notifications (LISTEN/NOTIFY), sent by statement-level triggers so that one
-- statement sends one notification per queue, never one per row:
--
--   channel dbos_enqueued   payload: the queue name. Sent once per queue for
--                           the rows a statement inserted as ENQUEUED or moved
--                           back to ENQUEUED.
--   channel dbos_completed  payload: a JSON array of {"queue": q, "id": id}
--                           for the rows a statement moved to a terminal state
--                           (SUCCESS, ERROR, CANCELLED); "queue" is "" for a
--                           workflow started without a queue. When the array
--                           would exceed 7900 bytes the payload is the string
--                           "resync" instead: listeners must recheck everything.

CREATE SCHEMA IF NOT EXISTS dbos;

-- Applied migration versions (the numeric prefix of each file name).
CREATE TABLE dbos.migrations (
    version    BIGINT PRIMARY KEY,
    applied_ms BIGINT NOT NULL
);

-- now_ms is the database clock in epoch milliseconds. It reads
-- clock_timestamp(), not now(), so that a claim that waited for a lock sees
-- the time after the wait.
CREATE FUNCTION dbos.now_ms() RETURNS BIGINT
    LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE dbos.workflows (
    seq           BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY,
    workflow_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    state         TEXT NOT NULL,
    queue_name    TEXT,              -- NULL: started directly, not enqueued
    executor_id   TEXT,              -- NULL until claimed
    input         BYTEA,
    output        BYTEA,
    error         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    dedup_id      TEXT,              -- cleared when the workflow finishes
    partition_key TEXT,
    parent_id     TEXT,
    timeout_ms    BIGINT NOT NULL DEFAULT 0,
    deadline_ms   BIGINT,
    not_before_ms BIGINT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_ms    BIGINT NOT NULL,
    started_ms    BIGINT,
    completed_ms  BIGINT,
    CONSTRAINT workflows_state_check
        CHECK (state IN ('ENQUEUED', 'PENDING', 'SUCCESS', 'ERROR', 'CANCELLED'))
);

-- The claim index: only waiting rows, in FIFO order, so finished work leaves it.
CREATE INDEX workflows_claim_idx ON dbos.workflows (queue_name, priority, seq)
    WHERE state = 'ENQUEUED';

-- The next delayed row of a queue (RetryAt).
CREATE INDEX workflows_delayed_idx ON dbos.workflows (queue_name, not_before_ms)
    WHERE state = 'ENQUEUED' AND not_before_ms IS NOT NULL;

-- Rate windows: starts of a queue by time.
CREATE INDEX workflows_started_idx ON dbos.workflows (queue_name, started_ms);

-- Concurrency counts and recovery: running rows by queue and owner.
CREATE INDEX workflows_pending_idx ON dbos.workflows (queue_name, executor_id)
    WHERE state = 'PENDING';
CREATE INDEX workflows_pending_executor_idx ON dbos.workflows (executor_id, seq)
    WHERE state = 'PENDING';

-- Deduplication: one live holder of a deduplication ID per queue.
CREATE UNIQUE INDEX workflows_dedup_idx ON dbos.workflows (queue_name, dedup_id)
    WHERE dedup_id IS NOT NULL;

-- Checkpoints: the recorded outcome of each step of a workflow.
CREATE TABLE dbos.steps (
    workflow_id TEXT NOT NULL,
    step_id     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    output      BYTEA,
    error       TEXT,
    child_id    TEXT,
    created_ms  BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, step_id)
);

-- notify_inserted sends dbos_enqueued once per queue with new ENQUEUED rows.
CREATE FUNCTION dbos.notify_inserted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    q TEXT;
BEGIN
    FOR q IN
        SELECT DISTINCT n.queue_name FROM new_rows n
        WHERE n.state = 'ENQUEUED' AND n.queue_name IS NOT NULL
    LOOP
        PERFORM pg_notify('dbos_enqueued', q);
    END LOOP;
    RETURN NULL;
END;
$$;

-- notify_updated sends dbos_enqueued once per queue with rows moved back to
-- ENQUEUED, and one dbos_completed for the rows that became terminal.
CREATE FUNCTION dbos.notify_updated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    q TEXT;
    payload TEXT;
BEGIN
    FOR q IN
        SELECT DISTINCT n.queue_name
        FROM new_rows n JOIN old_rows o ON o.workflow_id = n.workflow_id
        WHERE n.state = 'ENQUEUED' AND o.state <> 'ENQUEUED' AND n.queue_name IS NOT NULL
    LOOP
        PERFORM pg_notify('dbos_enqueued', q);
    END LOOP;

    SELECT json_agg(json_build_object('queue', coalesce(n.queue_name, ''), 'id', n.workflow_id))::text
    INTO payload
    FROM new_rows n JOIN old_rows o ON o.workflow_id = n.workflow_id
    WHERE n.state IN ('SUCCESS', 'ERROR', 'CANCELLED')
      AND o.state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');
    IF payload IS NOT NULL THEN
        IF octet_length(payload) > 7900 THEN
            payload := 'resync';
        END IF;
        PERFORM pg_notify('dbos_completed', payload);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER workflows_notify_inserted
    AFTER INSERT ON dbos.workflows
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dbos.notify_inserted();

CREATE TRIGGER workflows_notify_updated
    AFTER UPDATE ON dbos.workflows
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dbos.notify_updated();
