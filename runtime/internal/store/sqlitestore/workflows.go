package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// InsertWorkflows inserts many workflows in one IMMEDIATE transaction.
func (s *Store) InsertWorkflows(ctx context.Context, ps []store.InsertParams) ([]store.InsertResult, error) {
	if err := storekit.ValidateInserts(ps); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	var res []store.InsertResult
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
		res, err = insertAll(ctx, q, ps)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("insert %d workflows: %w", len(ps), err)
	}
	return res, nil
}

// insertAll inserts ps one after another in the caller's transaction.
func insertAll(ctx context.Context, q *sqlitedb.Queries, ps []store.InsertParams) ([]store.InsertResult, error) {
	res := make([]store.InsertResult, len(ps))
	for i, p := range ps {
		r, err := insertOne(ctx, q, p)
		if err != nil {
			return nil, fmt.Errorf("insert workflow %q: %w", p.ID, err)
		}
		res[i] = r
	}
	return res, nil
}

// insertArgs are the arguments of InsertWorkflow for p, with the attempts
// its row starts with.
func insertArgs(p store.InsertParams, attempts int) sqlitedb.InsertWorkflowParams {
	return sqlitedb.InsertWorkflowParams{
		WorkflowID:   p.ID,
		Name:         p.Name,
		State:        p.State,
		QueueName:    p.Queue,
		ExecutorID:   p.ExecutorID,
		Input:        p.Input,
		Priority:     int64(p.Priority),
		DedupID:      p.DedupID,
		PartitionKey: p.PartitionKey,
		ParentID:     p.ParentID,
		TimeoutMs:    storekit.Millis(p.Timeout),
		DelayMs:      storekit.Millis(p.Delay),
		Signature:    p.Signature,
		AppVersion:   p.AppVersion,
		TraceContext: p.TraceContext,
		Attempts:     int64(attempts),
	}
}

// insertOne inserts a workflow in the caller's transaction. A held
// deduplication ID is reported in the result's Err; err is any other
// failure.
func insertOne(ctx context.Context, q *sqlitedb.Queries, p store.InsertParams) (store.InsertResult, error) {
	row, err := q.InsertWorkflow(ctx, insertArgs(p, storekit.InsertAttempts(p)))
	switch {
	case err == nil:
		return store.InsertResult{Workflow: workflow(row), Created: true}, nil
	case errors.Is(err, sql.ErrNoRows): // the ID exists
		row, err := q.GetWorkflow(ctx, p.ID)
		if err != nil {
			return store.InsertResult{}, fmt.Errorf("read existing: %w", err)
		}
		return store.InsertResult{Workflow: workflow(row)}, nil
	case isDedupConflict(err):
		// Under the write lock the holder cannot change meanwhile.
		holder, err := q.DedupHolder(ctx, sqlitedb.DedupHolderParams{QueueName: p.Queue, DedupID: p.DedupID})
		if err != nil {
			return store.InsertResult{}, fmt.Errorf("find deduplication ID holder: %w", err)
		}
		return store.InsertResult{Err: &store.DuplicateError{Queue: p.Queue, DedupID: p.DedupID, ExistingID: holder}}, nil
	default:
		return store.InsertResult{}, err
	}
}

func isDedupConflict(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE &&
		strings.Contains(se.Error(), "dedup_id")
}

// GetWorkflow returns a workflow, or store.ErrNotFound.
func (s *Store) GetWorkflow(ctx context.Context, id string) (store.Workflow, error) {
	row, err := s.q.GetWorkflow(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Workflow{}, fmt.Errorf("get workflow %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Workflow{}, fmt.Errorf("get workflow %q: %w", id, err)
	}
	return workflow(row), nil
}

// CompleteMany records many terminal states in one IMMEDIATE transaction.
func (s *Store) CompleteMany(ctx context.Context, ps []store.CompleteParams) ([]bool, error) {
	if err := storekit.ValidateCompleteMany(ps); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	ok, err := s.complete(ctx, ps)
	if err != nil {
		return nil, fmt.Errorf("complete %d workflows: %w", len(ps), err)
	}
	return ok, nil
}

// complete records valid outcomes in one IMMEDIATE transaction, detached
// from ctx's cancellation once begun.
func (s *Store) complete(ctx context.Context, ps []store.CompleteParams) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	var ok []bool
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
		ok, err = completeAll(ctx, q, ps)
		return err
	})
	return ok, err
}

// completeAll records ps in the caller's transaction.
func completeAll(ctx context.Context, q *sqlitedb.Queries, ps []store.CompleteParams) ([]bool, error) {
	ok := make([]bool, len(ps))
	for i, p := range ps {
		n, err := q.CompleteWorkflow(ctx, completeParams(p))
		if err != nil {
			return nil, err
		}
		ok[i] = n == 1
	}
	return ok, nil
}

// completeParams are the arguments of CompleteWorkflow for p.
func completeParams(p store.CompleteParams) sqlitedb.CompleteWorkflowParams {
	return sqlitedb.CompleteWorkflowParams{
		State:      p.State,
		Output:     p.Output,
		Error:      p.Error,
		WorkflowID: p.ID,
		ExecutorID: p.ExecutorID,
		Attempts:   int64(p.Attempts),
	}
}

// PendingFor takes back an executor's PENDING workflows in one IMMEDIATE
// transaction: it releases those the executor does not run, then resumes
// the rest, oldest first, each counting one more attempt.
func (s *Store) PendingFor(ctx context.Context, executorID string, runs *store.Runs) (resumed, released []store.Workflow, err error) {
	if err := storekit.ValidateRuns(runs); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("resume workflows of executor %q: %w", executorID, err)
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	r := s.runsOf(runs)
	err = s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		out, err := q.ReleaseUnrunnable(ctx, sqlitedb.ReleaseUnrunnableParams{
			ExecutorID:    executorID,
			RunsAny:       r.any,
			RunVersion:    r.version,
			RunNames:      r.names,
			RunSignatures: r.signatures,
		})
		if err != nil {
			return err
		}
		released = workflows(out)
		in, err := q.ResumePending(ctx, sqlitedb.ResumePendingParams{ExecutorID: executorID, RunVersion: r.version})
		resumed = workflows(in)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("resume workflows of executor %q: %w", executorID, err)
	}
	storekit.SortBySeq(resumed)
	storekit.SortBySeq(released)
	return resumed, released, nil
}

// ReleaseWorkflow implements store.Store.
func (s *Store) ReleaseWorkflow(ctx context.Context, id string, owner store.Owner) (store.Workflow, bool, error) {
	var row sqlitedb.Workflow
	err := s.write(func() (err error) {
		row, err = s.q.ReleaseWorkflow(ctx, sqlitedb.ReleaseWorkflowParams{WorkflowID: id, ExecutorID: owner.ExecutorID, Attempts: int64(owner.Attempts)})
		return err
	})
	if err == nil {
		return workflow(row), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Workflow{}, false, fmt.Errorf("release workflow %q: %w", id, err)
	}
	w, err := s.GetWorkflow(ctx, id)
	return w, false, err
}

// Steps returns a workflow's checkpoints ordered by StepID.
func (s *Store) Steps(ctx context.Context, workflowID string) ([]store.Step, error) {
	rows, err := s.q.ListSteps(ctx, workflowID)
	if err != nil {
		return nil, fmt.Errorf("list steps of workflow %q: %w", workflowID, err)
	}
	out := make([]store.Step, len(rows))
	for i, r := range rows {
		out[i] = step(r)
	}
	return out, nil
}

// RecordStep writes a checkpoint once; later calls return the recorded one.
func (s *Store) RecordStep(ctx context.Context, st store.Step, owner store.Owner) (store.Step, bool, error) {
	var (
		saved    store.Step
		recorded bool
	)
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		row, err := q.InsertStep(ctx, insertStepParams(st, owner))
		if err == nil {
			saved, recorded = step(row), true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Not inserted: a stale run, or the step is recorded already.
		if err := checkOwner(ctx, q, st.WorkflowID, owner); err != nil {
			return err
		}
		row, err = q.GetStep(ctx, sqlitedb.GetStepParams{WorkflowID: st.WorkflowID, StepID: int64(st.StepID)})
		if err != nil {
			return fmt.Errorf("read recorded: %w", err)
		}
		saved = step(row)
		return nil
	})
	if err != nil {
		return store.Step{}, false, fmt.Errorf("record step %d of workflow %q: %w", st.StepID, st.WorkflowID, err)
	}
	return saved, recorded, nil
}

func workflow(r sqlitedb.Workflow) store.Workflow {
	return store.Workflow{
		Seq:          r.Seq,
		ID:           r.WorkflowID,
		Name:         r.Name,
		State:        r.State,
		Queue:        r.QueueName.String,
		ExecutorID:   r.ExecutorID.String,
		Input:        r.Input,
		Output:       r.Output,
		Error:        r.Error.String,
		Priority:     int(r.Priority),
		DedupID:      r.DedupID.String,
		PartitionKey: r.PartitionKey.String,
		ParentID:     r.ParentID.String,
		Timeout:      time.Duration(r.TimeoutMs) * time.Millisecond,
		Deadline:     nullTime(r.DeadlineMs),
		NotBefore:    nullTime(r.NotBeforeMs),
		Attempts:     int(r.Attempts),
		CreatedAt:    storekit.Time(r.CreatedMs),
		StartedAt:    nullTime(r.StartedMs),
		CompletedAt:  nullTime(r.CompletedMs),
		AppVersion:   r.AppVersion.String,
		Signature:    r.Signature,
		TraceContext: r.TraceContext.String,
	}
}

func workflows(rows []sqlitedb.Workflow) []store.Workflow {
	out := make([]store.Workflow, len(rows))
	for i, r := range rows {
		out[i] = workflow(r)
	}
	return out
}

// nullMs is t in milliseconds since the epoch, NULL for the zero time.
func nullMs(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func nullTime(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return storekit.Time(ms.Int64)
}

func step(r sqlitedb.Step) store.Step {
	return store.Step{
		WorkflowID: r.WorkflowID,
		StepID:     int(r.StepID),
		Name:       r.Name,
		Output:     r.Output,
		Error:      r.Error.String,
		ChildID:    r.ChildID.String,
		Code:       r.Code,
		StartedAt:  nullTime(r.StartedMs),
		RecordedAt: storekit.Time(r.CreatedMs),
	}
}

// RecordSteps writes many checkpoints of one workflow in one transaction.
func (s *Store) RecordSteps(ctx context.Context, workflowID string, steps []store.Step, owner store.Owner) error {
	if err := storekit.ValidateSteps(workflowID, steps); err != nil || len(steps) == 0 {
		return err
	}
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		skipped := false
		for _, st := range steps {
			_, err := q.InsertStep(ctx, insertStepParams(st, owner))
			switch {
			case errors.Is(err, sql.ErrNoRows):
				skipped = true
			case err != nil:
				return err
			}
		}
		if !skipped {
			return nil
		}
		// Some were not written: recorded already, or the run is stale.
		return checkOwner(ctx, q, workflowID, owner)
	})
	if err != nil {
		return fmt.Errorf("record %d steps of workflow %q: %w", len(steps), workflowID, err)
	}
	return nil
}

// checkOwner returns store.ErrFenced unless owner's run still owns the
// workflow (see storekit.Owns); a missing workflow is owned by no run.
func checkOwner(ctx context.Context, q *sqlitedb.Queries, workflowID string, owner store.Owner) error {
	w, err := q.GetWorkflow(ctx, workflowID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read workflow: %w", err)
	}
	if err != nil || !storekit.Owns(workflow(w), owner) {
		return store.ErrFenced
	}
	return nil
}

// insertStepParams are the arguments of InsertStep for st, fenced by owner.
func insertStepParams(st store.Step, owner store.Owner) sqlitedb.InsertStepParams {
	return sqlitedb.InsertStepParams{
		WorkflowID: st.WorkflowID,
		StepID:     int64(st.StepID),
		Name:       st.Name,
		Output:     st.Output,
		Error:      st.Error,
		ChildID:    st.ChildID,
		Code:       st.Code,
		StartedMs:  nullMs(st.StartedAt),
		ExecutorID: owner.ExecutorID,
		Attempts:   int64(owner.Attempts),
	}
}

// InsertAndClaim inserts and claims in one IMMEDIATE transaction. When
// the queue is free (no limit, not paused, nothing ready waiting: this
// transaction is the only writer, so the reads stay true to its commit),
// the rows this executor can start at once (storekit.StartsOnInsert) go
// in already claimed, each written once instead of inserted and then
// updated; the claim that would follow could then take only what the
// insert could not start, and runs only when there is such a row.
func (s *Store) InsertAndClaim(ctx context.Context, ps []store.InsertParams, c store.ClaimParams) ([]store.InsertResult, store.ClaimResult, error) {
	if err := storekit.ValidateInsertAndClaim(ps, c); err != nil {
		return nil, store.ClaimResult{}, err
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	var (
		res     []store.InsertResult
		claimed store.ClaimResult
	)
	runs := s.runsOf(c.Runs)
	err := s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) (err error) {
		starts, cfg, err := startsIfFree(ctx, q, ps, c, runs)
		if err != nil {
			return err
		}
		if res, err = insertAll(ctx, q, storekit.ClaimedOnInsert(ps, starts, c, store.StatePending)); err != nil {
			return err
		}
		direct, _ := storekit.StartedOnInsert(res, starts)
		if len(starts) > 0 && len(starts) == len(ps) {
			// Every row started, and nothing else was ready.
			claimed = store.ClaimResult{Claimed: direct, Config: cfg}
			return nil
		}
		rest := c
		rest.Max -= len(direct)
		if rest.Max == 0 {
			claimed = store.ClaimResult{Claimed: direct, Config: cfg}
			return nil
		}
		if claimed, err = claimIn(ctx, q, rest, runs); err != nil {
			return fmt.Errorf("claim from queue %q: %w", c.Queue, err)
		}
		claimed.Claimed = append(direct, claimed.Claimed...)
		storekit.SortFIFO(claimed.Claimed)
		return nil
	})
	if err != nil {
		return nil, store.ClaimResult{}, fmt.Errorf("insert %d workflows and claim: %w", len(ps), err)
	}
	return res, claimed, nil
}

// startsIfFree returns, inside InsertAndClaim's transaction, the indexes
// of the rows of ps to insert already claimed (storekit.StartsOnInsert):
// none unless c's queue has no limit, is not paused and has nothing ready
// that c's executor runs. cfg is the queue's declaration, read to decide.
func startsIfFree(ctx context.Context, q *sqlitedb.Queries, ps []store.InsertParams, c store.ClaimParams, runs runsArgs) (starts []int, cfg store.QueueConfig, err error) {
	l, err := q.QueueLoad(ctx, sqlitedb.QueueLoadParams{QueueName: c.Queue, ExecutorID: c.ExecutorID})
	if err != nil {
		return nil, cfg, fmt.Errorf("read limits of queue %q: %w", c.Queue, err)
	}
	cfg, load := loaded(c.Queue, l)
	if storekit.Limited(cfg) || l.Paused != 0 {
		return nil, cfg, nil
	}
	b, err := backlog(ctx, q, cfg, runs, load.NowMs)
	if err != nil {
		return nil, cfg, fmt.Errorf("read backlog of queue %q: %w", c.Queue, err)
	}
	if b.Ready {
		return nil, cfg, nil
	}
	return storekit.StartsOnInsert(ps, c), cfg, nil
}
