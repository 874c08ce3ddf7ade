package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// shutdownTimeout bounds the Shutdown of dbosctl's runtime, which runs
// nothing: it only closes the database.
const shutdownTimeout = 10 * time.Second

// resolvedURL is the database dbosctl uses: -database-url, else
// $DBOS_DATABASE_URL, else the embedded default.
func (c *cli) resolvedURL() string {
	if c.databaseURL != "" {
		return c.databaseURL
	}
	if u := os.Getenv("DBOS_DATABASE_URL"); u != "" {
		return u
	}
	return dbos.DefaultDatabaseURL
}

// config is the Config of dbosctl's runtime: a client that runs nothing,
// under an executor ID of its own (never $DBOS_EXECUTOR_ID, which may be a
// worker's: a client with a worker's ID would renew the worker's lease).
func (c *cli) config(noMigrate bool, logger *slog.Logger) dbos.Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return dbos.Config{
		DatabaseURL: c.resolvedURL(),
		ExecutorID:  fmt.Sprintf("dbosctl-%s-%d", host, os.Getpid()),
		Logger:      logger,
		ClientOnly:  true,
		NoMigrate:   noMigrate,
	}
}

// warnLogger passes the runtime's warnings and errors to stderr.
func (c *cli) warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// open launches dbosctl's runtime on a database already migrated, and
// returns a context bound to it. It refuses, with the fix, a database
// without this version's schema and a SQLite file that does not exist.
func (c *cli) open() (context.Context, error) {
	if c.rt != nil {
		return c.rt.WithContext(c.ctx), nil
	}
	cfg := c.config(true, c.warnLogger())
	rt, err := dbos.Launch(c.ctx, cfg)
	switch {
	case err == nil:
		c.rt = rt
		return rt.WithContext(c.ctx), nil
	case errors.Is(err, fs.ErrNotExist) && sqlitePath(cfg.DatabaseURL) != "":
		return nil, fmt.Errorf("no database file %s (database %s): run `dbosctl migrate` with the same database to create it, or set -database-url or $DBOS_DATABASE_URL to an existing database",
			sqlitePath(cfg.DatabaseURL), redact(cfg.DatabaseURL))
	case errors.Is(err, dbos.ErrSchema):
		return nil, fmt.Errorf("database %s is not ready for this dbosctl: %w\n"+
			"dbosctl changes no schema unless asked: run `dbosctl migrate` with the same database to create or upgrade it",
			redact(cfg.DatabaseURL), err)
	default:
		return nil, fmt.Errorf("open database %s: %w", redact(cfg.DatabaseURL), err)
	}
}

// close shuts the runtime down, if a command launched it.
func (c *cli) close() error {
	if c.rt == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), shutdownTimeout)
	defer cancel()
	err := c.rt.Shutdown(ctx)
	c.rt = nil
	return err
}

// database names the database in messages, without its password.
func (c *cli) database() string { return redact(c.resolvedURL()) }

// sqlitePath is the file of a sqlite: URL, "" for another URL.
func sqlitePath(u string) string {
	path, ok := strings.CutPrefix(u, "sqlite:")
	if !ok {
		return ""
	}
	return strings.TrimPrefix(path, "//")
}

var passwordField = regexp.MustCompile(`password=[^&\s]*`)

// redact hides a password in a database URL.
func redact(u string) string {
	if strings.HasPrefix(u, "sqlite:") {
		return u
	}
	if p, err := url.Parse(u); err == nil && p.Scheme != "" {
		u = p.Redacted()
	}
	return passwordField.ReplaceAllString(u, "password=xxxxx")
}
