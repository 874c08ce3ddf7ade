package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

var workflowCommand = &command{
	name:     "workflow",
	synopsis: "<command> [arguments]",
	doc:      "The workflow commands list, inspect, cancel, resume and fork workflows.",
	subs: []*command{
		{
			name:     "list",
			synopsis: "[-state S] [-queue Q] [-name F] [-since D] [-limit N]",
			summary:  "List workflows, newest first.",
			doc: "list prints the workflows that match every filter given, newest first:\n" +
				"ID, state, queue, creation time and function name.",
			setup: workflowList,
		},
		{
			name:     "get",
			synopsis: "ID",
			summary:  "Show a workflow: status, input, output, error, and why it waits.",
			doc: "get prints a workflow's status, its input and output (JSON, as stored), its\n" +
				"error, and, for a workflow that waits, why no live process runs it.",
			setup: plain(workflowGet),
			args:  []string{"ID"},
		},
		{
			name:     "steps",
			synopsis: "ID",
			summary:  "List a workflow's steps: name, start, duration, children, error.",
			doc: "steps prints a workflow's checkpoints in step order: the step number (the\n" +
				"number fork's -from-step takes), its name, when it started, how long it took,\n" +
				"the workflows it created and its error. -json adds each step's output.",
			setup: plain(workflowSteps),
			args:  []string{"ID"},
		},
		{
			name:     "cancel",
			synopsis: "ID",
			summary:  "Cancel a workflow: it stops at its next step, or never starts.",
			doc: "cancel cancels a workflow: an enqueued one never starts, a running one stops\n" +
				"at its next step. A finished workflow is left as it is. `workflow resume`\n" +
				"puts a cancelled workflow back to work.",
			setup: plain(workflowCancel),
			args:  []string{"ID"},
		},
		{
			name:     "resume",
			synopsis: "ID",
			summary:  "Put a CANCELLED or DEAD_LETTER workflow back to work from its checkpoints.",
			doc: "resume puts a cancelled or dead-lettered workflow back to work from its\n" +
				"checkpoints: on its queue, or, started without one, for a process that runs\n" +
				"its function to take over. A workflow in another state is left as it is.",
			setup: plain(workflowResume),
			args:  []string{"ID"},
		},
		{
			name:     "fork",
			synopsis: "ID -from-step N",
			summary:  "Run a workflow again from step N as a new workflow; prints the new ID.",
			doc: "fork starts a new workflow with the function and input of workflow ID and a\n" +
				"copy of its checkpoints before step N (see `workflow steps`): those steps are\n" +
				"replayed, the others run again. -from-step 1 runs the whole workflow again.\n" +
				"The original is left as it is. The fork goes on the original's queue, or,\n" +
				"started without one, waits for a process that runs its function. fork prints\n" +
				"the new workflow's ID.",
			setup: workflowFork,
			args:  []string{"ID"},
		},
	},
}

// plain is the setup of a leaf without flags of its own.
func plain(run func(c *cli, args []string) error) func(*flag.FlagSet) func(*cli, []string) error {
	return func(*flag.FlagSet) func(*cli, []string) error { return run }
}

// states are the workflow states -state takes, in life order.
var states = dbos.States()

// parseState reads a -state value, in any case.
func parseState(s string) (dbos.State, error) {
	norm := dbos.State(strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_"))
	for _, st := range states {
		if st == norm {
			return st, nil
		}
	}
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return "", usagef("unknown state %q for -state; use one of %s", s, strings.Join(names, ", "))
}

// sinceLayouts are the time layouts -since takes besides a duration; the
// ones without a zone are local times.
var sinceLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateTime, time.DateOnly}

// parseSince reads a -since value: a duration before now, or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, usagef("bad -since %q: the duration must be positive, as in 1h or 30m", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range sinceLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("bad -since %q: use a duration (1h, 30m, 90s) or a time (2006-01-02T15:04:05Z07:00, 2006-01-02 15:04:05, or 2006-01-02, local)", s)
}

func workflowList(fs *flag.FlagSet) func(*cli, []string) error {
	state := fs.String("state", "", "keep workflows in state `S`: ENQUEUED, PENDING, SUCCESS, ERROR, CANCELLED or DEAD_LETTER (any case)")
	queue := fs.String("queue", "", "keep workflows enqueued on queue `Q`")
	name := fs.String("name", "", "keep workflows of the function registered as `F` (as list shows it: import/path.Func)")
	since := fs.String("since", "", "keep workflows created in the last `D` (a duration: 1h, 30m) or after a time (RFC 3339, or 2006-01-02 15:04:05 local)")
	limit := fs.Int("limit", 100, "print at most `N` workflows")
	return func(c *cli, _ []string) error {
		f := dbos.ListFilter{Queue: *queue, Name: *name, Limit: *limit}
		if *state != "" {
			st, err := parseState(*state)
			if err != nil {
				return err
			}
			f.State = st
		}
		if *since != "" {
			t, err := parseSince(*since, time.Now())
			if err != nil {
				return err
			}
			f.CreatedAfter = t
		}
		if *limit < 1 {
			return usagef("bad -limit %d: it must be at least 1", *limit)
		}
		ctx, err := c.open()
		if err != nil {
			return err
		}
		list, err := dbos.ListWorkflows(ctx, f)
		if err != nil {
			return err
		}
		if c.json {
			out := make([]workflowJSON, len(list))
			for i, s := range list {
				out[i] = workflowOf(s)
			}
			return c.printJSON(out)
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "No workflows match.")
			return nil
		}
		w := table(c.stdout)
		row(w, "ID", "STATE", "QUEUE", "CREATED", "NAME")
		for _, s := range list {
			row(w, s.ID, string(s.State), s.Queue, humanTime(s.CreatedAt), s.Name)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if len(list) == *limit {
			fmt.Fprintf(c.stderr, "(the newest %d; -limit shows more)\n", *limit)
		}
		return nil
	}
}

// status reads workflow id, saying so when it does not exist.
func (c *cli) status(ctx context.Context, id string) (dbos.Status, error) {
	s, err := dbos.WorkflowStatus(ctx, id)
	if errors.Is(err, dbos.ErrNotFound) {
		return s, c.notFound(id)
	}
	return s, err
}

// notFound is the error for a workflow ID that does not exist.
func (c *cli) notFound(id string) error {
	return fmt.Errorf("workflow %q does not exist in database %s; check the ID and the database (`dbosctl workflow list` shows the newest)", id, c.database())
}

func workflowGet(c *cli, args []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	s, err := c.status(ctx, args[0])
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(workflowOf(s))
	}
	w := table(c.stdout)
	field := func(k, v string) { row(w, k+":", v) }
	field("ID", s.ID)
	field("Name", s.Name)
	field("State", string(s.State))
	if s.Waiting != "" {
		field("Waiting", s.Waiting)
	}
	if s.Error != "" {
		field("Error", s.Error)
	}
	field("Queue", s.Queue)
	field("Parent", s.ParentID)
	field("Executor", s.ExecutorID)
	field("App version", s.AppVersion)
	field("Attempts", fmt.Sprint(s.Attempts))
	field("Priority", fmt.Sprint(s.Priority))
	field("Created", humanTime(s.CreatedAt))
	field("Started", humanTime(s.StartedAt))
	completed := humanTime(s.CompletedAt)
	if !s.CompletedAt.IsZero() && !s.CreatedAt.IsZero() {
		completed += fmt.Sprintf(" (%s after it was created)", humanDuration(s.CompletedAt.Sub(s.CreatedAt)))
	}
	field("Completed", completed)
	field("Input", string(s.Input))
	field("Output", string(s.Output))
	return w.Flush()
}

func workflowSteps(c *cli, args []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	if _, err := c.status(ctx, args[0]); err != nil {
		return err
	}
	steps, err := dbos.Steps(ctx, args[0])
	if err != nil {
		return err
	}
	if c.json {
		out := make([]stepJSON, len(steps))
		for i, s := range steps {
			out[i] = stepOf(s)
		}
		return c.printJSON(out)
	}
	if len(steps) == 0 {
		fmt.Fprintf(c.stdout, "Workflow %s has no steps recorded.\n", args[0])
		return nil
	}
	w := table(c.stdout)
	row(w, "STEP", "NAME", "STARTED", "DURATION", "CHILDREN", "ERROR")
	for _, s := range steps {
		row(w, fmt.Sprint(s.StepID), s.Name, humanTime(s.StartedAt), humanDuration(s.CompletedAt.Sub(s.StartedAt)), shortList(s.Children, 3), s.Error)
	}
	return w.Flush()
}

// changeJSON is the -json output of cancel and resume.
type changeJSON struct {
	// Changed reports that the command changed the workflow's state.
	Changed       bool         `json:"changed"`
	PreviousState dbos.State   `json:"previous_state"`
	Workflow      workflowJSON `json:"workflow"`
}

func workflowCancel(c *cli, args []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	id := args[0]
	before, err := c.status(ctx, id)
	if err != nil {
		return err
	}
	if err := dbos.Cancel(ctx, id); err != nil {
		if errors.Is(err, dbos.ErrNotFound) {
			return c.notFound(id) // deleted meanwhile
		}
		return err
	}
	after, err := c.status(ctx, id)
	if err != nil {
		return err
	}
	changed := before.State != dbos.StateCancelled && after.State == dbos.StateCancelled
	if c.json {
		return c.printJSON(changeJSON{Changed: changed, PreviousState: before.State, Workflow: workflowOf(after)})
	}
	switch {
	case changed:
		fmt.Fprintf(c.stdout, "Cancelled workflow %s (it was %s).\n", id, before.State)
	case after.State == dbos.StateCancelled:
		fmt.Fprintf(c.stdout, "Workflow %s was already CANCELLED.\n", id)
	default:
		fmt.Fprintf(c.stdout, "Workflow %s already finished (%s): nothing to cancel.\n", id, after.State)
	}
	return nil
}

func workflowResume(c *cli, args []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	id := args[0]
	before, err := c.status(ctx, id)
	if err != nil {
		return err
	}
	if err := dbos.Resume(ctx, id); err != nil {
		if errors.Is(err, dbos.ErrNotFound) {
			return c.notFound(id)
		}
		return err
	}
	after, err := c.status(ctx, id)
	if err != nil {
		return err
	}
	stopped := before.State == dbos.StateCancelled || before.State == dbos.StateDeadLetter
	changed := stopped && after.State != before.State
	if c.json {
		return c.printJSON(changeJSON{Changed: changed, PreviousState: before.State, Workflow: workflowOf(after)})
	}
	switch {
	case !changed && !before.State.Terminal():
		fmt.Fprintf(c.stdout, "Workflow %s is %s, not stopped: nothing to resume.\n", id, before.State)
	case !changed:
		fmt.Fprintf(c.stdout, "Workflow %s is %s: only CANCELLED and DEAD_LETTER workflows resume; nothing changed.\n"+
			"To run it again, fork it: dbosctl workflow fork %s -from-step 1\n", id, before.State, id)
	default:
		fmt.Fprintf(c.stdout, "Resumed workflow %s (it was %s): now %s", id, before.State, after.State)
		switch {
		case after.Queue != "" && after.State == dbos.StateEnqueued:
			fmt.Fprintf(c.stdout, " on queue %s", after.Queue)
		case after.State == dbos.StatePending && after.ExecutorID == "":
			fmt.Fprint(c.stdout, ", for a process that runs it to take over")
		}
		fmt.Fprintln(c.stdout, ".")
		if after.Waiting != "" {
			fmt.Fprintf(c.stdout, "It waits: %s.\n", after.Waiting)
		}
	}
	return nil
}

func workflowFork(fs *flag.FlagSet) func(*cli, []string) error {
	fromStep := fs.Int("from-step", 0, "run the steps from step `N` on again (required; 1 runs the whole workflow again; see `workflow steps`)")
	return func(c *cli, args []string) error {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "from-step" })
		switch {
		case !set:
			return usagef("missing -from-step N: the first step to run again (1 runs the whole workflow again; `dbosctl workflow steps %s` numbers them)", args[0])
		case *fromStep < 1:
			return usagef("bad -from-step %d: steps are numbered from 1 (1 runs the whole workflow again)", *fromStep)
		}
		ctx, err := c.open()
		if err != nil {
			return err
		}
		id := args[0]
		newID, err := dbos.Fork(ctx, id, *fromStep)
		if errors.Is(err, dbos.ErrNotFound) {
			return c.notFound(id)
		}
		if err != nil {
			return err
		}
		if !c.json {
			fmt.Fprintln(c.stdout, newID)
			return nil
		}
		s, err := c.status(ctx, newID)
		if err != nil {
			return err
		}
		return c.printJSON(forkJSON{ID: newID, OriginalID: id, FromStep: *fromStep, Workflow: workflowOf(s)})
	}
}

// forkJSON is the -json output of fork.
type forkJSON struct {
	ID         string       `json:"id"`
	OriginalID string       `json:"original_id"`
	FromStep   int          `json:"from_step"`
	Workflow   workflowJSON `json:"workflow"`
}
