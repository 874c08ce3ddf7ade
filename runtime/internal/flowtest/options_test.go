package flowtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

var seq atomic.Int64

// unique returns a name no other test uses.
func unique(prefix string) string { return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), seq.Add(1)) }

// launch starts a runtime for one test and returns a context bound to it.
func launch(t *testing.T, url string) context.Context {
	t.Helper()
	rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url, ExecutorID: unique("options")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// heldSince returns the names Hold ran with after the first n.
func heldSince(n int, names ...string) []string {
	var out []string
	for _, h := range Held()[n:] {
		if slices.Contains(names, h) {
			out = append(out, h)
		}
	}
	return out
}

func TestPriorityLowerFirstFIFOWithin(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url)
		block := unique("block")
		entered, open := NewGate(block)
		first, err := EnqueueHold(ctx, Ordered, block)
		if err != nil {
			t.Fatal(err)
		}
		<-entered // the queue's one slot is taken: the rest wait their turn
		before := len(Held())
		var names []string
		var handles []*HoldHandle
		for i, p := range []int{5, 1, 5, 1, 0} {
			name := unique(fmt.Sprintf("p%d-%d", p, i))
			h, err := EnqueueHold(ctx, Ordered, name, dbos.WithPriority(p))
			if err != nil {
				t.Fatal(err)
			}
			names, handles = append(names, name), append(handles, h)
		}
		open()
		if _, err := first.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		for _, h := range handles {
			if _, err := h.GetResult(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := heldSince(before, names...)
		want := []string{names[4], names[1], names[3], names[0], names[2]}
		if !slices.Equal(got, want) {
			t.Errorf("ran in order\n%v\nwant (lower priority number first, FIFO within)\n%v", got, want)
		}
	})
}

func TestDeduplicationWhileEnqueuedOrRunning(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url)
		name, key := unique("dedup"), unique("key")
		entered, open := NewGate(name)
		first, err := EnqueueHold(ctx, Options, name, dbos.WithDeduplicationID(key))
		if err != nil {
			t.Fatal(err)
		}
		_, err = EnqueueHold(ctx, Options, name, dbos.WithDeduplicationID(key))
		if !errors.Is(err, dbos.ErrDuplicate) || !strings.Contains(err.Error(), first.ID()) {
			t.Fatalf("second enqueue while enqueued: err = %v, want ErrDuplicate naming %s", err, first.ID())
		}
		<-entered
		_, err = EnqueueHold(ctx, Options, name, dbos.WithDeduplicationID(key))
		if !errors.Is(err, dbos.ErrDuplicate) {
			t.Fatalf("second enqueue while running: err = %v, want ErrDuplicate", err)
		}
		// Another queue does not share the key.
		if _, err := EnqueueHold(ctx, Ordered, unique("other"), dbos.WithDeduplicationID(key)); err != nil {
			t.Fatalf("same key on another queue: %v", err)
		}
		open()
		if _, err := first.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		again, err := EnqueueHold(ctx, Options, unique("again"), dbos.WithDeduplicationID(key))
		if err != nil {
			t.Fatalf("enqueue after the first finished: %v", err)
		}
		if _, err := again.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDelayHoldsTheStart(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url)
		const delay = 300 * time.Millisecond
		delayed, err := EnqueueWork(ctx, Options, "delayed", 0, dbos.WithDelay(delay))
		if err != nil {
			t.Fatal(err)
		}
		prompt, err := EnqueueWork(ctx, Options, "prompt", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prompt.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := delayed.Status(ctx); st.State != dbos.StateEnqueued {
			t.Errorf("delayed task is %s while its delay runs, want ENQUEUED", st.State)
		}
		if _, err := delayed.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := delayed.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if waited := st.StartedAt.Sub(st.CreatedAt); waited < delay {
			t.Errorf("started %s after enqueue, want at least %s", waited, delay)
		}
	})
}

func TestTimeoutCancelsTheTask(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url)
		h, err := EnqueueWork(ctx, Options, "slow", time.Minute, dbos.WithTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.GetResult(ctx); !errors.Is(err, dbos.ErrTimeout) {
			t.Fatalf("GetResult = %v, want ErrTimeout", err)
		}
		if st, _ := h.Status(ctx); st.State != dbos.StateCancelled {
			t.Errorf("state %s, want CANCELLED", st.State)
		}
		// A workflow stops at its next step once its time is up.
		wf, err := EnqueueSteps(ctx, Options, 1000, 20*time.Millisecond, dbos.WithTimeout(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wf.GetResult(ctx); !errors.Is(err, dbos.ErrTimeout) {
			t.Fatalf("workflow GetResult = %v, want ErrTimeout", err)
		}
		// Without a timeout the same work finishes.
		ok, err := EnqueueSteps(ctx, Options, 2, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := ok.GetResult(ctx); err != nil || n != 2 {
			t.Errorf("Steps(2) = %d, %v", n, err)
		}
	})
}

func TestPartitionsDoNotHoldEachOtherBack(t *testing.T) {
	engines(t, func(t *testing.T, url string) {
		ctx := launch(t, url)
		keyA, keyB := unique("A"), unique("B")
		blockA := unique("blockA")
		entered, open := NewGate(blockA)
		a1, err := EnqueueHold(ctx, Parts, blockA, dbos.WithPartitionKey(keyA))
		if err != nil {
			t.Fatal(err)
		}
		<-entered
		a2, err := EnqueueHold(ctx, Parts, unique("a2"), dbos.WithPartitionKey(keyA))
		if err != nil {
			t.Fatal(err)
		}
		b1, err := EnqueueHold(ctx, Parts, unique("b1"), dbos.WithPartitionKey(keyB))
		if err != nil {
			t.Fatal(err)
		}
		// B's task runs while A's first task holds A's only slot.
		if _, err := b1.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := a2.Status(ctx); st.State != dbos.StateEnqueued {
			t.Errorf("A's second task is %s while A's first runs; PartitionConcurrency(1) allows one", st.State)
		}
		open()
		for _, h := range []*HoldHandle{a1, a2} {
			if _, err := h.GetResult(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}
