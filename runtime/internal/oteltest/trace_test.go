package oteltest

import (
	"context"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/telemetry"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// Function names as registered, and as span names show them.
const (
	fanOutName = "github.com/dbosgen/dbosgen/runtime/internal/oteltest.FanOut"
	childName  = "github.com/dbosgen/dbosgen/runtime/internal/oteltest.Child"
)

// TestFanOutTraceOneProcess: a workflow started in this process calls a
// step that fails once, enqueues three children on a queue and waits for
// them; one child fails, and one is interrupted by a Shutdown and
// finished, at its second attempt, by a runtime launched again under the
// same executor ID (which also runs the workflow again, from its
// checkpoints). Every span is in the trace of the start: each run of the
// workflow is a child of the start, each child's run a child of its
// enqueue (restored from the row: a remote parent); the failure is on its
// span, with an error status, the step's retry is an event, and each run
// names its attempt.
func TestFanOutTraceOneProcess(t *testing.T) {
	url := "sqlite:" + testdb.SQLitePath(t)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	execID := unique("oteltest")
	rt := launch(t, url, dbos.Config{ExecutorID: execID, TracerProvider: tp})
	ctx := testCtx(t, rt)

	Block.Store(true)
	h, err := StartFanOut(ctx, unique("key"), 3)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, Blocked, "Child(3) to block")
	children := childIDs(h.ID())
	waitFinished(t, ctx, children[0])
	waitFinished(t, ctx, children[1])
	// Interrupt the workflow and Child(3): both stay PENDING.
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	_ = rt.Shutdown(stopped)

	rt2 := launch(t, url, dbos.Config{ExecutorID: execID, TracerProvider: tp})
	ctx2 := testCtx(t, rt2)
	h2, err := RetrieveFanOut(ctx2, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	got, err := h2.GetResult(ctx2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ok 10", "error child 2 failed", "ok 30"}; !slices.Equal(got, want) {
		t.Fatalf("FanOut = %q, want %q", got, want)
	}
	if err := rt2.Shutdown(ctx2); err != nil { // every run ended: its span too
		t.Fatal(err)
	}

	var all []Span
	for _, s := range spans.GetSpans().Snapshots() {
		all = append(all, SpanOf(s))
	}
	checkFanOut(t, all, all, h.ID(), true)
}

// childIDs are the IDs of FanOut's children: derived from its ID and the
// numbers of the steps that enqueued them (step 1 is Flaky).
func childIDs(parent string) []string {
	return []string{parent + "-2", parent + "-3", parent + "-4"}
}

// find returns the spans named name of workflow workflowID.
func find(spans []Span, name, workflowID string) []Span {
	var out []Span
	for _, s := range spans {
		if s.Name == name && s.Attr(string(telemetry.WorkflowID)) == workflowID {
			out = append(out, s)
		}
	}
	return out
}

// checkFanOut checks the trace of FanOut workflow id: local are the spans
// of the process that started and ran it, remote those of the process
// that ran its children (the same spans in one process). interrupted: the
// first run of Child(3) ended (a Shutdown), and the workflow ran twice.
func checkFanOut(t *testing.T, local, remote []Span, id string, interrupted bool) {
	t.Helper()
	starts := find(local, "start FanOut", id)
	if len(starts) != 1 {
		t.Fatalf("%d spans start FanOut of %s, want 1; spans:\n%s", len(starts), id, dump(local))
	}
	start := starts[0]
	traceID := start.TraceID
	if start.Kind != "producer" || start.ParentSpanID != "" {
		t.Errorf("start FanOut: kind %s, parent %q; want a producer and a root", start.Kind, start.ParentSpanID)
	}

	// The workflow's runs: children of the start, one per attempt.
	runs := find(local, "run FanOut", id)
	wantRuns := []string{"1"}
	if interrupted {
		wantRuns = []string{"1", "2"}
	}
	var attempts []string
	var first Span
	for _, r := range runs {
		a := r.Attr(string(telemetry.WorkflowAttempt))
		attempts = append(attempts, a)
		if a == "1" {
			first = r
		}
		if r.TraceID != traceID || r.ParentSpanID != start.SpanID || !r.RemoteParent || r.Kind != "consumer" {
			t.Errorf("run FanOut attempt %s: trace %s parent %s (remote %v) kind %s; want trace %s, parent the start %s, remote, consumer",
				a, r.TraceID, r.ParentSpanID, r.RemoteParent, r.Kind, traceID, start.SpanID)
		}
		if r.Attr(string(telemetry.WorkflowName)) != fanOutName || r.Attr(string(telemetry.MessagingOperationType)) != "process" {
			t.Errorf("run FanOut attributes %v", r.Attributes)
		}
	}
	slices.Sort(attempts)
	if !slices.Equal(attempts, wantRuns) {
		t.Fatalf("run FanOut attempts %v, want %v", attempts, wantRuns)
	}

	// The step that failed once: one span, a retry event, two attempts.
	var flaky []Span
	for _, s := range local {
		if s.Name == "step Flaky" && s.Attr(string(telemetry.WorkflowID)) == id {
			flaky = append(flaky, s)
		}
	}
	if len(flaky) != 1 {
		t.Fatalf("%d spans step Flaky, want 1 (the second run replays it)", len(flaky))
	}
	if s := flaky[0]; s.ParentSpanID != first.SpanID || s.Attr(string(telemetry.StepAttempts)) != "2" ||
		!slices.Equal(s.Events, []string{telemetry.RetryEvent}) || s.Status == "Error" {
		t.Errorf("step Flaky: parent %s attempts %s events %v status %s; want the first run %s, 2, one retry, no error",
			s.ParentSpanID, s.Attr(string(telemetry.StepAttempts)), s.Events, s.Status, first.SpanID)
	}

	// Each child: enqueued by the first run, run as a child of its enqueue.
	for i, cid := range childIDs(id) {
		enqs := find(local, "enqueue Child", cid)
		if len(enqs) != 1 {
			t.Errorf("child %d: %d enqueue spans, want 1", i+1, len(enqs))
			continue
		}
		enq := enqs[0]
		if enq.TraceID != traceID || enq.ParentSpanID != first.SpanID || enq.Kind != "producer" ||
			enq.Attr(string(telemetry.MessagingDestination)) != Children.Name() || enq.Attr(string(telemetry.MessagingOperationType)) != "send" {
			t.Errorf("enqueue of child %d: %+v; want a producer in trace %s under the first run %s, to %s", i+1, enq, traceID, first.SpanID, Children.Name())
		}
		childRuns := find(remote, "run Child", cid)
		want := []string{"1"}
		if i == 2 && interrupted {
			want = []string{"1", "2"}
		} else if i == 2 {
			want = []string{"2"} // the first run died with its process
		}
		var got []string
		for _, r := range childRuns {
			got = append(got, r.Attr(string(telemetry.WorkflowAttempt)))
			if r.TraceID != traceID || r.ParentSpanID != enq.SpanID || !r.RemoteParent {
				t.Errorf("run of child %d (attempt %s): trace %s parent %s remote %v; want trace %s, its enqueue %s, remote",
					i+1, got[len(got)-1], r.TraceID, r.ParentSpanID, r.RemoteParent, traceID, enq.SpanID)
			}
			if r.Attr(string(telemetry.WorkflowName)) != childName || r.Attr(string(telemetry.MessagingDestination)) != Children.Name() || r.Attr(string(telemetry.ExecutorID)) == "" {
				t.Errorf("run of child %d: attributes %v", i+1, r.Attributes)
			}
			switch {
			case i == 1:
				if r.Status != "Error" || r.StatusText != "child 2 failed" || !slices.Contains(r.Events, "exception") || r.Attr(string(telemetry.WorkflowState)) != "ERROR" {
					t.Errorf("run of child 2: status %s %q, events %v, state %s; want the error recorded", r.Status, r.StatusText, r.Events, r.Attr(string(telemetry.WorkflowState)))
				}
			case r.Attr(string(telemetry.WorkflowAttempt)) == "1" && i == 2:
				if r.Status == "Error" || len(r.Events) != 1 || !strings.HasPrefix(r.Events[0], "interrupted") || r.Attr(string(telemetry.WorkflowState)) != "" {
					t.Errorf("interrupted run of child 3: status %s, events %v, state %q", r.Status, r.Events, r.Attr(string(telemetry.WorkflowState)))
				}
			default:
				if r.Status == "Error" || r.Attr(string(telemetry.WorkflowState)) != "SUCCESS" {
					t.Errorf("run of child %d attempt %s: status %s, state %s; want SUCCESS", i+1, r.Attr(string(telemetry.WorkflowAttempt)), r.Status, r.Attr(string(telemetry.WorkflowState)))
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("child %d: runs of attempts %v, want %v", i+1, got, want)
		}
	}
}

// dump lists spans for a failure message.
func dump(spans []Span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.Name + " " + s.SpanID + " parent " + s.ParentSpanID + " " + s.Attr(string(telemetry.WorkflowID)) + "\n")
	}
	return b.String()
}
