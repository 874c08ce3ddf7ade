package dbos_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	dbos "github.com/dbosgen/dbosgen/runtime"

	"github.com/dbosgen/dbosgen/examples/tasks"
)

// Enqueue a task in the program's own transaction (the outbox): the order
// row and the task commit together, or neither does. On SQLite the
// program opens the runtime's file itself, with the runtime's pragmas; on
// Postgres it would begin a pgx.Tx (or a *sql.Tx of pgx's stdlib driver)
// on the runtime's database instead.
func ExampleTx() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "dbos-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.sqlite")

	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + path})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)"); err != nil {
		log.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id, item) VALUES (7, 'book')"); err != nil {
		log.Fatal(err)
	}
	h, err := tasks.EnqueueProcessTaskTx(ctx, tx, tasks.TaskQueue, tasks.Task{ID: 7, Text: "ship the book"})
	if err != nil {
		log.Fatal(err) // the deferred Rollback drops the order too
	}
	if err := tx.Commit(); err != nil { // the task exists from here on, and runs
		log.Fatal(err)
	}

	r, err := h.GetResult(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.TaskID, r.Upper)
	// Output: 7 SHIP THE BOOK
}
