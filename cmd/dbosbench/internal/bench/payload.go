package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" driver of the raw baseline
)

// The payload workload: tasks whose input and output are payloadSize bytes.
const (
	payloadQueueName = "bench_payload"
	payloadSize      = 64 << 10
	// payloadRawRows is how many rows each INSERT of the raw baseline writes.
	payloadRawRows = 20
)

func init() {
	workloads = append(workloads, &workload{name: "payload", base: 2000, least: 10, run: runPayload,
		about: "16 goroutines enqueue n tasks of 64 KiB input that return it (64 KiB output), and await them; vs raw multi-row INSERTs of the same bytes"})
}

// Echo returns its input.
//
//dbos:step
func Echo(ctx context.Context, b []byte) ([]byte, error) {
	countRun()
	return b, nil
}

// runPayload: like producers, with 64 KiB inputs and outputs; MB/s counts
// both (2 × 64 KiB a task, 1 MB = 10^6 bytes). Then, untimed by the first
// figure, the same bytes go into a plain table of the same database with
// multi-row INSERTs (20 rows each, one bytea or blob column for the input
// and one for the output): "raw insert MB/s", what the engine takes for
// those bytes with nothing else to do, and "% of raw insert".
func runPayload(ctx context.Context, c *child) (Values, error) {
	q := dbos.NewQueue(payloadQueueName)
	if err := c.launch(ctx); err != nil {
		return nil, err
	}
	n := c.spec.N
	payload := make([]byte, payloadSize)
	_, _ = rand.Read(payload)
	took, err := produceAndAwait(ctx, n, producers,
		func(ctx context.Context, i int) (*EchoHandle, error) { return EnqueueEcho(ctx, q, payload) },
		func(ctx context.Context, i int, h *EchoHandle) error {
			out, err := h.GetResult(ctx)
			if err == nil && !bytes.Equal(out, payload) {
				err = fmt.Errorf("the output is not the input (%d bytes)", len(out))
			}
			return err
		})
	if err != nil {
		return nil, err
	}
	mb := float64(n) * 2 * payloadSize / 1e6
	raw, err := rawInsert(ctx, c.spec.URL, payload, n)
	if err != nil {
		return nil, fmt.Errorf("raw insert baseline: %w", err)
	}
	return Values{
		{Name: "tasks/s", Unit: "tasks/s", Value: rate(n, took)},
		{Name: "MB/s", Unit: "MB/s", Value: mb / took.Seconds()},
		{Name: "raw insert MB/s", Unit: "MB/s", Value: mb / raw.Seconds()},
		{Name: "% of raw insert", Unit: "%", Value: 100 * raw.Seconds() / took.Seconds()},
	}, nil
}

// rawInsert writes n rows of (payload, payload) into a fresh table of the
// database at dbURL, payloadRawRows rows an INSERT, each its own
// transaction, and returns how long that took. This is the bench tool's
// own SQL, a baseline, not the runtime's.
func rawInsert(ctx context.Context, dbURL string, payload []byte, n int) (time.Duration, error) {
	const create = "CREATE TABLE bench_payload_raw (id integer PRIMARY KEY, input %[1]s NOT NULL, output %[1]s NOT NULL)"
	insert := func(ph func(k int) string, rows int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO bench_payload_raw (id, input, output) VALUES ")
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%s, %s, %s)", ph(3*r+1), ph(3*r+2), ph(3*r+3))
		}
		return b.String()
	}
	args := func(first, rows int) []any {
		a := make([]any, 0, 3*rows)
		for r := range rows {
			a = append(a, first+r, payload, payload)
		}
		return a
	}
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		// The runtime's own connection settings: WAL, synchronous NORMAL.
		db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(NORMAL)"}}.Encode())
		if err != nil {
			return 0, err
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, fmt.Sprintf(create, "blob")); err != nil {
			return 0, err
		}
		start := time.Now()
		for i := 0; i < n; i += payloadRawRows {
			rows := min(payloadRawRows, n-i)
			if _, err := db.ExecContext(ctx, insert(func(int) string { return "?" }, rows), args(i, rows)...); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, fmt.Sprintf(create, "bytea")); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < n; i += payloadRawRows {
		rows := min(payloadRawRows, n-i)
		if _, err := conn.Exec(ctx, insert(func(k int) string { return fmt.Sprintf("$%d", k) }, rows), args(i, rows)...); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
