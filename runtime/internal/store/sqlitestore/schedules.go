package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dbosgen/dbosgen/runtime/internal/store/sqlitestore/sqlitedb"
)

// RecordTick implements store.Store.
func (s *Store) RecordTick(ctx context.Context, name string, at time.Time) error {
	err := s.write(func() error {
		return s.q.RecordTick(ctx, sqlitedb.RecordTickParams{Name: name, LastTickMs: at.UnixMilli()})
	})
	if err != nil {
		return fmt.Errorf("record tick %s of schedule %s: %w", at.UTC().Format(time.RFC3339), name, err)
	}
	return nil
}

// LastTick implements store.Store.
func (s *Store) LastTick(ctx context.Context, name string) (time.Time, bool, error) {
	ms, err := s.q.LastTick(ctx, name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("read the last tick of schedule %s: %w", name, err)
	}
	return time.UnixMilli(ms).UTC(), true, nil
}
