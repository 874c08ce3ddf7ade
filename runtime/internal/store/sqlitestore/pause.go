package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// SetQueuePaused pauses or resumes a queue (see store.Store), in one
// IMMEDIATE transaction: every claim, of any process, reads the flag
// before or after the change.
func (s *Store) SetQueuePaused(ctx context.Context, name string, paused bool) (was, declared bool, err error) {
	if name == "" {
		return false, false, errors.New("pause queue: empty queue name")
	}
	err = s.inTx(ctx, func(q *sqlitedb.Queries, _ *sql.Tx) error {
		row, err := q.GetQueue(ctx, name)
		switch {
		case err == nil:
			was, declared = row.Paused, row.DeclaredBy != ""
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read queue: %w", err)
		}
		if paused {
			return q.PauseQueue(ctx, name)
		}
		return q.UnpauseQueue(ctx, name)
	})
	if err != nil {
		verb := "resume"
		if paused {
			verb = "pause"
		}
		return false, false, fmt.Errorf("%s queue %q: %w", verb, name, err)
	}
	return was, declared, nil
}
