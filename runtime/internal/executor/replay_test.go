package executor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/dbosimpl"
	"github.com/dbosgen/dbosgen/runtime/internal/executor"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

var (
	// wrapsNotFound fails with an error that wraps dbos.ErrNotFound.
	wrapsNotFound = &dbosimpl.Function{Name: "test.wrapsNotFound", Kind: dbosimpl.KindStep}
	// quotesNotFound fails with an error whose message contains
	// dbos.ErrNotFound's but wraps nothing.
	quotesNotFound = &dbosimpl.Function{Name: "test.quotesNotFound", Kind: dbosimpl.KindStep}
)

func init() {
	dbosimpl.Register(wrapsNotFound, func(context.Context, []byte) ([]byte, error) {
		return nil, fmt.Errorf("look up the customer: %w", dbos.ErrNotFound)
	})
	dbosimpl.Register(quotesNotFound, func(context.Context, []byte) ([]byte, error) {
		return nil, errors.New("the API said: " + dbos.ErrNotFound.Error())
	})
}

// TestReplayedErrorsKeepTheirSentinel: a step's error is replayed with the
// message it had, matching the sentinel it wrapped (recorded as its code),
// and no sentinel when it only quoted one's message.
func TestReplayedErrorsKeepTheirSentinel(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + testdb.SQLitePath(t) },
		"postgres": func(t *testing.T) string { return testdb.NewPostgresDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: url(t)})
			if err != nil {
				t.Fatalf("Launch: %v", err)
			}
			t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
			ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), time.Minute)
			defer cancel()

			wf := hostWorkflow(t, ctx, rt)
			_, wrapped := dbosimpl.Run(executor.WithRun(ctx, wf), wrapsNotFound, nil)
			_, quoted := dbosimpl.Run(executor.WithRun(ctx, wf), quotesNotFound, nil)
			if !errors.Is(wrapped, dbos.ErrNotFound) || errors.Is(quoted, dbos.ErrNotFound) {
				t.Fatalf("first run: %v (wraps ErrNotFound: %t), %v (wraps it: %t)", wrapped, errors.Is(wrapped, dbos.ErrNotFound), quoted, errors.Is(quoted, dbos.ErrNotFound))
			}

			again := rerun(t, ctx, rt, wf)
			_, replayedWrapped := dbosimpl.Run(executor.WithRun(ctx, again), wrapsNotFound, nil)
			_, replayedQuoted := dbosimpl.Run(executor.WithRun(ctx, again), quotesNotFound, nil)
			if replayedWrapped == nil || replayedWrapped.Error() != wrapped.Error() || !errors.Is(replayedWrapped, dbos.ErrNotFound) {
				t.Errorf("replayed %v (wraps ErrNotFound: %t); want %q, wrapping ErrNotFound", replayedWrapped, errors.Is(replayedWrapped, dbos.ErrNotFound), wrapped)
			}
			if replayedQuoted == nil || replayedQuoted.Error() != quoted.Error() || errors.Is(replayedQuoted, dbos.ErrNotFound) {
				t.Errorf("replayed %v (wraps ErrNotFound: %t); want %q, wrapping nothing", replayedQuoted, errors.Is(replayedQuoted, dbos.ErrNotFound), quoted)
			}
			if again.LastStep() != 2 {
				t.Errorf("the replay took %d steps, want 2", again.LastStep())
			}
		})
	}
}
