package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func testEngine(t *testing.T, open Opener) {
	s := open(t)
	switch e := s.Engine(); e {
	case "postgres", "sqlite":
	default:
		t.Fatalf("Engine() = %q, want postgres or sqlite", e)
	}
	// A Postgres store behind a transaction pooler, without a direct
	// connection to listen on, polls: it has no events either.
	pooled := false
	if p, ok := s.(interface{ Pooled() bool }); ok {
		pooled = p.Pooled() && s.Events() == nil
	}
	if (s.Events() == nil) != (s.Engine() == "sqlite" || pooled) {
		t.Errorf("Events() nil = %v for engine %s; only sqlite (and postgres through a pooler, without ListenURL) has no events", s.Events() == nil, s.Engine())
	}
}

func testInsertEnqueued(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	p := store.InsertParams{
		ID:           unique("wf"),
		Name:         "pkg.Func",
		State:        store.StateEnqueued,
		Queue:        queue,
		Input:        []byte(`{"a":1}`),
		Priority:     7,
		DedupID:      unique("dedup"),
		PartitionKey: "part",
		ParentID:     "parent-1",
		Timeout:      90 * time.Second,
	}
	before := time.Now()
	w, created, err := InsertOne(ctx, s, p)
	if err != nil {
		t.Fatalf("InsertWorkflow: %v", err)
	}
	if !created {
		t.Fatal("created = false for a new ID")
	}
	check := func(what string, w store.Workflow) {
		t.Helper()
		if w.Seq <= 0 {
			t.Errorf("%s: Seq = %d, want > 0", what, w.Seq)
		}
		if w.ID != p.ID || w.Name != p.Name || w.State != store.StateEnqueued || w.Queue != queue {
			t.Errorf("%s: got ID %q Name %q State %q Queue %q, want %q %q %q %q", what, w.ID, w.Name, w.State, w.Queue, p.ID, p.Name, store.StateEnqueued, queue)
		}
		if !bytes.Equal(w.Input, p.Input) {
			t.Errorf("%s: Input = %q, want %q", what, w.Input, p.Input)
		}
		if w.Priority != 7 || w.DedupID != p.DedupID || w.PartitionKey != "part" || w.ParentID != "parent-1" {
			t.Errorf("%s: Priority %d DedupID %q PartitionKey %q ParentID %q", what, w.Priority, w.DedupID, w.PartitionKey, w.ParentID)
		}
		if w.Timeout != 90*time.Second {
			t.Errorf("%s: Timeout = %v, want 90s", what, w.Timeout)
		}
		if w.ExecutorID != "" || w.Attempts != 0 || !w.StartedAt.IsZero() || !w.Deadline.IsZero() || !w.NotBefore.IsZero() || !w.CompletedAt.IsZero() {
			t.Errorf("%s: an unclaimed workflow has ExecutorID %q Attempts %d StartedAt %v Deadline %v NotBefore %v CompletedAt %v",
				what, w.ExecutorID, w.Attempts, w.StartedAt, w.Deadline, w.NotBefore, w.CompletedAt)
		}
		if w.Output != nil || w.Error != "" {
			t.Errorf("%s: Output %q Error %q before completion", what, w.Output, w.Error)
		}
		if !near(w.CreatedAt, before) {
			t.Errorf("%s: CreatedAt = %v, want about %v", what, w.CreatedAt, before)
		}
	}
	check("InsertWorkflow", w)
	check("GetWorkflow", get(t, ctx, s, p.ID))

	w2 := enqueue(t, ctx, s, store.InsertParams{Queue: queue})
	if w2.Seq <= w.Seq {
		t.Errorf("Seq of a later insert = %d, want > %d", w2.Seq, w.Seq)
	}
	if len(w2.Input) != 0 {
		t.Errorf("Input = %q, want none", w2.Input)
	}
}

func testInsertPending(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	before := time.Now()
	w, created, err := InsertOne(ctx, s, store.InsertParams{
		ID:         unique("wf"),
		Name:       "pkg.Direct",
		State:      store.StatePending,
		ExecutorID: "exec-direct",
		Input:      []byte(`[]`),
		Timeout:    time.Minute,
	})
	if err != nil || !created {
		t.Fatalf("InsertWorkflow = created %v, %v", created, err)
	}
	if w.State != store.StatePending || w.Queue != "" || w.ExecutorID != "exec-direct" {
		t.Errorf("State %q Queue %q ExecutorID %q, want PENDING, none, exec-direct", w.State, w.Queue, w.ExecutorID)
	}
	if w.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", w.Attempts)
	}
	if w.StartedAt.IsZero() || !near(w.StartedAt, before) {
		t.Errorf("StartedAt = %v, want about %v", w.StartedAt, before)
	}
	if !w.Deadline.Equal(w.StartedAt.Add(time.Minute)) {
		t.Errorf("Deadline = %v, want StartedAt+1m = %v", w.Deadline, w.StartedAt.Add(time.Minute))
	}
}

func testInsertIdempotent(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	queue := unique("q")
	first := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: "pkg.First", Input: []byte("1"), DedupID: unique("d")})
	again, created, err := InsertOne(ctx, s, store.InsertParams{
		ID: first.ID, Name: "pkg.Second", State: store.StateEnqueued, Queue: unique("other"), Input: []byte("2"),
		DedupID: first.DedupID, // also held, by this very workflow: the ID wins
	})
	if err != nil {
		t.Fatalf("InsertWorkflow of an existing ID: %v", err)
	}
	if created {
		t.Error("created = true for an existing ID")
	}
	if again.Seq != first.Seq || again.Name != "pkg.First" || string(again.Input) != "1" || again.Queue != queue {
		t.Errorf("InsertWorkflow of an existing ID returned %+v, want the existing %+v", again, first)
	}

	// Idempotent whatever the existing row's state.
	claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	again, created, err = InsertOne(ctx, s, store.InsertParams{ID: first.ID, Name: "pkg.First", State: store.StateEnqueued, Queue: queue})
	if err != nil || created || again.State != store.StatePending {
		t.Errorf("InsertWorkflow of a claimed ID = state %q, created %v, %v; want PENDING, false, nil", again.State, created, err)
	}
}

func testInsertConcurrentSameID(t *testing.T, open Opener) {
	ctx := testContext(t)
	stores := []store.Store{open(t), open(t)}
	id, queue := unique("wf"), unique("q")
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		seqs    = map[int64]bool{}
	)
	for i := range n {
		wg.Go(func() {
			w, c, err := InsertOne(ctx, stores[i%2], store.InsertParams{ID: id, Name: "pkg.F", State: store.StateEnqueued, Queue: queue})
			if err != nil {
				t.Errorf("InsertWorkflow: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c {
				created++
			}
			seqs[w.Seq] = true
		})
	}
	wg.Wait()
	if created != 1 || len(seqs) != 1 {
		t.Errorf("%d concurrent inserts of one ID: created %d times, %d distinct rows; want 1 and 1", n, created, len(seqs))
	}
}

func testInsertRejectsInvalid(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, p := range []store.InsertParams{
		{ID: "", Name: "f", State: store.StateEnqueued, Queue: "q"},
		{ID: unique("wf"), Name: "f", State: store.StateSuccess, Queue: "q"},
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued},
		{ID: unique("wf"), Name: "f", State: store.StatePending},
	} {
		if _, _, err := InsertOne(ctx, s, p); err == nil {
			t.Errorf("InsertWorkflow(%+v) succeeded, want an error", p)
		}
	}
}

func testGetNotFound(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	_, err := s.GetWorkflow(ctx, unique("missing"))
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetWorkflow of a missing ID: %v, want ErrNotFound", err)
	}
}

func testDeduplication(t *testing.T, open Opener) {
	ctx := testContext(t)
	a, b := open(t), open(t)
	queue, other, dedup := unique("q"), unique("q"), unique("d")
	holder := enqueue(t, ctx, a, store.InsertParams{Queue: queue, DedupID: dedup})

	wantDup := func(what string, s store.Store) {
		t.Helper()
		id := unique("wf")
		_, created, err := InsertOne(ctx, s, store.InsertParams{ID: id, Name: "f", State: store.StateEnqueued, Queue: queue, DedupID: dedup})
		var dup *store.DuplicateError
		if !errors.As(err, &dup) {
			t.Fatalf("%s: InsertWorkflow with a held deduplication ID = created %v, %v; want *DuplicateError", what, created, err)
		}
		if dup.ExistingID != holder.ID || dup.Queue != queue || dup.DedupID != dedup {
			t.Errorf("%s: DuplicateError = %+v, want ExistingID %q Queue %q DedupID %q", what, dup, holder.ID, queue, dedup)
		}
		if _, err := s.GetWorkflow(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the rejected workflow was stored (GetWorkflow: %v)", what, err)
		}
	}
	wantDup("ENQUEUED holder", b)

	// The same deduplication ID on another queue is free.
	enqueue(t, ctx, b, store.InsertParams{Queue: other, DedupID: dedup})

	// Still held while PENDING.
	res := claim(t, ctx, a, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 1})
	if len(res.Claimed) != 1 {
		t.Fatalf("claimed %d, want 1", len(res.Claimed))
	}
	wantDup("PENDING holder", a)

	// Released when the holder completes.
	complete(t, ctx, a, res.Claimed[0])
	if w := get(t, ctx, a, holder.ID); w.DedupID != "" {
		t.Errorf("DedupID after completion = %q, want cleared", w.DedupID)
	}
	next := enqueue(t, ctx, b, store.InsertParams{Queue: queue, DedupID: dedup})
	if next.DedupID != dedup {
		t.Errorf("DedupID = %q, want %q", next.DedupID, dedup)
	}
}

// testInsertMany inserts a batch mixing every case a single insert knows
// (see InsertOne): each workflow's result is the one it would get inserted
// alone, inserting them one after another.
func testInsertMany(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	if res, err := s.InsertWorkflows(ctx, nil); err != nil || len(res) != 0 {
		t.Fatalf("InsertWorkflows(nil) = %v, %v; want nothing", res, err)
	}
	q1, q2 := unique("q"), unique("q")
	existing := enqueue(t, ctx, s, store.InsertParams{Queue: q1, DedupID: "held"})
	dupID := unique("wf")
	ps := []store.InsertParams{
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: q1, Input: []byte(`1`), Priority: 2, PartitionKey: "p", ParentID: "parent"},
		{ID: existing.ID, Name: "f", State: store.StateEnqueued, Queue: q1},                   // the ID exists
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: q1, DedupID: "held"}, // held by existing
		{ID: dupID, Name: "f", State: store.StateEnqueued, Queue: q2, DedupID: "d", Delay: time.Hour},
		{ID: dupID, Name: "g", State: store.StateEnqueued, Queue: q2},                      // the same ID again
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: q2, DedupID: "d"}, // held by dupID
		{ID: unique("wf"), Name: "f", State: store.StatePending, ExecutorID: "e", Timeout: time.Minute},
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: q1},
	}
	before := time.Now()
	res, err := s.InsertWorkflows(ctx, ps)
	if err != nil {
		t.Fatalf("InsertWorkflows: %v", err)
	}
	if len(res) != len(ps) {
		t.Fatalf("%d results for %d workflows", len(res), len(ps))
	}
	for _, i := range []int{0, 3, 6, 7} {
		r := res[i]
		if r.Err != nil || !r.Created || r.Workflow.ID != ps[i].ID || r.Workflow.State != ps[i].State {
			t.Errorf("workflow %d: %+v, want created %s in state %s", i, r, ps[i].ID, ps[i].State)
		}
	}
	if w := res[0].Workflow; string(w.Input) != "1" || w.Priority != 2 || w.PartitionKey != "p" || w.ParentID != "parent" || w.Queue != q1 {
		t.Errorf("workflow 0 stored as %+v", w)
	}
	if w := res[3].Workflow; w.DedupID != "d" || !near(w.NotBefore, before.Add(time.Hour)) {
		t.Errorf("workflow 3: DedupID %q NotBefore %v, want d and an hour from now", w.DedupID, w.NotBefore)
	}
	if w := res[6].Workflow; w.ExecutorID != "e" || w.Attempts != 1 || w.StartedAt.IsZero() || !w.Deadline.Equal(w.StartedAt.Add(time.Minute)) {
		t.Errorf("workflow 6 (PENDING): ExecutorID %q Attempts %d StartedAt %v Deadline %v", w.ExecutorID, w.Attempts, w.StartedAt, w.Deadline)
	}
	if res[0].Workflow.Seq >= res[7].Workflow.Seq {
		t.Errorf("seq %d then %d: want them in the order given", res[0].Workflow.Seq, res[7].Workflow.Seq)
	}
	for _, tc := range []struct {
		i      int
		holder string
	}{{2, existing.ID}, {5, dupID}} {
		var dup *store.DuplicateError
		if !errors.As(res[tc.i].Err, &dup) || dup.ExistingID != tc.holder || res[tc.i].Created {
			t.Errorf("workflow %d: %+v, want a *DuplicateError naming %s", tc.i, res[tc.i], tc.holder)
		}
		if _, err := s.GetWorkflow(ctx, ps[tc.i].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("workflow %d was inserted with a held deduplication ID (GetWorkflow: %v)", tc.i, err)
		}
	}
	for _, tc := range []struct {
		i    int
		want store.Workflow
	}{{1, existing}, {4, res[3].Workflow}} {
		if r := res[tc.i]; r.Err != nil || r.Created || r.Workflow.ID != tc.want.ID || r.Workflow.Name != tc.want.Name || r.Workflow.Seq != tc.want.Seq {
			t.Errorf("workflow %d: %+v, want the existing %+v", tc.i, r, tc.want)
		}
	}
	// An invalid workflow: nothing inserted.
	bad := []store.InsertParams{
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued, Queue: q1},
		{ID: unique("wf"), Name: "f", State: store.StateEnqueued}, // no queue
	}
	if _, err := s.InsertWorkflows(ctx, bad); err == nil {
		t.Error("InsertWorkflows with an invalid workflow succeeded, want an error")
	}
	if _, err := s.GetWorkflow(ctx, bad[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a rejected InsertWorkflows inserted %s (GetWorkflow: %v)", bad[0].ID, err)
	}
}
