package flowtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

// declareSerialEnv, set to 1 in a worker process, makes that program declare
// Declared with Concurrency(1) instead of Concurrency(3): two programs
// declaring one queue differently.
const declareSerialEnv = "FLOW_DECLARE_SERIAL"

// Declared is declared Concurrency(3), or Concurrency(1) in a process with
// $FLOW_DECLARE_SERIAL=1.
var Declared = dbos.NewQueue("flow_declared", declaredLimits()...)

func declaredLimits() []dbos.QueueOption {
	if os.Getenv(declareSerialEnv) == "1" {
		return []dbos.QueueOption{dbos.Concurrency(1)}
	}
	return []dbos.QueueOption{dbos.Concurrency(3)}
}

// Workers look their queue up by name.
func init() { declared[Declared.Name()] = Declared }

// TestNewestDeclarationWins launches this process, declaring Concurrency(3)
// and serving the queue, then two programs declaring Concurrency(1): the
// newest declaration holds for every process, this older one included, so
// the tasks run one at a time. A later launch declaring Concurrency(3) again
// logs the change.
func TestNewestDeclarationWins(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-process test: runs without -short")
	}
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: url, ExecutorID: unique("declare-old"), PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer old.Shutdown(ctx)

		t.Setenv(declareSerialEnv, "1") // for the workers
		records := runWorkers(t, url, Declared.Name(), 20*time.Millisecond, 12, 12)
		if got := maxOverlap(records); got != 1 {
			t.Errorf("%d tasks ran at once; the newest declaration is Concurrency(1)", got)
		}
		here := 0
		for _, r := range records {
			if r.Span.PID == os.Getpid() {
				here++
			}
		}
		t.Logf("the process with the older declaration ran %d of %d tasks", here, len(records))

		var logs testdb.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		later, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: url, ExecutorID: unique("declare-new"), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		defer later.Shutdown(ctx)
		want := fmt.Sprintf("queue %q limits changed from Concurrency(1) to Concurrency(3) by executor %s", Declared.Name(), later.ExecutorID())
		if !strings.Contains(logs.String(), strings.ReplaceAll(want, `"`, `\"`)) {
			t.Errorf("Launch logged:\n%s\nwant a line saying %s", logs.String(), want)
		}
	})
}
