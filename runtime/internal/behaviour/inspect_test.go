package behaviour

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/testdb"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// TestInspectWhatOperatorsSee: after a fan-out, Status carries the input
// and output as JSON, Steps the children each step created and its times,
// and ListQueues the queue with its counts back at zero.
func TestInspectWhatOperatorsSee(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := testCtx(t, launch(t, url, ""))
		in := tasks(3, "look")
		h, err := StartProcessTasks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		results, err := h.GetResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, err := dbos.WorkflowStatus(ctx, h.ID())
		if err != nil {
			t.Fatal(err)
		}
		var input struct{ Tasks []Task }
		var output []Result
		if err := json.Unmarshal(st.Input, &input); err != nil || !slices.Equal(input.Tasks, in) {
			t.Errorf("Status.Input = %s (%v); want the tasks %+v", st.Input, err, in)
		}
		if err := json.Unmarshal(st.Output, &output); err != nil || !slices.Equal(output, results) {
			t.Errorf("Status.Output = %s (%v); want %+v", st.Output, err, results)
		}

		steps, err := dbos.Steps(ctx, h.ID())
		if err != nil {
			t.Fatal(err)
		}
		var children []string
		for _, s := range steps {
			children = append(children, s.Children...)
			if s.StartedAt.IsZero() || s.CompletedAt.Before(s.StartedAt.Add(-time.Second)) || s.CompletedAt.Before(st.CreatedAt.Add(-time.Second)) {
				t.Errorf("step %d (%s): started %v, completed %v; want both set, in order, after the workflow's creation %v", s.StepID, s.Name, s.StartedAt, s.CompletedAt, st.CreatedAt)
			}
		}
		if len(children) != len(in) {
			t.Errorf("children from Steps = %v; want the %d tasks enqueued", children, len(in))
		}
		for _, id := range children {
			c, err := dbos.WorkflowStatus(ctx, id)
			if err != nil || c.ParentID != h.ID() {
				t.Errorf("child %s: parent %q, %v; want %s", id, c.ParentID, err, h.ID())
			}
		}

		qs, err := dbos.ListQueues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(qs, func(q dbos.QueueInfo) bool { return q.Name == TaskQueue.Name() })
		if i < 0 {
			t.Fatalf("ListQueues = %+v; want %s", qs, TaskQueue.Name())
		}
		if q := qs[i]; !q.Declared || q.Enqueued != 0 || q.Running != 0 || q.StartedLastMinute < len(in) || q.Paused {
			t.Errorf("queue %s = %+v; want declared, empty, at least %d started in the last minute", q.Name, q, len(in))
		}
	})
}

// TestNoMigrateLeavesTheSchemaAlone: Launch with NoMigrate refuses a
// database without the schema (and creates no SQLite file), and opens one
// a normal Launch migrated.
func TestNoMigrateLeavesTheSchemaAlone(t *testing.T) {
	fresh := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + testdb.SQLitePath(t) },
		"postgres": func(t *testing.T) string { return testdb.NewPostgresDatabase(t) },
	}
	for engine, newURL := range fresh {
		t.Run(engine, func(t *testing.T) {
			url := newURL(t)
			_, err := dbos.Launch(t.Context(), dbos.Config{DatabaseURL: url, NoMigrate: true, ClientOnly: true})
			switch {
			case engine == "sqlite" && !errors.Is(err, fs.ErrNotExist):
				t.Fatalf("Launch(NoMigrate) of a missing SQLite file = %v; want an error matching fs.ErrNotExist", err)
			case engine == "postgres" && !errors.Is(err, dbos.ErrSchema):
				t.Fatalf("Launch(NoMigrate) of an empty database = %v; want ErrSchema", err)
			}
			if engine == "sqlite" {
				if _, err := os.Stat(strings.TrimPrefix(url, "sqlite:")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Launch(NoMigrate) left a file behind: %v", err)
				}
			}
			if err := launch(t, url, "").Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			rt, err := dbos.Launch(t.Context(), dbos.Config{DatabaseURL: url, NoMigrate: true, ClientOnly: true})
			if err != nil {
				t.Fatalf("Launch(NoMigrate) of a migrated database: %v", err)
			}
			_ = rt.Shutdown(t.Context())
		})
	}
}
