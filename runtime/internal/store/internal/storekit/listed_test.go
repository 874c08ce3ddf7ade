package storekit

import (
	"math"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// TestListedWalk: the walk skips Offset once, lists at most Limit in all
// (any number when 0) in batches, each below the lowest seq of the one
// before, and ends at a short batch.
func TestListedWalk(t *testing.T) {
	type call struct {
		below         int64
		skip, maxRows int
		listed        int   // what the batch found
		lowest        int64 // its lowest seq
	}
	for _, tc := range []struct {
		name  string
		f     store.ListFilter
		batch int
		calls []call
	}{
		{"all", store.ListFilter{}, 2, []call{
			{math.MaxInt64, 0, 2, 2, 9}, {9, 0, 2, 2, 7}, {7, 0, 2, 1, 6},
		}},
		{"offset and limit", store.ListFilter{Offset: 3, Limit: 5}, 2, []call{
			{math.MaxInt64, 3, 2, 2, 9}, {9, 0, 2, 2, 7}, {7, 0, 1, 1, 6},
		}},
		{"nothing", store.ListFilter{Offset: 10}, 0, []call{
			{math.MaxInt64, 10, store.DefaultDeleteBatch, 0, 0},
		}},
	} {
		l := NewListed(tc.f, tc.batch)
		for i, c := range tc.calls {
			below, skip, maxRows, ok := l.Next()
			if !ok || below != c.below || skip != c.skip || maxRows != c.maxRows {
				t.Fatalf("%s: call %d: Next = %d, %d, %d, %v; want %d, %d, %d, true", tc.name, i, below, skip, maxRows, ok, c.below, c.skip, c.maxRows)
			}
			l.Took(maxRows, c.listed, c.lowest)
		}
		if _, _, _, ok := l.Next(); ok {
			t.Errorf("%s: the walk goes on after %d calls", tc.name, len(tc.calls))
		}
	}
}

func TestListBounds(t *testing.T) {
	at := time.UnixMilli(1000).Add(300 * time.Microsecond)
	if got := *CompletedBeforeMs(at); got != 1001 {
		t.Errorf("CompletedBeforeMs(1000.3ms) = %d, want 1001", got)
	}
	if got := *CompletedBeforeMs(time.UnixMilli(1000)); got != 1000 {
		t.Errorf("CompletedBeforeMs(1000ms) = %d, want 1000", got)
	}
	if got := *CreatedAfterMs(at); got != 1000 {
		t.Errorf("CreatedAfterMs(1000.3ms) = %d, want 1000", got)
	}
	if CompletedBeforeMs(time.Time{}) != nil || CreatedAfterMs(time.Time{}) != nil {
		t.Errorf("a zero time is a bound")
	}
}
