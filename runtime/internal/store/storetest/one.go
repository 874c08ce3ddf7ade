package storetest

import (
	"context"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store"
)

// InsertOne inserts one workflow with s.InsertWorkflows and reports it the
// way a single insert does: the inserted row with created=true; the existing
// row with created=false when p.ID exists; a *store.DuplicateError when
// p.DedupID is held on p.Queue. For tests (the runtime inserts in batches).
func InsertOne(ctx context.Context, s store.Store, p store.InsertParams) (w store.Workflow, created bool, err error) {
	res, err := s.InsertWorkflows(ctx, []store.InsertParams{p})
	if err != nil {
		return store.Workflow{}, false, err
	}
	if len(res) != 1 {
		return store.Workflow{}, false, fmt.Errorf("InsertWorkflows of one workflow returned %d results", len(res))
	}
	return res[0].Workflow, res[0].Created, res[0].Err
}

// CompleteOne records one workflow's terminal state with s.CompleteMany: ok
// is false (and nothing is written) when the row is not PENDING under
// p.ExecutorID at p.Attempts. For tests (the runtime completes in batches).
func CompleteOne(ctx context.Context, s store.Store, p store.CompleteParams) (ok bool, err error) {
	oks, err := s.CompleteMany(ctx, []store.CompleteParams{p})
	if err != nil {
		return false, err
	}
	if len(oks) != 1 {
		return false, fmt.Errorf("CompleteMany of one outcome returned %d results", len(oks))
	}
	return oks[0], nil
}
