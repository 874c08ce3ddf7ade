package ctltest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/examples/tasks"
	dbos "github.com/dbosgen/dbosgen/runtime"
)

// queueDoc is a queue in dbosctl's -json output.
type queueDoc struct {
	Name                  string     `json:"name"`
	Declared              bool       `json:"declared"`
	DeclaredBy            string     `json:"declared_by"`
	DeclaredAt            *time.Time `json:"declared_at"`
	Concurrency           int        `json:"concurrency"`
	WorkerConcurrency     int        `json:"worker_concurrency"`
	RateLimit             int        `json:"rate_limit"`
	RatePeriodMS          int64      `json:"rate_period_ms"`
	PartitionConcurrency  int        `json:"partition_concurrency"`
	PartitionRateLimit    int        `json:"partition_rate_limit"`
	PartitionRatePeriodMS int64      `json:"partition_rate_period_ms"`
	Paused                bool       `json:"paused"`
	Enqueued              int        `json:"enqueued"`
	Running               int        `json:"running"`
	StartedLastMinute     int        `json:"started_last_minute"`
	StartedInRatePeriod   int        `json:"started_in_rate_period"`
}

// queueChangeDoc is the -json output of queue pause and resume.
type queueChangeDoc struct {
	Changed bool     `json:"changed"`
	Queue   queueDoc `json:"queue"`
}

// paused reads whether queue name is paused, with dbos.ListQueues.
func paused(t *testing.T, ctx context.Context, name string) bool {
	t.Helper()
	qs, err := dbos.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == name {
			return q.Paused
		}
	}
	t.Fatalf("dbos.ListQueues has no queue %q", name)
	return false
}

// TestQueues: queue list shows what dbos.ListQueues reads; pause and
// resume change it, and refuse a name the database does not know.
func TestQueues(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url

		var qs []queueDoc
		doc := okJSON(t, &qs, "queue", "list", db)
		if got, want := keysOf(t, doc), jsonKeys(queueDoc{}); !slices.Equal(got, want) {
			t.Errorf("queue list -json keys %v, want %v", got, want)
		}
		byName := map[string]queueDoc{}
		for _, q := range qs {
			byName[q.Name] = q
		}
		tq, iq := byName[tasks.TaskQueue.Name()], byName[idleQueue.Name()]
		if len(qs) != 2 || !tq.Declared || tq.Concurrency != 10 || tq.DeclaredAt == nil || tq.DeclaredBy == "" ||
			tq.Paused || tq.Enqueued != 0 || tq.Running != 0 || tq.StartedLastMinute != 3 {
			t.Errorf("queue list: %s: %+v (of %+v)", tasks.TaskQueue.Name(), tq, qs)
		}
		if !iq.Declared || iq.Concurrency != 0 || iq.Enqueued != 1 || iq.Paused {
			t.Errorf("queue list: %s: %+v", idleQueue.Name(), iq)
		}
		out := ok(t, "queue", "list", db)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "PAUSED") ||
			!strings.Contains(out, "concurrency 10") || !strings.Contains(lines[1], "ctl_idle") {
			t.Errorf("queue list table:\n%s", out)
		}

		// Pause and resume.
		var c queueChangeDoc
		okJSON(t, &c, "queue", "pause", idleQueue.Name(), db)
		if !c.Changed || !c.Queue.Paused || c.Queue.Name != idleQueue.Name() {
			t.Errorf("queue pause -json: %+v", c)
		}
		if !paused(t, f.ctx, idleQueue.Name()) {
			t.Error("dbos.ListQueues: ctl_idle is not paused after queue pause")
		}
		if out := ok(t, "queue", "pause", idleQueue.Name(), db); !strings.Contains(out, "already paused") {
			t.Errorf("pause again: %q", out)
		}
		if out := ok(t, "queue", "list", db); !strings.Contains(out, "yes") {
			t.Errorf("queue list after pause:\n%s", out)
		}
		okJSON(t, &c, "queue", "resume", db, idleQueue.Name())
		if !c.Changed || c.Queue.Paused {
			t.Errorf("queue resume -json: %+v", c)
		}
		if paused(t, f.ctx, idleQueue.Name()) {
			t.Error("dbos.ListQueues: ctl_idle is paused after queue resume")
		}
		if out := ok(t, "queue", "resume", idleQueue.Name(), db); !strings.Contains(out, "not paused") {
			t.Errorf("resume again: %q", out)
		}
		if out := ok(t, "queue", "pause", tasks.TaskQueue.Name(), db); !strings.Contains(out, "Paused queue example_tasks") {
			t.Errorf("pause: %q", out)
		}
		if !paused(t, f.ctx, tasks.TaskQueue.Name()) {
			t.Error("example_tasks is not paused")
		}
		if out := ok(t, "queue", "resume", tasks.TaskQueue.Name(), db); !strings.Contains(out, "Resumed queue example_tasks") {
			t.Errorf("resume: %q", out)
		}

		// A name the database does not know: refused, unless -force.
		fails(t, 1, []string{`queue "ctl_idel" is unknown`, "ctl_idle", "-force"}, "queue", "pause", "ctl_idel", db)
		fails(t, 1, []string{`queue "ctl_idel" is unknown`}, "queue", "resume", "ctl_idel", db)
		okJSON(t, &c, "queue", "pause", "ctl_later", "-force", db)
		if !c.Changed || !c.Queue.Paused || c.Queue.Declared {
			t.Errorf("queue pause -force -json: %+v", c)
		}
		if !paused(t, f.ctx, "ctl_later") {
			t.Error("dbos.ListQueues: ctl_later is not paused after queue pause -force")
		}
		if out := ok(t, "queue", "list", db); !strings.Contains(out, "not declared") {
			t.Errorf("queue list with an undeclared queue:\n%s", out)
		}
	})
}
