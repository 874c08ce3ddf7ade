// Command inorder is the seed's In-Order Processing example: an HTTP
// endpoint enqueues each event it receives on a queue with concurrency 1, so
// events are processed one at a time, in the order they arrived, even with
// several server processes sharing the database.
//
//	go run ./examples/inorder -addr localhost:8080
//	curl -X POST localhost:8080/events/hello
//
// One process serves HTTP and processes events (-role both, the default).
// In production the two roles run apart, sharing the database: web
// processes serve HTTP and only enqueue (dbos.Config.ClientOnly), worker
// processes run the queue (dbos.Config.ListenQueues) and serve nothing:
//
//	DBOS_DATABASE_URL=postgres://... go run ./examples/inorder -role worker
//	DBOS_DATABASE_URL=postgres://... go run ./examples/inorder -role web -addr localhost:8080
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
	addr := flag.String("addr", "localhost:8080", "address to listen on (roles web and both)")
	role := flag.String("role", "both", "web (serve HTTP, enqueue only), worker (process events, no HTTP) or both")
	flag.Parse()
	if err := run(*addr, *role); err != nil {
		fmt.Fprintln(os.Stderr, "inorder:", err)
		os.Exit(1)
	}
}

// configFor returns the runtime's configuration for a role, and whether
// the role serves HTTP.
func configFor(role string) (cfg dbos.Config, serve bool, err error) {
	switch role {
	case "both":
		return dbos.Config{}, true, nil
	case "web":
		return dbos.Config{ClientOnly: true}, true, nil
	case "worker":
		return dbos.Config{ListenQueues: []*dbos.Queue{inOrderQueue}}, false, nil
	}
	return dbos.Config{}, false, fmt.Errorf("-role %q: want web, worker or both", role)
}

func run(addr, role string) error {
	cfg, serve, err := configFor(role)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rt, err := dbos.Launch(ctx, cfg)
	if err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())
	if !serve {
		log.Printf("processing events of queue %s; interrupt to stop", inOrderQueue.Name())
		<-ctx.Done()
		return nil
	}

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
