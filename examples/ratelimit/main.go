// Command ratelimit is the seed's Rate Limiting example: a queue with a rate
// limit keeps a workflow's calls to a rate-limited API within the API's
// limit, so the API never turns one away, however many are enqueued at once.
// The limit holds across every process sharing the database.
//
//	go run ./examples/ratelimit
//
// A local stand-in plays the API: an HTTP server that answers 429 Too Many
// Requests to a call beyond its limit. A workflow enqueues 20 calls on a
// queue allowing 5 starts in any 500 ms and waits for them. The program
// prints how many calls the API received and how many it answered 429, and
// exits 1 if it answered any.
//
// It runs on embedded SQLite (dbos.sqlite in the working directory) unless
// $DBOS_DATABASE_URL names another database, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

const (
	// apiLimit calls in any apiPeriod is the queue's rate limit.
	apiLimit  = 5
	apiPeriod = 500 * time.Millisecond

	// apiCalls is how many calls the workflow makes: four periods' worth, so
	// the limit holds three batches back and the run lasts about 1.5 s.
	apiCalls = 20

	// apiWindow is the stand-in API's window: it accepts apiLimit calls in
	// any apiWindow. It is a little shorter than the queue's apiPeriod, a
	// safety margin for what the two clocks do not share. The queue counts a
	// call when it is claimed, on the database's clock; the API counts it
	// when the request arrives, on this process's clock; in between the call
	// is dispatched, scheduled and sent, which takes a little longer for
	// some calls than for others, more so on a busy machine. So two calls
	// that start exactly apiPeriod apart may arrive a few milliseconds less
	// than apiPeriod apart; 50 ms absorbs that. The margin hides no real
	// overrun: a sixth call in the same period would come within
	// milliseconds of the first five, and without the queue's limit all 20
	// calls would arrive at once and 15 would be answered 429.
	apiWindow = apiPeriod - 50*time.Millisecond
)

// apiQueue starts at most apiLimit calls in any apiPeriod, across every
// process, counted from the start times the database records.
var apiQueue = dbos.NewQueue("ratelimit_api", dbos.RateLimit(apiLimit, apiPeriod))

// CallAPI makes one call to the API at url, a GET, and returns the answer.
// Any status but 200 OK is an error. Enqueued on apiQueue, it starts only
// when the queue's rate limit allows.
//
//dbos:step
func CallAPI(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(body)), nil
}

// CallAPIs enqueues n calls to the API at url on apiQueue, all at once, and
// waits for every one. It returns their answers in order or, when any call
// failed, an error naming each failed call. Every enqueue and every wait is
// checkpointed: after a crash the workflow resumes where it was.
//
//dbos:workflow
func CallAPIs(ctx context.Context, url string, n int) ([]string, error) {
	handles := make([]*CallAPIHandle, 0, n)
	for range n {
		h, err := EnqueueCallAPI(ctx, apiQueue, url)
		if err != nil {
			return nil, err
		}
		handles = append(handles, h)
	}
	answers := make([]string, 0, n)
	var failed []error
	for i, h := range handles {
		answer, err := h.GetResult(ctx)
		if err != nil {
			failed = append(failed, fmt.Errorf("call %d: %w", i+1, err))
			continue
		}
		answers = append(answers, answer)
	}
	if len(failed) > 0 {
		return nil, errors.Join(failed...)
	}
	return answers, nil
}

// api is a local stand-in for a rate-limited API. It accepts at most limit
// calls in any window of length window and answers the others 429 Too Many
// Requests; it answers an accepted call 200 OK.
type api struct {
	limit  int
	window time.Duration

	mu       sync.Mutex
	accepted []time.Time // when the accepted calls of the last window came, oldest first
	calls    int         // calls received
	rejected int         // calls answered 429
	first    time.Time   // when the first call came
	last     time.Time   // when the last call came
}

func newAPI(limit int, window time.Duration) *api {
	return &api{limit: limit, window: window}
}

// ServeHTTP answers one call, 200 OK or 429 Too Many Requests.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	now := time.Now() // under the lock, so accepted stays in order
	a.calls++
	if a.calls == 1 {
		a.first = now
	}
	a.last = now
	// The window is (now-window, now]: forget the calls accepted before it.
	cutoff := now.Add(-a.window)
	gone := 0
	for gone < len(a.accepted) && !a.accepted[gone].After(cutoff) {
		gone++
	}
	a.accepted = a.accepted[gone:]
	if len(a.accepted) >= a.limit {
		a.rejected++
		a.mu.Unlock()
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	a.accepted = append(a.accepted, now)
	n := a.calls
	a.mu.Unlock()
	fmt.Fprintf(w, "call %d accepted\n", n)
}

// report is what the API saw.
type report struct {
	calls    int           // calls received
	rejected int           // calls answered 429
	span     time.Duration // from the first call to the last
}

func (a *api) report() report {
	a.mu.Lock()
	defer a.mu.Unlock()
	return report{calls: a.calls, rejected: a.rejected, span: a.last.Sub(a.first)}
}

// callAPI serves a stand-in API, runs CallAPIs with n calls to it and
// returns what the API saw, with the workflow's error.
func callAPI(ctx context.Context, n int) (report, error) {
	a := newAPI(apiLimit, apiWindow)
	srv := httptest.NewServer(a)
	defer srv.Close()
	h, err := StartCallAPIs(ctx, srv.URL, n)
	if err != nil {
		return report{}, err
	}
	_, err = h.GetResult(ctx)
	return a.report(), err
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "ratelimit:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	rt, err := dbos.Launch(ctx, dbos.Config{})
	if err != nil {
		return err
	}
	defer rt.Shutdown(ctx)

	r, err := callAPI(ctx, apiCalls)
	fmt.Printf("%d calls to the API, %d answered 429\n", r.calls, r.rejected)
	fmt.Printf("first to last call: %s (the queue starts at most %d calls in any %s; the API accepts %d in any %s)\n",
		r.span.Round(time.Millisecond), apiLimit, apiPeriod, apiLimit, apiWindow)
	if err != nil {
		return err
	}
	if r.rejected > 0 {
		return fmt.Errorf("the API answered 429 to %d of %d calls", r.rejected, r.calls)
	}
	return nil
}
