package ctltest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/examples/tasks"
	dbos "github.com/dbosgen/dbosgen/runtime"
)

// workflowDoc is a workflow in dbosctl's -json output.
type workflowDoc struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	State       string          `json:"state"`
	Queue       string          `json:"queue"`
	ParentID    string          `json:"parent_id"`
	ExecutorID  string          `json:"executor_id"`
	AppVersion  string          `json:"app_version"`
	Attempts    int             `json:"attempts"`
	Priority    int             `json:"priority"`
	CreatedAt   *time.Time      `json:"created_at"`
	StartedAt   *time.Time      `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	Input       json.RawMessage `json:"input"`
	Output      json.RawMessage `json:"output"`
	Error       string          `json:"error"`
	Waiting     string          `json:"waiting"`
}

// stepDoc is a step in dbosctl's -json output.
type stepDoc struct {
	StepID      int             `json:"step_id"`
	Name        string          `json:"name"`
	StartedAt   *time.Time      `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	DurationMS  float64         `json:"duration_ms"`
	ChildID     string          `json:"child_id"`
	Children    []string        `json:"children"`
	Output      json.RawMessage `json:"output"`
	Error       string          `json:"error"`
}

// changeDoc is the -json output of workflow cancel and resume.
type changeDoc struct {
	Changed       bool        `json:"changed"`
	PreviousState string      `json:"previous_state"`
	Workflow      workflowDoc `json:"workflow"`
}

// forkDoc is the -json output of workflow fork.
type forkDoc struct {
	ID         string      `json:"id"`
	OriginalID string      `json:"original_id"`
	FromStep   int         `json:"from_step"`
	Workflow   workflowDoc `json:"workflow"`
}

// keysOf returns the JSON object keys of the first object in doc (an
// object, or an array of objects), sorted.
func keysOf(t *testing.T, doc string) []string {
	t.Helper()
	var obj map[string]json.RawMessage
	if strings.HasPrefix(strings.TrimSpace(doc), "[") {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &list); err != nil || len(list) == 0 {
			t.Fatalf("want a non-empty JSON array (%v):\n%s", err, doc)
		}
		obj = list[0]
	} else if err := json.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonKeys returns the JSON names of v's fields, sorted: the keys every
// object of its kind must have.
func jsonKeys(v any) []string {
	var keys []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		keys = append(keys, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	sort.Strings(keys)
	return keys
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// fixture is the work the workflow tests look at.
type fixture struct {
	ctx context.Context // bound to the worker
	url string
	// ok ran two tasks and succeeded; failed failed; idle waits on
	// idleQueue, which no live process runs.
	ok, failed, idle string
	created          time.Time // before any of them was created
}

// populate launches the worker on url and runs the fixture's workflows.
func populate(t *testing.T, url string) fixture {
	t.Helper()
	f := fixture{url: url, ok: "ctl-ok", failed: "ctl-failed", idle: "ctl-idle", created: time.Now().Add(-time.Second)}
	f.ctx = worker(t, url)
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	h, err := tasks.StartProcessTasks(ctx, []tasks.Task{{ID: 1, Text: "hello"}, {ID: 2, Text: "dbosctl"}}, dbos.WithID(f.ok))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.GetResult(ctx); err != nil {
		t.Fatal(err)
	}
	hf, err := tasks.StartProcessTasks(ctx, []tasks.Task{{ID: 3, Text: "fail:out of paper"}}, dbos.WithID(f.failed))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hf.GetResult(ctx); err == nil {
		t.Fatal("the failing workflow succeeded")
	}
	if _, err := tasks.EnqueueProcessTask(ctx, idleQueue, tasks.Task{ID: 4, Text: "idle"}, dbos.WithID(f.idle)); err != nil {
		t.Fatal(err)
	}
	return f
}

// ids returns the IDs of ws.
func ids(ws []workflowDoc) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	sort.Strings(out)
	return out
}

// TestWorkflowList: list and each of its filters, in JSON and as a table.
func TestWorkflowList(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url
		all, err := dbos.ListWorkflows(f.ctx, dbos.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var allIDs []string
		for _, s := range all {
			allIDs = append(allIDs, s.ID)
		}
		sort.Strings(allIDs)
		// 2 workflows, the 2 + 1 tasks they ran, the idle task.
		if len(allIDs) != 6 {
			t.Fatalf("the fixture has %d workflows, want 6: %v", len(allIDs), allIDs)
		}

		var list []workflowDoc
		doc := okJSON(t, &list, "workflow", "list", db)
		if got := ids(list); !slices.Equal(got, allIDs) {
			t.Errorf("list: %v, want %v", got, allIDs)
		}
		if got, want := keysOf(t, doc), jsonKeys(workflowDoc{}); !slices.Equal(got, want) {
			t.Errorf("list -json keys %v, want %v", got, want)
		}
		for i := 1; i < len(list); i++ {
			if list[i].CreatedAt.After(*list[i-1].CreatedAt) {
				t.Errorf("list is not newest first: %s after %s", list[i].ID, list[i-1].ID)
			}
		}

		filtered := func(want []string, args ...string) {
			t.Helper()
			var got []workflowDoc
			okJSON(t, &got, append([]string{"workflow", "list", db}, args...)...)
			sort.Strings(want)
			if !slices.Equal(ids(got), want) {
				t.Errorf("list %s: %v, want %v", strings.Join(args, " "), ids(got), want)
			}
		}
		var succeeded, tasksRun []string
		for _, s := range all {
			if s.State == dbos.StateSuccess {
				succeeded = append(succeeded, s.ID)
			}
			if s.Queue == tasks.TaskQueue.Name() {
				tasksRun = append(tasksRun, s.ID)
			}
		}
		filtered(succeeded, "-state", "SUCCESS")
		filtered(succeeded, "-state", "success")
		filtered([]string{f.failed, f.failed + "-1"}, "-state=ERROR")
		filtered([]string{f.idle}, "-state", "enqueued")
		filtered(nil, "-state", "dead_letter")
		filtered([]string{f.idle}, "-queue", idleQueue.Name())
		filtered(tasksRun, "-queue", tasks.TaskQueue.Name())
		filtered([]string{f.ok, f.failed}, "-name", processTasks)
		filtered([]string{f.failed}, "-name", processTasks, "-state", "ERROR")
		filtered(allIDs, "-since", "1h")
		filtered(allIDs, "-since", f.created.UTC().Format(time.RFC3339Nano))
		filtered(nil, "-since", time.Now().Add(time.Hour).Format(time.RFC3339))
		filtered(allIDs, "-since", f.created.Add(-time.Minute).Format(time.DateTime)) // local time
		filtered([]string{list[0].ID}, "-limit", "1")
		filtered(nil, "-name", "no.such.Function")

		// The table: a header, one line per workflow, its columns.
		out := ok(t, "workflow", "list", db, "-state", "error")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "STATE") {
			t.Fatalf("list table:\n%s", out)
		}
		for _, l := range lines[1:] {
			if fields := strings.Fields(l); fields[1] != "ERROR" {
				t.Errorf("list -state error: line %q", l)
			}
		}
		if out := ok(t, "workflow", "list", db, "-name", "no.such.Function"); !strings.Contains(out, "No workflows match") {
			t.Errorf("empty list: %q", out)
		}
		// A full page says there may be more, on stderr.
		if r := ctl(t, "workflow", "list", db, "-limit", "2"); r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stderr, "-limit") {
			t.Errorf("list -limit 2: %s", r)
		}
	})
}

// TestWorkflowGet: get shows status, input, output, error and why a
// workflow waits; an ID that does not exist fails with exit 1.
func TestWorkflowGet(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url

		var got workflowDoc
		doc := okJSON(t, &got, "workflow", "get", f.ok, db)
		if got, want := keysOf(t, doc), jsonKeys(workflowDoc{}); !slices.Equal(got, want) {
			t.Errorf("get -json keys %v, want %v", got, want)
		}
		st, err := dbos.WorkflowStatus(f.ctx, f.ok)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != f.ok || got.Name != processTasks || got.State != "SUCCESS" || got.Attempts != st.Attempts || got.ExecutorID != st.ExecutorID ||
			got.CreatedAt == nil || got.StartedAt == nil || got.CompletedAt == nil || got.Error != "" || got.Waiting != "" {
			t.Errorf("get %s: %+v", f.ok, got)
		}
		if !got.CreatedAt.Equal(st.CreatedAt) || !got.CompletedAt.Equal(st.CompletedAt) {
			t.Errorf("get %s: created %v completed %v, want %v %v", f.ok, got.CreatedAt, got.CompletedAt, st.CreatedAt, st.CompletedAt)
		}
		wantIn := `{"tasks":[{"id":1,"text":"hello"},{"id":2,"text":"dbosctl"}]}`
		wantOut := `[{"task_id":1,"upper":"HELLO"},{"task_id":2,"upper":"DBOSCTL"}]`
		if !sameJSON(t, got.Input, []byte(wantIn)) || !sameJSON(t, got.Output, []byte(wantOut)) {
			t.Errorf("get %s: input %s output %s, want %s %s", f.ok, got.Input, got.Output, wantIn, wantOut)
		}
		// -json before the command, the database in the environment.
		r := ctlEnv(t, []string{"DBOS_DATABASE_URL=" + url}, "-json", "workflow", "get", f.ok)
		if r.code != 0 {
			t.Fatalf("get with $DBOS_DATABASE_URL: %s", r)
		}
		var again workflowDoc
		decodeOne(t, r.stdout, &again)
		if again.ID != f.ok {
			t.Errorf("get with $DBOS_DATABASE_URL: %+v", again)
		}

		var failed workflowDoc
		okJSON(t, &failed, "workflow", "get", db, f.failed)
		if failed.State != "ERROR" || failed.Error != "out of paper" || string(failed.Output) != "null" {
			t.Errorf("get %s: %+v", f.failed, failed)
		}
		var idle workflowDoc
		okJSON(t, &idle, "workflow", "get", f.idle, db)
		if idle.State != "ENQUEUED" || idle.Queue != idleQueue.Name() || !strings.Contains(idle.Waiting, `no live executor runs queue "ctl_idle"`) ||
			idle.StartedAt != nil || idle.CompletedAt != nil || string(idle.Output) != "null" {
			t.Errorf("get %s: %+v", f.idle, idle)
		}

		// The human form.
		out := ok(t, "workflow", "get", f.ok, db)
		for _, want := range []string{"ID:", f.ok, "State:", "SUCCESS", processTasks, "Input:", `"text":"hello"`, "Output:", `"upper":"HELLO"`} {
			if !strings.Contains(out, want) {
				t.Errorf("get %s lacks %q:\n%s", f.ok, want, out)
			}
		}
		if out := ok(t, db, "workflow", "get", f.failed); !strings.Contains(out, "Error:") || !strings.Contains(out, "out of paper") {
			t.Errorf("get %s:\n%s", f.failed, out)
		}
		if out := ok(t, "workflow", "get", f.idle, db); !strings.Contains(out, "Waiting:") || !strings.Contains(out, "ctl_idle") {
			t.Errorf("get %s:\n%s", f.idle, out)
		}

		for _, cmd := range []string{"get", "steps", "cancel", "resume"} {
			fails(t, 1, []string{`workflow "no-such-id" does not exist in database`}, "workflow", cmd, "no-such-id", db)
		}
		fails(t, 1, []string{`workflow "no-such-id" does not exist`}, "workflow", "fork", "no-such-id", "-from-step", "1", db)
	})
}

// TestWorkflowSteps: steps lists a workflow's checkpoints with their
// children, times and errors.
func TestWorkflowSteps(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url
		want, err := dbos.Steps(f.ctx, f.ok)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 4 {
			t.Fatalf("%s has %d steps, want 4 (2 enqueues, 2 results)", f.ok, len(want))
		}
		var steps []stepDoc
		doc := okJSON(t, &steps, "workflow", "steps", f.ok, db)
		if got, want := keysOf(t, doc), jsonKeys(stepDoc{}); !slices.Equal(got, want) {
			t.Errorf("steps -json keys %v, want %v", got, want)
		}
		if len(steps) != len(want) {
			t.Fatalf("steps: %d, want %d", len(steps), len(want))
		}
		for i, s := range steps {
			w := want[i]
			if s.StepID != w.StepID || s.Name != w.Name || s.ChildID != w.ChildID || !slices.Equal(s.Children, append([]string{}, w.Children...)) ||
				s.StartedAt == nil || !s.StartedAt.Equal(w.StartedAt) || !s.CompletedAt.Equal(w.CompletedAt) || s.DurationMS < 0 || s.Error != "" {
				t.Errorf("step %d: %+v, want %+v", i+1, s, w)
			}
		}
		if !strings.HasPrefix(steps[0].Name, "enqueue "+processTask) || len(steps[0].Children) != 1 || steps[0].Children[0] != steps[0].ChildID {
			t.Errorf("step 1: %+v", steps[0])
		}
		if !strings.HasPrefix(steps[2].Name, "get result ") || len(steps[2].Children) != 0 {
			t.Errorf("step 3: %+v", steps[2])
		}
		var result map[string]any
		if err := json.Unmarshal(steps[2].Output, &result); err != nil || result["upper"] != "HELLO" {
			t.Errorf("step 3 output %s (%v)", steps[2].Output, err)
		}

		// The failed workflow's result step carries the error.
		var failedSteps []stepDoc
		okJSON(t, &failedSteps, "workflow", "steps", db, f.failed)
		if n := len(failedSteps); n != 2 || !strings.Contains(failedSteps[1].Error, "out of paper") {
			t.Errorf("steps %s: %+v", f.failed, failedSteps)
		}

		out := ok(t, "workflow", "steps", f.ok, db)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "STEP") || !strings.Contains(lines[0], "CHILDREN") || !strings.Contains(lines[1], steps[0].ChildID) {
			t.Errorf("steps table:\n%s", out)
		}
		if out := ok(t, "workflow", "steps", f.failed, db); !strings.Contains(out, "out of paper") {
			t.Errorf("steps %s:\n%s", f.failed, out)
		}
		// A workflow with no steps.
		if out := ok(t, "workflow", "steps", f.idle, db); !strings.Contains(out, "no steps") {
			t.Errorf("steps %s: %q", f.idle, out)
		}
		var none []stepDoc
		if okJSON(t, &none, "workflow", "steps", f.idle, db); none == nil || len(none) != 0 {
			t.Errorf("steps -json of a workflow without steps: %v, want []", none)
		}
	})
}

// TestWorkflowCancelResume: cancel and resume change what dbos reads, and
// say what they did.
func TestWorkflowCancelResume(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url

		var c changeDoc
		okJSON(t, &c, "workflow", "cancel", f.idle, db)
		if !c.Changed || c.PreviousState != "ENQUEUED" || c.Workflow.State != "CANCELLED" || c.Workflow.ID != f.idle {
			t.Errorf("cancel -json: %+v", c)
		}
		if st := state(t, f.ctx, f.idle); st != dbos.StateCancelled {
			t.Errorf("after cancel: %s, want CANCELLED", st)
		}
		if out := ok(t, "workflow", "cancel", f.idle, db); !strings.Contains(out, "already CANCELLED") {
			t.Errorf("cancel again: %q", out)
		}

		okJSON(t, &c, "workflow", "resume", db, f.idle)
		if !c.Changed || c.PreviousState != "CANCELLED" || c.Workflow.State != "ENQUEUED" || c.Workflow.Queue != idleQueue.Name() {
			t.Errorf("resume -json: %+v", c)
		}
		if st := state(t, f.ctx, f.idle); st != dbos.StateEnqueued {
			t.Errorf("after resume: %s, want ENQUEUED", st)
		}
		if out := ok(t, "workflow", "resume", f.idle, db); !strings.Contains(out, "nothing to resume") {
			t.Errorf("resume again: %q", out)
		}

		// The human forms.
		if out := ok(t, "workflow", "cancel", f.idle, db); !strings.Contains(out, "Cancelled workflow "+f.idle) {
			t.Errorf("cancel: %q", out)
		}
		out := ok(t, "workflow", "resume", f.idle, db)
		if !strings.Contains(out, "Resumed workflow "+f.idle) || !strings.Contains(out, "ENQUEUED on queue ctl_idle") || !strings.Contains(out, "waits") {
			t.Errorf("resume: %q", out)
		}

		// A finished workflow is left as it is.
		okJSON(t, &c, "workflow", "cancel", f.ok, db)
		if c.Changed || c.Workflow.State != "SUCCESS" {
			t.Errorf("cancel of a finished workflow: %+v", c)
		}
		if out := ok(t, "workflow", "cancel", f.ok, db); !strings.Contains(out, "nothing to cancel") {
			t.Errorf("cancel of a finished workflow: %q", out)
		}
		if out := ok(t, "workflow", "resume", f.failed, db); !strings.Contains(out, "fork") {
			t.Errorf("resume of a failed workflow: %q", out)
		}
		if st := state(t, f.ctx, f.ok); st != dbos.StateSuccess {
			t.Errorf("%s: %s after cancel, want SUCCESS", f.ok, st)
		}
	})
}

// TestWorkflowFork: fork prints the new ID; the fork replays the steps
// before -from-step, runs the rest, and finishes in the worker.
func TestWorkflowFork(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		f := populate(t, url)
		db := "-database-url=" + url
		orig, err := dbos.Steps(f.ctx, f.ok)
		if err != nil {
			t.Fatal(err)
		}

		out := ok(t, "workflow", "fork", f.ok, "-from-step", "3", db)
		newID := strings.TrimSpace(out)
		if newID == "" || strings.ContainsAny(newID, " \n") || newID == f.ok {
			t.Fatalf("fork printed %q, want the new ID alone", out)
		}
		waitState(t, f.ctx, newID, dbos.StateSuccess)
		forked, err := dbos.WorkflowStatus(f.ctx, newID)
		if err != nil {
			t.Fatal(err)
		}
		origStatus, err := dbos.WorkflowStatus(f.ctx, f.ok)
		if err != nil {
			t.Fatal(err)
		}
		if forked.Name != processTasks || !sameJSON(t, forked.Output, origStatus.Output) || !sameJSON(t, forked.Input, origStatus.Input) {
			t.Errorf("fork %s: %+v", newID, forked)
		}
		steps, err := dbos.Steps(f.ctx, newID)
		if err != nil {
			t.Fatal(err)
		}
		// Steps 1 and 2 are copies: they enqueued the original's children.
		if len(steps) != 4 || steps[0].ChildID != orig[0].ChildID || steps[1].ChildID != orig[1].ChildID {
			t.Errorf("fork's steps %+v, original's %+v", steps, orig)
		}

		var fd forkDoc
		okJSON(t, &fd, "workflow", "fork", "-from-step=1", f.ok, db)
		if fd.ID == "" || fd.ID != fd.Workflow.ID || fd.OriginalID != f.ok || fd.FromStep != 1 || fd.Workflow.Name != processTasks {
			t.Errorf("fork -json: %+v", fd)
		}
		waitState(t, f.ctx, fd.ID, dbos.StateSuccess)

		// A step past the last one + 1 is refused by the database's
		// contents (exit 1), a missing or bad -from-step by the command
		// line (exit 2).
		fails(t, 1, []string{"fork", "5"}, "workflow", "fork", f.ok, "-from-step", "99", db)
		fails(t, 2, []string{"missing -from-step"}, "workflow", "fork", f.ok, db)
		fails(t, 2, []string{"bad -from-step 0"}, "workflow", "fork", f.ok, "-from-step", "0", db)
		fails(t, 2, []string{"invalid value"}, "workflow", "fork", f.ok, "-from-step", "three", db)
	})
}
