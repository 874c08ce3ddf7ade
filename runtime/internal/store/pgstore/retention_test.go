package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestOneSweeperAtATime: while another session holds the sweeper's
// advisory lock, DeleteExpired deletes nothing and says it did not sweep;
// once it is free, DeleteExpired sweeps, and frees the lock after.
func TestOneSweeperAtATime(t *testing.T) {
	url := testdb.PostgresURL(t)
	ctx := t.Context()
	s := openStore(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	other := pgdb.New(conn)
	if held, err := other.TryLockSweeper(ctx); err != nil || !held {
		t.Fatalf("TryLockSweeper = %v, %v", held, err)
	}
	w, _, err := storetest.InsertOne(ctx, s, store.InsertParams{ID: "sweep-" + testdb.RandomHex(6), Name: "f", State: store.StatePending, ExecutorID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := storetest.CompleteOne(ctx, s, store.CompleteParams{ID: w.ID, ExecutorID: "e", Attempts: w.Attempts, State: store.StateSuccess}); err != nil || !ok {
		t.Fatalf("complete: %v, %v", ok, err)
	}
	time.Sleep(10 * time.Millisecond)
	p := store.ExpireParams{Retention: time.Millisecond, ExecutorID: "sweeper"}
	if n, swept, err := s.DeleteExpired(ctx, p); err != nil || swept || n != 0 {
		t.Fatalf("DeleteExpired while another session sweeps = %d, swept %v, %v; want 0, false", n, swept, err)
	}
	if _, err := s.GetWorkflow(ctx, w.ID); err != nil {
		t.Fatalf("deleted while another session sweeps: %v", err)
	}
	if unlocked, err := other.UnlockSweeper(ctx); err != nil || !unlocked {
		t.Fatalf("UnlockSweeper = %v, %v", unlocked, err)
	}
	if n, swept, err := s.DeleteExpired(ctx, p); err != nil || !swept || n < 1 {
		t.Fatalf("DeleteExpired = %d, swept %v, %v; want at least 1, true", n, swept, err)
	}
	if held, err := other.TryLockSweeper(ctx); err != nil || !held {
		t.Fatalf("after a sweep, TryLockSweeper = %v, %v; want the lock free", held, err)
	}
	if _, err := other.UnlockSweeper(ctx); err != nil {
		t.Fatal(err)
	}
}
