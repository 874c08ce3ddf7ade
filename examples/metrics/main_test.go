package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// TestScrapeSeesTheCounters: a Prometheus scrape of /metrics, after the
// workload, shows how many tasks the queue ran, by outcome, and the
// queue's depth back at 0.
func TestScrapeSeesTheCounters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mp, handler, err := newMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Shutdown(context.Background())
	srv := httptest.NewServer(handler)
	defer srv.Close()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "metrics.sqlite"), MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)

	h, err := StartBatch(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.GetResult(ctx); err != nil || ok != 27 {
		t.Fatalf("Batch(30) = %d, %v; want 27 (tasks 10, 20 and 30 fail)", ok, err)
	}

	const work = `dbos_workflow_name="github.com/dbosgen/dbosgen/examples/metrics.Work",`
	const queue = `messaging_destination_name="metrics_tasks"`
	want := map[string]*regexp.Regexp{
		"enqueued":  series(`dbos_workflows_enqueued_total{`+work+queue, "30"),
		"started":   series(`dbos_workflows_started_total{`+work+queue, "30"),
		"succeeded": series(`dbos_workflows_succeeded_total{`+work+queue, "27"),
		"failed":    series(`dbos_workflows_failed_total{`+work+`dbos_workflow_state="ERROR",`+queue, "3"),
		"run time":  series(`dbos_workflow_duration_seconds_count{`+work+queue, "30"),
		"wait":      series(`dbos_workflow_queue_wait_seconds_count{`+work+queue, "30"),
		"depth":     series(`dbos_queue_depth{`+queue, "0"),
		"running":   series(`dbos_queue_running{`+queue, "0"),
	}
	// A run counts its outcome as it records it, before its waiters wake;
	// a waiter that read the outcome from the database instead may be a
	// moment early: scrape until every series is there.
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := scrape(t, srv.URL+"/metrics")
		var missing []string
		for what, re := range want {
			if !re.MatchString(body) {
				missing = append(missing, what+" ("+re.String()+")")
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line in /metrics for %s:\n%s", strings.Join(missing, ", "), dbosLines(body))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunExitsByItself: the program as `go run ./examples/metrics` runs
// it, on any free port, prints what /metrics serves and returns.
func TestRunExitsByItself(t *testing.T) {
	t.Chdir(t.TempDir()) // dbos.sqlite goes there
	t.Setenv("DBOS_DATABASE_URL", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, []string{"-addr", "localhost:0", "-tasks", "20"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"18 of 20 tasks succeeded", "dbos_workflows_succeeded_total{", "dbos_queue_depth{"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// series matches a Prometheus sample line: the name and labels as given
// (prefix, followed by other labels), and the value.
func series(prefix, value string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + `[^}]*} ` + regexp.QuoteMeta(value) + `$`)
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dbosLines(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "dbos_") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
