package bench

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// TestSmoke runs every workload once at a tiny scale on each engine and
// checks only that it completes with sane numbers: timing goals belong to
// the benchmark's runs, not to tests.
func TestSmoke(t *testing.T) {
	for _, engine := range []string{EngineSQLite, EnginePostgres} {
		t.Run(engine, func(t *testing.T) {
			server := ""
			if engine == EnginePostgres {
				server = postgresServer(t)
			}
			var log bytes.Buffer
			rep, err := Run(context.Background(), Options{
				Engines:   []string{engine},
				Runs:      1,
				Scale:     0.001,
				ServerURL: server,
				Exe:       os.Args[0],
				Args:      []string{"-test.run=^$"},
				Timeout:   2 * time.Minute,
				Stall:     30 * time.Second,
				Log:       &log,
			})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, log.String())
			}
			checkSane(t, rep, engine)
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			for _, name := range WorkloadNames() {
				if !strings.Contains(table.String(), name) && findWorkload(name).runsOn(engine) {
					t.Errorf("the table does not mention %s:\n%s", name, table.String())
				}
			}
			if t.Failed() {
				t.Logf("log:\n%s", log.String())
			}
		})
	}
}

func checkSane(t *testing.T, rep *Report, engine string) {
	t.Helper()
	if len(rep.Engines) != 1 || rep.Engines[0].Engine != engine {
		t.Fatalf("report has engines %+v, want just %s", rep.Engines, engine)
	}
	got := map[string]WorkloadReport{}
	for _, w := range rep.Engines[0].Workloads {
		got[w.Workload] = w
		for _, e := range w.Errors {
			t.Errorf("%s: %s", w.Workload, e)
		}
		if len(w.Metrics) == 0 {
			t.Errorf("%s: no metrics", w.Workload)
		}
		for _, m := range w.Metrics {
			if len(m.Runs) != 1 {
				t.Errorf("%s %s: %d values, want 1", w.Workload, m.Name, len(m.Runs))
			}
			if math.IsNaN(m.Median) || math.IsInf(m.Median, 0) || m.Median < 0 {
				t.Errorf("%s %s = %g", w.Workload, m.Name, m.Median)
			}
			if (m.Unit == "tasks/s" || m.Unit == "starts/s") && m.Median <= 0 {
				t.Errorf("%s %s = %g, want a positive rate", w.Workload, m.Name, m.Median)
			}
		}
	}
	for _, name := range WorkloadNames() {
		if _, ok := got[name]; !ok && findWorkload(name).runsOn(engine) {
			t.Errorf("workload %s did not run", name)
		}
	}
	lat := map[string]float64{}
	for _, m := range got["latency"].Metrics {
		lat[m.Name] = m.Median
	}
	if !(lat["p50"] > 0 && lat["p50"] <= lat["p90"] && lat["p90"] <= lat["p99"] && lat["p99"] <= lat["max"]) {
		t.Errorf("latency percentiles out of order: %v", lat)
	}
}

// postgresServer returns the Postgres server the smoke test creates its
// databases on, as the runtime's tests find theirs: $DBOS_TEST_DATABASE_URL
// or the default; it skips when none answers, or fails when
// DBOS_TEST_REQUIRE_POSTGRES=1.
func postgresServer(t *testing.T) string {
	t.Helper()
	server := os.Getenv("DBOS_TEST_DATABASE_URL")
	if server == "" {
		server = DefaultServerURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err == nil {
		_ = conn.Close(ctx)
		return server
	}
	msg := "no Postgres server at " + redact(server) + " (" + err.Error() + "); set DBOS_TEST_DATABASE_URL to a server's URL"
	if os.Getenv("DBOS_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("%s; DBOS_TEST_REQUIRE_POSTGRES=1 requires Postgres", msg)
	}
	t.Skipf("%s, or DBOS_TEST_REQUIRE_POSTGRES=1 to fail instead of skipping", msg)
	return ""
}

func TestJudgeRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var s []time.Time
		for _, m := range ms {
			s = append(s, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return s
	}
	burst := func(startMs, n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = startMs
		}
		return s
	}
	cat := func(parts ...[]int) []int {
		var all []int
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name      string
		starts    []time.Time
		perSecond float64
		overLimit int
	}{
		{"perfect", at(cat(burst(0, 5), burst(1000, 5), burst(2000, 3))...), 5, 0},
		{"late windows", at(cat(burst(0, 5), burst(1250, 5), burst(2500, 5))...), 4, 0},
		{"too many", at(cat(burst(0, 5), burst(999, 5))...), 5 / 0.999, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := judgeRate(tt.starts, 5, time.Second)
			if math.Abs(j.perSecond-tt.perSecond) > 1e-9 || j.overLimit != tt.overLimit {
				t.Errorf("judgeRate = %+v, want perSecond %g, overLimit %d", j, tt.perSecond, tt.overLimit)
			}
		})
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{0.5: 50, 0.9: 90, 0.99: 99, 1: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(1..100, %g) = %d, want %d", p, got, want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median(3,1,2) = %g", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median(4,1,3,2) = %g", got)
	}
}

func TestWorstQueueShare(t *testing.T) {
	t0 := time.Unix(1000, 0)
	queueOf := func(i int) string { return []string{"a", "b"}[i%2] }
	status := func(ms ...int) []dbos.Status {
		sts := make([]dbos.Status, len(ms))
		for i, m := range ms {
			sts[i].CompletedAt = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return sts
	}
	// Even: a and b alternate.
	if got := worstQueueShare(status(1, 1, 2, 2, 3, 3, 4, 4), queueOf); got != 100 {
		t.Errorf("even: worst share %g, want 100", got)
	}
	// a's four tasks finish first: when half are done, b has done none.
	if got := worstQueueShare(status(1, 5, 2, 6, 3, 7, 4, 8), queueOf); got != 0 {
		t.Errorf("starved: worst share %g, want 0", got)
	}
}

func TestFairKey(t *testing.T) {
	n := 100 + fairSmallKeys*fairSmallTasks
	keys := map[string]int{}
	for i := range n {
		keys[fairKey(i, n)]++
	}
	if keys[fairBigKey] != 100 || len(keys) != fairSmallKeys+1 {
		t.Fatalf("keys: %d big, %d keys in all", keys[fairBigKey], len(keys))
	}
	for k, c := range keys {
		if k != fairBigKey && c != fairSmallTasks {
			t.Errorf("key %s has %d tasks", k, c)
		}
	}
}
