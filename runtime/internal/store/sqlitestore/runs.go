package sqlitestore

import (
	"github.com/dbosgen/dbosgen/runtime/internal/store"
	"github.com/dbosgen/dbosgen/runtime/internal/store/internal/storekit"
)

// runsArgs is a store.Runs as SQLite's statements take it: the lists as
// JSON arrays, which they read with json_each.
type runsArgs struct {
	any        int64 // 1: runs anything
	version    string
	names      string
	signatures string
}

// encodedRuns is the last Runs a store encoded, with its encoding.
type encodedRuns struct {
	runs *store.Runs
	args runsArgs
}

// runsOf returns r's statement arguments. An executor passes the same
// Runs, never changed, to every claim: its encoding is kept, so that the
// claims, the hot path, do not encode it again.
func (s *Store) runsOf(r *store.Runs) runsArgs {
	if last := s.lastRuns.Load(); last != nil && last.runs == r {
		return last.args
	}
	a := storekit.RunsOf(r)
	args := runsArgs{version: a.Version, names: storekit.JSONText(a.Names), signatures: storekit.JSONText(a.Signatures)}
	if a.Any {
		args.any = 1
	}
	s.lastRuns.Store(&encodedRuns{runs: r, args: args})
	return args
}
