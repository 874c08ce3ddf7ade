// Package migrate is the migration runner of both store engines: it applies
// the embedded migrations (package sql) newer than a database's version, in
// version order, each recorded in the database's migrations table as it is
// applied, all in one transaction that holds the engine's migration lock, so
// that any number of processes opening one database at once migrate it
// exactly once and a failed migration leaves the database as it was.
//
// An engine supplies only what differs: its migration files, how it takes
// the lock and runs a transaction, and how it runs a migration file and the
// bookkeeping queries (sqlc queries of sql/<engine>/queries/migrations.sql).
package migrate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dbosgen/dbosgen/runtime/internal/sentinel"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

// Engine is one database engine as the runner sees it.
type Engine struct {
	// Name is the engine's dialect, "postgres" or "sqlite", for logs.
	Name string
	// Migrations returns the engine's embedded migration files in version
	// order (dbsql.PostgresMigrations or dbsql.SQLiteMigrations).
	Migrations func() ([]dbsql.Migration, error)
	// Locked runs fn in one transaction that holds a lock serializing every
	// process that migrates the database, committing when fn returns nil and
	// rolling back otherwise.
	Locked func(ctx context.Context, fn func(Tx) error) error
}

// Tx is the locked transaction of Engine.Locked.
type Tx interface {
	// Bookkept reports whether the migrations table exists: false on a
	// database no migration was ever applied to.
	Bookkept(ctx context.Context) (bool, error)
	// Version returns the highest version in the migrations table, 0 when
	// none. Called only when Bookkept reported true.
	Version(ctx context.Context) (int64, error)
	// Exec runs the statements of one migration file.
	Exec(ctx context.Context, statements string) error
	// Record adds version to the migrations table.
	Record(ctx context.Context, version int64) error
}

// Run applies e's migrations newer than the database's version. A nil logger
// discards logs. Each applied migration is logged; a database newer than
// every known migration is left alone, with a warning.
func Run(ctx context.Context, e Engine, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	migrations, err := e.Migrations()
	if err != nil {
		return err
	}
	for i := 1; i < len(migrations); i++ {
		if migrations[i].Version <= migrations[i-1].Version {
			return fmt.Errorf("migrations %s and %s are out of order", migrations[i-1].Name, migrations[i].Name)
		}
	}
	return e.Locked(ctx, func(tx Tx) error {
		version, err := currentVersion(ctx, tx)
		if err != nil {
			return fmt.Errorf("read migration version: %w", err)
		}
		for _, m := range migrations {
			if int64(m.Version) <= version {
				continue
			}
			if err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if err := tx.Record(ctx, int64(m.Version)); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
			logger.Info("applied database migration", "engine", e.Name, "migration", m.Name)
		}
		if n := len(migrations); n > 0 && version > int64(migrations[n-1].Version) {
			logger.Warn("database schema is newer than this program",
				"engine", e.Name, "database_version", version, "known_version", migrations[n-1].Version)
		}
		return nil
	})
}

// Check returns an error wrapping sentinel.ErrSchema unless the database
// is at e's newest version or newer; it changes nothing.
func Check(ctx context.Context, e Engine) error {
	migrations, err := e.Migrations()
	if err != nil || len(migrations) == 0 {
		return err
	}
	want := int64(migrations[len(migrations)-1].Version)
	return e.Locked(ctx, func(tx Tx) error {
		version, err := currentVersion(ctx, tx)
		switch {
		case err != nil:
			return fmt.Errorf("read migration version: %w", err)
		case version == 0:
			return fmt.Errorf("%w: the database has no dbosgen schema (want version %d); create it with `dbosctl migrate` or a Launch without Config.NoMigrate", sentinel.ErrSchema, want)
		case version < want:
			return fmt.Errorf("%w: the database's schema is version %d, this program needs %d; upgrade it with `dbosctl migrate` or a Launch without Config.NoMigrate", sentinel.ErrSchema, version, want)
		}
		return nil
	})
}

// currentVersion is the database's version: 0 when it was never migrated.
func currentVersion(ctx context.Context, tx Tx) (int64, error) {
	present, err := tx.Bookkept(ctx)
	if err != nil || !present {
		return 0, err
	}
	return tx.Version(ctx)
}
