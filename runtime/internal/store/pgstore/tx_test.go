package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestTxConformance runs InsertTx's conformance tests with the
// transactions a program brings on Postgres: a pgx.Tx and a *sql.Tx of
// pgx's database/sql driver; a transaction on a second database holding a
// dbos schema of its own, or on a SQLite file, is refused.
func TestTxConformance(t *testing.T) {
	url := testdb.PostgresURL(t)
	other := testdb.NewPostgresDatabase(t) // a second database, with the dbos schema
	openStore(t, other)                    // migrates it
	storetest.RunTx(t, func(t *testing.T) storetest.TxEnv {
		return storetest.TxEnv{
			Store: openStore(t, url),
			Open:  func(t *testing.T) store.Store { return openStore(t, url) },
			Kinds: []storetest.TxKind{pgxTx(url, "pgx.Tx"), stdTx("pgx", url, "sql.Tx")},
			Other: []storetest.TxKind{
				pgxTx(other, "pgx.Tx on another database"),
				stdTx("pgx", other, "sql.Tx on another database"),
				stdTx("sqlite", filepath.Join(t.TempDir(), "other.sqlite"), "sql.Tx on SQLite"),
			},
		}
	})
}

// pgxTx begins pgx.Tx transactions on the database at url.
func pgxTx(url, name string) storetest.TxKind {
	return storetest.TxKind{Name: name, Begin: func(t *testing.T) (any, func(bool) error) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(ctx) })
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		return tx, func(commit bool) error {
			if commit {
				return tx.Commit(ctx)
			}
			return tx.Rollback(ctx)
		}
	}}
}

// stdTx begins *sql.Tx transactions of driver on dsn.
func stdTx(driver, dsn, name string) storetest.TxKind {
	return storetest.TxKind{Name: name, Begin: func(t *testing.T) (any, func(bool) error) {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
		return tx, func(commit bool) error {
			if commit {
				return tx.Commit()
			}
			return tx.Rollback()
		}
	}}
}

// countingTracer counts the statements a connection sends that contain a
// string.
type countingTracer struct {
	contains string
	n        atomic.Int64
}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.Contains(data.SQL, c.contains) {
		c.n.Add(1)
	}
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestTxCheckedOncePerConnection: the transactions of one pgx connection
// are checked against the store's database at the first InsertTx only.
func TestTxCheckedOncePerConnection(t *testing.T) {
	url := testdb.PostgresURL(t)
	s := openStore(t, url)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	tracer := &countingTracer{contains: "name: TxDatabase"}
	cfg.Tracer = tracer
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for i := range 3 {
		tx, err := conn.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p := store.InsertParams{ID: fmt.Sprintf("checked-once-%d-%s", i, testdb.RandomHex(4)), Name: "f", State: store.StateEnqueued, Queue: "checked-once"}
		if _, err := s.InsertTx(t.Context(), tx, []store.InsertParams{p}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := tracer.n.Load(); n != 1 {
		t.Errorf("TxDatabase ran %d times on one connection, want 1", n)
	}
}
