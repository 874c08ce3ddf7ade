// Package groupcommit makes one call for many concurrent requests: the
// runtime's inserts and outcome records are committed together, one
// statement and one commit for all the callers that arrived meanwhile.
package groupcommit

import (
	"context"
	"slices"
	"sync"
)

// Batcher makes one call for many concurrent requests (group commit): each
// caller waits for its own result, but while calls are in flight (at most
// par at once) the requests that arrive meanwhile gather, and the next call
// takes them all (at most max; two requests with one key never share a
// call). No goroutine of its own: a caller who finds fewer than par calls
// in flight makes one (leads); when it is done it hands the next batch,
// which holds the oldest waiting request, to that request's caller, who
// leads the next call. A request made with Go has no caller waiting: the
// goroutine that hands it a batch leads that call itself, or starts one
// that does.
type Batcher[T, R any] struct {
	// Call makes the call for a batch: one result per request, in order,
	// or an error for them all. Up to par calls run at once.
	Call func(batch []T) ([]R, error)
	// Key, when not nil, keeps requests with one key out of one call.
	Key func(T) string
	// Max is the most requests one call takes.
	Max int
	// Par is the most calls in flight at once; 0 means 1. With more than
	// one, a call for a full batch can start while another waits for the
	// database, so that the work of the two overlaps.
	Par int
	// Spill, when positive, is how many waiting requests start a further
	// call (up to Par) while one is in flight; 0 means Max (a full batch).
	Spill int

	mu       sync.Mutex
	pending  []*request[T, R] // waiting for a call, oldest first
	inFlight int              // calls in flight
}

// request is one caller's wait.
type request[T, R any] struct {
	in  T
	out R
	err error
	// wake receives nil when the request is done, or a batch, holding the
	// request first, that its caller must make the call for. Capacity 1:
	// it receives once. Nil for a request made with Go.
	wake chan []*request[T, R]
	// done, for a request made with Go, receives its result.
	done func(R, error)
}

// Do makes in part of the next call and returns its result. A caller
// whose ctx ends before its request is taken into a call gives up with
// ctx's error; once taken (the call may be in flight) it waits for the
// result.
func (b *Batcher[T, R]) Do(ctx context.Context, in T) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	r := &request[T, R]{in: in, wake: make(chan []*request[T, R], 1)}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	var batch, other []*request[T, R]
	if b.room() {
		b.inFlight++
		batch = b.take()
		if batch[0] != r {
			// An older request, which a key kept out of a batch, leads.
			other, batch = b.give(batch), nil
		}
	}
	b.mu.Unlock()
	if other != nil {
		go b.lead(other)
	}
	if batch == nil {
		select {
		case batch = <-r.wake:
		case <-ctx.Done():
			if b.forget(r) {
				return zero, ctx.Err()
			}
			batch = <-r.wake // taken: the result, or the lead, comes soon
		}
	}
	if batch != nil {
		b.run(batch)
		if next := b.handOff(); next != nil {
			go b.lead(next)
		}
	}
	return r.out, r.err
}

// Go makes in part of the next call without waiting for it: done receives
// the result, called by the goroutine that made the call (this one, before
// Go returns, when no call was in flight). done must not block.
func (b *Batcher[T, R]) Go(in T, done func(R, error)) {
	r := &request[T, R]{in: in, done: done}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	var batch []*request[T, R]
	if b.room() {
		b.inFlight++
		batch = b.give(b.take()) // an older request, whose caller waits, may lead
	}
	b.mu.Unlock()
	if batch != nil {
		b.lead(batch)
	}
}

// give hands a batch to the caller of its first request, who leads it, and
// returns nil; or returns the batch when that request was made with Go (no
// caller waits: the goroutine that took the batch leads it). With b.mu
// held.
func (b *Batcher[T, R]) give(batch []*request[T, R]) []*request[T, R] {
	if batch[0].wake == nil {
		return batch
	}
	batch[0].wake <- batch
	return nil
}

// lead makes the call for a batch whose first request was made with Go,
// and the calls for the next such batches, until a waiting caller leads or
// nothing is left.
func (b *Batcher[T, R]) lead(batch []*request[T, R]) {
	for batch != nil {
		b.run(batch)
		batch = b.handOff()
	}
}

// forget removes r from the waiting requests; false when it was taken.
func (b *Batcher[T, R]) forget(r *request[T, R]) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.pending, r)
	if i < 0 {
		return false
	}
	b.pending = slices.Delete(b.pending, i, i+1)
	return true
}

// room reports, with b.mu held, whether a call may start for the waiting
// requests: when none is in flight, or, up to par, when a full batch
// waits. A second call for a partial batch would only split it, and add
// a commit: the one in flight takes those requests when it ends.
func (b *Batcher[T, R]) room() bool {
	if len(b.pending) == 0 {
		return false
	}
	spill := b.Max
	if b.Spill > 0 {
		spill = min(b.Spill, b.Max)
	}
	return b.inFlight == 0 || (b.inFlight < b.Par && len(b.pending) >= spill)
}

// take removes the next batch from the waiting requests, with b.mu held:
// the oldest, at most max, none with the key of one taken before it (such
// a request waits for the next batch).
func (b *Batcher[T, R]) take() []*request[T, R] {
	batch := make([]*request[T, R], 0, min(len(b.pending), b.Max))
	var seen map[string]bool
	if b.Key != nil {
		seen = make(map[string]bool, cap(batch))
	}
	rest := b.pending[:0]
	for _, r := range b.pending {
		k := ""
		if seen != nil {
			k = b.Key(r.in)
		}
		if len(batch) < b.Max && !seen[k] {
			if seen != nil {
				seen[k] = true
			}
			batch = append(batch, r)
		} else {
			rest = append(rest, r)
		}
	}
	clear(b.pending[len(rest):])
	b.pending = rest
	return batch
}

// run makes the call for a batch led by its first request's caller, and
// wakes the others.
func (b *Batcher[T, R]) run(batch []*request[T, R]) {
	in := make([]T, len(batch))
	for i, r := range batch {
		in[i] = r.in
	}
	out, err := b.Call(in)
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		switch {
		case r.done != nil:
			r.done(r.out, r.err)
		case i > 0:
			r.wake <- nil // never blocks: a request is woken once
		}
	}
}

// handOff gives the next batch to the caller of its first request, who
// makes the next call in place of the one that ended, or returns it when
// that request was made with Go (no caller waits: the goroutine that
// called handOff leads it); with nothing waiting, one call fewer is in
// flight.
func (b *Batcher[T, R]) handOff() []*request[T, R] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inFlight--; !b.room() {
		return nil // another call in flight takes what waits when it ends
	}
	b.inFlight++
	return b.give(b.take())
}
