package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func TestEventsProcessedOneAtATimeInArrivalOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt, err := dbos.Launch(ctx, dbos.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "inorder.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	srv := httptest.NewServer(newHandler())
	defer srv.Close()

	var posted, ids []string
	for i := range 25 {
		event := fmt.Sprintf("event-%02d", i)
		resp, err := http.Post(srv.URL+"/events/"+event, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST %s: %s: %s", event, resp.Status, body)
		}
		posted = append(posted, event)
		ids = append(ids, strings.TrimSpace(string(body)))
	}
	for _, id := range ids {
		h, err := RetrieveProcessEvent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
	}

	processed.Lock()
	defer processed.Unlock()
	if processed.maxActive != 1 {
		t.Errorf("%d events were processed at once, want 1", processed.maxActive)
	}
	if !slices.Equal(processed.events, posted) {
		t.Errorf("processed %v, want the arrival order %v", processed.events, posted)
	}
}
