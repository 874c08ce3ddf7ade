package sqlitestore

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestTxConformance runs InsertTx's conformance tests with a program's own
// *sql.Tx on the runtime's file (opened as TxDSNHint says, by another path
// to the same file: a symbolic link); a transaction on another file or on
// an in-memory database is refused.
func TestTxConformance(t *testing.T) {
	storetest.RunTx(t, func(t *testing.T) storetest.TxEnv {
		path := testdb.SQLitePath(t)
		s := openStore(t, path)
		link := filepath.Join(t.TempDir(), "link.sqlite")
		if err := os.Symlink(path, link); err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(t.TempDir(), "other.sqlite")
		openStore(t, other) // migrated: it has the tables too
		return storetest.TxEnv{
			Store: s,
			Open:  func(t *testing.T) store.Store { return openStore(t, path) },
			Kinds: []storetest.TxKind{fileTx(path, "sql.Tx"), fileTx(link, "sql.Tx through a symbolic link")},
			Other: []storetest.TxKind{fileTx(other, "sql.Tx on another file"), fileTx(":memory:", "sql.Tx in memory")},
		}
	})
}

// fileTx begins *sql.Tx transactions on the SQLite file at path, opened
// with the parameters TxDSNHint names.
func fileTx(path, name string) storetest.TxKind {
	return storetest.TxKind{Name: name, Begin: func(t *testing.T) (any, func(bool) error) {
		params := url.Values{}
		params.Add("_pragma", "busy_timeout(10000)")
		params.Add("_pragma", "journal_mode(WAL)")
		params.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", path+"?"+params.Encode())
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
