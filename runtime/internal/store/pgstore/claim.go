package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// Claim records the outcomes of p.Complete, then moves ready ENQUEUED
// workflows of a queue to PENDING for p.ExecutorID, honouring the limits of
// the queue's stored declaration.
//
// A queue without limits is claimed in one statement (FOR UPDATE SKIP
// LOCKED), so concurrent claimers take disjoint batches without waiting;
// that statement checks the declaration itself and claims nothing from a
// limited queue. A queue with limits is claimed under an advisory lock
// derived from the queue name, past the claim barrier (which waits for the
// queue's enqueues in flight and bounds the seqs the claim may take, see
// LockQueue and InsertWorkflow), by statements that read the declaration, the
// database clock and the counts the limits need after the lock's wait, and
// claim what the limits leave room for, waiting on (not skipping) row locks
// so the order stays strict: one round trip (a pipeline, see ClaimUnderLock
// and QueueState), or, for per-partition limits, a transaction of a few
// (claimPartitioned). Either way the outcomes of p.Complete are recorded by
// the first statements sent, in the same transaction.
//
// Which path a claim tries first follows what the previous claim of the
// queue found (Store.limited); either way the limits applied are the ones
// the database holds when the claim reads them. When the unlimited or the
// limited path finds that another one applies, it has committed the
// outcomes, and the claim continues on the right path. The partitioned
// path, finding the partition limits gone, claims nothing this time and
// routes the queue's next claim.
//
// A claim runs detached from ctx's cancellation once sent (storekit.Detach:
// bounded by FinishTimeout instead), so that the rows it locked are either
// claimed and returned or left untouched; a claim of a limited queue waits
// that long for the queue's lock.
func (s *Store) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	if err := storekit.ValidateClaim(p); err != nil {
		return store.ClaimResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	path := pathUnlimited
	if v, ok := s.limited.Load(p.Queue); ok {
		path = v.(claimPath)
	}
	var completed []bool // the outcomes of p.Complete, once recorded
	for {
		var (
			res  store.ClaimResult
			next claimPath
			err  error
		)
		switch path {
		case pathUnlimited:
			res, next, err = s.claimUnlimited(ctx, p)
		case pathLimited:
			res, next, err = s.claimLimited(ctx, p)
		default:
			res, err = s.claimPartitioned(ctx, p)
			next = path
		}
		if err != nil {
			if completed == nil {
				return store.ClaimResult{}, fmt.Errorf("claim from queue %q: %w", p.Queue, err)
			}
			// The outcomes are recorded: report them, and that the claim
			// should be tried again.
			s.logger.Warn("claim after recording outcomes failed", "queue", p.Queue, "error", err)
			return store.ClaimResult{Completed: completed, Config: store.QueueConfig{Name: p.Queue}, RetryAt: time.Now()}, nil
		}
		if len(p.Complete) > 0 {
			completed = res.Completed
			p.Complete = nil // recorded: the next path must not record them again
		}
		res.Completed = completed
		if next == path {
			return res, nil
		}
		path = next // nothing was claimed: claim on the right path
	}
}

// claimPath is the way a queue's claims go, by its limits.
type claimPath int

const (
	pathUnlimited   claimPath = iota // no limits: ClaimUnlimited
	pathLimited                      // limits without partitions: ClaimUnderLock
	pathPartitioned                  // per-partition limits: ClaimPartitioned
)

// pathOf returns the way claims of a queue with cfg's limits go.
func pathOf(cfg store.QueueConfig) claimPath {
	switch {
	case storekit.Partitioned(cfg):
		return pathPartitioned
	case storekit.Limited(cfg):
		return pathLimited
	}
	return pathUnlimited
}

// route remembers the way the next claim of a queue tries first.
func (s *Store) route(queue string, path claimPath) {
	if path == pathUnlimited {
		s.limited.Delete(queue)
	} else {
		s.limited.Store(queue, path)
	}
}

// completeArgs are the arguments of CompleteWorkflows for ps.
func completeArgs(ps []store.CompleteParams) pgdb.CompleteWorkflowsParams {
	a := pgdb.CompleteWorkflowsParams{
		WorkflowIds: make([]string, len(ps)),
		ExecutorIds: make([]string, len(ps)),
		Attempts:    make([]int32, len(ps)),
		States:      make([]string, len(ps)),
		Outputs:     make([][]byte, len(ps)),
		Errors:      make([]string, len(ps)),
	}
	for i, p := range ps {
		a.WorkflowIds[i], a.ExecutorIds[i], a.Attempts[i] = p.ID, p.ExecutorID, int32(p.Attempts)
		a.States[i], a.Outputs[i], a.Errors[i] = p.State, p.Output, p.Error
	}
	return a
}

// firstErr keeps the first error it is given.
type firstErr struct{ err error }

func (f *firstErr) keep(err error) {
	if f.err == nil {
		f.err = err
	}
}

// queueCompletions queues, when there are outcomes to record, the statement
// that records them, and returns a function that reads its result into
// completed (one element per outcome: recorded or fenced off).
func queueCompletions(ctx context.Context, q *pgdb.Queries, ps []store.CompleteParams, completed *[]bool, fe *firstErr) func() {
	if len(ps) == 0 {
		return func() {}
	}
	done := q.CompleteWorkflows(ctx, []pgdb.CompleteWorkflowsParams{completeArgs(ps)})
	return func() {
		done.Query(func(_ int, finished []string, err error) {
			fe.keep(err)
			*completed = storekit.Completed(ps, finished)
		})
	}
}

// completeVia records outcomes (at least one) with CompleteWorkflows, a
// pipeline of its own sent by via (the pool: its own transaction; or the
// caller's transaction).
func completeVia(ctx context.Context, via batchSender, ps []store.CompleteParams) ([]bool, error) {
	var (
		pl        pipeline
		fe        firstErr
		completed []bool
	)
	readDone := queueCompletions(ctx, pgdb.New(&pl), ps, &completed, &fe)
	pl.send(ctx, via)
	readDone()
	fe.keep(pl.close())
	return completed, fe.err
}

// claimUnlimited claims from a queue as if it had no limits, which the
// statement itself checks, in one round trip: the outcomes of p.Complete,
// then queueClaimUnlimited's statements. next is the path the claim must
// take instead when the queue's declaration sets a limit and nothing was
// claimed.
func (s *Store) claimUnlimited(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, next claimPath, err error) {
	var (
		pl pipeline
		fe firstErr
	)
	q := pgdb.New(&pl)
	readDone := queueCompletions(ctx, q, p.Complete, &res.Completed, &fe)
	readClaim := queueClaimUnlimited(ctx, q, p, nil, &fe)
	pl.send(ctx, s.pool)
	readDone()
	claimed, limited := readClaim()
	if fe.keep(pl.close()); fe.err != nil {
		return store.ClaimResult{}, pathUnlimited, fe.err
	}
	claimed.Completed = res.Completed
	return claimed, s.routeUnlimited(p.Queue, limited, len(claimed.Claimed)), nil
}

// queueClaimUnlimited queues ClaimUnlimited and QueueBacklog (what is left,
// for RetryAt; cheap, and read whether needed or not, to save a round trip
// when it is) in a pipeline, and returns a function that reads their
// results once it is sent: the claim, and whether the queue turned out to
// have limits (declared before the claim, which then took nothing, or
// meanwhile; see routeUnlimited). started names the rows an insert before
// it in the pipeline may have started (see InsertAndClaim): the claim takes
// at most p.Max less those.
func queueClaimUnlimited(ctx context.Context, q *pgdb.Queries, p store.ClaimParams, started []string, fe *firstErr) func() (store.ClaimResult, bool) {
	runs := storekit.RunsOf(p.Runs)
	claim := q.ClaimUnlimited(ctx, []pgdb.ClaimUnlimitedParams{{
		ExecutorID:    p.ExecutorID,
		QueueName:     p.Queue,
		MaxRows:       int64(p.Max),
		RunsAny:       runs.Any,
		RunVersion:    runs.Version,
		RunNames:      runs.Names,
		RunSignatures: runs.Signatures,
		StartedIds:    started,
		Polite:        p.Polite,
	}})
	backlog := q.QueueBacklog(ctx, []pgdb.QueueBacklogParams{{QueueName: p.Queue}})
	return func() (store.ClaimResult, bool) {
		var (
			rows []pgdb.Workflow
			b    pgdb.QueueBacklogRow
		)
		claim.Query(func(_ int, r []pgdb.Workflow, err error) { rows = r; fe.keep(err) })
		backlog.QueryRow(func(_ int, r pgdb.QueueBacklogRow, err error) { b = r; fe.keep(err) })
		cfg := store.QueueConfig{Name: p.Queue} // what ClaimUnlimited applies
		res := store.ClaimResult{Claimed: workflows(rows), Config: cfg}
		storekit.SortFIFO(res.Claimed)
		if !storekit.NeedBacklog(cfg, p.Max, storekit.Load{}, len(rows)) {
			return res, false
		}
		if b.Limited {
			return res, true
		}
		if b.Paused {
			res.Paused = true
			return res, false
		}
		if b.GaveWay {
			res.GaveWay = true // another polite claim takes what is ready
			return res, false
		}
		load := storekit.Load{NowMs: b.NowMs}
		res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs})
		return res, false
	}
}

// routeUnlimited takes what a claim on the unlimited path found: a queue
// declared with limits (meanwhile, and rows were claimed, or before, and
// nothing was) is claimed through the lock from now on. It returns the
// path the claim must continue on.
func (s *Store) routeUnlimited(queue string, limited bool, claimed int) claimPath {
	if !limited {
		return pathUnlimited
	}
	s.route(queue, pathLimited)
	if claimed == 0 {
		return pathLimited
	}
	return pathUnlimited
}

// queueBacklog runs QueueBacklog at nowMs via a pipeline of its own (it is
// a batch query, see queueClaimUnlimited) sent by via.
func queueBacklog(ctx context.Context, via batchSender, queue string, nowMs int64) (pgdb.QueueBacklogRow, error) {
	var (
		pl pipeline
		fe firstErr
		b  pgdb.QueueBacklogRow
	)
	r := pgdb.New(&pl).QueueBacklog(ctx, []pgdb.QueueBacklogParams{{QueueName: queue, NowMs: &nowMs}})
	pl.send(ctx, via)
	r.QueryRow(func(_ int, row pgdb.QueueBacklogRow, err error) { b = row; fe.keep(err) })
	fe.keep(pl.close())
	return b, fe.err
}

// claimLimited claims from a queue with limits but no partition limits, in
// one round trip: LockQueues, the outcomes of p.Complete, ClaimUnderLock and
// QueueState, one implicit transaction. next is the path the claim must take
// instead when the declaration it read sets partition limits (then nothing
// was claimed).
func (s *Store) claimLimited(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, next claimPath, err error) {
	var (
		pl   pipeline
		fe   firstErr
		rows []pgdb.Workflow
		st   pgdb.QueueStateRow
	)
	q := pgdb.New(&pl)
	lock := q.LockQueues(ctx, []string{p.Queue})
	readDone := queueCompletions(ctx, q, p.Complete, &res.Completed, &fe)
	runs := storekit.RunsOf(p.Runs)
	claim := q.ClaimUnderLock(ctx, []pgdb.ClaimUnderLockParams{{
		ExecutorID:    p.ExecutorID,
		QueueName:     p.Queue,
		MaxRows:       int64(p.Max),
		RunsAny:       runs.Any,
		RunVersion:    runs.Version,
		RunNames:      runs.Names,
		RunSignatures: runs.Signatures,
	}})
	state := q.QueueState(ctx, []pgdb.QueueStateParams{{QueueName: p.Queue, ExecutorID: p.ExecutorID}})
	pl.send(ctx, s.pool)
	lock.Exec(func(_ int, err error) { fe.keep(err) })
	readDone()
	claim.Query(func(_ int, r []pgdb.Workflow, err error) { rows = r; fe.keep(err) })
	state.QueryRow(func(_ int, r pgdb.QueueStateRow, err error) { st = r; fe.keep(err) })
	fe.keep(pl.close())
	if fe.err != nil {
		return store.ClaimResult{}, pathLimited, fe.err
	}
	cfg := storekit.Config(p.Queue, st.Concurrency, st.WorkerConcurrency, st.RateLimit, st.RatePeriodMs,
		st.PartitionConcurrency, st.PartitionRateLimit, st.PartitionRatePeriodMs)
	path := pathOf(cfg)
	s.route(p.Queue, path)
	res.Claimed, res.Config, res.Paused = workflows(rows), cfg, st.Paused
	storekit.SortFIFO(res.Claimed)
	if path == pathPartitioned || st.Paused {
		return res, path, nil // ClaimUnderLock claimed nothing
	}
	// QueueState read after the claim, at the claim's moment: the load
	// before it is that minus what it claimed. Every claimed row started
	// at that moment, inside the rate window (its period is positive when
	// a rate limit is set; without one, QueueState counts no starts).
	n := int64(len(rows))
	load := storekit.Load{
		NowMs:          st.NowMs,
		Pending:        max(st.Pending-n, 0),
		PendingHere:    max(st.PendingHere-n, 0),
		WindowStarts:   max(st.WindowStarts-n, 0),
		WindowOldestMs: st.WindowOldestMs,
	}
	res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), storekit.Backlog{Ready: st.Ready, NextDelayedMs: st.NextDelayedMs})
	return res, pathLimited, nil
}

// claimPartitioned claims from a queue with per-partition limits in one
// transaction: LockQueue, the outcomes of p.Complete, QueueLoad (the
// declaration, the clock and the counts, read after the lock's wait), then
// ClaimPartitioned for what the limits leave room for. It waits for the
// lock under ctx's deadline (Claim's: FinishTimeout).
func (s *Store) claimPartitioned(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	var res store.ClaimResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(ctx, p.Queue); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		if len(p.Complete) > 0 {
			var err error
			if res.Completed, err = completeVia(ctx, tx, p.Complete); err != nil {
				return fmt.Errorf("record outcomes: %w", err)
			}
		}
		l, err := q.QueueLoad(ctx, pgdb.QueueLoadParams{QueueName: p.Queue, ExecutorID: p.ExecutorID})
		if err != nil {
			return fmt.Errorf("read limits and count running and recent workflows: %w", err)
		}
		cfg := storekit.Config(p.Queue, l.Concurrency, l.WorkerConcurrency, l.RateLimit, l.RatePeriodMs,
			l.PartitionConcurrency, l.PartitionRateLimit, l.PartitionRatePeriodMs)
		s.route(p.Queue, pathOf(cfg))
		load := storekit.Load{
			NowMs:          l.NowMs,
			Pending:        l.Pending,
			PendingHere:    l.PendingHere,
			WindowStarts:   l.WindowStarts,
			WindowOldestMs: l.WindowOldestMs,
		}
		var rows []pgdb.Workflow
		if n := storekit.Room(cfg, p.Max, load); n > 0 && !l.Paused {
			if storekit.Partitioned(cfg) {
				runs := storekit.RunsOf(p.Runs)
				rows, err = q.ClaimPartitioned(ctx, pgdb.ClaimPartitionedParams{
					RunsAny:              runs.Any,
					RunVersion:           runs.Version,
					RunNames:             runs.Names,
					RunSignatures:        runs.Signatures,
					ExecutorID:           p.ExecutorID,
					PartitionConcurrency: int64(cfg.PartitionConcurrency),
					PartitionRateLimit:   int64(cfg.PartitionRateLimit),
					PartitionPeriodMs:    l.PartitionRatePeriodMs,
					QueueName:            p.Queue,
					MaxRows:              int64(n),
				})
				if err != nil {
					return err
				}
			}
			// Else the declaration changed meanwhile: the next claim takes
			// the path it now needs.
		}
		completed := res.Completed
		res = store.ClaimResult{Claimed: workflows(rows), Config: cfg, Completed: completed, Paused: l.Paused}
		storekit.SortFIFO(res.Claimed)
		if storekit.NeedBacklog(cfg, p.Max, load, len(rows)) && !l.Paused {
			b, err := s.backlog(ctx, tx, cfg, load.NowMs)
			if err != nil {
				return fmt.Errorf("read backlog: %w", err)
			}
			res.RetryAt = storekit.RetryAt(cfg, p.Max, load, len(rows), b)
		}
		return nil
	})
	return res, err
}

// backlog reads what is left in the queue at nowMs, under the partition
// limits of cfg if any.
func (s *Store) backlog(ctx context.Context, tx pgx.Tx, cfg store.QueueConfig, nowMs int64) (storekit.Backlog, error) {
	if storekit.Partitioned(cfg) {
		b, err := s.q.WithTx(tx).PartitionBacklog(ctx, pgdb.PartitionBacklogParams{
			QueueName:            cfg.Name,
			NowMs:                nowMs,
			PartitionConcurrency: int64(cfg.PartitionConcurrency),
			PartitionRateLimit:   int64(cfg.PartitionRateLimit),
			PartitionPeriodMs:    storekit.Millis(cfg.PartitionRatePeriod),
		})
		return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs, PartitionFreeMs: b.PartitionFreeMs}, err
	}
	b, err := queueBacklog(ctx, tx, cfg.Name, nowMs)
	return storekit.Backlog{Ready: b.Ready, NextDelayedMs: b.NextDelayedMs}, err
}

// DeclareQueue records a queue's declaration, replacing the stored one, and
// returns the one it replaced. It holds the queue's advisory lock (LockQueue)
// meanwhile, so concurrent declarations are serialized, each one learns
// exactly which declaration it replaced, and a limited claim reads either
// the old declaration or the new one.
func (s *Store) DeclareQueue(ctx context.Context, c store.QueueConfig, executorID string) (store.QueueConfig, bool, error) {
	if err := storekit.ValidateDeclare(c, executorID); err != nil {
		return store.QueueConfig{}, false, err
	}
	c = c.Normalized()
	var (
		prev    store.QueueConfig
		existed bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockQueue(ctx, c.Name); err != nil {
			return fmt.Errorf("lock queue: %w", err)
		}
		row, err := q.GetQueue(ctx, c.Name)
		switch {
		case err == nil && row.DeclaredBy != "": // "": stored by a pause, not declared
			prev, existed = queueConfig(row), true
		case err != nil && !isNoRows(err):
			return fmt.Errorf("read current declaration: %w", err)
		}
		err = q.UpsertQueue(ctx, pgdb.UpsertQueueParams{
			Name:                  c.Name,
			Concurrency:           int64(c.Concurrency),
			WorkerConcurrency:     int64(c.WorkerConcurrency),
			RateLimit:             int64(c.RateLimit),
			RatePeriodMs:          storekit.Millis(c.RatePeriod),
			PartitionConcurrency:  int64(c.PartitionConcurrency),
			PartitionRateLimit:    int64(c.PartitionRateLimit),
			PartitionRatePeriodMs: storekit.Millis(c.PartitionRatePeriod),
			DeclaredBy:            executorID,
		})
		if err != nil {
			return fmt.Errorf("store declaration: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.QueueConfig{}, false, fmt.Errorf("declare queue %q: %w", c.Name, err)
	}
	return prev, existed, nil
}

func queueConfig(r pgdb.Queue) store.QueueConfig {
	return storekit.Config(r.Name, r.Concurrency, r.WorkerConcurrency, r.RateLimit, r.RatePeriodMs,
		r.PartitionConcurrency, r.PartitionRateLimit, r.PartitionRatePeriodMs)
}
