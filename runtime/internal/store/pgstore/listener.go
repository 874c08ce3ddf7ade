package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbosgen/dbosgen/runtime/internal/outage"
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/pgstore/pgdb"
)

// The channels and payloads of Notify (see sql/postgres/queries/notify.sql).
const (
	channelEnqueued  = "dbos_enqueued"  // payload: queue name
	channelCompleted = "dbos_completed" // payload: JSON [{"origin":..,"queue":..,"id":..},{"queue":..,"id":..}] or "resync"
	channelHungry    = "dbos_hungry"    // payload: queue name
	channelMessage   = "dbos_message"   // payload: the destination workflow's ID
	channelEvent     = "dbos_event"     // payload: the ID of the workflow that set an event
	payloadResync    = "resync"
)

// Reconnection backoff of the listener.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = time.Second
)

// listener holds one dedicated connection in LISTEN mode and forwards
// notifications to out without ever blocking on its consumer: when out is
// full the notification is dropped and a resync is requested; the pump
// goroutine then delivers one EventResync as soon as out has room. After a
// lost connection it reconnects with backoff and requests a resync too.
type listener struct {
	cfg    *pgx.ConnConfig
	logger *slog.Logger
	out    chan store.Event
	resync chan struct{} // capacity 1: a pending resync request
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// own opens the dbos_completed payloads of this listener's store
	// (ownPrefix): they are dropped unread. The process acted on its own
	// completions (and cancels) when it made them, and parsing them back
	// cost a worker draining a queue a tenth of its CPU.
	own string

	// onNotify, when set (by tests), sees each notification after it was
	// handled.
	onNotify func(*pgconn.Notification)

	mu   sync.Mutex
	conn *pgx.Conn // the current connection; for tests that break it

	// lost logs a lost connection once, and its return with how long it
	// was away.
	lost outage.Tracker
}

// The messages of a lost LISTEN connection.
const (
	lostBegin = "dbos: lost the postgres LISTEN connection; reconnecting (meanwhile work and results are found by polling, every Config.PollInterval)"
	lostEnd   = "dbos: the postgres LISTEN connection is back; notifications wake this process again"
)

// startListener connects and LISTENs before returning, so that every
// notification committed after Open returns is seen.
func startListener(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger, opts options, origin string) (*listener, error) {
	l := &listener{
		own:      ownPrefix(origin),
		cfg:      cfg.Copy(),
		logger:   logger,
		out:      make(chan store.Event, opts.eventBuffer),
		resync:   make(chan struct{}, 1),
		onNotify: opts.onNotify,
		lost:     outage.Tracker{Begin: lostBegin, End: lostEnd},
	}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(2)
	go l.run(runCtx, conn)
	go l.pump(runCtx)
	return l, nil
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	q := pgdb.New(conn)
	if err := q.ListenEnqueued(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channelEnqueued, err)
	}
	if err := q.ListenCompleted(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channelCompleted, err)
	}
	if err := q.ListenHungry(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channelHungry, err)
	}
	if err := q.ListenMessage(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channelMessage, err)
	}
	if err := q.ListenEvent(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channelEvent, err)
	}
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	return conn, nil
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer l.wg.Done()
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.lost.Failed(l.logger, "LISTEN", err, reconnectMin)
			conn.Close(context.Background())
			conn = l.reconnect(ctx)
			if conn == nil {
				return
			}
			l.lost.Succeeded(l.logger)
			l.requestResync() // notifications sent meanwhile are lost
			continue
		}
		if n.Channel != channelCompleted || !strings.HasPrefix(n.Payload, l.own) {
			for _, ev := range parseNotification(n) {
				l.deliver(ev)
			}
		}
		if l.onNotify != nil {
			l.onNotify(n)
		}
	}
}

// reconnect retries until it connects (nil when ctx ends first).
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	wait := reconnectMin
	for {
		jitter := time.Duration(rand.Int64N(int64(wait) / 2))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait/2 + jitter + wait/4):
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, err := l.connect(cctx)
		cancel()
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		l.lost.Failed(l.logger, "LISTEN", err, wait)
		wait = min(2*wait, reconnectMax)
	}
}

// deliver sends ev without blocking; when out is full it drops ev and asks
// for a resync.
func (l *listener) deliver(ev store.Event) {
	select {
	case l.out <- ev:
	default:
		l.requestResync()
	}
}

func (l *listener) requestResync() {
	select {
	case l.resync <- struct{}{}:
	default: // one is already pending
	}
}

// pump delivers one EventResync per request, waiting for room in out.
func (l *listener) pump(ctx context.Context) {
	defer l.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.resync:
		}
		select {
		case <-ctx.Done():
			return
		case l.out <- store.Event{Kind: store.EventResync}:
		}
	}
}

// stop ends both goroutines, closes the connection and then out.
func (l *listener) stop() {
	l.cancel()
	l.wg.Wait()
	close(l.out)
}

// currentConn returns the connection in use.
func (l *listener) currentConn() *pgx.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

// breakConnection closes the current connection's socket, as a network
// failure would. Tests use it to exercise reconnection.
func (l *listener) breakConnection() {
	if conn := l.currentConn(); conn != nil {
		_ = conn.PgConn().Conn().Close()
	}
}

// newOrigin returns a store's origin: 64 random bits, as unlikely to be
// another store's as a tag needs to be.
func newOrigin() string { return strconv.FormatUint(rand.Uint64(), 36) }

// ownPrefix is how the dbos_completed payloads of the store with origin
// begin: the first row's origin field. Receivers of other versions ignore
// the field; their payloads, without one, are never taken for this
// store's own.
func ownPrefix(origin string) string { return `[{"origin":"` + origin + `",` }

// completedRow is one element of a dbos_completed payload (the first one
// also names the sender's origin, see ownPrefix).
type completedRow struct {
	Queue string        `json:"queue"`
	ID    string        `json:"id"`
	End   *completedEnd `json:"end,omitempty"` // when small enough (maxInlineEnd)
}

// completedEnd is the recorded end a completedRow may carry.
type completedEnd struct {
	State  string `json:"state"`
	Output []byte `json:"output"` // null for none: kept apart from empty
	Error  string `json:"error,omitempty"`
}

// parseNotification maps a notification to events. Anything it does not
// understand becomes EventResync, which is always safe.
func parseNotification(n *pgconn.Notification) []store.Event {
	switch n.Channel {
	case channelEnqueued:
		return []store.Event{{Kind: store.EventEnqueued, Queue: n.Payload}}
	case channelHungry:
		return []store.Event{{Kind: store.EventHungry, Queue: n.Payload}}
	case channelMessage:
		return []store.Event{{Kind: store.EventMessage, WorkflowID: n.Payload}}
	case channelEvent:
		return []store.Event{{Kind: store.EventSet, WorkflowID: n.Payload}}
	case channelCompleted:
		if n.Payload == payloadResync {
			return []store.Event{{Kind: store.EventResync}}
		}
		var rows []completedRow
		if err := json.Unmarshal([]byte(n.Payload), &rows); err != nil {
			return []store.Event{{Kind: store.EventResync}}
		}
		evs := make([]store.Event, len(rows))
		for i, r := range rows {
			evs[i] = store.Event{Kind: store.EventCompleted, Queue: r.Queue, WorkflowID: r.ID}
			if r.End != nil && r.End.State != "" {
				evs[i].End = &store.End{State: r.End.State, Output: r.End.Output, Error: r.End.Error}
			}
		}
		return evs
	default:
		return nil
	}
}
