// Command dbosbench benchmarks the dbos runtime's queues on Postgres and
// SQLite and prints a table of medians per engine.
//
//	go run ./cmd/dbosbench [-engine postgres|sqlite|both] [-workloads a,b,...]
//	    [-runs 3] [-json out.json] [-url URL] [-scale 1.0] [-timeout 30m]
//
// For example, the whole suite on both engines, three runs each:
//
//	go run ./cmd/dbosbench -runs 3 -json bench.json
//
// Every run of every workload gets a fresh database (Postgres: a database
// dbosbench_<random> created on the server -url names and dropped
// afterwards; SQLite: a file in a temporary directory) and fresh OS
// processes: dbosbench re-executes itself for each, since queues are
// declared per process and runtime state lives in the process.
//
// The workloads (task counts at -scale 1; -scale multiplies them, each
// keeping a small minimum):
//
//	seedloop   a workflow enqueues 5,000 no-op tasks one by one on an
//	           unlimited queue (EnqueueNoop), then awaits each result;
//	           tasks/s from the workflow's start to its result.
//	producers  16 goroutines enqueue 10,000 no-op tasks in all, outside a
//	           workflow, and await them; tasks/s, first enqueue to last result.
//	drain      100,000 no-op tasks enqueued beforehand by a producer
//	           process that does not dispatch the queue; then one worker
//	           process launches and runs them. tasks/s from the first start
//	           to the last completion the database recorded, the worker's
//	           peak RSS (VmHWM), and the producer's enqueue rate.
//	latency    one no-op task at a time, enqueue to result, 500 times;
//	           p50, p90, p99 and max in ms.
//	limited    2,000 tasks of 5 ms enqueued beforehand on a Concurrency(10)
//	           queue, then drained as above; tasks/s and % of the ideal
//	           10 / 5 ms = 2,000 tasks/s. Also the mean time a task body
//	           actually slept ("task body": Go timers fire late), the rate
//	           as % of what bodies of that length allow ("% of body
//	           ideal"), and the mean time a slot spent between a body's end
//	           and its successor's start ("turnover": recording the outcome,
//	           claiming the successor, starting it).
//	rate       250 no-op tasks on a RateLimit(50, 1s) queue; from the start
//	           times the database recorded, starts/s over the full windows
//	           as % of the allowance (a perfect limiter starts 50 at once,
//	           50 more a second later, ...: 100%), and the number of
//	           1-second windows, one from each start, holding more than 50
//	           starts (must be 0).
//	outbox     one task at a time: a transaction of the program's own
//	           (pgx on Postgres, database/sql on the SQLite file) writes a
//	           row and enqueues the task with EnqueueFTx, then commits; the
//	           same process runs the queue and is idle. Commit-to-start
//	           latency (from the commit's return to the body's start), 300
//	           times: p50, p90, p99 and max in ms.
//	limitedprod  like limited, but 4 goroutines enqueue the 2,000 tasks
//	           while the queue runs, and await them; tasks/s from the first
//	           enqueue to the last result, % of ideal, and "peak running",
//	           the most bodies that ran at once (the limit is 10).
//	fairness   5,500 no-op tasks enqueued beforehand on a
//	           PartitionConcurrency(2) queue: 5,000 on one key first, then
//	           100 keys of 5; "worst small / big" is the slowest small
//	           key's time to finish (from the first start) as % of the big
//	           key's (goal: at most 10%).
//	fleet      Postgres only: three worker processes and a producer
//	           process (16 goroutines enqueue 10,000 no-op tasks and await
//	           them) on one unlimited queue; tasks/s, the same tasks in one
//	           process on a fresh database ("one process tasks/s", and the
//	           fleet's "% of one process"; goal: at least 90%), and the
//	           least and most tasks a worker ran as % of a third.
//	manyqueues 20,000 no-op tasks enqueued beforehand round the 100 queues
//	           of Concurrency(2) each, then one worker runs them all;
//	           tasks/s and "worst queue share": when half of all tasks had
//	           completed, the least share of its own tasks any queue had
//	           completed, as % of half (100% is perfectly even).
//	payload    like producers, 2,000 tasks with a 64 KiB input that they
//	           return (64 KiB output); MB/s counts both (10^6 bytes), and
//	           "raw insert MB/s" is what the same engine takes for the same
//	           bytes in multi-row INSERTs (20 rows each) into a plain table
//	           of the same database, measured right after.
//
// Drain, limited, fairness, manyqueues and fleet also report "reruns":
// task bodies that ran more than once (0 expected).
//
// bench/peers, a module of its own, runs some of these workloads beside
// River and DBOS Transact Go and prints one table of ratios (see its
// README).
//
// With $DBOSBENCH_CPUPROFILE=PREFIX set, each measuring process writes a
// CPU profile to PREFIX.<workload>.<pid>.pprof (a drain's stops once its
// tasks ran) and an allocation profile, of the process's allocations until
// then, to PREFIX.<workload>.<pid>.allocs.pprof (a fleet's worker processes
// too, as PREFIX.fleet-worker.<pid>...); read them with go tool pprof and
// the dbosbench binary.
//
// -timeout bounds each benchmark process; a drain or limited run whose
// tasks make no progress for two minutes fails as stalled.
//
// The table goes to stdout (workload, task count, metric, median, unit and
// each run's value); progress, and any warning a runtime logs, go to
// stderr. -json writes the same numbers as JSON. A failed run is reported
// in the table and the exit code is 1.
package main
