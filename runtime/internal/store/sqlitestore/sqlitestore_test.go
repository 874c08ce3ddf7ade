package sqlitestore

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	// The stores opened for one test share that test's file.
	var (
		mu    sync.Mutex
		paths = map[*testing.T]string{}
	)
	storetest.Run(t, func(t *testing.T) store.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = testdb.SQLitePath(t)
			paths[t] = path
		}
		mu.Unlock()
		return openStore(t, path)
	})
}

// TestConcurrentOpensMigrateOnce opens one new file from many goroutines at
// once: all succeed and every migration is applied once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	path := testdb.SQLitePath(t)
	const n = 8
	stores := make([]*Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), path, nil)
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	if t.Failed() {
		return
	}
	migrations, err := dbsql.SQLiteMigrations()
	if err != nil {
		t.Fatal(err)
	}
	version, err := stores[0].q.MigrationVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(migrations[len(migrations)-1].Version); version != want {
		t.Errorf("migration version %d, want %d", version, want)
	}
}

func TestOpenBadPath(t *testing.T) {
	if _, err := Open(t.Context(), t.TempDir()+"/missing-dir/db.sqlite", nil); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

// TestUpgradeKeepsSteps opens a file migrated to version 6 (before steps
// had codes) that holds a checkpoint: Open migrates it, and the checkpoint
// reads back with Code "".
func TestUpgradeKeepsSteps(t *testing.T) {
	path := testdb.SQLitePath(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	migrations, err := dbsql.SQLiteMigrations()
	if err != nil {
		t.Fatal(err)
	}
	q := sqlitedb.New(db)
	for _, m := range migrations {
		if m.Version > 6 {
			break
		}
		if _, err := db.ExecContext(t.Context(), m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if err := q.InsertMigration(t.Context(), int64(m.Version)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO steps (workflow_id, step_id, name, error, created_ms) VALUES ('old', 1, 's', 'boom', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, path)
	steps, err := s.Steps(t.Context(), "old")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].Error != "boom" || steps[0].Code != "" {
		t.Errorf("Steps after the upgrade = %+v, want the old checkpoint with Code \"\"", steps)
	}
	version, err := s.q.MigrationVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(migrations[len(migrations)-1].Version); version != want {
		t.Errorf("migration version %d, want %d", version, want)
	}
}
