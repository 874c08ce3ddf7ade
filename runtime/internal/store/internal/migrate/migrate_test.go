package migrate

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	dbsql "github.com/dbosgen/dbosgen/sql"
)

// fakeDB is a database of the fake engine: the versions recorded and the
// migration texts run, committed only when the locked function succeeds.
type fakeDB struct {
	mu       sync.Mutex // the migration lock
	bookkept bool       // the migrations table exists
	versions []int64
	ran      []string
	failOn   string // Exec of this text fails
	locks    int    // transactions taken
}

// fakeTx is the locked transaction: a copy of the database's state.
type fakeTx struct {
	db       *fakeDB
	bookkept bool
	versions []int64
	ran      []string
}

func (t *fakeTx) Bookkept(context.Context) (bool, error) { return t.bookkept, nil }

func (t *fakeTx) Version(context.Context) (int64, error) {
	if !t.bookkept {
		return 0, errors.New("no migrations table")
	}
	return slices.Max(append([]int64{0}, t.versions...)), nil
}

func (t *fakeTx) Exec(_ context.Context, statements string) error {
	if statements == t.db.failOn {
		return errors.New("syntax error")
	}
	t.ran = append(t.ran, statements)
	if strings.Contains(statements, "CREATE TABLE migrations") || strings.Contains(statements, "CREATE TABLE dbos.migrations") {
		t.bookkept = true
	}
	return nil
}

func (t *fakeTx) Record(_ context.Context, version int64) error {
	if !t.bookkept {
		return errors.New("no migrations table")
	}
	t.versions = append(t.versions, version)
	return nil
}

func (db *fakeDB) engine(ms []dbsql.Migration) Engine {
	return Engine{
		Name:       "fake",
		Migrations: func() ([]dbsql.Migration, error) { return ms, nil },
		Locked: func(ctx context.Context, fn func(Tx) error) error {
			db.mu.Lock()
			defer db.mu.Unlock()
			db.locks++
			tx := &fakeTx{db: db, bookkept: db.bookkept, versions: slices.Clone(db.versions), ran: slices.Clone(db.ran)}
			if err := fn(tx); err != nil {
				return err // rolled back
			}
			db.bookkept, db.versions, db.ran = tx.bookkept, tx.versions, tx.ran
			return nil
		},
	}
}

var files = []dbsql.Migration{
	{Version: 1, Name: "0001_init.sql", SQL: "CREATE TABLE migrations; CREATE TABLE workflows"},
	{Version: 2, Name: "0002_queues.sql", SQL: "CREATE TABLE queues"},
	{Version: 4, Name: "0004_executors.sql", SQL: "CREATE TABLE executors"},
}

func TestRunAppliesInOrderOnce(t *testing.T) {
	db := &fakeDB{}
	if err := Run(t.Context(), db.engine(files[:2]), nil); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2}; !slices.Equal(db.versions, want) {
		t.Fatalf("recorded %v, want %v", db.versions, want)
	}
	// A newer program applies only what is new; concurrent runs apply it
	// once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := Run(t.Context(), db.engine(files), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if want := []int64{1, 2, 4}; !slices.Equal(db.versions, want) {
		t.Errorf("recorded %v, want %v", db.versions, want)
	}
	want := []string{files[0].SQL, files[1].SQL, files[2].SQL}
	if !slices.Equal(db.ran, want) {
		t.Errorf("ran %q, want %q", db.ran, want)
	}
	if db.locks != 5 {
		t.Errorf("%d locked transactions for 5 runs", db.locks)
	}
}

func TestRunFailureRollsBack(t *testing.T) {
	db := &fakeDB{failOn: files[2].SQL}
	err := Run(t.Context(), db.engine(files), nil)
	if err == nil || !strings.Contains(err.Error(), "apply migration 0004_executors.sql: syntax error") {
		t.Fatalf("Run = %v, want the failing migration named", err)
	}
	if db.bookkept || len(db.versions) != 0 || len(db.ran) != 0 {
		t.Errorf("a failed run left versions %v, ran %q", db.versions, db.ran)
	}
}

func TestRunNewerDatabase(t *testing.T) {
	db := &fakeDB{bookkept: true, versions: []int64{1, 2, 4, 9}}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if err := Run(t.Context(), db.engine(files), logger); err != nil {
		t.Fatal(err)
	}
	if len(db.ran) != 0 {
		t.Errorf("ran %q on a newer database", db.ran)
	}
	if !strings.Contains(logs.String(), "database schema is newer than this program") {
		t.Errorf("no warning logged: %s", logs.String())
	}
}

func TestRunRejectsDisorder(t *testing.T) {
	db := &fakeDB{}
	if err := Run(t.Context(), db.engine([]dbsql.Migration{files[1], files[0]}), nil); err == nil {
		t.Error("Run accepted migrations out of order")
	}
	if db.locks != 0 {
		t.Error("Run locked the database for migrations out of order")
	}
}

// TestEmbedded checks the embedded files of both engines: present, and
// accepted by the runner.
func TestEmbedded(t *testing.T) {
	for name, load := range map[string]func() ([]dbsql.Migration, error){
		"postgres": dbsql.PostgresMigrations,
		"sqlite":   dbsql.SQLiteMigrations,
	} {
		ms, err := load()
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s migrations: %d, %v", name, len(ms), err)
		}
		db := &fakeDB{}
		if err := Run(t.Context(), db.engine(ms), nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(db.ran) != len(ms) {
			t.Errorf("%s: ran %d of %d migrations", name, len(db.ran), len(ms))
		}
	}
}
