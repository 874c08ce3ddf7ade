package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// dedupIndex is the unique index that holds deduplication IDs (0001_init.sql).
const dedupIndex = "workflows_dedup_idx"

// insertWorkflow inserts a workflow alone, or returns the existing one with
// created=false, or a *store.DuplicateError when the deduplication ID is
// held: InsertWorkflows' way for one it skipped when what stood in its way
// is gone.
func (s *Store) insertWorkflow(ctx context.Context, p store.InsertParams) (store.Workflow, bool, error) {
	if err := storekit.ValidateInsert(p); err != nil {
		return store.Workflow{}, false, err
	}
	args := insertArgs(p)
	// A conflict on the deduplication ID names a holder that may finish
	// before we read it; then the insert is simply tried again.
	for range 5 {
		row, err := s.q.InsertWorkflow(ctx, args)
		switch {
		case err == nil:
			return workflow(row), true, nil
		case isNoRows(err): // the ID exists
			w, err := s.GetWorkflow(ctx, p.ID)
			if err != nil {
				return store.Workflow{}, false, fmt.Errorf("insert workflow %q: read existing: %w", p.ID, err)
			}
			return w, false, nil
		case isDedupConflict(err):
			holder, err := s.q.DedupHolder(ctx, pgdb.DedupHolderParams{QueueName: p.Queue, DedupID: p.DedupID})
			if isNoRows(err) {
				continue // released meanwhile
			}
			if err != nil {
				return store.Workflow{}, false, fmt.Errorf("insert workflow %q: find deduplication ID holder: %w", p.ID, err)
			}
			return store.Workflow{}, false, &store.DuplicateError{Queue: p.Queue, DedupID: p.DedupID, ExistingID: holder}
		default:
			return store.Workflow{}, false, fmt.Errorf("insert workflow %q: %w", p.ID, err)
		}
	}
	return store.Workflow{}, false, fmt.Errorf("insert workflow %q: deduplication ID %q on queue %q kept changing hands", p.ID, p.DedupID, p.Queue)
}

// insertArgs are the arguments of InsertWorkflow for p; InsertWorkflows
// takes the same, one array element each.
func insertArgs(p store.InsertParams) pgdb.InsertWorkflowParams {
	return pgdb.InsertWorkflowParams{
		WorkflowID:   p.ID,
		Name:         p.Name,
		State:        p.State,
		QueueName:    p.Queue,
		ExecutorID:   p.ExecutorID,
		Input:        p.Input,
		Priority:     int32(p.Priority),
		DedupID:      p.DedupID,
		PartitionKey: p.PartitionKey,
		ParentID:     p.ParentID,
		TimeoutMs:    storekit.Millis(p.Timeout),
		DelayMs:      storekit.Millis(p.Delay),
		Signature:    p.Signature,
		AppVersion:   p.AppVersion,
		TraceContext: p.TraceContext,
		Attempts:     int32(storekit.InsertAttempts(p)),
	}
}

// InsertWorkflows inserts many workflows with one statement (one commit),
// then looks up, one by one, why each one it skipped was skipped: its ID
// exists (the existing row), or its deduplication ID is held (the holder;
// when the holder finished meanwhile, the workflow is inserted alone).
func (s *Store) InsertWorkflows(ctx context.Context, ps []store.InsertParams) ([]store.InsertResult, error) {
	if err := storekit.ValidateInserts(ps); err != nil {
		return nil, err
	}
	res, _, err := s.insertWorkflows(ctx, ps, nil)
	return res, err
}

// InsertAndClaim inserts many workflows and, when c's queue has no limits
// (as the last claim of it found), claims from it in the same pipeline:
// one round trip, one commit. Otherwise (or with nothing to insert) it
// claims after the insert.
//
// In the pipeline, the workflows this executor could start at once
// (storekit.StartsOnInsert) go in already claimed when the queue is free
// (InsertWorkflows' 'CLAIM' state), each row written once instead of
// inserted and then updated; the claim that follows takes what else is
// ready, up to what they left of c.Max (dbos.claim_room).
func (s *Store) InsertAndClaim(ctx context.Context, ps []store.InsertParams, c store.ClaimParams) ([]store.InsertResult, store.ClaimResult, error) {
	if err := storekit.ValidateInsertAndClaim(ps, c); err != nil {
		return nil, store.ClaimResult{}, err
	}
	if _, limited := s.limited.Load(c.Queue); limited || len(ps) == 0 {
		// Not piped (a limited queue, or nothing to insert): claim its way.
		res, _, err := s.insertWorkflows(ctx, ps, nil)
		if err != nil {
			return nil, store.ClaimResult{}, err
		}
		return res, s.claimAfter(ctx, c), nil
	}
	starts := storekit.StartsOnInsert(ps, c)
	rows := storekit.ClaimedOnInsert(ps, starts, c, stateClaim)
	if c.Drained && len(starts) == len(ps) {
		return s.insertStarted(ctx, rows, starts, c)
	}
	started := make([]string, len(starts))
	for k, i := range starts {
		started[k] = ps[i].ID
	}
	res, claim, err := s.insertWorkflows(ctx, rows, &pipedParams{c, started})
	if err != nil {
		return nil, store.ClaimResult{}, err
	}
	if claim.next != pathUnlimited {
		// Limited after all (then neither the insert nor the claim
		// started anything): claim its way.
		return res, s.claimAfter(ctx, c), nil
	}
	out := claim.res
	direct, _ := storekit.StartedOnInsert(res, starts)
	out.Claimed = append(out.Claimed, direct...)
	storekit.SortFIFO(out.Claimed)
	return res, out, nil
}

// insertStarted is InsertAndClaim when the caller believes the queue is
// drained and every row may start at once (rows, all in state CLAIM): the
// insert alone, whose rows all start when the queue is free, so that a
// claim would find nothing. When it was not free after all (a stale hint:
// the rows went in ENQUEUED), it claims after the insert.
func (s *Store) insertStarted(ctx context.Context, rows []store.InsertParams, starts []int, c store.ClaimParams) ([]store.InsertResult, store.ClaimResult, error) {
	res, _, err := s.insertWorkflows(ctx, rows, nil)
	if err != nil {
		return nil, store.ClaimResult{}, err
	}
	started, waits := storekit.StartedOnInsert(res, starts)
	if waits {
		return res, s.claimAfter(ctx, c), nil
	}
	storekit.SortFIFO(started)
	return res, store.ClaimResult{Claimed: started, Config: store.QueueConfig{Name: c.Queue}}, nil
}

// stateClaim is InsertWorkflows' state for a row inserted claimed when its
// queue is free, ENQUEUED otherwise.
const stateClaim = "CLAIM"

// claimAfter claims for InsertAndClaim once its insert committed; a failure
// reports nothing claimed, to be tried again at once.
func (s *Store) claimAfter(ctx context.Context, c store.ClaimParams) store.ClaimResult {
	res, err := s.Claim(ctx, c)
	if err != nil {
		s.logger.Warn("claim after an insert failed", "queue", c.Queue, "error", err)
		return store.ClaimResult{Config: store.QueueConfig{Name: c.Queue}, RetryAt: time.Now()}
	}
	return res
}

// pipedClaim is the claim a pipeline made after its insert.
type pipedClaim struct {
	res  store.ClaimResult
	next claimPath
}

// pipedParams are the arguments of the claim that follows an insert in its
// pipeline: the claim, and the IDs of the rows the insert may have started
// (see InsertAndClaim).
type pipedParams struct {
	store.ClaimParams
	started []string
}

// insertWorkflows inserts ps (valid) with one statement, followed in the
// same pipeline (one implicit transaction) by claimUnlimited's statements
// when claim is not nil.
func (s *Store) insertWorkflows(ctx context.Context, ps []store.InsertParams, claim *pipedParams) ([]store.InsertResult, pipedClaim, error) {
	var piped pipedClaim
	if len(ps) == 0 {
		return nil, piped, nil
	}
	a := insertsArgs(ps)
	var (
		pl   pipeline
		fe   firstErr
		rows []pgdb.Workflow
	)
	q := pgdb.New(&pl)
	ins := q.InsertWorkflows(ctx, []pgdb.InsertWorkflowsParams{a})
	var readClaim func() (store.ClaimResult, bool)
	if claim != nil {
		readClaim = queueClaimUnlimited(ctx, q, claim.ClaimParams, claim.started, &fe)
	}
	pl.send(ctx, s.pool)
	ins.Query(func(_ int, r []pgdb.Workflow, err error) { rows = r; fe.keep(err) })
	limited := false
	if readClaim != nil {
		piped.res, limited = readClaim()
	}
	if fe.keep(pl.close()); fe.err != nil {
		return nil, pipedClaim{}, fmt.Errorf("insert %d workflows: %w", len(ps), fe.err)
	}
	if claim != nil {
		piped.next = s.routeUnlimited(claim.Queue, limited, len(piped.res.Claimed))
	}
	inserted := make(map[string]pgdb.Workflow, len(rows))
	for _, r := range rows {
		inserted[r.WorkflowID] = r
	}
	res := make([]store.InsertResult, len(ps))
	for i, p := range ps {
		if r, ok := inserted[p.ID]; ok {
			delete(inserted, p.ID) // a second row with this ID was skipped
			res[i] = store.InsertResult{Workflow: workflow(r), Created: true}
			continue
		}
		if p.State == stateClaim {
			p.State, p.ExecutorID = store.StateEnqueued, "" // inserted alone, if at all: enqueued
		}
		res[i] = s.skipped(ctx, p)
	}
	return res, piped, nil
}

// insertsArgs are the arguments of InsertWorkflows for ps: element i of
// each array describes ps[i].
func insertsArgs(ps []store.InsertParams) pgdb.InsertWorkflowsParams {
	a := pgdb.InsertWorkflowsParams{
		WorkflowIds:   make([]string, len(ps)),
		Names:         make([]string, len(ps)),
		States:        make([]string, len(ps)),
		QueueNames:    make([]string, len(ps)),
		ExecutorIds:   make([]string, len(ps)),
		Inputs:        make([][]byte, len(ps)),
		Priorities:    make([]int32, len(ps)),
		DedupIds:      make([]string, len(ps)),
		PartitionKeys: make([]string, len(ps)),
		ParentIds:     make([]string, len(ps)),
		TimeoutsMs:    make([]int64, len(ps)),
		DelaysMs:      make([]int64, len(ps)),
		Signatures:    make([]string, len(ps)),
		AppVersions:   make([]string, len(ps)),
	}
	for i, p := range ps {
		r := insertArgs(p)
		a.WorkflowIds[i], a.Names[i], a.States[i], a.QueueNames[i], a.ExecutorIds[i] = r.WorkflowID, r.Name, r.State, r.QueueName, r.ExecutorID
		a.Inputs[i], a.Priorities[i], a.DedupIds[i], a.PartitionKeys[i], a.ParentIds[i] = r.Input, r.Priority, r.DedupID, r.PartitionKey, r.ParentID
		a.TimeoutsMs[i], a.DelaysMs[i] = r.TimeoutMs, r.DelayMs
		a.Signatures[i], a.AppVersions[i] = r.Signature, r.AppVersion
		if r.TraceContext != "" {
			if a.TraceContexts == nil {
				// Only a traced enqueue sends the array: a NULL one
				// stores NULL in every row (see InsertWorkflows).
				a.TraceContexts = make([]string, len(ps))
			}
			a.TraceContexts[i] = r.TraceContext
		}
	}
	return a
}

// skipped reports on a workflow InsertWorkflows did not insert.
func (s *Store) skipped(ctx context.Context, p store.InsertParams) store.InsertResult {
	w, err := s.GetWorkflow(ctx, p.ID)
	switch {
	case err == nil:
		return store.InsertResult{Workflow: w}
	case !errors.Is(err, store.ErrNotFound):
		return store.InsertResult{Err: fmt.Errorf("insert workflow %q: read existing: %w", p.ID, err)}
	}
	if p.DedupID != "" {
		holder, err := s.q.DedupHolder(ctx, pgdb.DedupHolderParams{QueueName: p.Queue, DedupID: p.DedupID})
		switch {
		case err == nil:
			return store.InsertResult{Err: &store.DuplicateError{Queue: p.Queue, DedupID: p.DedupID, ExistingID: holder}}
		case !isNoRows(err):
			return store.InsertResult{Err: fmt.Errorf("insert workflow %q: find deduplication ID holder: %w", p.ID, err)}
		}
	}
	// What stood in the way is gone: insert it alone.
	w, created, err := s.insertWorkflow(ctx, p)
	return store.InsertResult{Workflow: w, Created: created, Err: err}
}

func isDedupConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == dedupIndex
}

// GetWorkflow returns a workflow, or store.ErrNotFound.
func (s *Store) GetWorkflow(ctx context.Context, id string) (store.Workflow, error) {
	row, err := s.q.GetWorkflow(ctx, id)
	if isNoRows(err) {
		return store.Workflow{}, fmt.Errorf("get workflow %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Workflow{}, fmt.Errorf("get workflow %q: %w", id, err)
	}
	return workflow(row), nil
}

// CompleteMany records many terminal states in one statement (one commit).
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

// complete records valid outcomes (at least one) with CompleteWorkflows,
// detached from ctx's cancellation once begun.
func (s *Store) complete(ctx context.Context, ps []store.CompleteParams) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	return completeVia(ctx, s.pool, ps)
}

// PendingFor takes back an executor's PENDING workflows with one
// statement: those it runs, oldest first, each counting one more attempt;
// the others released.
func (s *Store) PendingFor(ctx context.Context, executorID string, runs *store.Runs) (resumed, released []store.Workflow, err error) {
	if err := storekit.ValidateRuns(runs); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("resume workflows of executor %q: %w", executorID, err)
	}
	ctx, cancel := storekit.Detach(ctx)
	defer cancel()
	r := storekit.RunsOf(runs)
	rows, err := s.q.ResumePending(ctx, pgdb.ResumePendingParams{
		ExecutorID:    executorID,
		RunsAny:       r.Any,
		RunVersion:    r.Version,
		RunNames:      r.Names,
		RunSignatures: r.Signatures,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("resume workflows of executor %q: %w", executorID, err)
	}
	for _, w := range workflows(rows) {
		if w.State == store.StatePending && w.ExecutorID == executorID {
			resumed = append(resumed, w)
		} else {
			released = append(released, w)
		}
	}
	storekit.SortBySeq(resumed)
	storekit.SortBySeq(released)
	return resumed, released, nil
}

// ReleaseWorkflow implements store.Store.
func (s *Store) ReleaseWorkflow(ctx context.Context, id string, owner store.Owner) (store.Workflow, bool, error) {
	row, err := s.q.ReleaseWorkflow(ctx, pgdb.ReleaseWorkflowParams{WorkflowID: id, ExecutorID: owner.ExecutorID, Attempts: int32(owner.Attempts)})
	if err == nil {
		return workflow(row), true, nil
	}
	if !isNoRows(err) {
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
	saved, recorded, err := recordInTx(ctx, s.q, st, owner)
	if err != nil {
		return store.Step{}, false, fmt.Errorf("record step %d of workflow %q: %w", st.StepID, st.WorkflowID, err)
	}
	return saved, recorded, nil
}

func workflow(r pgdb.Workflow) store.Workflow {
	return store.Workflow{
		Seq:          r.Seq,
		ID:           r.WorkflowID,
		Name:         r.Name,
		State:        r.State,
		Queue:        storekit.Str(r.QueueName),
		ExecutorID:   storekit.Str(r.ExecutorID),
		Input:        r.Input,
		Output:       r.Output,
		Error:        storekit.Str(r.Error),
		Priority:     int(r.Priority),
		DedupID:      storekit.Str(r.DedupID),
		PartitionKey: storekit.Str(r.PartitionKey),
		ParentID:     storekit.Str(r.ParentID),
		Timeout:      time.Duration(r.TimeoutMs) * time.Millisecond,
		Deadline:     storekit.TimePtr(r.DeadlineMs),
		NotBefore:    storekit.TimePtr(r.NotBeforeMs),
		Attempts:     int(r.Attempts),
		CreatedAt:    storekit.Time(r.CreatedMs),
		StartedAt:    storekit.TimePtr(r.StartedMs),
		CompletedAt:  storekit.TimePtr(r.CompletedMs),
		AppVersion:   storekit.Str(r.AppVersion),
		Signature:    r.Signature,
		TraceContext: storekit.Str(r.TraceContext),
	}
}

func workflows(rows []pgdb.Workflow) []store.Workflow {
	out := make([]store.Workflow, len(rows))
	for i, r := range rows {
		out[i] = workflow(r)
	}
	return out
}

func step(r pgdb.Step) store.Step {
	return store.Step{
		WorkflowID: r.WorkflowID,
		StepID:     int(r.StepID),
		Name:       r.Name,
		Output:     r.Output,
		Error:      storekit.Str(r.Error),
		ChildID:    storekit.Str(r.ChildID),
		Code:       r.Code,
		StartedAt:  storekit.TimePtr(r.StartedMs),
		RecordedAt: storekit.Time(r.CreatedMs),
	}
}

// RecordSteps writes many checkpoints of one workflow with one statement.
func (s *Store) RecordSteps(ctx context.Context, workflowID string, steps []store.Step, owner store.Owner) error {
	if err := storekit.ValidateSteps(workflowID, steps); err != nil || len(steps) == 0 {
		return err
	}
	a := pgdb.InsertStepsParams{
		WorkflowID: workflowID,
		ExecutorID: owner.ExecutorID,
		Attempts:   int32(owner.Attempts),
		StepIds:    make([]int32, len(steps)),
		Names:      make([]string, len(steps)),
		Outputs:    make([][]byte, len(steps)),
		Errors:     make([]string, len(steps)),
		ChildIds:   make([]string, len(steps)),
		Codes:      make([]string, len(steps)),
		StartedMs:  make([]int64, len(steps)),
	}
	for i, st := range steps {
		a.StepIds[i], a.Names[i], a.Outputs[i], a.Errors[i], a.ChildIds[i], a.Codes[i] = int32(st.StepID), st.Name, st.Output, st.Error, st.ChildID, st.Code
		if !st.StartedAt.IsZero() {
			a.StartedMs[i] = st.StartedAt.UnixMilli()
		}
	}
	n, err := s.q.InsertSteps(ctx, a)
	if err != nil {
		return fmt.Errorf("record %d steps of workflow %q: %w", len(steps), workflowID, err)
	}
	if n == int64(len(steps)) {
		return nil
	}
	// Fewer rows: some were recorded already, or the run is stale (then
	// the statement wrote none).
	if err := checkOwner(ctx, s.q, workflowID, owner); err != nil {
		return fmt.Errorf("record %d steps of workflow %q: %w", len(steps), workflowID, err)
	}
	return nil
}

// checkOwner returns store.ErrFenced unless owner's run still owns the
// workflow (see storekit.Owns); a missing workflow is owned by no run.
func checkOwner(ctx context.Context, q *pgdb.Queries, workflowID string, owner store.Owner) error {
	w, err := q.GetWorkflow(ctx, workflowID)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("read workflow: %w", err)
	}
	if err != nil || !storekit.Owns(workflow(w), owner) {
		return store.ErrFenced
	}
	return nil
}
