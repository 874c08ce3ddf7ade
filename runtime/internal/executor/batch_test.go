package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/dbosimpl"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// batchQueue is the queue the batch tests enqueue on.
var batchQueue = dbos.NewQueue("batch_test_queue")

var (
	// batchSquare squares an int.
	batchSquare = &dbosimpl.Function{Name: "test.batchSquare", Kind: dbosimpl.KindStep}
	// batchOther is another function, for IDs that conflict.
	batchOther = &dbosimpl.Function{Name: "test.batchOther", Kind: dbosimpl.KindStep}
	// batchSum is a workflow that enqueues the squares of 1..n on
	// batchQueue as one batch and returns their sum.
	batchSum = &dbosimpl.Function{Name: "test.batchSum", Kind: dbosimpl.KindWorkflow}
)

func init() {
	dbosimpl.Register(batchSquare, func(ctx context.Context, input []byte) ([]byte, error) {
		var n int
		if err := json.Unmarshal(input, &n); err != nil {
			return nil, err
		}
		return json.Marshal(n * n)
	})
	dbosimpl.Register(batchOther, func(ctx context.Context, input []byte) ([]byte, error) { return input, nil })
	dbosimpl.Register(batchSum, func(ctx context.Context, input []byte) ([]byte, error) {
		var n int
		if err := json.Unmarshal(input, &n); err != nil {
			return nil, err
		}
		hs, err := dbosimpl.EnqueueBatch(ctx, batchQueue, batchSquare, intInputs(1, n))
		if err != nil {
			return nil, err
		}
		sum := 0
		for _, h := range hs {
			out, err := h.Await(ctx)
			if err != nil {
				return nil, err
			}
			var sq int
			if err := json.Unmarshal(out, &sq); err != nil {
				return nil, err
			}
			sum += sq
		}
		return json.Marshal(sum)
	})
}

// intInputs returns the encoded ints from..to.
func intInputs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i <= to; i++ {
		out = append(out, []byte(strconv.Itoa(i)))
	}
	return out
}

// TestEnqueueBatch runs the batch enqueue tests on each engine, with one
// runtime and database per engine.
func TestEnqueueBatch(t *testing.T) {
	tests := []struct {
		name string
		test func(t *testing.T, ctx context.Context, rt *dbos.Runtime)
	}{
		{"results", testBatchResults},
		{"options apply to every call", testBatchOptions},
		{"rejected options", testBatchRejected},
		{"empty", testBatchEmpty},
		{"in a workflow", testBatchInWorkflow},
		{"replay", testBatchReplay},
		{"conflicting ID", testBatchConflict},
	}
	engines := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + testdb.SQLitePath(t) }},
		{"postgres", func(t *testing.T) string { return testdb.NewPostgresDatabase(t) }},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			url := e.url(t)
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url})
			if err != nil {
				t.Fatalf("Launch: %v", err)
			}
			t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), time.Minute)
					defer cancel()
					tt.test(t, ctx, rt)
				})
			}
		})
	}
}

// awaitSquares checks that each handle's result is the square of its
// input, from..
func awaitSquares(t *testing.T, ctx context.Context, hs []dbosimpl.Handle, from int) {
	t.Helper()
	for i, h := range hs {
		out, err := h.Await(ctx)
		if err != nil {
			t.Fatalf("handle %d (%s): %v", i, h.ID(), err)
		}
		if want := strconv.Itoa((from + i) * (from + i)); string(out) != want {
			t.Fatalf("handle %d (%s): result %s, want %s", i, h.ID(), out, want)
		}
	}
}

// children returns the workflows of fn whose parent is parentID.
func children(t *testing.T, ctx context.Context, fn *dbosimpl.Function, parentID string) []dbos.Status {
	t.Helper()
	all, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: fn.Name, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var out []dbos.Status
	for _, s := range all {
		if s.ParentID == parentID {
			out = append(out, s)
		}
	}
	return out
}

// testBatchResults: a batch larger than one chunk returns one handle per
// input, in order, each with its input's result, all enqueued.
func testBatchResults(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	const n = executor.MaxBatchChunk + 3
	hs, err := dbosimpl.EnqueueBatch(ctx, batchQueue, batchSquare, intInputs(1, n))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != n {
		t.Fatalf("got %d handles, want %d", len(hs), n)
	}
	ids := map[string]bool{}
	for _, h := range hs {
		ids[h.ID()] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct IDs among %d handles", len(ids), n)
	}
	awaitSquares(t, ctx, hs, 1)
	st, err := hs[n-1].Status(ctx)
	if err != nil || st.State != dbos.StateSuccess || st.Queue != batchQueue.Name() || st.Name != batchSquare.Name {
		t.Errorf("status of the last = %+v, %v", st, err)
	}
}

// testBatchOptions: priority, delay, timeout and partition key apply to
// every call.
func testBatchOptions(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	hs, err := dbosimpl.EnqueueBatch(ctx, batchQueue, batchSquare, intInputs(1, 3),
		dbos.WithPriority(7), dbos.WithDelay(time.Millisecond), dbos.WithTimeout(time.Minute), dbos.WithPartitionKey("p"))
	if err != nil {
		t.Fatal(err)
	}
	awaitSquares(t, ctx, hs, 1)
	for _, h := range hs {
		w, err := executor.StoreOf(rt).GetWorkflow(ctx, h.ID())
		if err != nil {
			t.Fatal(err)
		}
		if w.Priority != 7 || w.PartitionKey != "p" || w.Timeout != time.Minute || w.NotBefore.IsZero() {
			t.Errorf("workflow %s: priority %d, partition %q, timeout %s, not before %v; want 7, \"p\", 1m0s, set",
				w.ID, w.Priority, w.PartitionKey, w.Timeout, w.NotBefore)
		}
	}
}

// testBatchRejected: options naming one workflow, bad options and a nil
// queue are refused before anything is inserted.
func testBatchRejected(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	before, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: batchSquare.Name, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q    *dbos.Queue
		opt  dbos.EnqueueOption
		want []string
	}{
		{batchQueue, dbos.WithID("one"), []string{`enqueue batch of 2 test.batchSquare on queue "batch_test_queue"`, "WithID names one workflow", "EnqueueF"}},
		{batchQueue, dbos.WithDeduplicationID("d"), []string{"WithDeduplicationID applies to one workflow", "one by one"}},
		{batchQueue, dbos.WithDelay(-time.Second), []string{"must not be negative"}},
		{nil, dbos.WithPriority(1), []string{"enqueue batch of 2 test.batchSquare", "queue is nil"}},
	}
	for _, c := range cases {
		hs, err := dbosimpl.EnqueueBatch(ctx, c.q, batchSquare, intInputs(1, 2), c.opt)
		if err == nil || hs != nil {
			t.Errorf("got %d handles, err %v; want an error", len(hs), err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("err = %v; want it to say %q", err, w)
			}
		}
	}
	after, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Name: batchSquare.Name, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("rejected batches inserted %d workflows", len(after)-len(before))
	}
}

// testBatchEmpty: an empty batch returns nil, nil, and inside a workflow
// takes no step.
func testBatchEmpty(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	for _, in := range [][][]byte{nil, {}} {
		if hs, err := dbosimpl.EnqueueBatch(ctx, batchQueue, batchSquare, in); hs != nil || err != nil {
			t.Errorf("empty batch: %v, %v; want nil, nil", hs, err)
		}
	}
	wf := executor.NewRun("batch-empty-"+executor.NewWorkflowID(), store.Owner{})
	if hs, err := dbosimpl.EnqueueBatch(executor.WithRun(ctx, wf), batchQueue, batchSquare, nil); hs != nil || err != nil {
		t.Errorf("empty batch in a workflow: %v, %v; want nil, nil", hs, err)
	}
	if wf.LastStep() != 0 {
		t.Errorf("empty batch in a workflow took step %d", wf.LastStep())
	}
}

// testBatchInWorkflow: a workflow enqueues a batch as one step, with IDs
// derived from its own, and awaits every call.
func testBatchInWorkflow(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	const n = 30
	h, err := dbosimpl.Start(ctx, batchSum, []byte(strconv.Itoa(n)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(n * (n + 1) * (2*n + 1) / 6); string(out) != want {
		t.Errorf("sum = %s, want %s", out, want)
	}
	steps, err := dbos.Steps(ctx, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != n+1 || steps[0].Name != "enqueue batch test.batchSquare" {
		t.Fatalf("got %d steps, the first %+v; want %d, the first the batch", len(steps), steps[0], n+1)
	}
	var ids []string
	if err := json.Unmarshal(steps[0].Output, &ids); err != nil {
		t.Fatalf("batch step output %s: %v", steps[0].Output, err)
	}
	if len(ids) != n || ids[0] != h.ID()+"-1-0" || ids[n-1] != fmt.Sprintf("%s-1-%d", h.ID(), n-1) {
		t.Errorf("recorded IDs %v; want %s-1-0 ... %s-1-%d", ids, h.ID(), h.ID(), n-1)
	}
	if got := children(t, ctx, batchSquare, h.ID()); len(got) != n {
		t.Errorf("%d children, want %d", len(got), n)
	}
}

// hostWorkflow inserts a PENDING workflow owned by rt that nothing runs,
// and returns the state of a run of it: tests drive its durable calls by
// hand, as its code would.
func hostWorkflow(t *testing.T, ctx context.Context, rt *dbos.Runtime) *executor.Run {
	t.Helper()
	id := "batch-host-" + executor.NewWorkflowID()
	w, _, err := storetest.InsertOne(ctx, executor.StoreOf(rt), store.InsertParams{ID: id, Name: "test.batchHost", State: store.StatePending, ExecutorID: rt.ExecutorID()})
	if err != nil {
		t.Fatal(err)
	}
	return executor.NewRun(id, store.Owner{ExecutorID: rt.ExecutorID(), Attempts: w.Attempts})
}

// rerun returns a new run of wf's workflow that has its checkpoints, as a
// recovery would.
func rerun(t *testing.T, ctx context.Context, rt *dbos.Runtime, wf *executor.Run) *executor.Run {
	t.Helper()
	steps, err := executor.StoreOf(rt).Steps(ctx, wf.ID())
	if err != nil {
		t.Fatal(err)
	}
	return executor.Rerun(wf, steps)
}

// testBatchReplay: a workflow that crashed between inserting part of its
// batch and the checkpoint inserts the rest on replay; a replay after the
// checkpoint returns the recorded handles; neither duplicates a call.
func testBatchReplay(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	const n = 5
	wf := hostWorkflow(t, ctx, rt)
	// The first attempt inserted call 2, then crashed.
	res, err := executor.StoreOf(rt).InsertWorkflows(ctx, []store.InsertParams{{
		ID: wf.ID() + "-1-2", Name: batchSquare.Name, State: store.StateEnqueued, Queue: batchQueue.Name(), Input: []byte("3"), ParentID: wf.ID(),
	}})
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	first, err := dbosimpl.EnqueueBatch(executor.WithRun(ctx, wf), batchQueue, batchSquare, intInputs(1, n))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range first {
		ids = append(ids, h.ID())
	}
	if want := []string{wf.ID() + "-1-0", wf.ID() + "-1-1", wf.ID() + "-1-2", wf.ID() + "-1-3", wf.ID() + "-1-4"}; !slices.Equal(ids, want) {
		t.Fatalf("IDs %v, want %v", ids, want)
	}
	awaitSquares(t, ctx, first, 1)

	// A replay after the checkpoint returns the recorded handles.
	again := rerun(t, ctx, rt, wf)
	replayed, err := dbosimpl.EnqueueBatch(executor.WithRun(ctx, again), batchQueue, batchSquare, intInputs(1, n))
	if err != nil {
		t.Fatal(err)
	}
	var replayedIDs []string
	for _, h := range replayed {
		replayedIDs = append(replayedIDs, h.ID())
	}
	if !slices.Equal(replayedIDs, ids) {
		t.Errorf("replay IDs %v, want %v", replayedIDs, ids)
	}
	if got := children(t, ctx, batchSquare, wf.ID()); len(got) != n {
		t.Errorf("%d children after the replay, want %d", len(got), n)
	}
	steps, err := dbos.Steps(ctx, wf.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].StepID != 1 || steps[0].Name != "enqueue batch test.batchSquare" {
		t.Errorf("steps = %+v; want one, the batch", steps)
	}

	// A replay whose batch differs from the recorded one is an error.
	differs := rerun(t, ctx, rt, wf)
	if _, err := dbosimpl.EnqueueBatch(executor.WithRun(ctx, differs), batchQueue, batchSquare, intInputs(1, n+1)); err == nil || !strings.Contains(err.Error(), "recorded a batch of 5") {
		t.Errorf("replay with another batch size: err = %v", err)
	}
}

// testBatchConflict: an ID the batch derives that belongs to another
// function fails the batch with dbos.ErrConflictingID and records nothing.
func testBatchConflict(t *testing.T, ctx context.Context, rt *dbos.Runtime) {
	wf := hostWorkflow(t, ctx, rt)
	if _, _, err := storetest.InsertOne(ctx, executor.StoreOf(rt), store.InsertParams{
		ID: wf.ID() + "-1-1", Name: batchOther.Name, State: store.StateEnqueued, Queue: batchQueue.Name(), Input: []byte("0"),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := dbosimpl.EnqueueBatch(executor.WithRun(ctx, wf), batchQueue, batchSquare, intInputs(1, 3))
	if !errors.Is(err, dbos.ErrConflictingID) || !strings.Contains(err.Error(), "enqueue batch of 3 test.batchSquare") {
		t.Fatalf("err = %v, want dbos.ErrConflictingID with the batch's context", err)
	}
	if steps, err := dbos.Steps(ctx, wf.ID()); err != nil || len(steps) != 0 {
		t.Errorf("steps = %+v, %v; want none", steps, err)
	}
}
