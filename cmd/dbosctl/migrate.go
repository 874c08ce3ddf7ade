package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	dbos "github.com/dbosgen/dbosgen/runtime"
	dbsql "github.com/dbosgen/dbosgen/sql"
)

var migrateCommand = &command{
	name:    "migrate",
	summary: "Create the database's schema, or upgrade it to this dbosctl's version.",
	doc: "migrate creates the dbosgen schema in the database (and, for SQLite, the file),\n" +
		"or applies the migrations it lacks, as a Launch of a program of this version\n" +
		"does, and reports what it did. Migrating is safe while other processes use\n" +
		"the database: one process migrates at a time.",
	setup: plain(migrate),
}

// migrateJSON is the -json output of migrate.
type migrateJSON struct {
	Database string `json:"database"`
	// Created reports that the database had no schema (for SQLite: no file).
	Created     bool     `json:"created"`
	CreatedFile bool     `json:"created_file"`
	Applied     []string `json:"applied"`
	Version     int      `json:"version"`
}

func migrate(c *cli, _ []string) error {
	url := c.resolvedURL()
	migrations, err := migrationsOf(url)
	if err != nil {
		return err
	}
	file := sqlitePath(url)
	fileExisted := false
	if file != "" {
		_, err := os.Stat(file)
		fileExisted = err == nil
	}
	applied := newAppliedMigrations(c.warnLogger().Handler())
	rt, err := dbos.Launch(c.ctx, c.config(false, slog.New(applied)))
	if err != nil {
		return fmt.Errorf("migrate database %s: %w", redact(url), err)
	}
	c.rt = rt // closed by run
	if err := c.close(); err != nil {
		return err
	}
	names := applied.list()
	latest := 0
	if n := len(migrations); n > 0 {
		latest = migrations[n-1].Version
	}
	created := len(names) > 0 && len(migrations) > 0 && names[0] == migrations[0].Name
	if c.json {
		if names == nil {
			names = []string{}
		}
		return c.printJSON(migrateJSON{Database: redact(url), Created: created, CreatedFile: file != "" && !fileExisted, Applied: names, Version: latest})
	}
	switch {
	case len(names) == 0:
		fmt.Fprintf(c.stdout, "Database %s is up to date (schema version %d): nothing to do.\n", redact(url), latest)
		return nil
	case created && file != "" && !fileExisted:
		fmt.Fprintf(c.stdout, "Created database file %s with the dbosgen schema, version %d.\n", file, latest)
	case created:
		fmt.Fprintf(c.stdout, "Created the dbosgen schema, version %d, in database %s.\n", latest, redact(url))
	default:
		fmt.Fprintf(c.stdout, "Upgraded the dbosgen schema of database %s from version %d to %d.\n", redact(url), previousVersion(migrations, names[0]), latest)
	}
	fmt.Fprintf(c.stdout, "Applied %d migrations: %s\n", len(names), strings.Join(names, ", "))
	return nil
}

// migrationsOf returns the migrations of url's engine, in version order.
func migrationsOf(url string) ([]dbsql.Migration, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return dbsql.PostgresMigrations()
	}
	if sqlitePath(url) != "" {
		return dbsql.SQLiteMigrations()
	}
	return nil, fmt.Errorf("database URL %q: unsupported scheme; use postgres://... or sqlite:PATH", redact(url))
}

// previousVersion is the version a database had before migration first
// was applied to it.
func previousVersion(migrations []dbsql.Migration, first string) int {
	prev := 0
	for _, m := range migrations {
		if m.Name == first {
			return prev
		}
		prev = m.Version
	}
	return prev
}

// migrationRecord is the message of the runtime's log record for each
// migration it applies, whose attribute "migration" names the file.
const migrationRecord = "applied database migration"

// appliedMigrations is a log handler that collects the migrations the
// runtime applies, and passes warnings and errors on to next.
type appliedMigrations struct {
	next slog.Handler

	mu    *sync.Mutex // shared by the handlers WithAttrs and WithGroup derive
	names *[]string
}

func newAppliedMigrations(next slog.Handler) *appliedMigrations {
	return &appliedMigrations{next: next, mu: &sync.Mutex{}, names: &[]string{}}
}

func (h *appliedMigrations) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (h *appliedMigrations) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == migrationRecord {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "migration" {
				h.mu.Lock()
				*h.names = append(*h.names, a.Value.String())
				h.mu.Unlock()
				return false
			}
			return true
		})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *appliedMigrations) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &appliedMigrations{next: h.next.WithAttrs(attrs), mu: h.mu, names: h.names}
}

func (h *appliedMigrations) WithGroup(name string) slog.Handler {
	return &appliedMigrations{next: h.next.WithGroup(name), mu: h.mu, names: h.names}
}

// list returns the migrations applied, in order.
func (h *appliedMigrations) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *h.names...)
}
