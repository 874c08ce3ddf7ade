package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// A fleet for the tests of what executors run: function f registered with
// fingerprint "sig-f" under version v1 or v2, or with another fingerprint,
// and function g. Names are unique per test (see fleetOf), so that the
// rows of other tests sharing the database never match.
type fleet struct {
	f, g  string // function names
	v1    *store.Runs
	v2    *store.Runs
	newF  *store.Runs // f with another fingerprint (its parameters changed), version v1
	gOnly *store.Runs
}

func fleetOf() fleet {
	f, g := unique("f"), unique("g")
	return fleet{
		f:     f,
		g:     g,
		v1:    &store.Runs{AppVersion: "v1", Names: []string{f, g}, Signatures: []string{"sig-f", "sig-g"}},
		v2:    &store.Runs{AppVersion: "v2", Names: []string{f, g}, Signatures: []string{"sig-f", "sig-g"}},
		newF:  &store.Runs{AppVersion: "v1", Names: []string{f}, Signatures: []string{"sig-f2"}},
		gOnly: &store.Runs{AppVersion: "v1", Names: []string{g}, Signatures: []string{"sig-g"}},
	}
}

// testClaimRuns: a claim takes only the workflows whose function the
// claimer registers with the row's fingerprint (by name for a row without
// one) and that have not started or started under the claimer's version,
// in FIFO order, leaving the others in their place; it records its version
// on the rows it takes. On every claim path (no limits, limits,
// partitions) and in InsertAndClaim.
func testClaimRuns(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, path := range []string{"unlimited", "limited", "partitioned", "insert"} {
		t.Run(path, func(t *testing.T) {
			fl := fleetOf()
			queue := unique("q")
			switch path {
			case "limited":
				declare(t, ctx, s, store.QueueConfig{Name: queue, Concurrency: 100})
			case "partitioned":
				declare(t, ctx, s, store.QueueConfig{Name: queue, PartitionConcurrency: 100})
			}
			mk := func(name, sig string) store.Workflow {
				return enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: name, Signature: sig})
			}
			// The oldest: started under v2, then put back on the queue.
			startedV2 := mk(fl.f, "sig-f")
			v2Exec := unique("v2")
			res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: v2Exec, Max: 1, Runs: fl.v2})
			if got := ids(res.Claimed); !slices.Equal(got, []string{startedV2.ID}) {
				t.Fatalf("v2 claimed %v, want [%s]", got, startedV2.ID)
			}
			if w := res.Claimed[0]; w.AppVersion != "v2" || get(t, ctx, s, w.ID).AppVersion != "v2" {
				t.Errorf("claimed by v2: AppVersion %q (stored %q), want v2", w.AppVersion, get(t, ctx, s, w.ID).AppVersion)
			}
			if _, ok, err := s.ReleaseWorkflow(ctx, startedV2.ID, store.Owner{ExecutorID: v2Exec, Attempts: 1}); err != nil || !ok {
				t.Fatalf("ReleaseWorkflow = %v, %v", ok, err)
			}
			changed := mk(fl.f, "sig-f2") // enqueued by a build where f's parameters differ
			fOld := mk(fl.f, "sig-f")
			g := mk(fl.g, "sig-g")
			legacy := mk(fl.f, "") // recorded before fingerprints: matched by name
			other := mk(unique("unregistered"), "sig-x")
			if res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: unique("none"), Max: 100, Runs: &store.Runs{AppVersion: "v1", Names: []string{"none"}, Signatures: []string{"none"}}}); len(res.Claimed) != 0 {
				t.Fatalf("an executor registering nothing of the queue claimed %v", ids(res.Claimed))
			}
			want := []string{fOld.ID, g.ID, legacy.ID}
			var took store.ClaimResult
			if path == "insert" {
				// InsertAndClaim applies the same filter.
				fresh := store.InsertParams{ID: unique("wf"), Name: fl.f, State: store.StateEnqueued, Queue: queue, Signature: "sig-f"}
				ins, c, err := s.InsertAndClaim(ctx, []store.InsertParams{fresh}, store.ClaimParams{Queue: queue, ExecutorID: unique("v1"), Max: 100, Runs: fl.v1})
				if err != nil || len(ins) != 1 || !ins[0].Created {
					t.Fatalf("InsertAndClaim = %+v, %v", ins, err)
				}
				took = c
				want = append(want, fresh.ID)
			} else {
				took = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: unique("v1"), Max: 100, Runs: fl.v1})
			}
			if got := ids(took.Claimed); !slices.Equal(got, want) {
				t.Fatalf("v1 claimed %v, want %v (FIFO, skipping v2's, another fingerprint's and an unregistered function's)", got, want)
			}
			for _, w := range took.Claimed {
				if w.AppVersion != "v1" {
					t.Errorf("%s claimed by v1: AppVersion %q", w.ID, w.AppVersion)
				}
			}
			for _, w := range []store.Workflow{changed, other} {
				if now := get(t, ctx, s, w.ID); now.State != store.StateEnqueued || now.AppVersion != "" {
					t.Errorf("%s (%s, %q) is %s, AppVersion %q; want ENQUEUED, not started", w.ID, w.Name, w.Signature, now.State, now.AppVersion)
				}
			}
			// v2 takes its own back; the build whose f has the new
			// parameters takes its call; a claim that runs anything (nil
			// Runs) takes the rest.
			for _, c := range []struct {
				what string
				runs *store.Runs
				want string
			}{
				{"v2", fl.v2, startedV2.ID},
				{"the build with f's new parameters", fl.newF, changed.ID},
				{"a claim with nil Runs", nil, other.ID},
			} {
				res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: unique("exec"), Max: 100, Runs: c.runs})
				if got := ids(res.Claimed); !slices.Equal(got, []string{c.want}) {
					t.Errorf("%s claimed %v, want [%s]", c.what, got, c.want)
				}
			}
		})
	}
}

// testClaimRunsVersion: a workflow started under one version and put back
// on its queue (its executor died) is claimed again only by an executor
// of that version.
func testClaimRunsVersion(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	queue := unique("q")
	dead := unique("dead")
	w := enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.f, Signature: "sig-f"})
	res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: dead, Max: 1, Runs: fl.v1})
	if len(res.Claimed) != 1 {
		t.Fatalf("claimed %v", ids(res.Claimed))
	}
	expire(t, ctx, s, dead)
	taker := leased(t, ctx, s, fl.v2)
	if _, err := s.TakeOverExpired(ctx, taker, fl.v2); err != nil {
		t.Fatal(err)
	}
	if now := get(t, ctx, s, w.ID); now.State != store.StateEnqueued || now.AppVersion != "v1" {
		t.Fatalf("after the takeover: %s, AppVersion %q; want ENQUEUED, v1", now.State, now.AppVersion)
	}
	if res := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: taker, Max: 10, Runs: fl.v2}); len(res.Claimed) != 0 {
		t.Errorf("a v2 executor claimed %v, started under v1", ids(res.Claimed))
	}
	res = claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: unique("v1"), Max: 10, Runs: fl.v1})
	if len(res.Claimed) != 1 || res.Claimed[0].ID != w.ID || res.Claimed[0].Attempts != 2 {
		t.Errorf("a v1 executor claimed %+v, want %s at attempt 2", res.Claimed, w.ID)
	}
}

// testInsertRecordsVersion: an insert records the enqueuer's fingerprint;
// a workflow started directly (PENDING) also records the starter's
// version, an enqueued one none until its claim.
func testInsertRecordsVersion(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	direct := pendingWith(t, ctx, s, unique("exec"), "f", "sig-f", "v7")
	if direct.Signature != "sig-f" || direct.AppVersion != "v7" {
		t.Errorf("started directly: Signature %q AppVersion %q, want sig-f v7", direct.Signature, direct.AppVersion)
	}
	if got := get(t, ctx, s, direct.ID); got.Signature != "sig-f" || got.AppVersion != "v7" {
		t.Errorf("stored: Signature %q AppVersion %q, want sig-f v7", got.Signature, got.AppVersion)
	}
	queued := enqueue(t, ctx, s, store.InsertParams{Queue: unique("q"), Signature: "sig-q", AppVersion: "v7"})
	if got := get(t, ctx, s, queued.ID); got.Signature != "sig-q" || got.AppVersion != "" {
		t.Errorf("enqueued: Signature %q AppVersion %q, want sig-q and no version before its claim", got.Signature, got.AppVersion)
	}
}

// testPendingForRuns: at its launch an executor resumes the PENDING
// workflows it runs and releases the others (another version's, or of a
// function it does not register with the row's fingerprint): queued ones
// back to ENQUEUED on their queue, the others PENDING under no executor,
// which an executor that runs them takes over.
func testPendingForRuns(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	exec := unique("exec")
	queue := unique("q")
	mine := pendingWith(t, ctx, s, exec, fl.f, "sig-f", "v2")
	notStarted := pendingWith(t, ctx, s, exec, fl.g, "sig-g", "")
	oldDirect := pendingWith(t, ctx, s, exec, fl.f, "sig-f", "v1")
	gone := pendingWith(t, ctx, s, exec, unique("gone"), "sig-x", "v2")
	enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.f, Signature: "sig-f"})
	oldQueued := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 1, Runs: fl.v1}).Claimed[0]

	// Restarted with the same executor ID, as version v2.
	resumed, released, err := s.PendingFor(ctx, exec, fl.v2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(resumed), []string{mine.ID, notStarted.ID}; !slices.Equal(got, want) {
		t.Errorf("resumed %v, want %v", got, want)
	}
	for _, w := range resumed {
		if w.State != store.StatePending || w.ExecutorID != exec || w.Attempts != 2 || w.AppVersion != "v2" {
			t.Errorf("resumed %s: %s under %q, Attempts %d, AppVersion %q; want PENDING under %s, 2, v2", w.ID, w.State, w.ExecutorID, w.Attempts, w.AppVersion, exec)
		}
	}
	if got, want := ids(released), []string{oldDirect.ID, gone.ID, oldQueued.ID}; !slices.Equal(got, want) {
		t.Errorf("released %v, want %v", got, want)
	}
	for _, w := range []store.Workflow{oldDirect, gone} {
		if now := get(t, ctx, s, w.ID); now.State != store.StatePending || now.ExecutorID != "" || now.Attempts != w.Attempts || now.AppVersion != w.AppVersion {
			t.Errorf("released %s: %s under %q, Attempts %d, AppVersion %q; want PENDING under none, %d, %q",
				w.ID, now.State, now.ExecutorID, now.Attempts, now.AppVersion, w.Attempts, w.AppVersion)
		}
	}
	if now := get(t, ctx, s, oldQueued.ID); now.State != store.StateEnqueued || now.ExecutorID != "" || now.AppVersion != "v1" {
		t.Errorf("released %s: %s under %q, AppVersion %q; want ENQUEUED, v1", oldQueued.ID, now.State, now.ExecutorID, now.AppVersion)
	}

	// A v2 executor takes none of them over; a v1 one takes v1's.
	v2 := leased(t, ctx, s, fl.v2)
	to, err := s.TakeOverExpired(ctx, v2, fl.v2)
	if err != nil {
		t.Fatal(err)
	}
	if moved := movedOf(to, oldDirect.ID, gone.ID); len(moved) != 0 {
		t.Errorf("a v2 taker moved %v", moved)
	}
	v1 := leased(t, ctx, s, fl.v1)
	to, err = s.TakeOverExpired(ctx, v1, fl.v1)
	if err != nil {
		t.Fatal(err)
	}
	if moved := movedOf(to, oldDirect.ID, gone.ID); !slices.Equal(moved, []string{oldDirect.ID}) {
		t.Errorf("a v1 taker moved %v, want [%s]", moved, oldDirect.ID)
	}
	for i, w := range to.Moved {
		if w.ID == oldDirect.ID && (to.From[i] != "" || w.ExecutorID != v1 || w.Attempts != oldDirect.Attempts+1) {
			t.Errorf("took over %s from %q: under %q, Attempts %d; want from none, under %s, %d", w.ID, to.From[i], w.ExecutorID, w.Attempts, v1, oldDirect.Attempts+1)
		}
	}
	// A nil Runs resumes everything.
	all, rel, err := s.PendingFor(ctx, v1, nil)
	if err != nil || len(rel) != 0 || !slices.Contains(ids(all), oldDirect.ID) {
		t.Errorf("PendingFor with nil Runs = %v, released %v, %v; want %s resumed, nothing released", ids(all), ids(rel), err, oldDirect.ID)
	}
}

// testTakeOverRuns: a taker takes over from a dead executor only the
// workflows without a queue that it runs, puts the queued ones back on
// their queue, and leaves the others under the dead executor, whose record
// stays so that a taker that runs them, launched later with a new ID,
// finds them. The dead executor is reported once.
func testTakeOverRuns(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	dead := leased(t, ctx, s, fl.v1)
	queue := unique("q")
	direct := pendingWith(t, ctx, s, dead, fl.f, "sig-f", "v1")
	enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.f, Signature: "sig-f"})
	queued := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: dead, Max: 1, Runs: fl.v1}).Claimed[0]
	expire(t, ctx, s, dead)

	// A live executor that does not register f.
	other := leased(t, ctx, s, fl.gOnly)
	to := takeOverRunsUntil(t, ctx, s, other, fl.gOnly, dead)
	if moved := movedOf(to, direct.ID, queued.ID); !slices.Equal(moved, []string{queued.ID}) {
		t.Fatalf("a taker that does not register %s moved %v, want only the queued one [%s]", fl.f, moved, queued.ID)
	}
	if now := get(t, ctx, s, direct.ID); now.State != store.StatePending || now.ExecutorID != dead || now.Attempts != direct.Attempts {
		t.Errorf("left behind: %s under %q, Attempts %d; want PENDING under %s, %d", now.State, now.ExecutorID, now.Attempts, dead, direct.Attempts)
	}
	if now := get(t, ctx, s, queued.ID); now.State != store.StateEnqueued || now.AppVersion != "v1" {
		t.Errorf("queued: %s, AppVersion %q; want ENQUEUED, v1", now.State, now.AppVersion)
	}
	// Another version, and another fingerprint, leave it too.
	for _, r := range []*store.Runs{fl.v2, fl.newF} {
		to, err := s.TakeOverExpired(ctx, leased(t, ctx, s, r), r)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(to.Dead, dead) {
			t.Errorf("%s reported dead twice", dead)
		}
		if moved := movedOf(to, direct.ID); len(moved) != 0 {
			t.Errorf("a taker running %+v moved %v", *r, moved)
		}
	}
	// A new executor that runs it, launched long after the reap.
	capable := leased(t, ctx, s, fl.v1)
	to, err := s.TakeOverExpired(ctx, capable, fl.v1)
	if err != nil {
		t.Fatal(err)
	}
	if moved := movedOf(to, direct.ID); !slices.Equal(moved, []string{direct.ID}) {
		t.Fatalf("a taker that runs it moved %v, want [%s]", moved, direct.ID)
	}
	for i, w := range to.Moved {
		if w.ID == direct.ID && (to.From[i] != dead || w.State != store.StatePending || w.ExecutorID != capable || w.Attempts != direct.Attempts+1 || w.AppVersion != "v1") {
			t.Errorf("took over %s from %q: %s under %q, Attempts %d, AppVersion %q; want from %s, PENDING under %s, %d, v1",
				w.ID, to.From[i], w.State, w.ExecutorID, w.Attempts, w.AppVersion, dead, capable, direct.Attempts+1)
		}
	}
	// An executor that renews its lease after its reap is alive: its
	// workflows stay its own.
	back := leased(t, ctx, s, fl.v1)
	mineAgain := pendingWith(t, ctx, s, back, fl.f, "sig-f", "v1")
	expire(t, ctx, s, back)
	takeOverRunsUntil(t, ctx, s, other, fl.gOnly, back)
	if err := s.RenewLease(ctx, store.Executor{ID: back}, time.Minute); err != nil {
		t.Fatal(err)
	}
	to, err = s.TakeOverExpired(ctx, capable, fl.v1)
	if err != nil {
		t.Fatal(err)
	}
	if moved := movedOf(to, mineAgain.ID); len(moved) != 0 {
		t.Errorf("took over %v from an executor that renewed its lease", moved)
	}
}

// testReleaseWorkflow: a run gives up a workflow it cannot run: queued,
// back to ENQUEUED; without a queue, PENDING under no executor, which a
// taker that runs it takes over. A stale run releases nothing.
func testReleaseWorkflow(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	exec := unique("exec")
	direct := pendingWith(t, ctx, s, exec, fl.f, "sig-f", "v1")
	queue := unique("q")
	enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.f, Signature: "sig-f"})
	queued := claim(t, ctx, s, store.ClaimParams{Queue: queue, ExecutorID: exec, Max: 1}).Claimed[0]

	if _, ok, err := s.ReleaseWorkflow(ctx, direct.ID, store.Owner{ExecutorID: exec, Attempts: direct.Attempts + 1}); err != nil || ok {
		t.Errorf("ReleaseWorkflow by a stale run = %v, %v; want false", ok, err)
	}
	w, ok, err := s.ReleaseWorkflow(ctx, direct.ID, store.Owner{ExecutorID: exec, Attempts: direct.Attempts})
	if err != nil || !ok || w.State != store.StatePending || w.ExecutorID != "" {
		t.Errorf("ReleaseWorkflow(direct) = %s under %q, %v, %v; want PENDING under none", w.State, w.ExecutorID, ok, err)
	}
	w, ok, err = s.ReleaseWorkflow(ctx, queued.ID, store.Owner{ExecutorID: exec, Attempts: queued.Attempts})
	if err != nil || !ok || w.State != store.StateEnqueued || w.ExecutorID != "" || w.Queue != queue {
		t.Errorf("ReleaseWorkflow(queued) = %s under %q on %q, %v, %v; want ENQUEUED on %s", w.State, w.ExecutorID, w.Queue, ok, err, queue)
	}
	taker := leased(t, ctx, s, fl.v1)
	to, err := s.TakeOverExpired(ctx, taker, fl.v1)
	if err != nil {
		t.Fatal(err)
	}
	if moved := movedOf(to, direct.ID); !slices.Equal(moved, []string{direct.ID}) {
		t.Errorf("a taker that runs the released workflow moved %v, want [%s]", moved, direct.ID)
	}
}

// testResumeReleased: ResumeWorkflow with no executor (a client's resume)
// leaves a workflow without a queue PENDING under no executor, Attempts 1,
// for a taker that runs it (which makes it 2).
func testResumeReleased(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	exec := unique("exec")
	w := pendingWith(t, ctx, s, exec, fl.f, "sig-f", "v1")
	if _, _, err := s.CancelWorkflow(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	got, changed, err := s.ResumeWorkflow(ctx, w.ID, "")
	if err != nil || !changed || got.State != store.StatePending || got.ExecutorID != "" || got.Attempts != 1 || got.AppVersion != "v1" {
		t.Fatalf("ResumeWorkflow(no executor) = %s under %q, Attempts %d, AppVersion %q, %v, %v; want PENDING under none, 1, v1",
			got.State, got.ExecutorID, got.Attempts, got.AppVersion, changed, err)
	}
	taker := leased(t, ctx, s, fl.v1)
	to, err := s.TakeOverExpired(ctx, taker, fl.v1)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range to.Moved {
		if m.ID == w.ID && (m.ExecutorID != taker || m.Attempts != 2) {
			t.Errorf("took over %s: under %q, Attempts %d; want %s, 2", w.ID, m.ExecutorID, m.Attempts, taker)
		}
	}
	if moved := movedOf(to, w.ID); len(moved) != 1 {
		t.Errorf("a taker that runs the resumed workflow moved %v", moved)
	}
}

// testLiveExecutors: RenewLease records what an executor runs, and
// LiveExecutors reports it while the lease lasts.
func testLiveExecutors(t *testing.T, open Opener) {
	ctx := testContext(t)
	s, other := open(t), open(t)
	worker := store.Executor{ID: unique("worker"), AppVersion: "v3", Functions: map[string]string{"a.F": "sig-f", "a.G": "sig-g"}, Queues: []string{"q1", "q2"}}
	client := store.Executor{ID: unique("client"), AppVersion: "v3"}
	gone := store.Executor{ID: unique("gone"), AppVersion: "v1", Functions: map[string]string{"a.F": "sig-f"}}
	for _, e := range []store.Executor{worker, client} {
		if err := s.RenewLease(ctx, e, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RenewLease(ctx, gone, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	live, err := other.LiveExecutors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.Executor{}
	for _, e := range live {
		byID[e.ID] = e
	}
	if _, ok := byID[gone.ID]; ok {
		t.Errorf("LiveExecutors lists %s, whose lease expired", gone.ID)
	}
	got, ok := byID[worker.ID]
	if !ok || got.AppVersion != "v3" || len(got.Functions) != 2 || got.Functions["a.G"] != "sig-g" || !slices.Equal(got.Queues, worker.Queues) || !near(got.ExpiresAt, time.Now().Add(time.Minute)) {
		t.Errorf("LiveExecutors reports the worker as %+v (listed: %v), want %+v", got, ok, worker)
	}
	if got, ok := byID[client.ID]; !ok || len(got.Functions) != 0 || len(got.Queues) != 0 || got.Functions == nil {
		t.Errorf("LiveExecutors reports the client as %+v (listed: %v), want no functions, no queues", got, ok)
	}
	// A renewal replaces what it runs.
	worker.Queues = []string{"q3"}
	if err := s.RenewLease(ctx, worker, time.Minute); err != nil {
		t.Fatal(err)
	}
	live, err = other.LiveExecutors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range live {
		if e.ID == worker.ID && !slices.Equal(e.Queues, []string{"q3"}) {
			t.Errorf("after a renewal the worker runs %v, want [q3]", e.Queues)
		}
	}
}

// testWaitingWork: WaitingWork counts the ENQUEUED workflows at the head
// of each declared queue and the orphaned PENDING ones (executor dead, or
// none), by function, fingerprint, version, queue and state; not those of
// live executors.
func testWaitingWork(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	fl := fleetOf()
	queue := unique("q")
	declare(t, ctx, s, store.QueueConfig{Name: queue})
	for range 3 {
		enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.f, Signature: "sig-f"})
	}
	enqueue(t, ctx, s, store.InsertParams{Queue: queue, Name: fl.g, Signature: "sig-g"})
	live := leased(t, ctx, s, fl.v1)
	pendingWith(t, ctx, s, live, fl.f, "sig-f", "v1") // running: not waiting
	dead := leased(t, ctx, s, fl.v1)
	pendingWith(t, ctx, s, dead, fl.f, "sig-f", "v1")
	pendingWith(t, ctx, s, dead, fl.f, "sig-f", "v1")
	expire(t, ctx, s, dead)
	released := pendingWith(t, ctx, s, live, fl.g, "sig-g", "v2")
	if _, ok, err := s.ReleaseWorkflow(ctx, released.ID, store.Owner{ExecutorID: live, Attempts: released.Attempts}); err != nil || !ok {
		t.Fatalf("ReleaseWorkflow = %v, %v", ok, err)
	}
	groups, err := s.WaitingWork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.WaitingGroup
	for _, g := range groups {
		if g.Name == fl.f || g.Name == fl.g {
			got = append(got, g)
		}
	}
	want := []store.WaitingGroup{
		{Name: fl.f, Signature: "sig-f", Queue: queue, State: store.StateEnqueued, Count: 3},
		{Name: fl.f, Signature: "sig-f", AppVersion: "v1", State: store.StatePending, Count: 2},
		{Name: fl.g, Signature: "sig-g", Queue: queue, State: store.StateEnqueued, Count: 1},
		{Name: fl.g, Signature: "sig-g", AppVersion: "v2", State: store.StatePending, Count: 1},
	}
	key := func(g store.WaitingGroup) string { return g.Name + "|" + g.State + "|" + g.Queue }
	slices.SortFunc(got, func(a, b store.WaitingGroup) int { return compareStrings(key(a), key(b)) })
	slices.SortFunc(want, func(a, b store.WaitingGroup) int { return compareStrings(key(a), key(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("WaitingWork = %+v\nwant %+v", got, want)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// leased returns a new executor ID with a lease of a minute, recording that
// it runs r.
func leased(t *testing.T, ctx context.Context, s store.Store, r *store.Runs) string {
	t.Helper()
	id := unique("exec")
	e := store.Executor{ID: id, AppVersion: r.AppVersion, Functions: map[string]string{}}
	for i, n := range r.Names {
		e.Functions[n] = r.Signatures[i]
	}
	if err := s.RenewLease(ctx, e, time.Minute); err != nil {
		t.Fatal(err)
	}
	return id
}

// expire makes exec's lease expire (a renewal of a millisecond) and waits
// until it has.
func expire(t *testing.T, ctx context.Context, s store.Store, exec string) {
	t.Helper()
	if err := s.RenewLease(ctx, store.Executor{ID: exec}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
}

// takeOverRunsUntil is takeOverUntil (leases.go) for a taker with runs.
func takeOverRunsUntil(t *testing.T, ctx context.Context, s store.Store, taker string, runs *store.Runs, dead string) store.TakeOver {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		to, err := s.TakeOverExpired(ctx, taker, runs)
		if err != nil {
			t.Fatalf("TakeOverExpired(%s): %v", taker, err)
		}
		if slices.Contains(to.Dead, dead) {
			return to
		}
		if time.Now().After(deadline) {
			t.Fatalf("TakeOverExpired(%s) did not reap %s, whose lease expired", taker, dead)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// movedOf returns which of ids the takeover moved, in the order it did.
func movedOf(to store.TakeOver, wanted ...string) []string {
	var out []string
	for _, w := range to.Moved {
		if slices.Contains(wanted, w.ID) {
			out = append(out, w.ID)
		}
	}
	return out
}

// pendingWith inserts a workflow of function name (fingerprint sig)
// started directly by exec under version.
func pendingWith(t *testing.T, ctx context.Context, s store.Store, exec, name, sig, version string) store.Workflow {
	t.Helper()
	w, _, err := InsertOne(ctx, s, store.InsertParams{ID: unique("wf"), Name: name, State: store.StatePending, ExecutorID: exec, Signature: sig, AppVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
