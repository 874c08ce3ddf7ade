// Command inorder is the seed's In-Order Processing example: an HTTP
// endpoint enqueues each event it receives on a queue with concurrency 1, so
// events are processed one at a time, in the order they arrived, even with
// several server processes sharing the database.
//
//	go run ./examples/inorder -addr localhost:8080
//	curl -X POST localhost:8080/events/hello
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

var inOrderQueue = dbos.NewQueue("in_order_queue", dbos.Concurrency(1))

// processed records the events this process handled, in order, and how
// many were ever handled at once.
var processed = struct {
	sync.Mutex
	events    []string
	active    int
	maxActive int
}{}

// ProcessEvent handles one event. The queue runs one at a time, in order.
//
//dbos:step
func ProcessEvent(ctx context.Context, event string) error {
	processed.Lock()
	processed.active++
	processed.maxActive = max(processed.maxActive, processed.active)
	processed.Unlock()

	log.Printf("processing event %q", event)
	time.Sleep(2 * time.Millisecond) // the work an event takes

	processed.Lock()
	processed.active--
	processed.events = append(processed.events, event)
	processed.Unlock()
	return nil
}

// newHandler serves POST /events/{event}: it enqueues the event and answers
// 202 Accepted with the task's workflow ID once the enqueue is durable.
func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events/{event}", func(w http.ResponseWriter, r *http.Request) {
		h, err := EnqueueProcessEvent(r.Context(), inOrderQueue, r.PathValue("event"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, h.ID())
	})
	return mux
}

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "inorder:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rt, err := dbos.Launch(ctx, dbos.Config{})
	if err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())

	srv := &http.Server{Addr: addr, Handler: newHandler()}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("listening on http://%s; POST /events/{event}", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
