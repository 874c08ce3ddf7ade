package behaviour

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// The test binary re-executes itself as an outbox worker when
// outboxWorkerEnv is set: it launches on $DBOS_OUTBOX_URL, runs
// OutboxQueue only, prints "ready" and runs until its stdin closes.
const (
	outboxWorkerEnv = "DBOS_OUTBOX_WORKER"
	outboxURLEnv    = "DBOS_OUTBOX_URL"
)

func outboxWorker() int {
	ctx := context.Background()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: os.Getenv(outboxURLEnv), ListenQueues: []*dbos.Queue{OutboxQueue}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := rt.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startOutboxWorker starts a worker process on dbURL that logs its runs of
// OutboxTask to log, waits until it is launched (and so idle, waiting for
// work) and returns its pid. The worker stops when the test ends.
func startOutboxWorker(t *testing.T, dbURL, log string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), outboxWorkerEnv+"=1", outboxURLEnv+"="+dbURL, OutboxLogEnv+"="+log,
		fmt.Sprintf("DBOS_EXECUTOR_ID=outbox-worker-%d-%d", os.Getpid(), executorSeq.Add(1)))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("outbox worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("outbox worker did not stop")
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("outbox worker printed %q, %v; want ready", line, err)
	}
	return cmd.Process.Pid
}

// appTx is a transaction of the program's own: its dbos.Tx, and how to
// write in it, commit and roll back.
type appTx struct {
	tx       dbos.Tx
	exec     func(ctx context.Context, query string, args ...any) error
	commit   func(ctx context.Context) error
	rollback func(ctx context.Context) error
}

// appDB is a program's own connection to a database: it begins appTx
// transactions and counts rows outside them.
type appDB struct {
	name  string
	begin func(t *testing.T, ctx context.Context) appTx
	count func(ctx context.Context, query string, args ...any) (int, error)
}

// pgxDB connects to the Postgres database at dbURL with pgx.
func pgxDB(t *testing.T, dbURL string) appDB {
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return appDB{
		name: "pgx.Tx",
		begin: func(t *testing.T, ctx context.Context) appTx {
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
			return appTx{
				tx:       tx,
				exec:     func(ctx context.Context, q string, args ...any) error { _, err := tx.Exec(ctx, q, args...); return err },
				commit:   tx.Commit,
				rollback: tx.Rollback,
			}
		},
		count: func(ctx context.Context, q string, args ...any) (n int, err error) {
			err = conn.QueryRow(ctx, q, args...).Scan(&n)
			return n, err
		},
	}
}

// sqlDB opens a database/sql connection of driver to dsn.
func sqlDB(t *testing.T, name, driver, dsn string) appDB {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return appDB{
		name: name,
		begin: func(t *testing.T, ctx context.Context) appTx {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tx.Rollback() })
			return appTx{
				tx: tx,
				exec: func(ctx context.Context, q string, args ...any) error {
					_, err := tx.ExecContext(ctx, q, args...)
					return err
				},
				commit:   func(context.Context) error { return tx.Commit() },
				rollback: func(context.Context) error { return tx.Rollback() },
			}
		},
		count: func(ctx context.Context, q string, args ...any) (n int, err error) {
			err = db.QueryRowContext(ctx, q, args...).Scan(&n)
			return n, err
		},
	}
}

// sqliteDSN is the DSN a program opens the runtime's SQLite file with (see
// dbos.Tx).
func sqliteDSN(path string) string {
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Set("_txlock", "immediate")
	return path + "?" + params.Encode()
}

// outboxEngines runs test on each engine with the runtime's database URL
// and the program's own connections to that database, one per kind of
// transaction EnqueueFTx takes there.
func outboxEngines(t *testing.T, test func(t *testing.T, dbURL string, dbs []appDB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := testdb.SQLitePath(t)
		test(t, "sqlite:"+path, []appDB{sqlDB(t, "sql.Tx", "sqlite", sqliteDSN(path))})
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL := testdb.PostgresURL(t)
		test(t, dbURL, []appDB{pgxDB(t, dbURL), sqlDB(t, "sql.Tx", "pgx", dbURL)})
	})
}

// TestOutboxRunsOnlyWhatCommits: a program writes a row of its own and
// enqueues a task with EnqueueFTx in one transaction. Rolled back, the task
// never runs and no trace of it (or of the row) is left; committed, a
// worker in another process, idle until then, runs it once. The program's
// runtime is client-only: only the worker runs tasks.
func TestOutboxRunsOnlyWhatCommits(t *testing.T) {
	outboxEngines(t, func(t *testing.T, dbURL string, dbs []appDB) {
		log := filepath.Join(t.TempDir(), "runs.log")
		workerPid := startOutboxWorker(t, dbURL, log)
		rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: dbURL, ClientOnly: true,
			ExecutorID: fmt.Sprintf("outbox-producer-%d-%d", os.Getpid(), executorSeq.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
		ctx := testCtx(t, rt)
		setup := dbs[0].begin(t, ctx)
		if err := setup.exec(ctx, "CREATE TABLE IF NOT EXISTS outbox_app (key TEXT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if err := setup.commit(ctx); err != nil {
			t.Fatal(err)
		}
		for _, db := range dbs {
			t.Run(db.name, func(t *testing.T) {
				rolledKey := fmt.Sprintf("rolled-%s-%d", db.name, taskIDs.Add(1))
				committedKey := fmt.Sprintf("committed-%s-%d", db.name, taskIDs.Add(1))
				enqueue := func(key string, commit bool) *OutboxTaskHandle {
					t.Helper()
					tx := db.begin(t, ctx)
					if err := tx.exec(ctx, "INSERT INTO outbox_app (key) VALUES ($1)", key); err != nil {
						t.Fatal(err)
					}
					h, err := EnqueueOutboxTaskTx(ctx, tx.tx, OutboxQueue, key)
					if err != nil {
						t.Fatalf("EnqueueOutboxTaskTx: %v", err)
					}
					end := tx.rollback
					if commit {
						end = tx.commit
					}
					if err := end(ctx); err != nil {
						t.Fatalf("end the transaction (commit %v): %v", commit, err)
					}
					return h
				}
				rolled := enqueue(rolledKey, false)
				committed := enqueue(committedKey, true)

				pid, err := committed.GetResult(ctx)
				if err != nil {
					t.Fatalf("the committed task: %v", err)
				}
				if pid != workerPid {
					t.Errorf("the committed task ran in process %d, want the worker %d", pid, workerPid)
				}
				if _, err := dbos.WorkflowStatus(ctx, rolled.ID()); !errors.Is(err, dbos.ErrNotFound) {
					t.Errorf("WorkflowStatus of the rolled-back task = %v, want ErrNotFound", err)
				}
				if _, err := RetrieveOutboxTask(ctx, rolled.ID()); !errors.Is(err, dbos.ErrNotFound) {
					t.Errorf("RetrieveOutboxTask of the rolled-back task = %v, want ErrNotFound", err)
				}
				list, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: OutboxQueue.Name(), Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				listed := map[string]bool{}
				for _, st := range list {
					listed[st.ID] = true
				}
				if listed[rolled.ID()] || !listed[committed.ID()] {
					t.Errorf("ListWorkflows shows the rolled-back task: %v, the committed one: %v; want false, true", listed[rolled.ID()], listed[committed.ID()])
				}
				for key, want := range map[string]int{rolledKey: 0, committedKey: 1} {
					n, err := db.count(ctx, "SELECT count(*) FROM outbox_app WHERE key = $1", key)
					if err != nil {
						t.Fatal(err)
					}
					if n != want {
						t.Errorf("application rows %q: %d, want %d", key, n, want)
					}
				}
				runs := outboxRuns(t, log)
				if got := runs[rolledKey]; len(got) != 0 {
					t.Errorf("the rolled-back task ran: %v", got)
				}
				if got := runs[committedKey]; len(got) != 1 || got[0] != workerPid {
					t.Errorf("the committed task ran in processes %v, want once in %d", got, workerPid)
				}
			})
		}
	})
}

// outboxRuns reads the worker's log: the pids that ran each key.
func outboxRuns(t *testing.T, log string) map[string][]int {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	runs := map[string][]int{}
	for line := range strings.Lines(string(data)) {
		var (
			key string
			pid int
		)
		if _, err := fmt.Sscan(line, &key, &pid); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		runs[key] = append(runs[key], pid)
	}
	return runs
}

// TestOutboxRefusals: EnqueueFTx refuses a transaction on another
// database, of another engine or of an unsupported type, and any call
// inside a workflow, writing nothing; it keeps EnqueueF's promises on IDs
// and deduplication IDs. The runtime is client-only, so the enqueued
// tasks stay enqueued.
func TestOutboxRefusals(t *testing.T) {
	outboxEngines(t, func(t *testing.T, dbURL string, dbs []appDB) {
		rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: dbURL, ClientOnly: true,
			ExecutorID: fmt.Sprintf("outbox-refusals-%d-%d", os.Getpid(), executorSeq.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
		ctx := testCtx(t, rt)

		var others []appDB // on another database, or another engine
		if strings.HasPrefix(dbURL, "sqlite:") {
			others = append(others, sqlDB(t, "sql.Tx on another file", "sqlite", sqliteDSN(filepath.Join(t.TempDir(), "other.sqlite"))))
		} else {
			other := testdb.NewPostgresDatabase(t)
			others = append(others, pgxDB(t, other), sqlDB(t, "sql.Tx on another database", "pgx", other),
				sqlDB(t, "sql.Tx on SQLite", "sqlite", sqliteDSN(filepath.Join(t.TempDir(), "other.sqlite"))))
		}
		for _, db := range others {
			tx := db.begin(t, ctx)
			h, err := EnqueueOutboxTaskTx(ctx, tx.tx, OutboxQueue, "elsewhere", dbos.WithID(fmt.Sprintf("elsewhere-%d", taskIDs.Add(1))))
			if !errors.Is(err, dbos.ErrOtherDatabase) {
				t.Errorf("%s: EnqueueOutboxTaskTx = %v, want ErrOtherDatabase", db.name, err)
			} else {
				t.Logf("%s: %v", db.name, err)
			}
			if h != nil {
				t.Errorf("%s: a handle with the error", db.name)
			}
			_ = tx.commit(ctx)
		}

		if !strings.HasPrefix(dbURL, "sqlite:") {
			// A pgx.Tx given to a SQLite runtime.
			lite, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: "sqlite:" + testdb.SQLitePath(t), ClientOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = lite.Shutdown(context.Background()) })
			tx := dbs[0].begin(t, ctx)
			_, err = EnqueueOutboxTaskTx(lite.WithContext(ctx), tx.tx, OutboxQueue, "pgx on sqlite")
			if err == nil || !strings.Contains(err.Error(), "unsupported transaction type") {
				t.Errorf("EnqueueOutboxTaskTx of a pgx.Tx on a SQLite runtime = %v, want an unsupported type error", err)
			} else {
				t.Logf("pgx.Tx on SQLite: %v", err)
			}
			_ = tx.rollback(ctx)
		}
		for _, tx := range []dbos.Tx{nil, "not a transaction", &sql.DB{}} {
			_, err := EnqueueOutboxTaskTx(ctx, tx, OutboxQueue, "typed")
			if err == nil || errors.Is(err, dbos.ErrOtherDatabase) {
				t.Errorf("EnqueueOutboxTaskTx(%T) = %v, want an unsupported type error", tx, err)
			} else {
				t.Logf("%T: %v", tx, err)
			}
		}

		db := dbs[0]
		id := fmt.Sprintf("outbox-id-%d", taskIDs.Add(1))
		dedup := fmt.Sprintf("outbox-dedup-%d", taskIDs.Add(1))
		first, err := EnqueueOutboxTask(ctx, OutboxQueue, "first", dbos.WithID(id), dbos.WithDeduplicationID(dedup))
		if err != nil {
			t.Fatal(err)
		}
		tx := db.begin(t, ctx)
		again, err := EnqueueOutboxTaskTx(ctx, tx.tx, OutboxQueue, "again", dbos.WithID(id))
		if err != nil || again.ID() != first.ID() {
			t.Errorf("EnqueueOutboxTaskTx with an existing ID = %v, %v; want its handle", again, err)
		}
		if _, err := EnqueueOutboxTaskTx(ctx, tx.tx, OutboxQueue, "dup", dbos.WithDeduplicationID(dedup)); !errors.Is(err, dbos.ErrDuplicate) {
			t.Errorf("EnqueueOutboxTaskTx with a held deduplication ID = %v, want ErrDuplicate", err)
		}
		if _, err := EnqueueSum3Tx(ctx, tx.tx, OutboxQueue, 1, 2, 3, dbos.WithID(id)); !errors.Is(err, dbos.ErrConflictingID) {
			t.Errorf("EnqueueSum3Tx with another function's ID = %v, want ErrConflictingID", err)
		}
		if _, err := EnqueueOutboxTaskTx(ctx, tx.tx, nil, "no queue"); err == nil {
			t.Error("EnqueueOutboxTaskTx with a nil queue succeeded")
		}
		if err := tx.commit(ctx); err != nil {
			t.Fatalf("commit after the refusals: %v", err)
		}
	})
}

// TestOutboxInProcess: with the queue run by the enqueuing process itself,
// a committed EnqueueFTx runs (woken by the notification on Postgres, by
// the commit watcher on SQLite), and inside a workflow EnqueueFTx is
// refused with a message naming EnqueueF.
func TestOutboxInProcess(t *testing.T) {
	outboxEngines(t, func(t *testing.T, dbURL string, dbs []appDB) {
		ctx := testCtx(t, launch(t, dbURL, ""))
		for _, db := range dbs {
			tx := db.begin(t, ctx)
			h, err := EnqueueOutboxTaskTx(ctx, tx.tx, OutboxQueue, "here")
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.commit(ctx); err != nil {
				t.Fatal(err)
			}
			if pid, err := h.GetResult(ctx); err != nil || pid != os.Getpid() {
				t.Errorf("%s: the task = %d, %v; want this process's pid %d", db.name, pid, err, os.Getpid())
			}
		}
		h, err := StartOutboxInWorkflow(ctx, "inside")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := h.GetResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "inside a workflow") || !strings.Contains(msg, "use EnqueueOutboxTask ") {
			t.Errorf("EnqueueOutboxTaskTx inside a workflow: %q; want a refusal naming EnqueueOutboxTask", msg)
		}
	})
}
