-- name: ClaimUnlimited :batchmany
-- ClaimUnlimited claims up to max_rows ready workflows of a queue without
-- limits in one statement, skipping rows that concurrent claimers hold. It
-- claims nothing when the queue's declaration (dbos.queues) sets any limit:
-- then the claim must go through LockQueues and ClaimUnderLock. Nor when the
-- queue is paused. The declaration is one primary-key lookup, evaluated once
-- (an InitPlan), so an unlimited claim stays one statement.
--
-- Every claim (this one, ClaimUnderLock, ClaimPartitioned) takes only what
-- the claimer runs (store.Runs): rows whose signature (the fingerprint of
-- the function's name and signature when it was enqueued) is one of
-- run_signatures, or, for a row written before signatures were recorded
-- (an empty signature), whose name is one of run_names; and rows not yet
-- started (app_version NULL) or started under run_version. The claim
-- records run_version as the row's app_version when it has none. runs_any
-- (a claimer that runs anything: tests and tools) lifts both.
WITH now AS MATERIALIZED (SELECT dbos.now_ms() AS ms),
picked AS MATERIALIZED (
    SELECT p.workflow_id
    FROM dbos.workflows p, now
    WHERE p.queue_name = @queue_name::text
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= now.ms)
      -- What the claimer runs: see ClaimUnlimited.
      AND (@runs_any::boolean OR p.signature = ANY(@run_signatures::text[])
           OR (p.signature = '' AND p.name = ANY(@run_names::text[])))
      AND (@runs_any::boolean OR p.app_version IS NULL OR p.app_version = @run_version::text)
      AND NOT EXISTS (
          SELECT 1 FROM dbos.queues l
          WHERE l.name = @queue_name::text
            AND (l.concurrency > 0 OR l.worker_concurrency > 0 OR l.rate_limit > 0
                 OR l.partition_concurrency > 0 OR l.partition_rate_limit > 0
                 OR l.paused)
      )
    ORDER BY p.priority, p.seq
    -- After an insert that started rows of its own already claimed (the
    -- CLAIM state of InsertWorkflows: InsertAndClaim names those rows in
    -- started_ids, other claims pass none), what they took is not
    -- claimed again.
    -- A polite claim (see dbos.claim_turn) that finds another one in
    -- flight gives way: it claims nothing.
    LIMIT CASE WHEN dbos.claim_turn(@queue_name::text, @polite::boolean)
               THEN dbos.claim_room(@max_rows::bigint, @started_ids::text[], @executor_id::text)
               ELSE 0 END
    FOR UPDATE OF p SKIP LOCKED
)
UPDATE dbos.workflows w
SET state = 'PENDING',
    executor_id = @executor_id::text,
    started_ms = now.ms,
    attempts = w.attempts + 1,
    deadline_ms = CASE WHEN w.timeout_ms > 0 THEN now.ms + w.timeout_ms END,
    app_version = coalesce(w.app_version, nullif(@run_version::text, ''))
FROM now, picked
-- A join with the few picked rows: the planner finds each by the primary
-- key, also without statistics, where it would read a small table whole
-- for an = ANY (ARRAY(...)).
WHERE w.workflow_id = picked.workflow_id
  -- Rechecked after waiting for a row lock; IS NOT DISTINCT FROM (state is
  -- never NULL) keeps the planner on the primary key: see CompleteWorkflows.
  AND w.state IS NOT DISTINCT FROM 'ENQUEUED'
RETURNING w.*;

-- name: LockQueue :exec
-- LockQueue serializes the claimers (and declarers, and pausers) of one
-- limited queue until the transaction ends: they take the queue's claim
-- lock exclusively. Then it passes the claim barrier (dbos.claim_barrier):
-- it waits for the queue's enqueues in flight, without holding up the
-- enqueues that come after, and leaves in dbos.claim_seq_bound the highest
-- seq the claims of this transaction may take; see InsertWorkflow for why
-- strict order needs that. The statements that follow it in the
-- transaction read after the wait (READ COMMITTED takes a snapshot per
-- statement), which is why it is a statement of its own.
WITH claim AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended('dbos.claim:' || @queue_name::text, 0))
)
SELECT dbos.claim_barrier(@queue_name::text) FROM claim;

-- name: LockQueues :batchexec
-- LockQueues is LockQueue for a pipeline (one pgx batch: one round trip,
-- one implicit transaction) whose later statements claim under the lock.
-- It also makes them run their cached generic plans (plan_cache_mode, for
-- this transaction only): the pipeline runs for every slot a limited queue
-- turns over, and planning CompleteWorkflows afresh for its few rows took
-- longer than running it (0.24 ms against 0.12 ms per call, measured with
-- pg_stat_statements), all of it under the queue's lock.
WITH claim AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended('dbos.claim:' || @queue_name::text, 0))
)
SELECT dbos.claim_barrier(@queue_name::text),
       set_config('plan_cache_mode', 'force_generic_plan', true)
FROM claim;

-- name: QueueLoad :one
-- QueueLoad reads, under LockQueue, the queue's declared limits (all 0 when
-- it has no declaration), the clock and what the limits count: PENDING rows
-- (all executors and this one) and the starts in the rate window
-- (now - rate_period_ms, now] with the oldest of them (0 when none); and
-- whether the queue is paused.
WITH cfg AS MATERIALIZED (
    SELECT coalesce(max(q.concurrency), 0)::bigint AS concurrency,
           coalesce(max(q.worker_concurrency), 0)::bigint AS worker_concurrency,
           coalesce(max(q.rate_limit), 0)::bigint AS rate_limit,
           coalesce(max(q.rate_period_ms), 0)::bigint AS rate_period_ms,
           coalesce(max(q.partition_concurrency), 0)::bigint AS partition_concurrency,
           coalesce(max(q.partition_rate_limit), 0)::bigint AS partition_rate_limit,
           coalesce(max(q.partition_rate_period_ms), 0)::bigint AS partition_rate_period_ms,
           coalesce(bool_or(q.paused), false)::boolean AS paused
    FROM dbos.queues q
    WHERE q.name = @queue_name::text
),
now AS MATERIALIZED (SELECT dbos.now_ms() AS ms)
SELECT
    now.ms::bigint AS now_ms,
    cfg.concurrency,
    cfg.worker_concurrency,
    cfg.rate_limit,
    cfg.rate_period_ms,
    cfg.partition_concurrency,
    cfg.partition_rate_limit,
    cfg.partition_rate_period_ms,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING')::bigint AS pending,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING'
       AND w.executor_id = @executor_id::text)::bigint AS pending_here,
    (SELECT count(*) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text
       AND w.started_ms > now.ms - cfg.rate_period_ms)::bigint AS window_starts,
    (SELECT coalesce(min(w.started_ms), 0) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text
       AND w.started_ms > now.ms - cfg.rate_period_ms)::bigint AS window_oldest_ms,
    cfg.paused
FROM now, cfg;

-- name: ClaimUnderLock :batchmany
-- ClaimUnderLock claims, under LockQueues (a statement before it in its
-- transaction, so that it reads after the lock's wait), as many ready
-- workflows of a queue as the queue's declared limits leave room for, at
-- most max_rows, waiting on (not skipping) row locks so that the order
-- stays strict. It reads the declaration, the clock and the counts itself,
-- in one statement (QueueLoad's reads, then storekit.Room: keep them in
-- step). It claims nothing from a queue with partition limits, which
-- ClaimPartitioned claims, nor from a paused queue. It leaves the clock it
-- read in the transaction's setting dbos.claim_now_ms, for QueueState.
WITH cfg AS MATERIALIZED (
    SELECT coalesce(max(q.concurrency), 0)::bigint AS concurrency,
           coalesce(max(q.worker_concurrency), 0)::bigint AS worker_concurrency,
           coalesce(max(q.rate_limit), 0)::bigint AS rate_limit,
           coalesce(max(q.rate_period_ms), 0)::bigint AS rate_period_ms,
           coalesce(max(q.partition_concurrency), 0)::bigint AS partition_concurrency,
           coalesce(max(q.partition_rate_limit), 0)::bigint AS partition_rate_limit,
           coalesce(bool_or(q.paused), false) AS paused
    FROM dbos.queues q
    WHERE q.name = @queue_name::text
),
now AS MATERIALIZED (
    SELECT set_config('dbos.claim_now_ms', dbos.now_ms()::text, true)::bigint AS ms
),
room AS MATERIALIZED (
    SELECT CASE
        WHEN cfg.partition_concurrency > 0 OR cfg.partition_rate_limit > 0 OR cfg.paused THEN 0
        ELSE greatest(0, least(
            @max_rows::bigint,
            -- least() ignores NULL: a limit that is not set.
            CASE WHEN cfg.concurrency > 0 THEN cfg.concurrency - (
                SELECT count(*) FROM dbos.workflows c
                WHERE c.queue_name = @queue_name::text AND c.state = 'PENDING') END,
            CASE WHEN cfg.worker_concurrency > 0 THEN cfg.worker_concurrency - (
                SELECT count(*) FROM dbos.workflows c
                WHERE c.queue_name = @queue_name::text AND c.state = 'PENDING'
                  AND c.executor_id = @executor_id::text) END,
            CASE WHEN cfg.rate_limit > 0 THEN cfg.rate_limit - (
                SELECT count(*) FROM dbos.workflows c
                WHERE c.queue_name = @queue_name::text
                  AND c.started_ms > now.ms - cfg.rate_period_ms) END
        ))
    END AS n
    FROM cfg, now
),
picked AS MATERIALIZED (
    SELECT p.workflow_id
    FROM dbos.workflows p, now
    WHERE p.queue_name = @queue_name::text
      AND p.state = 'ENQUEUED'
      AND (p.not_before_ms IS NULL OR p.not_before_ms <= now.ms)
      -- What the claimer runs: see ClaimUnlimited.
      AND (@runs_any::boolean OR p.signature = ANY(@run_signatures::text[])
           OR (p.signature = '' AND p.name = ANY(@run_names::text[])))
      AND (@runs_any::boolean OR p.app_version IS NULL OR p.app_version = @run_version::text)
      -- Only rows at or below the claim barrier's bound (see LockQueue).
      AND p.seq <= current_setting('dbos.claim_seq_bound')::bigint
    ORDER BY p.priority, p.seq
    LIMIT (SELECT room.n FROM room)
    FOR UPDATE OF p
)
UPDATE dbos.workflows w
SET state = 'PENDING',
    executor_id = @executor_id::text,
    started_ms = now.ms,
    attempts = w.attempts + 1,
    deadline_ms = CASE WHEN w.timeout_ms > 0 THEN now.ms + w.timeout_ms END,
    app_version = coalesce(w.app_version, nullif(@run_version::text, ''))
FROM now, picked
-- A join with the few picked rows: the planner finds each by the primary
-- key, also without statistics, where it would read a small table whole
-- for an = ANY (ARRAY(...)).
WHERE w.workflow_id = picked.workflow_id
  -- Rechecked after waiting for a row lock; IS NOT DISTINCT FROM (state is
  -- never NULL) keeps the planner on the primary key: see CompleteWorkflows.
  AND w.state IS NOT DISTINCT FROM 'ENQUEUED'
RETURNING w.*;

-- name: QueueState :batchone
-- QueueState reads, after ClaimUnderLock in the same transaction, what the
-- claim's result needs, at the moment the claim read (dbos.claim_now_ms;
-- the clock when no claim ran): the queue's declared limits (all 0 when it
-- has no declaration), the counts of the limits that are set (QueueLoad's;
-- 0 for the others), and what is left (QueueBacklog's: whether ENQUEUED
-- rows are ready, and the earliest not_before_ms of those that are not, 0
-- when none); and whether the queue is paused.
WITH cfg AS MATERIALIZED (
    SELECT coalesce(max(q.concurrency), 0)::bigint AS concurrency,
           coalesce(max(q.worker_concurrency), 0)::bigint AS worker_concurrency,
           coalesce(max(q.rate_limit), 0)::bigint AS rate_limit,
           coalesce(max(q.rate_period_ms), 0)::bigint AS rate_period_ms,
           coalesce(max(q.partition_concurrency), 0)::bigint AS partition_concurrency,
           coalesce(max(q.partition_rate_limit), 0)::bigint AS partition_rate_limit,
           coalesce(max(q.partition_rate_period_ms), 0)::bigint AS partition_rate_period_ms,
           coalesce(bool_or(q.paused), false)::boolean AS paused
    FROM dbos.queues q
    WHERE q.name = @queue_name::text
),
now AS MATERIALIZED (
    SELECT coalesce(nullif(current_setting('dbos.claim_now_ms', true), '')::bigint, dbos.now_ms()) AS ms
)
SELECT
    now.ms::bigint AS now_ms,
    cfg.concurrency,
    cfg.worker_concurrency,
    cfg.rate_limit,
    cfg.rate_period_ms,
    cfg.partition_concurrency,
    cfg.partition_rate_limit,
    cfg.partition_rate_period_ms,
    (CASE WHEN cfg.concurrency > 0 THEN (
        SELECT count(*) FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING') ELSE 0 END)::bigint AS pending,
    (CASE WHEN cfg.worker_concurrency > 0 THEN (
        SELECT count(*) FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text AND w.state = 'PENDING'
          AND w.executor_id = @executor_id::text) ELSE 0 END)::bigint AS pending_here,
    (CASE WHEN cfg.rate_limit > 0 THEN (
        SELECT count(*) FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text
          AND w.started_ms > now.ms - cfg.rate_period_ms) ELSE 0 END)::bigint AS window_starts,
    (CASE WHEN cfg.rate_limit > 0 THEN (
        SELECT coalesce(min(w.started_ms), 0) FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text
          AND w.started_ms > now.ms - cfg.rate_period_ms) ELSE 0 END)::bigint AS window_oldest_ms,
    EXISTS (
        SELECT 1 FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
          AND (w.not_before_ms IS NULL OR w.not_before_ms <= now.ms)
    )::boolean AS ready,
    (SELECT coalesce(min(w.not_before_ms), 0) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
       AND w.not_before_ms > now.ms)::bigint AS next_delayed_ms,
    cfg.paused
FROM now, cfg;

-- name: QueueBacklog :batchone
-- QueueBacklog says whether ENQUEUED rows of a queue are ready at now_ms
-- (NULL: the database clock), and the earliest not_before_ms of those that
-- are not (0 when none). limited reports whether the queue's declaration
-- sets any limit: after ClaimUnlimited took nothing, it tells an empty
-- queue from a limited one; paused, whether the queue is paused (one lookup
-- of the queue's row for both); gave_way, whether a polite ClaimUnlimited
-- before it in the transaction gave way to another (dbos.claim_turn).
WITH now AS MATERIALIZED (SELECT coalesce(sqlc.narg(now_ms)::bigint, dbos.now_ms()) AS ms),
decl AS MATERIALIZED (
    SELECT coalesce(bool_or(
               l.concurrency > 0 OR l.worker_concurrency > 0 OR l.rate_limit > 0
               OR l.partition_concurrency > 0 OR l.partition_rate_limit > 0), false) AS limited,
           coalesce(bool_or(l.paused), false) AS paused
    FROM dbos.queues l
    WHERE l.name = @queue_name::text
)
SELECT
    now.ms::bigint AS now_ms,
    decl.limited::boolean AS limited,
    EXISTS (
        SELECT 1 FROM dbos.workflows w
        WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
          AND (w.not_before_ms IS NULL OR w.not_before_ms <= now.ms)
    )::boolean AS ready,
    (SELECT coalesce(min(w.not_before_ms), 0) FROM dbos.workflows w
     WHERE w.queue_name = @queue_name::text AND w.state = 'ENQUEUED'
       AND w.not_before_ms > now.ms)::bigint AS next_delayed_ms,
    decl.paused::boolean AS paused,
    (coalesce(current_setting('dbos.claim_gave_way', true), '') = 'on')::boolean AS gave_way
FROM now, decl;

-- name: ClaimPartitioned :many
-- ClaimPartitioned is ClaimUnderLock with per-partition limits: a ready row is
-- eligible when the rows before it in its partition (FIFO order) plus the
-- partition's PENDING rows (or its starts in the partition's rate window)
-- stay under the partition's limits; the first max_rows eligible rows in
-- FIFO order are claimed. 0 disables a partition limit. It reads the clock
-- itself: the partition counts and the recorded starts must come from one
-- moment, after every completion the statement sees. Its caller, which
-- read QueueLoad under the queue's lock (which pausing takes too), does not
-- call it for a paused queue.
WITH arg AS MATERIALIZED (
    SELECT dbos.now_ms() AS now_ms,
           @partition_concurrency::bigint AS concurrency,
           @partition_rate_limit::bigint AS rate_limit,
           @partition_period_ms::bigint AS period_ms
),
busy AS (
    SELECT coalesce(b.partition_key, '') AS part,
           count(*) FILTER (WHERE b.state = 'PENDING') AS pending,
           count(*) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS starts
    FROM dbos.workflows b, arg
    WHERE b.queue_name = @queue_name::text
      AND (b.state = 'PENDING' OR b.started_ms > arg.now_ms - arg.period_ms)
    GROUP BY 1
),
ranked AS (
    SELECT r.workflow_id, r.priority, r.seq, coalesce(r.partition_key, '') AS part,
           row_number() OVER (PARTITION BY coalesce(r.partition_key, '') ORDER BY r.priority, r.seq) AS pos
    FROM dbos.workflows r, arg
    WHERE r.queue_name = @queue_name::text
      AND r.state = 'ENQUEUED'
      AND (r.not_before_ms IS NULL OR r.not_before_ms <= arg.now_ms)
      -- What the claimer runs: see ClaimUnlimited.
      AND (@runs_any::boolean OR r.signature = ANY(@run_signatures::text[])
           OR (r.signature = '' AND r.name = ANY(@run_names::text[])))
      AND (@runs_any::boolean OR r.app_version IS NULL OR r.app_version = @run_version::text)
      -- Only rows at or below the claim barrier's bound (see LockQueue).
      AND r.seq <= current_setting('dbos.claim_seq_bound')::bigint
),
picked AS MATERIALIZED (
    SELECT ranked.workflow_id
    FROM arg, ranked LEFT JOIN busy ON busy.part = ranked.part
    WHERE (arg.concurrency = 0 OR ranked.pos <= arg.concurrency - coalesce(busy.pending, 0))
      AND (arg.rate_limit = 0 OR ranked.pos <= arg.rate_limit - coalesce(busy.starts, 0))
    ORDER BY ranked.priority, ranked.seq
    LIMIT @max_rows::bigint
)
UPDATE dbos.workflows w
SET state = 'PENDING',
    executor_id = @executor_id::text,
    started_ms = arg.now_ms,
    attempts = w.attempts + 1,
    deadline_ms = CASE WHEN w.timeout_ms > 0 THEN arg.now_ms + w.timeout_ms END,
    app_version = coalesce(w.app_version, nullif(@run_version::text, ''))
FROM arg, picked
-- A join with the few picked rows: the planner finds each by the primary
-- key, also without statistics, where it would read a small table whole
-- for an = ANY (ARRAY(...)).
WHERE w.workflow_id = picked.workflow_id
  -- Rechecked after waiting for a row lock; IS NOT DISTINCT FROM (state is
  -- never NULL) keeps the planner on the primary key: see CompleteWorkflows.
  AND w.state IS NOT DISTINCT FROM 'ENQUEUED'
RETURNING w.*;

-- name: PartitionBacklog :one
-- PartitionBacklog is QueueBacklog under per-partition limits: ready means
-- ready rows in a partition with room under its limits; partition_free_ms is
-- the earliest moment a partition whose ready rows wait only for its rate
-- window frees a slot (0 when none).
WITH arg AS (
    SELECT @now_ms::bigint AS now_ms,
           @partition_concurrency::bigint AS concurrency,
           @partition_rate_limit::bigint AS rate_limit,
           @partition_period_ms::bigint AS period_ms
),
busy AS (
    SELECT coalesce(b.partition_key, '') AS part,
           count(*) FILTER (WHERE b.state = 'PENDING') AS pending,
           count(*) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS starts,
           min(b.started_ms) FILTER (WHERE b.started_ms > arg.now_ms - arg.period_ms) AS oldest_ms
    FROM dbos.workflows b, arg
    WHERE b.queue_name = @queue_name::text
      AND (b.state = 'PENDING' OR b.started_ms > arg.now_ms - arg.period_ms)
    GROUP BY 1
),
waiting AS (
    SELECT DISTINCT coalesce(r.partition_key, '') AS part
    FROM dbos.workflows r, arg
    WHERE r.queue_name = @queue_name::text
      AND r.state = 'ENQUEUED'
      AND (r.not_before_ms IS NULL OR r.not_before_ms <= arg.now_ms)
),
room AS (
    SELECT waiting.part,
           (arg.concurrency = 0 OR coalesce(busy.pending, 0) < arg.concurrency) AS concurrency_room,
           (arg.rate_limit = 0 OR coalesce(busy.starts, 0) < arg.rate_limit) AS rate_room,
           busy.oldest_ms + arg.period_ms AS free_ms
    FROM arg, waiting LEFT JOIN busy ON busy.part = waiting.part
)
SELECT
    EXISTS (SELECT 1 FROM room WHERE room.concurrency_room AND room.rate_room)::boolean AS ready,
    (SELECT coalesce(min(room.free_ms), 0) FROM room
     WHERE room.concurrency_room AND NOT room.rate_room)::bigint AS partition_free_ms,
    (SELECT coalesce(min(d.not_before_ms), 0) FROM dbos.workflows d, arg
     WHERE d.queue_name = @queue_name::text AND d.state = 'ENQUEUED'
       AND d.not_before_ms > arg.now_ms)::bigint AS next_delayed_ms;
