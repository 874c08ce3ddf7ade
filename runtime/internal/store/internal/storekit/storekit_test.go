package storekit

import (
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

func TestRoom(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		c    store.QueueConfig
		l    Load
		want int
	}{
		{"unlimited", 7, store.QueueConfig{}, Load{}, 7},
		{"concurrency", 7, store.QueueConfig{Concurrency: 3}, Load{Pending: 1}, 2},
		{"concurrency full", 7, store.QueueConfig{Concurrency: 3}, Load{Pending: 3}, 0},
		{"concurrency over (limit lowered)", 7, store.QueueConfig{Concurrency: 3}, Load{Pending: 5}, 0},
		{"worker concurrency", 7, store.QueueConfig{Concurrency: 10, WorkerConcurrency: 2}, Load{Pending: 4, PendingHere: 1}, 1},
		{"rate", 7, store.QueueConfig{RateLimit: 5, RatePeriod: time.Second}, Load{WindowStarts: 2}, 3},
		{"max binds", 1, store.QueueConfig{Concurrency: 10, RateLimit: 10, RatePeriod: time.Second}, Load{}, 1},
	} {
		if got := Room(tc.c, tc.max, tc.l); got != tc.want {
			t.Errorf("%s: Room = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRetryAt(t *testing.T) {
	const now = int64(1_000_000)
	rate := store.QueueConfig{RateLimit: 2, RatePeriod: time.Second}
	for _, tc := range []struct {
		name    string
		max     int
		c       store.QueueConfig
		l       Load
		claimed int
		b       Backlog
		want    int64 // 0: zero time
	}{
		{"nothing left", 5, store.QueueConfig{}, Load{NowMs: now}, 1, Backlog{}, 0},
		{"took Max", 2, store.QueueConfig{}, Load{NowMs: now}, 2, Backlog{Ready: true}, 0},
		{"delayed row", 5, store.QueueConfig{}, Load{NowMs: now}, 0, Backlog{NextDelayedMs: now + 300}, now + 300},
		{"ready rows held by another claimer", 5, store.QueueConfig{}, Load{NowMs: now}, 0, Backlog{Ready: true}, 0},
		{"concurrency full", 5, store.QueueConfig{Concurrency: 2}, Load{NowMs: now, Pending: 1}, 1, Backlog{Ready: true}, 0},
		{"concurrency full, delayed row", 5, store.QueueConfig{Concurrency: 2}, Load{NowMs: now, Pending: 2}, 0, Backlog{NextDelayedMs: now + 5}, 0},
		{"rate window full", 10, rate, Load{NowMs: now, WindowStarts: 2, WindowOldestMs: now - 400}, 0, Backlog{Ready: true}, now + 600},
		{"rate window filled by this claim", 10, rate, Load{NowMs: now}, 2, Backlog{Ready: true}, now + 1000},
		{"rate window filled, partly by this claim", 10, rate, Load{NowMs: now, WindowStarts: 1, WindowOldestMs: now - 100}, 1, Backlog{Ready: true}, now + 900},
		{"rate window full, queue empty", 10, rate, Load{NowMs: now, WindowStarts: 2, WindowOldestMs: now - 400}, 0, Backlog{}, 0},
		{"rate window full, delayed row later", 10, rate, Load{NowMs: now, WindowStarts: 2, WindowOldestMs: now - 400}, 0, Backlog{NextDelayedMs: now + 2000}, now + 2000},
		{"rate window full, delayed row sooner", 10, rate, Load{NowMs: now, WindowStarts: 2, WindowOldestMs: now - 400}, 0, Backlog{NextDelayedMs: now + 100}, now + 600},
		{"rate window not full", 10, rate, Load{NowMs: now, WindowStarts: 1, WindowOldestMs: now - 400}, 0, Backlog{NextDelayedMs: now + 100}, now + 100},
		{"partition rate window frees a slot", 5, store.QueueConfig{PartitionRateLimit: 1, PartitionRatePeriod: time.Second}, Load{NowMs: now}, 0, Backlog{PartitionFreeMs: now + 700}, now + 700},
		{"partition slot before delayed row", 5, store.QueueConfig{}, Load{NowMs: now}, 0, Backlog{PartitionFreeMs: now + 700, NextDelayedMs: now + 900}, now + 700},
		{"delayed row before partition slot", 5, store.QueueConfig{}, Load{NowMs: now}, 0, Backlog{PartitionFreeMs: now + 700, NextDelayedMs: now + 200}, now + 200},
		{"partition slot but queue window full", 10, rate, Load{NowMs: now, WindowStarts: 2, WindowOldestMs: now - 100}, 0, Backlog{PartitionFreeMs: now + 300}, now + 900},
	} {
		got := RetryAt(tc.c, tc.max, tc.l, tc.claimed, tc.b)
		if want := Time(tc.want); !got.Equal(want) {
			t.Errorf("%s: RetryAt = %v, want %v", tc.name, got, want)
		}
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]int64{0: 0, -time.Second: 0, time.Nanosecond: 1, time.Millisecond: 1, 1500 * time.Microsecond: 2, time.Hour: 3_600_000} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %d, want %d", d, got, want)
		}
	}
	if !Time(0).IsZero() || Time(1_700_000_000_123) != time.UnixMilli(1_700_000_000_123).UTC() {
		t.Error("Time does not round-trip epoch milliseconds")
	}
}
