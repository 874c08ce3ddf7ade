package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// TestHeartbeatRunsEachTick: launched, the program's clock runs Heartbeat
// at consecutive ticks, each a SUCCESS whose ID and input are its tick.
func TestHeartbeatRunsEachTick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Setenv("DBOS_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "schedule.sqlite"))
	if err := run(ctx, 2); err != nil {
		t.Fatal(err)
	}
	rt, err := dbos.Launch(ctx, dbos.Config{ClientOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	ws, err := dbos.ListWorkflows(rt.WithContext(ctx), dbos.ListFilter{Name: "github.com/dbosgen/dbosgen/examples/schedule.Heartbeat", State: dbos.StateSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) < 2 {
		t.Fatalf("%d Heartbeat workflows succeeded; want at least the 2 the program waited for", len(ws))
	}
	for _, w := range ws {
		h, err := RetrieveHeartbeat(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if msg, err := h.GetResult(ctx); err != nil || msg == "" {
			t.Fatalf("Heartbeat %s = %q, %v; want its message", w.ID, msg, err)
		}
	}
}
