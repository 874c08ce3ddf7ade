package pgstore

import (
	"context"
	"database/sql"
	"path/filepath"
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
