// Command metrics serves the runtime's metrics to Prometheus: an
// OpenTelemetry meter provider with the Prometheus exporter, given to
// dbos.Launch as Config.MeterProvider, and /metrics beside a small queue
// workload (a workflow fans out tasks on a queue; every tenth fails).
//
//	go run ./examples/metrics                 # runs the workload, prints the dbos_ series of /metrics, exits
//	go run ./examples/metrics -serve          # then keeps serving http://localhost:9464/metrics until Ctrl-C
//	curl -s localhost:9464/metrics | grep ^dbos_
//
// It runs on embedded SQLite (dbos.sqlite in the working directory) unless
// $DBOS_DATABASE_URL names another database, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:generate go tool dbosgen

// taskQueue runs at most 8 tasks at once, across every process.
var taskQueue = dbos.NewQueue("metrics_tasks", dbos.Concurrency(8))

// Work takes a few milliseconds; task numbers divisible by 10 fail.
//
//dbos:step
func Work(ctx context.Context, n int) (int, error) {
	time.Sleep(time.Duration(1+n%5) * time.Millisecond)
	if n%10 == 0 {
		return 0, fmt.Errorf("task %d failed", n)
	}
	return n * n, nil
}

// Batch enqueues Work(1..n) on taskQueue, waits for each, and returns
// how many succeeded.
//
//dbos:workflow
func Batch(ctx context.Context, n int) (int, error) {
	handles := make([]*WorkHandle, n)
	for i := range handles {
		h, err := EnqueueWork(ctx, taskQueue, i+1)
		if err != nil {
			return 0, err
		}
		handles[i] = h
	}
	ok := 0
	for _, h := range handles {
		var failed *dbos.WorkflowError
		switch _, err := h.GetResult(ctx); {
		case err == nil:
			ok++
		case !errors.As(err, &failed): // not the task's own failure
			return 0, err
		}
	}
	return ok, nil
}

// newMetrics returns a meter provider whose measurements the handler
// serves in Prometheus's text format.
func newMetrics() (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)), promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("metrics", flag.ContinueOnError)
	addr := flags.String("addr", "localhost:9464", "serve /metrics at this address (port 0: any free port)")
	tasks := flags.Int("tasks", 100, "how many tasks the workflow enqueues")
	serve := flags.Bool("serve", false, "keep serving /metrics after the workload, until interrupted")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	mp, handler, err := newMetrics()
	if err != nil {
		return err
	}
	defer mp.Shutdown(context.Background())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/metrics"
	fmt.Fprintf(out, "serving %s\n", url)

	rt, err := dbos.Launch(ctx, dbos.Config{MeterProvider: mp})
	if err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())
	h, err := StartBatch(ctx, *tasks)
	if err != nil {
		return err
	}
	ok, err := h.GetResult(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workflow %s: %d of %d tasks succeeded\n", h.ID(), ok, *tasks)

	// What Prometheus scrapes now: the runtime's series.
	if err := printSeries(ctx, url, out); err != nil {
		return err
	}
	if *serve {
		fmt.Fprintf(out, "serving %s until interrupted\n", url)
		<-ctx.Done()
	}
	return nil
}

// printSeries scrapes url and prints its dbos_ series, histograms but
// their count and sum.
func printSeries(ctx context.Context, url string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "dbos_") && !strings.Contains(line, "_bucket{") {
			fmt.Fprintln(out, line)
		}
	}
	return sc.Err()
}
