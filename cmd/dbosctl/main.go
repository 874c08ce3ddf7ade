package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one node of dbosctl's command tree: a group (subs) or a leaf
// (run).
type command struct {
	name     string
	synopsis string // what follows the command's path in its usage line
	summary  string // one line, in its parent's list of commands
	doc      string // the paragraphs of its -h, after the usage line
	subs     []*command
	// setup defines a leaf's own flags and returns the function that runs
	// it with its positional arguments, named by args.
	setup func(fs *flag.FlagSet) func(c *cli, args []string) error
	args  []string
}

// root is dbosctl's command table.
var root = &command{
	name:     "dbosctl",
	synopsis: "[-database-url URL] [-json] <command> [arguments]",
	doc: "dbosctl inspects and operates the workflows and queues of a dbosgen database.\n" +
		"It never changes a database's schema unless asked: a database that is missing\n" +
		"or not migrated to this dbosctl's version is refused until `dbosctl migrate`.",
	subs: []*command{workflowCommand, queueCommand, uiCommand, migrateCommand},
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
)

// cli is one run of dbosctl: its output, its global flags and, once a
// command opened it, the database.
type cli struct {
	stdout, stderr io.Writer
	ctx            context.Context

	databaseURL string // -database-url
	json        bool   // -json

	rt *dbos.Runtime // see open
}

// run runs dbosctl with the command-line arguments args and returns the
// exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, ctx: ctx}
	err := c.dispatch(root, []string{root.name}, args)
	if cerr := c.close(); err == nil {
		err = cerr
	}
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %s\n", strings.Join(usage.path, " "), usage.msg)
		fmt.Fprintf(stderr, "usage: %s\n", usageLine(usage.cmd, usage.path))
		fmt.Fprintf(stderr, "Run '%s -h' for help.\n", strings.Join(usage.path, " "))
		return exitUsage
	default:
		fmt.Fprintf(stderr, "dbosctl: %v\n", err)
		return exitError
	}
}

// usageError is a wrong command line: dbosctl prints the message and the
// command's usage line and exits 2.
type usageError struct {
	cmd  *command
	path []string
	msg  string
}

func (e *usageError) Error() string { return e.msg }

// errHelpShown ends a run whose -h printed the usage.
var errHelpShown = errors.New("help shown")

// dispatch parses args for cmd, reached by path, and runs it: a group
// hands the rest of the line to the subcommand it names.
func (c *cli) dispatch(cmd *command, path []string, args []string) error {
	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, help by help
	fs.Usage = func() {}
	var leaf func(c *cli, args []string) error
	if cmd.setup != nil {
		leaf = cmd.setup(fs)
	}
	c.globalFlags(fs)
	usage := func(format string, a ...any) error {
		return &usageError{cmd: cmd, path: path, msg: fmt.Sprintf(format, a...)}
	}
	if cmd.subs != nil {
		if err := fs.Parse(args); err != nil {
			return c.flagError(cmd, path, fs, err)
		}
		if fs.NArg() == 0 {
			return usage("missing command; want one of: %s", strings.Join(names(cmd.subs), ", "))
		}
		name := fs.Arg(0)
		for _, sub := range cmd.subs {
			if sub.name == name {
				return c.dispatch(sub, append(path, name), fs.Args()[1:])
			}
		}
		return usage("unknown command %q; want one of: %s", name, strings.Join(names(cmd.subs), ", "))
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return c.flagError(cmd, path, fs, err)
	}
	if len(pos) < len(cmd.args) {
		return usage("missing %s", strings.Join(cmd.args[len(pos):], " "))
	}
	if len(pos) > len(cmd.args) {
		return usage("unexpected argument %q", pos[len(cmd.args)])
	}
	err = leaf(c, pos)
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd == nil {
		ue.cmd, ue.path = cmd, path
	}
	return err
}

// usagef returns a usage error of the command being run.
func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// flagError turns an error of FlagSet.Parse into -h's help or a usage
// error.
func (c *cli) flagError(cmd *command, path []string, fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		help(c.stdout, cmd, path, fs)
		return errHelpShown
	}
	return &usageError{cmd: cmd, path: path, msg: err.Error()}
}

// parseInterspersed parses flags anywhere among the positional arguments
// ("workflow fork ID -from-step 3"), and returns the positional ones. After
// "--" every argument is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, fs.Args()...), nil
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// globalFlags defines the flags every command takes, before or after its
// name; a later one wins.
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.databaseURL, "database-url", c.databaseURL,
		"the database `URL`: postgres://... or sqlite:PATH (default $DBOS_DATABASE_URL, else "+dbos.DefaultDatabaseURL+")")
	fs.BoolVar(&c.json, "json", c.json, "print one JSON document on stdout, for scripts")
}

var globalFlagNames = map[string]bool{"database-url": true, "json": true}

// help prints cmd's usage, for -h.
func help(w io.Writer, cmd *command, path []string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n", usageLine(cmd, path))
	if cmd.doc != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.doc)
	}
	if cmd.subs != nil {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, leaf := range leaves(cmd, path) {
			fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace(strings.Join(leaf.path[1:], " ")+" "+leaf.cmd.synopsis), leaf.cmd.summary)
		}
	}
	printFlags := func(title string, global bool) {
		first := true
		fs.VisitAll(func(f *flag.Flag) {
			if globalFlagNames[f.Name] != global {
				return
			}
			if first {
				fmt.Fprintf(w, "\n%s:\n", title)
				first = false
			}
			name, text := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			if d := f.DefValue; !global && d != "" && d != "false" && d != "0" {
				text += fmt.Sprintf(" (default %s)", d)
			}
			fmt.Fprintf(w, "\n      %s\n", text)
		})
	}
	printFlags("Flags", false)
	printFlags("Global flags (before the command or after it)", true)
	if cmd.subs != nil {
		fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's details.\n", strings.Join(path, " "))
	}
}

// usageLine is cmd's synopsis after its path.
func usageLine(cmd *command, path []string) string {
	line := strings.Join(path, " ")
	if cmd.synopsis != "" {
		line += " " + cmd.synopsis
	}
	return line
}

type pathed struct {
	cmd  *command
	path []string
}

// leaves returns the leaf commands under cmd, in table order.
func leaves(cmd *command, path []string) []pathed {
	if cmd.subs == nil {
		return []pathed{{cmd, path}}
	}
	var out []pathed
	for _, sub := range cmd.subs {
		out = append(out, leaves(sub, append(path[:len(path):len(path)], sub.name))...)
	}
	return out
}

func names(cmds []*command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.name
	}
	return out
}
