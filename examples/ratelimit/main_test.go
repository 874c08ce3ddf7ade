package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// launch starts a runtime on a fresh SQLite file and returns a context that
// ends with the test.
func launch(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "ratelimit.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	return ctx
}

func TestRateLimitedQueueKeepsCallsWithinTheAPILimit(t *testing.T) {
	ctx := launch(t)
	r, err := callAPI(ctx, apiCalls)
	if err != nil {
		t.Fatal(err)
	}
	if r.calls != apiCalls || r.rejected != 0 {
		t.Errorf("%d calls to the API, %d answered 429; want %d calls, none answered 429", r.calls, r.rejected, apiCalls)
	}
	// The limit held calls back: the last batch came at least three
	// periods after the first (less the API's margin).
	if batches := (apiCalls + apiLimit - 1) / apiLimit; r.span < time.Duration(batches-1)*apiWindow {
		t.Errorf("the calls came within %s, want at least %s", r.span, time.Duration(batches-1)*apiWindow)
	}

	// The database's start times: at most apiLimit in any apiPeriod.
	ws, err := dbos.ListWorkflows(ctx, dbos.ListFilter{Queue: apiQueue.Name(), State: dbos.StateSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != apiCalls {
		t.Fatalf("%d calls succeeded on %s, want %d", len(ws), apiQueue.Name(), apiCalls)
	}
	starts := make([]time.Time, len(ws))
	for i, w := range ws {
		starts[i] = w.StartedAt
	}
	slices.SortFunc(starts, time.Time.Compare)
	for i := apiLimit; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-apiLimit]); d < apiPeriod {
			t.Errorf("starts %d and %d are %s apart: %d starts within %s", i-apiLimit+1, i+1, d, apiLimit+1, apiPeriod)
		}
	}
}

// unlimitedQueue has no rate limit: calls enqueued on it all start at once.
var unlimitedQueue = dbos.NewQueue("ratelimit_unlimited")

// Without the queue's limit, the stand-in API turns calls away, and
// CallAPI reports it: the test above would catch an overrun.
func TestUnlimitedCallsAreAnswered429(t *testing.T) {
	ctx := launch(t)
	a := newAPI(apiLimit, apiWindow)
	srv := httptest.NewServer(a)
	defer srv.Close()

	var handles []*CallAPIHandle
	for range apiCalls {
		h, err := EnqueueCallAPI(ctx, unlimitedQueue, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, h)
	}
	failed := 0
	for _, h := range handles {
		if _, err := h.GetResult(ctx); err != nil {
			failed++
		}
	}
	r := a.report()
	if r.calls != apiCalls || r.rejected == 0 || failed != r.rejected {
		t.Errorf("%d calls, %d answered 429, %d failed; want %d calls, some answered 429 and as many failed", r.calls, r.rejected, failed, apiCalls)
	}
}

// The stand-in API accepts limit calls in any window and answers the
// others 429 until the oldest accepted call leaves the window.
func TestAPIAnswers429OverItsLimit(t *testing.T) {
	const window = 200 * time.Millisecond
	a := newAPI(2, window)
	srv := httptest.NewServer(a)
	defer srv.Close()
	get := func() int {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var got []int
	for range 3 {
		got = append(got, get())
	}
	time.Sleep(window)
	got = append(got, get(), get(), get())
	want := []int{200, 200, 429, 200, 200, 429}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if r := a.report(); r.calls != 6 || r.rejected != 2 {
		t.Errorf("report %+v, want 6 calls, 2 answered 429", r)
	}
}
