package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a pg_auto_failover formation on local ports: a monitor and
// two Postgres nodes (a primary and a synchronous standby), each run by
// `pg_autoctl run` as the postgres user in its own process group.
type cluster struct {
	dir      string
	bin      string // the Postgres binaries (pg_ctl, ...)
	basePort int    // the monitor's; the nodes take the next two
	asUser   []string
	env      []string
	nodes    [2]*node
	monitor  *exec.Cmd
	logf     func(format string, args ...any)
}

type node struct {
	name  string
	port  int
	pgdat string
	cmd   *exec.Cmd
	log   string
	runs  int
}

// DatabaseName is the database the formation serves.
const DatabaseName = "failover"

func newCluster(dir, bin string, basePort int, logf func(string, ...any)) (*cluster, error) {
	c := &cluster{dir: dir, bin: bin, basePort: basePort, logf: logf}
	c.env = append(os.Environ(),
		"PATH="+bin+":"+os.Getenv("PATH"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "xdg-data"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg-run"),
		"PG_CONFIG="+filepath.Join(bin, "pg_config"),
	)
	if os.Geteuid() == 0 {
		// Postgres refuses to run as root: run pg_autoctl as postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("run as root, but no postgres user to run the cluster as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := chownAll(dir, uid, gid); err != nil {
			return nil, err
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	for i := range c.nodes {
		name := fmt.Sprintf("node%d", i+1)
		c.nodes[i] = &node{name: name, port: basePort + 1 + i, pgdat: filepath.Join(dir, name)}
	}
	return c, nil
}

func chownAll(dir string, uid, gid int) error {
	for _, sub := range []string{"", "xdg-config", "xdg-data", "xdg-run"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// start runs one pg_autoctl command in the background, in its own process
// group, its output appended to logPath.
func (c *cluster) start(logPath string, args ...string) (*exec.Cmd, error) {
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	argv := append(append([]string{}, c.asUser...), append([]string{"env", "PATH=" + c.bin + ":" + os.Getenv("PATH"),
		"XDG_CONFIG_HOME=" + filepath.Join(c.dir, "xdg-config"), "XDG_DATA_HOME=" + filepath.Join(c.dir, "xdg-data"),
		"XDG_RUNTIME_DIR=" + filepath.Join(c.dir, "xdg-run"), "pg_autoctl"}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pg_autoctl %s: %w", strings.Join(args, " "), err)
	}
	go func() { _ = cmd.Wait() }()
	return cmd, nil
}

// MonitorURL is the monitor's database, as the postgres superuser.
func (c *cluster) MonitorURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pg_auto_failover?sslmode=disable&connect_timeout=2", c.basePort)
}

// URL is what the workers use: both nodes, whichever is the primary
// (the runtime adds target_session_attrs=read-write to a multi-host URL).
func (c *cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&connect_timeout=2",
		c.nodes[0].port, c.nodes[1].port, DatabaseName)
}

// Create makes the monitor, the primary and the standby, tunes the
// monitor to fail over within seconds, and waits until the standby is a
// synchronous secondary.
func (c *cluster) Create(ctx context.Context) error {
	monitorData := filepath.Join(c.dir, "monitor")
	var err error
	c.monitor, err = c.start(filepath.Join(c.dir, "monitor.log"), "create", "monitor", "--pgdata", monitorData,
		"--pgport", strconv.Itoa(c.basePort), "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--run")
	if err != nil {
		return err
	}
	if err := waitFor(ctx, 60*time.Second, "the monitor to accept connections", func() error {
		return execOn(ctx, c.MonitorURL(), "SELECT 1 FROM pgautofailover.formation")
	}); err != nil {
		return fmt.Errorf("%w; see %s", err, filepath.Join(c.dir, "monitor.log"))
	}
	// Fail over within seconds of a primary's death (defaults: about 30 s).
	for _, set := range []string{
		"pgautofailover.health_check_period = 1000",
		"pgautofailover.health_check_timeout = 1000",
		"pgautofailover.health_check_max_retries = 1",
		"pgautofailover.health_check_retry_delay = 500",
		"pgautofailover.node_considered_unhealthy_timeout = 3000",
		"pgautofailover.primary_demote_timeout = 5000",
	} {
		if err := execOn(ctx, c.MonitorURL(), "ALTER SYSTEM SET "+set); err != nil {
			return err
		}
	}
	if err := execOn(ctx, c.MonitorURL(), "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	monitorURI := fmt.Sprintf("postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable", c.basePort)
	for i, n := range c.nodes {
		n.log = filepath.Join(c.dir, n.name+".log")
		n.cmd, err = c.start(n.log, "create", "postgres", "--pgdata", n.pgdat, "--pgport", strconv.Itoa(n.port),
			"--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--monitor", monitorURI,
			"--dbname", DatabaseName, "--name", n.name, "--run")
		if err != nil {
			return err
		}
		n.runs++
		want := map[int]string{0: "single", 1: "secondary"}[i]
		if err := c.waitState(ctx, 3*time.Minute, n.name, want); err != nil {
			return err
		}
	}
	return c.waitState(ctx, time.Minute, c.nodes[0].name, "primary")
}

// states reads each node's reported and goal state from the monitor.
func (c *cluster) states(ctx context.Context) (map[string][2]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.MonitorURL())
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node")
	if err != nil {
		return nil, err
	}
	out := map[string][2]string{}
	for rows.Next() {
		var name, reported, goal string
		if err := rows.Scan(&name, &reported, &goal); err != nil {
			return nil, err
		}
		out[name] = [2]string{reported, goal}
	}
	return out, rows.Err()
}

// waitState waits until the node reports the state (and has it as its
// goal), nudging a checkpoint on the nodes now and then: a standby's base
// backup waits for one, which otherwise comes only with checkpoint_timeout.
func (c *cluster) waitState(ctx context.Context, limit time.Duration, name, state string) error {
	last := time.Now()
	err := waitFor(ctx, limit, fmt.Sprintf("%s to be %s", name, state), func() error {
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			for _, n := range c.nodes {
				_ = execOn(ctx, c.nodeURL(n, "postgres"), "CHECKPOINT")
			}
		}
		st, err := c.states(ctx)
		if err != nil {
			return err
		}
		if s, ok := st[name]; !ok || s[0] != state || s[1] != state {
			return fmt.Errorf("states: %v", st)
		}
		return nil
	})
	return err
}

func (c *cluster) nodeURL(n *node, db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=1", n.port, db)
}

// Primary returns the node the monitor has as primary.
func (c *cluster) Primary(ctx context.Context) (*node, error) {
	st, err := c.states(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		if s := st[n.name]; s[0] == "primary" && s[1] == "primary" {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no primary: %v", st)
}

// Other returns the node that is not n.
func (c *cluster) Other(n *node) *node {
	if c.nodes[0] == n {
		return c.nodes[1]
	}
	return c.nodes[0]
}

// Kill kills the node with SIGKILL: its pg_autoctl (which would restart
// Postgres at once) and its postmaster, whose backends then die too.
func (c *cluster) Kill(n *node) error {
	pid, err := postmasterPID(n.pgdat)
	if err != nil {
		return err
	}
	if n.cmd != nil && n.cmd.Process != nil {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("kill postmaster %d of %s: %w", pid, n.name, err)
	}
	return nil
}

// Restart runs the killed node's pg_autoctl again: it rejoins as a
// standby of the new primary (pg_rewind).
func (c *cluster) Restart(n *node) error {
	// The postmaster's children notice its death within a second or so;
	// a new one refuses to start while they hold the data directory.
	_ = waitFor(context.Background(), 10*time.Second, "old backends to exit", func() error {
		if pid, err := postmasterPID(n.pgdat); err == nil && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("postmaster %d alive", pid)
		}
		return nil
	})
	var err error
	n.cmd, err = c.start(n.log, "run", "--pgdata", n.pgdat)
	n.runs++
	return err
}

// Stop kills every process of the formation.
func (c *cluster) Stop() {
	for _, cmd := range []*exec.Cmd{c.monitor, c.nodes[0].cmd, c.nodes[1].cmd} {
		if cmd != nil && cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	for _, dir := range []string{filepath.Join(c.dir, "monitor"), c.nodes[0].pgdat, c.nodes[1].pgdat} {
		if pid, err := postmasterPID(dir); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func postmasterPID(pgdata string) (int, error) {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// execOn runs one statement on a fresh connection.
func execOn(ctx context.Context, url, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// waitFor calls try every 200ms until it returns nil, for at most limit.
func waitFor(ctx context.Context, limit time.Duration, what string, try func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := try()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s: %v", limit, what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
