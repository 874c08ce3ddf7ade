// Package dbos is the runtime of dbosgen: durable workflows and queues for
// Go, declared with comment directives and compiled by go generate into
// typed functions.
//
// # Declaring work
//
// Annotate functions whose first parameter is a context.Context and whose
// last result is an error:
//
//	//go:generate go tool dbosgen
//
//	var exampleQueue = dbos.NewQueue("example_queue", dbos.Concurrency(10))
//
//	//dbos:step
//	func ProcessTask(ctx context.Context, task Task) (Result, error) { ... }
//
//	//dbos:workflow
//	func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) { ... }
//
// go generate writes dbos_gen.go beside them, with, for each function F:
// EnqueueF (put a call on a queue), StartF (run it now in the background),
// RunF (call it and wait), RetrieveF (a handle for an existing ID), ForkF
// (run an existing call again from one of its steps, see Fork) and the
// typed handle FHandle with ID, Status and GetResult.
//
// # Running
//
// Launch attaches the process to a database and starts a dispatcher for
// every declared queue:
//
//	rt, err := dbos.Launch(ctx, dbos.Config{}) // "" -> $DBOS_DATABASE_URL -> sqlite:dbos.sqlite
//	defer rt.Shutdown(ctx)
//
// SQLite is the embedded default for one machine; Postgres
// ("postgres://...") serves many processes on many machines, and every
// queue limit holds across all of them.
//
// # Enqueue in your own transaction
//
// The generated EnqueueFTx(ctx, tx, q, args...) writes the call in the
// program's own open transaction on the runtime's database (a Tx: a pgx.Tx
// or a *sql.Tx), beside the program's own writes: it exists, and runs, only
// if that transaction commits, and workers are woken at the commit. A
// transaction on another database is refused with ErrOtherDatabase.
//
// # Scheduled workflows
//
// A workflow with schedule= runs at each tick of a cron expression (six
// fields with seconds first, five without, or @hourly, @every 10m, ...;
// in UTC unless it starts with CRON_TZ=<zone>), with the tick's time as
// its input:
//
//	//dbos:workflow schedule="0 */5 * * * *"
//	func Report(ctx context.Context, at time.Time) error { ... }
//
// Every process that launches with Report registered (and is not
// Config.ClientOnly) keeps its clock, and each tick runs once across all
// of them: the tick's workflow ID, "sched:<registered name>@<tick in RFC
// 3339>", is its idempotency key, and the process whose insert wins runs
// it, with the durability of StartF. Ticks missed while no process ran are
// skipped, unless the directive says backfill=true: then a launching
// process first runs those since the last tick any process created (up to
// 1000, the latest). StartReport and the other generated functions work
// as for any workflow.
//
// # Durability
//
// A workflow's durable calls (RunF of a step or workflow, EnqueueF, StartF,
// and GetResult) are steps: each outcome is checkpointed before the
// workflow moves on, numbered in call order. When a workflow runs again
// after a crash or a Shutdown, recorded steps return their recorded
// outcomes without running again, so a workflow resumes from its last
// finished step. Workflow code must therefore make its durable calls in the
// same order on every run; anything non-deterministic (time, randomness,
// I/O) belongs in steps. Step bodies run at least once; checkpoints are
// written exactly once.
//
// A workflow ID is an idempotency key (WithID): starting or enqueueing an ID
// that exists returns the existing workflow's handle. Children created by a
// workflow get IDs derived from the parent's ID and the step number, so a
// replay never duplicates them.
//
// Each process is an executor identified by Config.ExecutorID (else
// $DBOS_EXECUTOR_ID, else a fresh unique ID). At Launch, PENDING work
// recorded under the executor's ID is resumed from its checkpoints, so a
// process restarted with a stable ID (as under a supervisor) finishes what
// it was doing.
//
// # Sleep, messages and events
//
// Three more durable calls are steps of the workflow that makes them.
// Sleep pauses a workflow until a wake-up time it checkpoints, so a
// recovered workflow wakes when it was due. A Topic (NewTopic[T]) carries
// typed messages to a workflow by its ID: Send from anywhere, Recv inside
// the workflow, each message received once, in the order sent. An Event
// (NewEvent[T]) is a typed value a workflow publishes under a key with
// Set, which any code reads by the workflow's ID with Get, waiting for it
// if need be.
//
// # Operating
//
// PauseQueue stops every process from starting a queue's tasks (running
// ones finish, enqueues wait) until ResumeQueue; the pause is stored in
// the database. Config.Retention deletes finished workflows once they are
// older than it; DeleteWorkflows deletes finished ones on demand.
//
// # Traces and metrics
//
// The runtime reports to OpenTelemetry: Config.TracerProvider (default
// otel.GetTracerProvider()) receives a producer span for each enqueue,
// start and fork, a consumer span for each run of a workflow and a span
// for each step run; a workflow keeps its enqueuer's trace context in the
// database, so its runs, in any process, join the enqueuer's trace.
// Config.MeterProvider (default otel.GetMeterProvider()) receives counters
// of workflows by outcome (dbos.workflows.enqueued, started, succeeded,
// failed, cancelled), histograms of queue wait and run time
// (dbos.workflow.queue_wait, dbos.workflow.duration) and each queue's
// depth and running count (dbos.queue.depth, dbos.queue.running). While
// no provider is set, none of this costs anything.
//
// # Finding the runtime
//
// Durable calls find their runtime in the context: a workflow's or step's
// own context carries it, rt.WithContext binds one explicitly, and
// otherwise the runtime Launch made is the process default. With none, a
// call returns ErrNotLaunched.
package dbos
