package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

var queueCommand = &command{
	name:     "queue",
	synopsis: "<command> [arguments]",
	doc:      "The queue commands list queues and pause or resume them in every process.",
	subs: []*command{
		{
			name:    "list",
			summary: "List queues: limits, paused, enqueued, running, started in the last minute.",
			doc: "list prints every queue a process declared or paused, or that holds\n" +
				"ENQUEUED or PENDING workflows: its limits (from its newest declaration),\n" +
				"whether it is paused, how many workflows wait on it (ENQUEUED) and run\n" +
				"(PENDING), and how many started in the last minute.",
			setup: plain(queueList),
		},
		{
			name:     "pause",
			synopsis: "[-force] NAME",
			summary:  "Pause a queue: no process starts its tasks until it is resumed.",
			doc: "pause stops every process sharing the database from starting the queue's\n" +
				"tasks, from their next claim on, until `queue resume`. Running tasks finish;\n" +
				"enqueues are accepted and wait. The pause is stored in the database and holds\n" +
				"across restarts. A queue the database does not know (see `queue list`) is\n" +
				"refused, in case of a misspelt name, unless -force.",
			setup: queuePause,
			args:  []string{"NAME"},
		},
		{
			name:     "resume",
			synopsis: "NAME",
			summary:  "Resume a paused queue: its waiting tasks start.",
			doc:      "resume lets every process start the paused queue's tasks again.",
			setup:    plain(queueResume),
			args:     []string{"NAME"},
		},
	},
}

func queueList(c *cli, _ []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	qs, err := dbos.ListQueues(ctx)
	if err != nil {
		return err
	}
	if c.json {
		out := make([]queueJSON, len(qs))
		for i, q := range qs {
			out[i] = queueOf(q)
		}
		return c.printJSON(out)
	}
	if len(qs) == 0 {
		fmt.Fprintln(c.stdout, "No queues: no process declared one, and none holds work.")
		return nil
	}
	w := table(c.stdout)
	row(w, "NAME", "LIMITS", "PAUSED", "ENQUEUED", "RUNNING", "STARTED/1M")
	for _, q := range qs {
		row(w, q.Name, limits(q), yesNo(q.Paused), fmt.Sprint(q.Enqueued), fmt.Sprint(q.Running), fmt.Sprint(q.StartedLastMinute))
	}
	return w.Flush()
}

// queueChangeJSON is the -json output of pause and resume.
type queueChangeJSON struct {
	// Changed reports that the command changed the queue's pause.
	Changed bool      `json:"changed"`
	Queue   queueJSON `json:"queue"`
}

// findQueue returns the queue named name as ListQueues reports it, and
// whether the database knows it.
func findQueue(ctx context.Context, name string) (dbos.QueueInfo, []string, bool, error) {
	qs, err := dbos.ListQueues(ctx)
	if err != nil {
		return dbos.QueueInfo{}, nil, false, err
	}
	var known []string
	for _, q := range qs {
		if q.Name == name {
			return q, nil, true, nil
		}
		known = append(known, q.Name)
	}
	return dbos.QueueInfo{}, known, false, nil
}

// unknownQueue is the error for a queue name the database does not know.
func (c *cli) unknownQueue(name string, known []string, fix string) error {
	list := "none"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	return fmt.Errorf("queue %q is unknown in database %s: no process declared it, nothing paused it, and it holds no work (known queues: %s); %s", name, c.database(), list, fix)
}

func queuePause(fs *flag.FlagSet) func(*cli, []string) error {
	force := fs.Bool("force", false, "pause a queue the database does not know yet (it starts paused once a process declares it)")
	return func(c *cli, args []string) error {
		ctx, err := c.open()
		if err != nil {
			return err
		}
		name := args[0]
		before, known, ok, err := findQueue(ctx, name)
		if err != nil {
			return err
		}
		if !ok && !*force {
			return c.unknownQueue(name, known, "check the name, or add -force to pause it before any process declares it")
		}
		if err := dbos.PauseQueue(ctx, name); err != nil {
			return err
		}
		after, _, _, err := findQueue(ctx, name)
		if err != nil {
			return err
		}
		changed := !before.Paused
		if c.json {
			return c.printJSON(queueChangeJSON{Changed: changed, Queue: queueOf(after)})
		}
		if !changed {
			fmt.Fprintf(c.stdout, "Queue %s was already paused.\n", name)
			return nil
		}
		fmt.Fprintf(c.stdout, "Paused queue %s in every process: its running workflows (%d) finish, its enqueued ones (%d) wait until `dbosctl queue resume %s`.\n",
			name, after.Running, after.Enqueued, name)
		return nil
	}
}

func queueResume(c *cli, args []string) error {
	ctx, err := c.open()
	if err != nil {
		return err
	}
	name := args[0]
	before, known, ok, err := findQueue(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return c.unknownQueue(name, known, "it is not paused: check the name")
	}
	if err := dbos.ResumeQueue(ctx, name); err != nil {
		return err
	}
	after, _, _, err := findQueue(ctx, name)
	if err != nil {
		return err
	}
	changed := before.Paused
	if c.json {
		return c.printJSON(queueChangeJSON{Changed: changed, Queue: queueOf(after)})
	}
	if !changed {
		fmt.Fprintf(c.stdout, "Queue %s is not paused: nothing to resume.\n", name)
		return nil
	}
	fmt.Fprintf(c.stdout, "Resumed queue %s: its enqueued workflows (%d) start as its limits allow.\n", name, after.Enqueued)
	return nil
}
