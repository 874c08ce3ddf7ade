package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dbosgen/dbosgen/runtime/console"
)

// DefaultUIAddr is where `dbosctl ui` listens unless -addr says otherwise:
// this machine only.
const DefaultUIAddr = "127.0.0.1:8910"

var uiCommand = &command{
	name:     "ui",
	synopsis: "[-addr HOST:PORT] [-user NAME]",
	summary:  "Serve the web console: queues, workflows, steps; pause, cancel, resume, fork.",
	doc: "ui serves the web console (package runtime/console) for the database until\n" +
		"interrupted. It listens on " + DefaultUIAddr + " by default, this machine only. To\n" +
		"listen on another address, set -user and the password in $DBOS_UI_PASSWORD:\n" +
		"every request then needs them (HTTP basic auth; put TLS in front of it).\n" +
		"Actions are POSTs that a page of another site cannot forge.",
	setup: func(fs *flag.FlagSet) func(c *cli, args []string) error {
		addr := fs.String("addr", DefaultUIAddr, "the `HOST:PORT` to listen on")
		user := fs.String("user", "", "the basic-auth user `NAME`; the password is $DBOS_UI_PASSWORD")
		return func(c *cli, _ []string) error { return serveUI(c, *addr, *user, os.Getenv("DBOS_UI_PASSWORD")) }
	},
}

// serveUI serves the console on addr until the command's context ends.
func serveUI(c *cli, addr, user, password string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("-addr %q: %v; use HOST:PORT, such as %s", addr, err, DefaultUIAddr)
	}
	loopback := host == "localhost" || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback())
	switch {
	case (user == "") != (password == ""):
		return usagef("basic auth needs both -user and $DBOS_UI_PASSWORD")
	case !loopback && user == "":
		return usagef("-addr %s is reachable from other machines: set -user and $DBOS_UI_PASSWORD to require a password, or listen on 127.0.0.1", addr)
	}
	if _, err := c.open(); err != nil {
		return err
	}
	opts := console.Options{Username: user, Password: password}
	if loopback {
		// Refuse other host names: a page elsewhere cannot reach the
		// console through DNS rebinding.
		opts.AllowedHosts = []string{"127.0.0.1", "localhost", "::1"}
	}
	h, err := console.New(c.rt, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.stdout, "Console of %s on http://%s/ (Ctrl-C to stop)\n", c.database(), ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve the console: %w", err)
	case <-c.ctx.Done():
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop the console: %w", err)
	}
	return nil
}
