package oteltest

import (
	"database/sql"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// TestOutboxTrace: an EnqueueFTx has its producer span, like EnqueueF's,
// and the task's run is its child through the trace context the row
// keeps, written in the caller's transaction.
func TestOutboxTrace(t *testing.T) {
	path := testdb.SQLitePath(t)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	rt := launch(t, "sqlite:"+path, dbos.Config{ExecutorID: unique("oteltest"), TracerProvider: tp})
	ctx := testCtx(t, rt)
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	h, err := EnqueueSquareTx(ctx, tx, Metered, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := h.GetResult(ctx); err != nil || got != 16 {
		t.Fatalf("Square(4) = %d, %v", got, err)
	}
	if err := rt.Shutdown(ctx); err != nil { // the run's span ended
		t.Fatal(err)
	}
	var enq, run *Span
	for _, s := range spans.GetSpans().Snapshots() {
		span := SpanOf(s)
		if span.Attr(string(telemetry.WorkflowID)) != h.ID() {
			continue
		}
		switch span.Name {
		case "enqueue Square":
			enq = &span
		case "run Square":
			run = &span
		}
	}
	if enq == nil || run == nil {
		t.Fatalf("spans of %s: enqueue %v, run %v; want both", h.ID(), enq, run)
	}
	if enq.Kind != "producer" || run.TraceID != enq.TraceID || run.ParentSpanID != enq.SpanID || !run.RemoteParent {
		t.Errorf("enqueue %+v, run %+v: want a producer span, parent of the run through the row", *enq, *run)
	}
}
