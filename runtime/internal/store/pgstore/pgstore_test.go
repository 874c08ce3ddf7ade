package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
	"github.com/dbosgen/dbosgen/runtime/internal/store/storetest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func openStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	url := testdb.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, url) })
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", nil)
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	t.Logf("Open: %v", err)
	if !strings.Contains(err.Error(), "connect to postgres at 127.0.0.1:1: ") {
		t.Errorf("error %q does not say where it tried to connect", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
}

// TestConcurrentOpensMigrateOnce opens one fresh database from many
// goroutines at once (as many processes starting together would): all
// succeed and every migration is applied once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	url := testdb.NewPostgresDatabase(t)
	const n = 8
	stores := make([]*Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(t.Context(), url, nil)
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
	migrations, err := dbsql.PostgresMigrations()
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
	// Reopening applies nothing and works.
	openStore(t, url)
}

func TestListenerReconnectsAndResyncs(t *testing.T) {
	url := testdb.PostgresURL(t)
	s, other := openStore(t, url), openStore(t, url)
	ctx := t.Context()
	old := s.listener.currentConn()
	s.listener.breakConnection()
	// Wait for EventResync: the listener noticed, reconnected and warns that
	// notifications may have been lost meanwhile.
	await(t, s.Events(), func(ev store.Event) bool { return ev.Kind == store.EventResync })
	if s.listener.currentConn() == old {
		t.Fatal("EventResync without a new connection")
	}
	// Notifications flow again on the new connection.
	queue := fmt.Sprintf("q-reconnect-%d", time.Now().UnixNano())
	if err := other.Notify(ctx, []store.Event{{Kind: store.EventEnqueued, Queue: queue}}); err != nil {
		t.Fatal(err)
	}
	await(t, s.Events(), func(ev store.Event) bool { return ev == store.Event{Kind: store.EventEnqueued, Queue: queue} })
}

// TestSlowConsumerGetsResync fills a tiny event buffer without reading it:
// the listener drops what does not fit and then delivers one EventResync.
func TestSlowConsumerGetsResync(t *testing.T) {
	url := testdb.PostgresURL(t)
	prefix := fmt.Sprintf("q-slow-%d", time.Now().UnixNano())
	const n = 10
	handled := make(chan struct{}, n)
	s, err := open(t.Context(), url, nil, options{eventBuffer: 2, onNotify: func(n *pgconn.Notification) {
		if strings.HasPrefix(n.Payload, prefix) {
			handled <- struct{}{}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	other := openStore(t, url)
	for i := range n {
		q := fmt.Sprintf("%s-%d", prefix, i)
		if err := other.Notify(t.Context(), []store.Event{{Kind: store.EventEnqueued, Queue: q}}); err != nil {
			t.Fatal(err)
		}
	}
	// Let the listener handle (deliver or drop) every notification before
	// reading any.
	for range n {
		select {
		case <-handled:
		case <-time.After(20 * time.Second):
			t.Fatal("the listener did not handle the notifications")
		}
	}
	var enqueued int
	await(t, s.Events(), func(ev store.Event) bool {
		if ev.Kind == store.EventEnqueued && strings.HasPrefix(ev.Queue, prefix) {
			enqueued++
		}
		return ev.Kind == store.EventResync
	})
	if enqueued != 2 {
		t.Errorf("%d events before the resync, want the 2 the buffer holds", enqueued)
	}
}

func TestParseNotification(t *testing.T) {
	for _, tc := range []struct {
		channel, payload string
		want             []store.Event
	}{
		{channelEnqueued, "q1", []store.Event{{Kind: store.EventEnqueued, Queue: "q1"}}},
		{channelCompleted, `[{"queue":"q1","id":"a"},{"queue":"","id":"b"}]`, []store.Event{
			{Kind: store.EventCompleted, Queue: "q1", WorkflowID: "a"},
			{Kind: store.EventCompleted, Queue: "", WorkflowID: "b"},
		}},
		{channelCompleted, payloadResync, []store.Event{{Kind: store.EventResync}}},
		{channelCompleted, `garbage`, []store.Event{{Kind: store.EventResync}}},
		{"other_channel", "x", nil},
	} {
		got := parseNotification(&pgconn.Notification{Channel: tc.channel, Payload: tc.payload})
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("parseNotification(%s, %q) = %v, want %v", tc.channel, tc.payload, got, tc.want)
		}
	}
}

// TestNotifications checks the payloads Notify builds: one per queue
// enqueued to, completions packed into JSON arrays that parse back and stay
// under maxPayload, and a resync for what no payload can hold.
func TestNotifications(t *testing.T) {
	var evs []store.Event
	var want []store.Event
	for i := range 500 {
		c := store.Event{Kind: store.EventCompleted, Queue: fmt.Sprintf("q%d", i%3), WorkflowID: fmt.Sprintf("wf-%d-%s", i, strings.Repeat("z", i%50))}
		evs = append(evs, c, store.Event{Kind: store.EventEnqueued, Queue: fmt.Sprintf("q%d", i%3)})
		want = append(want, c)
	}
	channels, payloads := notifications(evs, "o1")
	var got []store.Event
	enqueued := map[string]int{}
	for i := range channels {
		if len(payloads[i]) > maxPayload {
			t.Errorf("payload %d is %d bytes, over %d", i, len(payloads[i]), maxPayload)
		}
		if channels[i] == channelCompleted && !strings.HasPrefix(payloads[i], ownPrefix("o1")) {
			t.Errorf("completion payload %d begins %.40q, want the sender's origin first (its listener drops it unread)", i, payloads[i])
		}
		for _, ev := range parseNotification(&pgconn.Notification{Channel: channels[i], Payload: payloads[i]}) {
			switch ev.Kind {
			case store.EventCompleted:
				got = append(got, ev)
			case store.EventEnqueued:
				enqueued[ev.Queue]++
			default:
				t.Errorf("unexpected %+v", ev)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("completions: got %d events, want %d in order", len(got), len(want))
	}
	if len(enqueued) != 3 || enqueued["q0"] != 1 || enqueued["q1"] != 1 || enqueued["q2"] != 1 {
		t.Errorf("enqueue notifications %v, want one per queue", enqueued)
	}
	if n := len(channels) - len(enqueued); n < 2 {
		t.Errorf("%d completion payloads, want the completions split over several", n)
	}

	for _, ev := range []store.Event{
		{Kind: store.EventResync},
		{Kind: store.EventCompleted, WorkflowID: strings.Repeat("x", maxPayload)},
		{Kind: store.EventEnqueued, Queue: strings.Repeat("x", maxPayload+1)},
	} {
		channels, payloads := notifications([]store.Event{ev, ev}, "o1")
		if !slices.Equal(channels, []string{channelCompleted}) || !slices.Equal(payloads, []string{payloadResync}) {
			t.Errorf("notifications(%.40v twice) = %v %.40q, want one resync", ev, channels, payloads)
		}
	}
}

// TestNotificationsCarrySmallEnds: a completion's end goes with its
// notification when its output and error are small (a nil output stays
// nil, an empty one empty), and a larger one is left to be read.
func TestNotificationsCarrySmallEnds(t *testing.T) {
	ends := []*store.End{
		{State: store.StateSuccess, Output: []byte(`{"n":49}`)},
		{State: store.StateSuccess},
		{State: store.StateSuccess, Output: []byte{}},
		{State: store.StateError, Error: "boom: try again"},
		{State: store.StateSuccess, Output: bytes.Repeat([]byte("x"), maxInlineEnd+1)},
		nil,
	}
	var evs []store.Event
	for i, end := range ends {
		evs = append(evs, store.Event{Kind: store.EventCompleted, Queue: "q", WorkflowID: fmt.Sprint("wf-", i), End: end})
	}
	channels, payloads := notifications(evs, "o1")
	if len(channels) != 1 {
		t.Fatalf("%d payloads, want one: %q", len(channels), payloads)
	}
	got := parseNotification(&pgconn.Notification{Channel: channels[0], Payload: payloads[0]})
	if len(got) != len(ends) {
		t.Fatalf("%d events back, want %d", len(got), len(ends))
	}
	for i, ev := range got {
		want := ends[i]
		if i == 4 {
			want = nil // too long: read it
		}
		switch {
		case want == nil && ev.End != nil:
			t.Errorf("event %d carries an end %+v, want none", i, ev.End)
		case want != nil && ev.End == nil:
			t.Errorf("event %d carries no end, want %+v", i, want)
		case want != nil && (ev.End.State != want.State || ev.End.Error != want.Error || !bytes.Equal(ev.End.Output, want.Output) || (ev.End.Output == nil) != (want.Output == nil)):
			t.Errorf("event %d carries %+v, want %+v", i, ev.End, want)
		}
	}
}

func await(t *testing.T, ch <-chan store.Event, match func(store.Event) bool) {
	t.Helper()
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("Events closed")
			}
			if match(ev) {
				return
			}
		case <-timer.C:
			t.Fatal("timed out waiting for an event")
		}
	}
}

// TestLimitedClaimWaitsForEnqueueInFlight holds an enqueue uncommitted (its
// row has drawn its seq) while a later enqueue of the same queue commits:
// a claim of the Concurrency(1) queue must wait for the first to commit and
// then take it first, not run the later one ahead of it.
func TestLimitedClaimWaitsForEnqueueInFlight(t *testing.T) {
	url := testdb.PostgresURL(t)
	s, other := openStore(t, url), openStore(t, url)
	ctx := t.Context()
	queue := fmt.Sprintf("q-inflight-%d", time.Now().UnixNano())
	if _, _, err := other.DeclareQueue(ctx, store.QueueConfig{Name: queue, Concurrency: 1}, "test"); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	early, err := s.q.WithTx(tx).InsertWorkflow(ctx, pgdb.InsertWorkflowParams{
		WorkflowID: queue + "-early", Name: "f", State: store.StateEnqueued, QueueName: queue,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Enqueues share the lock: a later one does not wait for the first.
	late, _, err := storetest.InsertOne(ctx, other, store.InsertParams{ID: queue + "-late", Name: "f", State: store.StateEnqueued, Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	if late.Seq <= early.Seq {
		t.Fatalf("seq %d drawn after seq %d", late.Seq, early.Seq)
	}
	type result struct {
		res store.ClaimResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := other.Claim(ctx, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
		done <- result{res, err}
	}()
	var r result
	if returnedFirst(t, s, queue, func() bool { return received(done, &r) }) {
		t.Fatalf("the claim returned %v (err %v) while an earlier enqueue was uncommitted; want it to wait", ids(r.res.Claimed), r.err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if got, want := ids(r.res.Claimed), []string{early.WorkflowID}; !slices.Equal(got, want) {
			t.Errorf("after the commit the claim took %v, want %v (the lower seq, alone under Concurrency 1)", got, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the claim did not return after the enqueue committed")
	}
}

func ids(ws []store.Workflow) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

// TestEnqueueDoesNotWaitForLimitedClaim holds a limited claim's lock (a
// claimer has passed the claim barrier and not committed): enqueues of the
// queue, alone or in a batch with other queues, must not wait for the
// claim's commit, and they draw seqs above the barrier's bound, so the
// claim in that transaction cannot take them ahead of a lower seq; the
// next claim does.
func TestEnqueueDoesNotWaitForLimitedClaim(t *testing.T) {
	url := testdb.PostgresURL(t)
	s, other := openStore(t, url), openStore(t, url)
	ctx := t.Context()
	queue := fmt.Sprintf("q-claiming-%d", time.Now().UnixNano())
	if _, _, err := other.DeclareQueue(ctx, store.QueueConfig{Name: queue, Concurrency: 5}, "test"); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if err := s.q.WithTx(tx).LockQueue(ctx, queue); err != nil {
		t.Fatal(err)
	}
	var bound int64
	if err := tx.QueryRow(ctx, "SELECT current_setting('dbos.claim_seq_bound')::bigint").Scan(&bound); err != nil {
		t.Fatal(err)
	}
	// Returning at all while tx holds the claim lock is the point: before
	// the barrier, these waited for the claim's commit.
	one, _, err := storetest.InsertOne(ctx, other, store.InsertParams{ID: queue + "-one", Name: "f", State: store.StateEnqueued, Queue: queue})
	if err != nil {
		t.Fatalf("enqueue while a claim holds the queue's claim lock: %v", err)
	}
	res, err := other.InsertWorkflows(ctx, []store.InsertParams{
		{ID: queue + "-a", Name: "f", State: store.StateEnqueued, Queue: queue + "-a"},
		{ID: queue + "-batch", Name: "f", State: store.StateEnqueued, Queue: queue},
	})
	if err != nil {
		t.Fatalf("batch enqueue while a claim holds the queue's claim lock: %v", err)
	}
	for _, w := range []store.Workflow{one, res[1].Workflow} {
		if w.Seq <= bound {
			t.Errorf("%s drew seq %d, at or below the claim's bound %d: the claim could take it", w.ID, w.Seq, bound)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := other.Claim(ctx, store.ClaimParams{Queue: queue, ExecutorID: "e", Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(c.Claimed), []string{queue + "-one", queue + "-batch"}; !slices.Equal(got, want) {
		t.Errorf("the next claim took %v, want %v", got, want)
	}
}

// returnedFirst waits until a session waits for queue's enqueue lock (the
// lock the claim barrier takes, and enqueues share) and returns false, or returns
// true as soon as returned reports that the operation expected to wait
// for it has returned instead. It fails the test after 20 seconds.
func returnedFirst(t *testing.T, s *Store, queue string, returned func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if returned() {
			return true
		}
		// An advisory lock's 64-bit key shows in pg_locks as classid (high
		// half) and objid (low half), with objsubid 1.
		var waiting bool
		err := s.pool.QueryRow(t.Context(), `
			SELECT EXISTS (
				SELECT 1 FROM pg_locks l, (SELECT hashtextextended('dbos.queue:' || $1::text, 0) AS k) h
				WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1
				  AND l.classid::bigint = (h.k >> 32) & 4294967295
				  AND l.objid::bigint = h.k & 4294967295)`, queue).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return returned()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session waited for the lock of queue %q", queue)
		}
		time.Sleep(time.Millisecond)
	}
}

// received reports whether ch had a value ready, storing it in v.
func received[T any](ch <-chan T, v *T) bool {
	select {
	case *v = <-ch:
		return true
	default:
		return false
	}
}

// TestUpgradeKeepsSteps opens a database migrated to version 6 (before
// steps had codes) that holds a checkpoint: Open migrates it, and the
// checkpoint reads back with Code "".
func TestUpgradeKeepsSteps(t *testing.T) {
	url := testdb.NewPostgresDatabase(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	migrations, err := dbsql.PostgresMigrations()
	if err != nil {
		t.Fatal(err)
	}
	q := pgdb.New(conn)
	for _, m := range migrations {
		if m.Version > 6 {
			break
		}
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if err := q.InsertMigration(ctx, int64(m.Version)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO dbos.steps (workflow_id, step_id, name, error, created_ms) VALUES ('old', 1, 's', 'boom', 1)`); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, url)
	steps, err := s.Steps(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].Error != "boom" || steps[0].Code != "" {
		t.Errorf("Steps after the upgrade = %+v, want the old checkpoint with Code \"\"", steps)
	}
	version, err := s.q.MigrationVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(migrations[len(migrations)-1].Version); version != want {
		t.Errorf("migration version %d, want %d", version, want)
	}
}

// TestPoliteClaimGivesWay holds a queue's polite-claim lock as a polite
// claim in flight would: a polite claim of the queue then takes nothing
// and reports that it gave way (not that the queue is empty), a claim
// that is not polite takes what is ready, and once the lock is free a
// polite claim takes the rest.
func TestPoliteClaimGivesWay(t *testing.T) {
	url := testdb.PostgresURL(t)
	s := openStore(t, url)
	ctx := t.Context()
	queue := fmt.Sprintf("q-polite-%d", time.Now().UnixNano())
	for i := range 3 {
		if _, _, err := storetest.InsertOne(ctx, s, store.InsertParams{ID: fmt.Sprintf("%s-%d", queue, i), Name: "f", State: store.StateEnqueued, Queue: queue}); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('dbos.polite:' || $1::text, 0))", queue); err != nil {
		t.Fatal(err)
	}
	res, err := s.Claim(ctx, store.ClaimParams{Queue: queue, ExecutorID: "e1", Max: 10, Polite: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Claimed) != 0 || !res.GaveWay || !res.RetryAt.IsZero() {
		t.Fatalf("polite claim while another holds the lock: claimed %v, gave way %v, retry at %v; want nothing, true, zero",
			ids(res.Claimed), res.GaveWay, res.RetryAt)
	}
	res, err = s.Claim(ctx, store.ClaimParams{Queue: queue, ExecutorID: "e2", Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(res.Claimed), []string{queue + "-0"}; !slices.Equal(got, want) || res.GaveWay {
		t.Fatalf("claim that is not polite took %v (gave way %v), want %v", got, res.GaveWay, want)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = s.Claim(ctx, store.ClaimParams{Queue: queue, ExecutorID: "e1", Max: 10, Polite: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(res.Claimed), []string{queue + "-1", queue + "-2"}; !slices.Equal(got, want) || res.GaveWay {
		t.Fatalf("polite claim with the lock free took %v (gave way %v), want %v", got, res.GaveWay, want)
	}
}
