package sqlitestore

import (
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestOneSweeperAtATime: while another process holds the sweeper role
// (retention_sweeper) and its lease runs, DeleteExpired deletes nothing and
// says it did not sweep; the holder sweeps, and releases the role after; an
// expired role is taken over.
func TestOneSweeperAtATime(t *testing.T) {
	ctx := t.Context()
	path := testdb.SQLitePath(t)
	s, other := openStore(t, path), openStore(t, path)
	expired := func() string {
		w, _, err := storetest.InsertOne(ctx, s, store.InsertParams{ID: "sweep-" + testdb.RandomHex(6), Name: "f", State: store.StatePending, ExecutorID: "e"})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := storetest.CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: "e", Attempts: w.Attempts, State: store.StateSuccess}); err != nil || !ok {
			t.Fatalf("complete: %v, %v", ok, err)
		}
		time.Sleep(10 * time.Millisecond)
		return w.ID
	}
	mine := store.ExpireParams{Retention: time.Millisecond, ExecutorID: "me"}
	theirs := store.ExpireParams{Retention: time.Millisecond, ExecutorID: "other"}

	if n, err := other.q.AcquireSweeper(ctx, sqlitedb.AcquireSweeperParams{ExecutorID: "other", LeaseMs: time.Minute.Milliseconds()}); err != nil || n != 1 {
		t.Fatalf("AcquireSweeper = %d, %v", n, err)
	}
	id := expired()
	if n, swept, err := s.DeleteExpired(ctx, mine); err != nil || swept || n != 0 {
		t.Fatalf("DeleteExpired while another process sweeps = %d, swept %v, %v; want 0, false", n, swept, err)
	}
	if _, err := s.GetWorkflow(ctx, id); err != nil {
		t.Fatalf("deleted while another process sweeps: %v", err)
	}
	if n, swept, err := other.DeleteExpired(ctx, theirs); err != nil || !swept || n != 1 {
		t.Fatalf("DeleteExpired by the holder = %d, swept %v, %v; want 1, true", n, swept, err)
	}
	// Released after the sweep: anyone may sweep.
	expired()
	if n, swept, err := s.DeleteExpired(ctx, mine); err != nil || !swept || n != 1 {
		t.Fatalf("DeleteExpired after the release = %d, swept %v, %v; want 1, true", n, swept, err)
	}
	// A holder whose lease ran out loses the role.
	if n, err := other.q.AcquireSweeper(ctx, sqlitedb.AcquireSweeperParams{ExecutorID: "other", LeaseMs: -1}); err != nil || n != 1 {
		t.Fatalf("AcquireSweeper = %d, %v", n, err)
	}
	expired()
	if n, swept, err := s.DeleteExpired(ctx, mine); err != nil || !swept || n != 1 {
		t.Fatalf("DeleteExpired after the holder's lease ran out = %d, swept %v, %v; want 1, true", n, swept, err)
	}
}
