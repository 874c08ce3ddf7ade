package pgstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// limitedRole creates a role that may open limit connections, with a
// database of its own, and returns its URL on the server and an admin
// connection; both are dropped when the test ends.
func limitedRole(t *testing.T, limit int) (string, *pgx.Conn) {
	t.Helper()
	server := testdb.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	role := "dbos_slots_" + testdb.RandomHex(4)
	id := pgx.Identifier{role}.Sanitize()
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d", id, limit))
	exec(fmt.Sprintf("CREATE DATABASE %s OWNER %s", id, id))
	t.Cleanup(func() {
		exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", id))
		exec("DROP ROLE IF EXISTS " + id)
		admin.Close(context.Background())
	})
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		t.Skipf("needs a postgres:// URL, not %q", server)
	}
	u.User, u.Path = url.User(role), "/"+role
	return u.String(), admin
}

// hog opens n connections with url, closed when the returned func is
// called (or the test ends).
func hog(t *testing.T, url string, n int) func() {
	t.Helper()
	var conns []*pgx.Conn
	for range n {
		c, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatalf("hog a connection slot: %v", err)
		}
		conns = append(conns, c)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			for _, c := range conns {
				c.Close(context.Background())
			}
		})
	}
	t.Cleanup(release)
	return release
}

// TestOpenWithoutFreeSlotNamesTheBudget: when the server has no
// connection slot left for the role, Open fails at once with an error that
// names max_connections, the role's CONNECTION LIMIT and Config.MaxConns.
func TestOpenWithoutFreeSlotNamesTheBudget(t *testing.T) {
	roleURL, _ := limitedRole(t, 1)
	hog(t, roleURL, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := OpenWith(ctx, roleURL, nil, Options{MaxConns: 5})
	if err == nil {
		t.Fatal("Open succeeded with no free connection slot")
	}
	t.Logf("Open: %v", err)
	for _, want := range []string{"no free connection slot", "max_connections", "CONNECTION LIMIT", "up to 5 (Config.MaxConns)", "PgBouncer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q", want)
		}
	}
}

// TestPoolWaitsForASlot: a call that needs a new connection while the
// server has no slot waits and retries, logging the wait once when it
// begins and once, with its length, when it ends; it then succeeds.
func TestPoolWaitsForASlot(t *testing.T) {
	roleURL, _ := limitedRole(t, 3)
	var logs testdb.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := OpenWith(t.Context(), roleURL, log, Options{MaxConns: 3}) // the listener and a pool of 2
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The pool holds 1 connection, the listener 1: take the third slot.
	release := hog(t, roleURL, 1)
	held, err := s.pool.Acquire(t.Context()) // the pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { // needs a second connection: no slot
		_, err := s.ListQueues(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the call returned (%v) while no slot was free", err)
	case <-time.After(500 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the call failed after the slot freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not go on after a slot freed")
	}
	held.Release()
	out := logs.String()
	t.Logf("logged:\n%s", out)
	if n := strings.Count(out, "no free connection slot"); n != 1 {
		t.Errorf("the wait's beginning was logged %d times, want once", n)
	}
	if !strings.Contains(out, "gave this process a connection again") || !strings.Contains(out, "outage=") {
		t.Errorf("the wait's end was not logged with its length")
	}
}

// TestMaxConnsCapsThePool: the pool opens at most MaxConns - 1
// connections (the listener takes one), however many calls run at once.
func TestMaxConnsCapsThePool(t *testing.T) {
	s, err := OpenWith(t.Context(), testdb.PostgresURL(t), nil, Options{MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = s.ListQueues(context.Background()) })
	}
	wg.Wait()
	if got := s.pool.Stat().MaxConns(); got != 2 {
		t.Errorf("pool max %d, want 2 (MaxConns 3 less the listener)", got)
	}
	if _, err := OpenWith(t.Context(), testdb.PostgresURL(t), nil, Options{MaxConns: 1}); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("MaxConns 1 with a listener: %v, want an error asking for at least 2", err)
	}
}

// behindPooler opens the test database through $DBOS_TEST_DATABASE_URL
// and skips unless it goes through a transaction pooler (CI runs these
// tests through PgBouncer).
func behindPooler(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(t.Context(), testdb.PostgresURL(t), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !s.pooled {
		t.Skipf("%s does not go through a transaction pooler: run with %s pointing at PgBouncer", testdb.ServerURLEnv, testdb.ServerURLEnv)
	}
	return s
}

// TestPoolerConformance runs the conformance suite through PgBouncer in
// transaction mode: advisory transaction locks, pipelines, batches and
// the retention sweeper's election hold there too. The store does not
// listen (Events is nil).
func TestPoolerConformance(t *testing.T) {
	s := behindPooler(t, Options{})
	if s.Events() != nil {
		t.Error("behind a pooler without ListenURL the store listens")
	}
	url := testdb.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenWith(t.Context(), url, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPoolerListenURL: behind PgBouncer with ListenURL naming the server,
// the store listens there and hears its own notifications; a ListenURL
// through the pooler, or to another database, is refused.
func TestPoolerListenURL(t *testing.T) {
	direct := os.Getenv(testdb.ListenServerEnv)
	if direct == "" {
		t.Skipf("set %s to the server PgBouncer fronts", testdb.ListenServerEnv)
	}
	listen := os.Getenv("DBOS_LISTEN_URL") // set by testdb.PostgresURL
	behindPooler(t, Options{})
	s := behindPooler(t, Options{ListenURL: listen})
	if s.Events() == nil {
		t.Fatal("the store does not listen with a ListenURL")
	}
	queue := fmt.Sprintf("q-listen-%d", time.Now().UnixNano())
	if err := s.Notify(t.Context(), []store.Event{{Kind: store.EventEnqueued, Queue: queue}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for heard := false; !heard; {
		select {
		case ev := <-s.Events():
			heard = ev.Kind == store.EventEnqueued && ev.Queue == queue
		case <-deadline:
			t.Fatal("no notification through the ListenURL connection")
		}
	}
	_, err := OpenWith(t.Context(), testdb.PostgresURL(t), nil, Options{ListenURL: testdb.PostgresURL(t)})
	if err == nil || !strings.Contains(err.Error(), "connection pooler") {
		t.Errorf("ListenURL through PgBouncer: %v, want an error saying LISTEN needs a direct connection", err)
	}
	_, err = OpenWith(t.Context(), testdb.PostgresURL(t), nil, Options{ListenURL: direct})
	if err == nil || !strings.Contains(err.Error(), "notifications are per database") {
		t.Errorf("ListenURL to another database: %v, want an error naming both databases", err)
	}
}

// TestMultiHostTargetsTheWritablePrimary: a URL naming several hosts
// reaches the read-write one unless it says otherwise; a single host is
// left alone.
func TestMultiHostTargetsTheWritablePrimary(t *testing.T) {
	for _, tc := range []struct {
		url       string
		readWrite bool
	}{
		{"postgres://u@h1:5432,h2:5433/db?sslmode=disable", true},
		{"postgres://u@h1:5432,h2:5433/db?sslmode=disable&target_session_attrs=any", false},
		{"postgres://u@h1:5432/db?sslmode=disable", false},
		{"postgres://u@h1:5432/db", false}, // sslmode=prefer: two fallbacks, one host
	} {
		cfg, err := configure(tc.url, Options{ApplicationName: "dbos test"})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.ConnConfig.ValidateConnect != nil; got != tc.readWrite {
			t.Errorf("%s: validates read-write %v, want %v", tc.url, got, tc.readWrite)
		}
		if got := cfg.ConnConfig.RuntimeParams["application_name"]; got != "dbos test" {
			t.Errorf("%s: application_name %q", tc.url, got)
		}
	}
}

// TestOpenWarnsOfTooFewSlots: Open warns when the server has fewer free
// slots than MaxConns, naming the limits.
func TestOpenWarnsOfTooFewSlots(t *testing.T) {
	roleURL, _ := limitedRole(t, 3)
	var logs testdb.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := OpenWith(t.Context(), roleURL, log, Options{MaxConns: 6})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	out := logs.String()
	if !strings.Contains(out, "has 3 free connection slots and this process may open up to 6 (Config.MaxConns)") || !strings.Contains(out, "CONNECTION LIMIT 3") {
		t.Errorf("logged:\n%s\nwant a warning of 3 free slots for MaxConns 6, naming the role's limit", out)
	}
}
