// Package behaviour holds the annotated functions that the runtime's
// behaviour tests run on both engines, written as a user would write them
// and compiled by dbosgen.
package behaviour

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// Task is one unit of work for ProcessTask.
type Task struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

// Result is what ProcessTask makes of a Task.
type Result struct {
	TaskID int    `json:"task_id"`
	Upper  string `json:"upper"`
}

// TaskQueue is the unlimited queue the fan-out workflow uses.
var TaskQueue = dbos.NewQueue("behaviour_tasks")

// SerialQueue runs one task at a time.
var SerialQueue = dbos.NewQueue("behaviour_serial", dbos.Concurrency(1))

// Calls counts step bodies by name, so tests can tell what ran again.
var Calls = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func count(name string) {
	Calls.Lock()
	Calls.n[name]++
	Calls.Unlock()
}

// CallCount returns how many times a step body ran in this process.
func CallCount(name string) int {
	Calls.Lock()
	defer Calls.Unlock()
	return Calls.n[name]
}

//dbos:step
func ProcessTask(ctx context.Context, task Task) (Result, error) {
	count(fmt.Sprintf("ProcessTask/%d", task.ID))
	if strings.HasPrefix(task.Text, "fail:") {
		return Result{}, errors.New(strings.TrimPrefix(task.Text, "fail:"))
	}
	if task.Text == "panic" {
		panic("task asked to panic")
	}
	return Result{TaskID: task.ID, Upper: strings.ToUpper(task.Text)}, nil
}

//dbos:workflow
func ProcessTasks(ctx context.Context, tasks []Task) ([]Result, error) {
	handles := make([]*ProcessTaskHandle, 0, len(tasks))
	for _, t := range tasks {
		h, err := EnqueueProcessTask(ctx, TaskQueue, t)
		if err != nil {
			return nil, err
		}
		handles = append(handles, h)
	}
	results := make([]Result, 0, len(handles))
	for _, h := range handles {
		r, err := h.GetResult(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// Ordered records the order serial tasks ran in and how many overlapped.
var Ordered = struct {
	sync.Mutex
	seq       []int
	active    atomic.Int32
	maxActive atomic.Int32
}{}

// OrderedRun returns the order RecordOrder ran in and the most that ran at once.
func OrderedRun() ([]int, int) {
	Ordered.Lock()
	defer Ordered.Unlock()
	return append([]int(nil), Ordered.seq...), int(Ordered.maxActive.Load())
}

//dbos:step
func RecordOrder(ctx context.Context, n int) error {
	now := Ordered.active.Add(1)
	defer Ordered.active.Add(-1)
	for {
		m := Ordered.maxActive.Load()
		if now <= m || Ordered.maxActive.CompareAndSwap(m, now) {
			break
		}
	}
	time.Sleep(time.Millisecond) // give an overlapping task the chance to show
	Ordered.Lock()
	Ordered.seq = append(Ordered.seq, n)
	Ordered.Unlock()
	return nil
}

//dbos:step
func Add(ctx context.Context, a, b int) (int, error) {
	count("Add")
	return a + b, nil
}

//dbos:workflow
func Sum3(ctx context.Context, a, b, c int) (int, error) {
	ab, err := RunAdd(ctx, a, b)
	if err != nil {
		return 0, err
	}
	return RunAdd(ctx, ab, c)
}

//dbos:workflow
func Parent(ctx context.Context, n int) (int, error) {
	child, err := RunSum3(ctx, n, n, n)
	if err != nil {
		return 0, err
	}
	h, err := StartSum3(ctx, child, 1, 1)
	if err != nil {
		return 0, err
	}
	return h.GetResult(ctx)
}

// Gate blocks Blocker until a test releases it. Exited receives the name of
// a Blocker that stopped waiting because its context ended.
var Gate = struct {
	Entered chan string
	Release chan struct{}
	Exited  chan string
}{Entered: make(chan string, 16), Release: make(chan struct{}), Exited: make(chan string, 16)}

//dbos:workflow
func Blocker(ctx context.Context, name string) (string, error) {
	first, err := RunAdd(ctx, 1, 1)
	if err != nil {
		return "", err
	}
	Gate.Entered <- name
	select {
	case <-Gate.Release:
	case <-ctx.Done():
		select {
		case Gate.Exited <- name:
		default:
		}
		return "", ctx.Err()
	}
	second, err := RunAdd(ctx, first, 1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d", name, second), nil
}

//dbos:step
func Ratio(ctx context.Context, x float64) (float64, error) {
	return x / 2, nil
}

// CrashLogEnv names the file CrashStep appends a line to each time its body
// runs; CrashBlockEnv, when "1", makes step 2 announce itself on stdout and
// block until the process is killed.
const (
	CrashLogEnv   = "DBOS_CRASH_LOG"
	CrashBlockEnv = "DBOS_CRASH_BLOCK"
)

//dbos:step
func CrashStep(ctx context.Context, step, input int) (int, error) {
	if err := appendLine(os.Getenv(CrashLogEnv), fmt.Sprintf("step%d %d", step, os.Getpid())); err != nil {
		return 0, err
	}
	if step == 2 && os.Getenv(CrashBlockEnv) == "1" {
		fmt.Println("step2-entered")
		<-ctx.Done() // until SIGKILL
		return 0, ctx.Err()
	}
	return input*10 + step, nil
}

//dbos:workflow
func ThreeSteps(ctx context.Context, seed int) (int, error) {
	v := seed
	for step := 1; step <= 3; step++ {
		var err error
		if v, err = RunCrashStep(ctx, step, v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open side-effect log: %w", err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("append to side-effect log: %w", err)
	}
	return f.Close()
}

// Flaky fails the first failures calls made with a key, then succeeds.
//
//dbos:step retries=3 backoff=1ms max_backoff=4ms
func Flaky(ctx context.Context, key string, failures int) (int, error) {
	name := "Flaky/" + key
	count(name)
	if n := CallCount(name); n <= failures {
		return 0, fmt.Errorf("flaky failure %d", n)
	}
	return CallCount(name), nil
}

//dbos:workflow
func UseFlaky(ctx context.Context, key string, failures int) (int, error) {
	return RunFlaky(ctx, key, failures)
}

// Fragile is Blocker with max_recovery=1: a second recovery dead-letters it.
//
//dbos:workflow max_recovery=1
func Fragile(ctx context.Context, name string) (string, error) {
	return RunBlocker(ctx, name)
}

// FanOutBlockEnv, when "1", makes FanOutAndBlock announce "fanout-blocked"
// on stdout and block, outside any step, until the process is killed.
const FanOutBlockEnv = "DBOS_FANOUT_BLOCK"

//dbos:step
func LoggedTask(ctx context.Context, id int) (int, error) {
	if err := appendLine(os.Getenv(CrashLogEnv), fmt.Sprintf("task%d %d", id, os.Getpid())); err != nil {
		return 0, err
	}
	return id * 2, nil
}

// FanOutAndBlock enqueues first and awaits them (which writes those
// enqueues), enqueues second (noted, not yet written), and then, if
// FanOutBlockEnv says so, blocks where a crash loses the notes. It returns
// the sum of all results.
//
//dbos:workflow
func FanOutAndBlock(ctx context.Context, first, second []int) (int, error) {
	var handles []*LoggedTaskHandle
	for _, id := range first {
		h, err := EnqueueLoggedTask(ctx, TaskQueue, id)
		if err != nil {
			return 0, err
		}
		handles = append(handles, h)
	}
	sum := 0
	for _, h := range handles {
		r, err := h.GetResult(ctx)
		if err != nil {
			return 0, err
		}
		sum += r
	}
	for _, id := range second {
		h, err := EnqueueLoggedTask(ctx, TaskQueue, id)
		if err != nil {
			return 0, err
		}
		handles = append(handles, h)
	}
	if os.Getenv(FanOutBlockEnv) == "1" {
		fmt.Println("fanout-blocked")
		<-ctx.Done() // until SIGKILL
		return 0, ctx.Err()
	}
	for _, h := range handles[len(first):] {
		r, err := h.GetResult(ctx)
		if err != nil {
			return 0, err
		}
		sum += r
	}
	return sum, nil
}

//dbos:step
func ChildState(ctx context.Context, id string) (string, error) {
	h, err := RetrieveProcessTask(ctx, id)
	if err != nil {
		return "", err
	}
	st, err := h.Status(ctx)
	return string(st.State), err
}

// EnqueueThenInspect enqueues a task and, in a step, reads its state from
// the database: the step must find it.
//
//dbos:workflow
func EnqueueThenInspect(ctx context.Context, task Task) (string, error) {
	h, err := EnqueueProcessTask(ctx, TaskQueue, task)
	if err != nil {
		return "", err
	}
	return RunChildState(ctx, h.ID())
}

// EnqueueAndLeave enqueues tasks and returns their IDs without awaiting
// them; with fail set it returns an error instead.
//
//dbos:workflow
func EnqueueAndLeave(ctx context.Context, tasks []Task, fail bool) ([]string, error) {
	var ids []string
	for _, t := range tasks {
		h, err := EnqueueProcessTask(ctx, TaskQueue, t)
		if err != nil {
			return nil, err
		}
		ids = append(ids, h.ID())
	}
	if fail {
		return nil, errors.New("leaving with an error")
	}
	return ids, nil
}
