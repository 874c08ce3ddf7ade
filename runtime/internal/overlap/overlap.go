// Package overlap counts how many intervals are open at once. Tests use it
// to check a concurrency limit after the fact, from recorded start and end
// times.
package overlap

import (
	"cmp"
	"slices"
)

// Interval is [Start, End): an interval that ends when another starts does
// not overlap it.
type Interval struct{ Start, End int64 }

// Max returns the most intervals open at one instant, and how many interval
// starts took the count above limit.
func Max(ivs []Interval, limit int) (most, over int) {
	type edge struct {
		at    int64
		delta int
	}
	edges := make([]edge, 0, 2*len(ivs))
	for _, iv := range ivs {
		edges = append(edges, edge{iv.Start, +1}, edge{iv.End, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta // ends first: touching is not overlapping
	})
	open := 0
	for _, e := range edges {
		open += e.delta
		most = max(most, open)
		if e.delta > 0 && open > limit {
			over++
		}
	}
	return most, over
}
