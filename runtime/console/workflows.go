package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// States lists the workflow states in the order the filter offers them.
var states = dbos.States()

// Paging of the workflows page.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// workflowsPage is the data of the workflows page.
type workflowsPage struct {
	Filter    filterForm
	States    []dbos.State
	Queues    []string // known queue names, for the queue field's suggestions
	Workflows []dbos.Status
	First     int    // the 1-based position of the first row shown
	Last      int    // of the last
	Newer     string // the URL of the previous page; "" on the first
	Older     string // of the next page; "" on the last
	Limits    []int
	Filtered  bool   // some filter is set
	Error     string // what is wrong with the filters; then nothing is listed
}

// limits are the page sizes the workflows page offers.
var limits = []int{25, 50, 100, 200}

// filterForm is the workflows page's query, as typed.
type filterForm struct {
	State  string
	Queue  string
	Name   string
	Since  string
	Offset int
	Limit  int
}

// parseFilter reads the workflows page's query. Its errors are the user's:
// they are shown with a 400.
func parseFilter(q url.Values, now time.Time) (filterForm, dbos.ListFilter, error) {
	form := filterForm{
		State: strings.ToUpper(strings.TrimSpace(q.Get("state"))),
		Queue: strings.TrimSpace(q.Get("queue")),
		Name:  strings.TrimSpace(q.Get("name")),
		Since: strings.TrimSpace(q.Get("since")),
		Limit: defaultLimit,
	}
	f := dbos.ListFilter{Queue: form.Queue, Name: form.Name}
	if form.State != "" {
		ok := false
		for _, s := range states {
			ok = ok || string(s) == form.State
		}
		if !ok {
			names := make([]string, len(states))
			for i, s := range states {
				names[i] = string(s)
			}
			return form, f, fmt.Errorf("unknown state %q: use one of %s", form.State, strings.Join(names, ", "))
		}
		f.State = dbos.State(form.State)
	}
	if form.Since != "" {
		t, err := parseSince(form.Since, now)
		if err != nil {
			return form, f, err
		}
		f.CreatedAfter = t
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return form, f, fmt.Errorf("offset %q is not a whole number of 0 or more", s)
		}
		form.Offset = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return form, f, fmt.Errorf("limit %q is not a whole number from 1 to %d", s, maxLimit)
		}
		form.Limit = n
	}
	f.Offset = form.Offset
	f.Limit = form.Limit + 1 // one more, to know whether an older page exists
	return form, f, nil
}

// parseSince reads the since filter: a duration back from now ("90s",
// "15m", "24h", "7d"), an RFC 3339 time or a date (YYYY-MM-DD, UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("since %q is negative: give how long ago, such as 15m or 24h", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q is neither a duration (such as 15m, 24h or 7d), an RFC 3339 time nor a date (YYYY-MM-DD)", s)
}

// workflowsPage lists workflows, newest first: GET /workflows.
func (h *handler) workflowsPage(w http.ResponseWriter, r *http.Request) {
	ctx := h.ctx(r)
	v := h.newView(r, "workflows", "Workflows", nil)
	form, f, err := parseFilter(r.URL.Query(), v.Now)
	if err != nil {
		// The page again, with the filters as typed and what is wrong.
		v.Heading, v.Refresh = http.StatusText(http.StatusBadRequest), 0
		v.Data = workflowsPage{Filter: form, States: states, Limits: limits, Filtered: true, Error: capitalize(err.Error()) + "."}
		h.render(w, http.StatusBadRequest, "workflows", v)
		return
	}
	ws, err := dbos.ListWorkflows(ctx, f)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	data := workflowsPage{
		Filter:   form,
		States:   states,
		Limits:   limits,
		Filtered: form.State != "" || form.Queue != "" || form.Name != "" || form.Since != "",
	}
	if len(ws) > form.Limit {
		ws = ws[:form.Limit]
		data.Older = pageURL(v, form, form.Offset+form.Limit)
	}
	if form.Offset > 0 {
		data.Newer = pageURL(v, form, max(0, form.Offset-form.Limit))
	}
	data.Workflows = ws
	if len(ws) > 0 {
		data.First, data.Last = form.Offset+1, form.Offset+len(ws)
	}
	if qs, err := dbos.ListQueues(ctx); err == nil {
		for _, q := range qs {
			data.Queues = append(data.Queues, q.Name)
		}
	}
	v.Data = data
	h.render(w, http.StatusOK, "workflows", v)
}

// pageURL is the workflows page of form's filters at offset.
func pageURL(v *view, form filterForm, offset int) string {
	limit := ""
	if form.Limit != defaultLimit {
		limit = strconv.Itoa(form.Limit)
	}
	off := ""
	if offset > 0 {
		off = strconv.Itoa(offset)
	}
	return v.List("state", form.State, "queue", form.Queue, "name", form.Name, "since", form.Since, "limit", limit, "offset", off)
}

// Bounds of the workflow page, which refreshes itself: the steps listed,
// and the children tree (each node costs two reads).
const (
	maxSteps  = 500 // steps listed, the first ones
	treeDepth = 4   // levels of descendants shown
	treeNodes = 100 // descendants shown in all
)

// workflowPage is the data of the workflow page.
type workflowPage struct {
	Status    dbos.Status
	Steps     []stepRow
	Span      time.Duration // of the timeline
	Duration  time.Duration // created (or started) to completed, or to now
	Running   bool          // not finished: Duration is still growing
	Children  []*treeNode
	More      int // children not shown past the tree's bounds
	Hidden    int // steps not listed past maxSteps
	MaxFork   int // the highest step a fork may start from
	CanCancel bool
	CanResume bool
	Input     string // pretty-printed
	Output    string
}

// stepRow is one step of the timeline.
type stepRow struct {
	dbos.StepInfo
	Duration time.Duration
	Offset   time.Duration // from the timeline's start
	X, W     float64       // the bar, in thousandths of the timeline
	Output   string        // pretty-printed
}

// treeNode is one descendant of the workflow.
type treeNode struct {
	ID       string
	Step     int // the parent's step that created it
	Status   dbos.Status
	Err      string // why its status could not be read
	Children []*treeNode
	More     int // its children not shown
}

// workflowPage shows one workflow: GET /workflows/{id}.
func (h *handler) workflowPage(w http.ResponseWriter, r *http.Request) {
	ctx := h.ctx(r)
	id := r.PathValue("id")
	st, err := dbos.WorkflowStatus(ctx, id)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	steps, err := dbos.Steps(ctx, id)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	v := h.newView(r, "workflows", "Workflow "+id, nil)
	data := workflowPage{
		Status:    st,
		Running:   !st.State.Terminal(),
		MaxFork:   lastStep(steps) + 1,
		CanCancel: !st.State.Terminal(),
		CanResume: st.State == dbos.StateCancelled || st.State == dbos.StateDeadLetter,
		Input:     prettyJSON(st.Input),
		Output:    prettyJSON(st.Output),
	}
	data.Duration = elapsed(st, v.Now)
	shown := steps
	if len(shown) > maxSteps {
		shown, data.Hidden = shown[:maxSteps], len(steps)-maxSteps
	}
	data.Steps, data.Span = timeline(st, shown, v.Now)
	budget := treeNodes
	data.Children, data.More = h.children(ctx, steps, 1, &budget)
	v.Data = data
	h.render(w, http.StatusOK, "workflow", v)
}

// lastStep is the highest step ID recorded; 0 with none.
func lastStep(steps []dbos.StepInfo) int {
	n := 0
	for _, s := range steps {
		n = max(n, s.StepID)
	}
	return n
}

// elapsed is how long the workflow ran: from its start (or its creation
// when it never started) to its end, or to now while it is unfinished.
func elapsed(st dbos.Status, now time.Time) time.Duration {
	start := st.StartedAt
	if start.IsZero() {
		start = st.CreatedAt
	}
	end := st.CompletedAt
	if end.IsZero() {
		if st.StartedAt.IsZero() {
			return 0 // it has not started: nothing ran yet
		}
		end = now
	}
	return max(0, end.Sub(start))
}

// timeline places the steps on the workflow's span: from its start (or
// its first step, when an earlier run made it) to its end (or now, or its
// last step), and returns the span.
func timeline(st dbos.Status, steps []dbos.StepInfo, now time.Time) ([]stepRow, time.Duration) {
	start := st.StartedAt
	if start.IsZero() {
		start = st.CreatedAt
	}
	end := st.CompletedAt
	if end.IsZero() {
		end = now
	}
	for _, s := range steps {
		if s.StartedAt.Before(start) {
			start = s.StartedAt
		}
		if s.CompletedAt.After(end) {
			end = s.CompletedAt
		}
	}
	span := max(end.Sub(start), time.Millisecond)
	rows := make([]stepRow, len(steps))
	for i, s := range steps {
		d := max(0, s.CompletedAt.Sub(s.StartedAt))
		off := max(0, s.StartedAt.Sub(start))
		x := min(1000*float64(off)/float64(span), 997)
		rows[i] = stepRow{
			StepInfo: s,
			Duration: d,
			Offset:   off,
			X:        x,
			W:        min(max(1000*float64(d)/float64(span), 3), 1000-x),
			Output:   prettyJSON(s.Output),
		}
	}
	return rows, span
}

// children reads the tree of the workflows the steps created, depth levels
// down at most, spending at most *budget nodes, and returns it with the
// number of children left out.
func (h *handler) children(ctx context.Context, steps []dbos.StepInfo, depth int, budget *int) ([]*treeNode, int) {
	var nodes []*treeNode
	more := 0
	for _, s := range steps {
		for _, id := range s.Children {
			if *budget <= 0 {
				more++
				continue
			}
			*budget--
			n := &treeNode{ID: id, Step: s.StepID}
			nodes = append(nodes, n)
			st, err := dbos.WorkflowStatus(ctx, id)
			if err != nil {
				if errors.Is(err, dbos.ErrNotFound) {
					n.Err = "deleted"
				} else {
					n.Err = err.Error()
				}
				continue
			}
			n.Status = st
			sub, err := dbos.Steps(ctx, id)
			if err != nil {
				n.Err = err.Error()
				continue
			}
			if depth >= treeDepth {
				for _, c := range sub {
					n.More += len(c.Children)
				}
				continue
			}
			n.Children, n.More = h.children(ctx, sub, depth+1, budget)
		}
	}
	return nodes, more
}

// cancelWorkflow cancels a workflow: POST /workflows/{id}/cancel.
func (h *handler) cancelWorkflow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := dbos.Cancel(h.ctx(r), id); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.redirect(w, r, "/workflows/"+url.PathEscape(id))
}

// resumeWorkflow resumes a cancelled or dead-lettered workflow: POST
// /workflows/{id}/resume.
func (h *handler) resumeWorkflow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := dbos.Resume(h.ctx(r), id); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.redirect(w, r, "/workflows/"+url.PathEscape(id))
}

// forkWorkflow forks a workflow from the step in the form's field "step":
// POST /workflows/{id}/fork. It sends the browser to the fork's page.
func (h *handler) forkWorkflow(w http.ResponseWriter, r *http.Request) {
	ctx := h.ctx(r)
	id := r.PathValue("id")
	steps, err := dbos.Steps(ctx, id)
	if err == nil {
		_, err = dbos.WorkflowStatus(ctx, id) // Steps of an unknown ID is empty
	}
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	maxStep := lastStep(steps) + 1
	raw := strings.TrimSpace(r.PostFormValue("step"))
	step, err := strconv.Atoi(raw)
	if err != nil || step < 1 || step > maxStep {
		h.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Fork from step %q: give a step number from 1 to %d (1 runs the whole workflow again; %d runs only what comes after its last recorded step).", raw, maxStep, maxStep))
		return
	}
	newID, err := dbos.Fork(ctx, id, step)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.redirect(w, r, "/workflows/"+url.PathEscape(newID))
}
