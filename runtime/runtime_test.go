package dbos

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/registry"
)

func TestQueueOptionsOutOfRangeFailLaunch(t *testing.T) {
	cases := []struct {
		opts []QueueOption
		want string
	}{
		{[]QueueOption{Concurrency(0)}, "Concurrency(0): must be at least 1"},
		{[]QueueOption{WorkerConcurrency(-1)}, "WorkerConcurrency(-1): must be at least 1"},
		{[]QueueOption{RateLimit(0, time.Second)}, "limit must be at least 1"},
		{[]QueueOption{RateLimit(5, 0)}, "period must be positive"},
		{[]QueueOption{Concurrency(2), WorkerConcurrency(3)}, "WorkerConcurrency(3) is above Concurrency(2)"},
	}
	for _, c := range cases {
		q := NewQueue("bad_queue", c.opts...)
		_, err := Launch(context.Background(), Config{DatabaseURL: "sqlite:" + t.TempDir() + "/x.sqlite"})
		forgetQueue(q.name)
		if err == nil || !strings.Contains(err.Error(), `queue "bad_queue"`) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Launch with %s: err = %v", c.want, err)
		}
	}
}

func TestDatabaseURLErrors(t *testing.T) {
	for url, want := range map[string]string{
		"mysql://x": "unsupported scheme",
		"sqlite:":   "names no file",
		"postgres://127.0.0.1:1/none?sslmode=disable&connect_timeout=2": "127.0.0.1:1",
	} {
		_, err := Launch(context.Background(), Config{DatabaseURL: url})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Launch(%q): err = %v, want it to mention %q", url, err, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Setenv("DBOS_DATABASE_URL", "")
	t.Setenv("DBOS_EXECUTOR_ID", "")
	c, err := Config{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.PollInterval != DefaultSQLitePoll || c.ExecutorID == "" {
		t.Errorf("defaults = %+v", c)
	}
	other, _ := Config{}.resolved()
	if other.ExecutorID == c.ExecutorID {
		t.Errorf("two fresh executor IDs are equal: %q", c.ExecutorID)
	}
	t.Setenv("DBOS_DATABASE_URL", "postgres://db/x")
	t.Setenv("DBOS_EXECUTOR_ID", "worker-7")
	c, _ = Config{}.resolved()
	if c.DatabaseURL != "postgres://db/x" || c.ExecutorID != "worker-7" || c.PollInterval != DefaultPostgresPoll {
		t.Errorf("from the environment = %+v", c)
	}
}

func TestRoleContradictionsFailLaunch(t *testing.T) {
	q := NewQueue("role_queue")
	gone := NewQueue("role_forgotten")
	forgetQueue(gone.name)
	defer forgetQueue(q.name)
	url := "sqlite:" + t.TempDir() + "/x.sqlite"
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{ClientOnly: true, ListenQueues: []*Queue{q}}, "Config.ClientOnly runs no queue, but Config.ListenQueues names 1"},
		{Config{ListenQueues: []*Queue{q, nil}}, "Config.ListenQueues[1] is nil"},
		{Config{ListenQueues: []*Queue{gone}}, `Config.ListenQueues[0]: queue "role_forgotten" is not declared`},
	} {
		c.cfg.DatabaseURL = url
		if _, err := Launch(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Launch: err = %v, want it to say %q", err, c.want)
		}
	}
}

func TestAppVersionDefaults(t *testing.T) {
	t.Setenv("DBOS_APP_VERSION", "")
	c, err := Config{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	if c.AppVersion != registry.AppVersion() || len(c.AppVersion) != 12 {
		t.Errorf("derived AppVersion = %q, want the registry's %q", c.AppVersion, registry.AppVersion())
	}
	t.Setenv("DBOS_APP_VERSION", "v7")
	if c, _ := (Config{}).resolved(); c.AppVersion != "v7" {
		t.Errorf("AppVersion with $DBOS_APP_VERSION=v7 = %q", c.AppVersion)
	}
	if c, _ := (Config{AppVersion: "v8"}).resolved(); c.AppVersion != "v8" {
		t.Errorf("Config.AppVersion v8 resolved to %q", c.AppVersion)
	}
}

func TestEnqueueOptionsOutOfRange(t *testing.T) {
	for _, o := range []EnqueueOption{WithID(""), WithDeduplicationID(""), WithDelay(-time.Second), WithTimeout(0)} {
		if executor.Apply([]EnqueueOption{o}).Err == nil {
			t.Errorf("option accepted; want an error")
		}
	}
}

// forgetQueue removes a queue a test declared, so later Launches in this
// test binary do not see it.
func forgetQueue(name string) {
	queues.Lock()
	defer queues.Unlock()
	kept := queues.list[:0]
	for _, q := range queues.list {
		if q.name != name {
			kept = append(kept, q)
		}
	}
	queues.list = kept
}

// TestDefaultLoggerWarnsOnly: with no Config.Logger the runtime logs
// through slog.Default, warnings and errors only.
func TestDefaultLoggerWarnsOnly(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	c, err := Config{DatabaseURL: "sqlite:x.sqlite"}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	c.Logger.Info("dbos: launched")
	c.Logger.With("queue", "q").Warn("dbos: database call failed")
	out := buf.String()
	if strings.Contains(out, "launched") || !strings.Contains(out, "database call failed") || !strings.Contains(out, "queue=q") {
		t.Errorf("default logger wrote %q; want the warning alone, with its attributes", out)
	}
}
