package flowtest

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestFleetWithinConnectionBudget runs 20 worker processes against a
// server that lets their role open 50 connections: fewer than they would
// open unchecked (20 × DefaultMaxConns = 160), enough for 20 × MaxConns 2.
// Every task is done, the queue's limit holds, and the role never holds
// more than 20 × 2 connections (sampled from pg_stat_activity).
func TestFleetWithinConnectionBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("20 processes: runs without -short")
	}
	const (
		procs     = 20
		maxConns  = 2
		roleLimit = 50
		tasks     = 20 // per process
	)
	server := testdb.PostgresURL(t) // skips without a server; the role gets its own database
	role := "dbos_budget_" + testdb.RandomHex(4)
	admin := adminConn(t, server)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d", pgx.Identifier{role}.Sanitize(), roleLimit))
	exec(fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{role}.Sanitize(), pgx.Identifier{role}.Sanitize()))
	t.Cleanup(func() {
		exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{role}.Sanitize()))
		exec(fmt.Sprintf("DROP ROLE IF EXISTS %s", pgx.Identifier{role}.Sanitize()))
	})
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		t.Skipf("needs a postgres:// URL, not %q", server)
	}
	u.User, u.Path = url.User(role), "/"+role
	roleURL := u.String()

	// Sample the role's connections while the fleet works.
	var (
		mu   sync.Mutex
		peak int
	)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var n int
			if err := admin.QueryRow(context.Background(),
				"SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role).Scan(&n); err == nil {
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	counts := make([]int, procs)
	for i := range counts {
		counts[i] = tasks
	}
	records := runWorkersWith(t, roleURL, Conc5.Name(), 20*time.Millisecond,
		[]string{workerConnsEnv + "=" + strconv.Itoa(maxConns)}, counts...)
	close(stop)
	<-sampled
	if len(records) != procs*tasks {
		t.Errorf("%d tasks done, want %d", len(records), procs*tasks)
	}
	if got := maxOverlap(records); got > 5 {
		t.Errorf("%d tasks ran at once on a Concurrency(5) queue", got)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d processes with MaxConns %d: %d tasks done; the role held at most %d connections (its limit %d)", procs, maxConns, len(records), peak, roleLimit)
	if peak > procs*maxConns {
		t.Errorf("the role held %d connections; %d processes with MaxConns %d may hold %d", peak, procs, maxConns, procs*maxConns)
	}
}

// adminConn connects to the server as the test's (superuser) role.
func adminConn(t *testing.T, server string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
