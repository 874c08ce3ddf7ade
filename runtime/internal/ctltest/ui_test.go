package ctltest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbosgen/dbosgen/examples/tasks"
)

// TestUI: `dbosctl ui` serves the console of the database on a loopback
// address, shows the queues, refuses a POST without the console's token,
// and stops cleanly on SIGINT; an address other machines reach needs a
// password.
func TestUI(t *testing.T) {
	engines(t, func(t *testing.T, dbURL string) {
		worker(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, dbosctl, "ui", "-addr", "127.0.0.1:0", "-database-url", dbURL)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("read dbosctl ui's first line: %v (%q)", err, line)
		}
		m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(line)
		if m == "" {
			t.Fatalf("dbosctl ui printed %q; want its http://127.0.0.1:PORT/ address", line)
		}

		resp, err := http.Get(m)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tasks.TaskQueue.Name()) {
			t.Errorf("GET %s = %s; want 200 showing queue %s:\n%.2000s", m, resp.Status, tasks.TaskQueue.Name(), body)
		}
		resp, err = http.PostForm(m+"queues/"+url.PathEscape(tasks.TaskQueue.Name())+"/pause", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST pause without the console's token = %s; want 403", resp.Status)
		}

		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("dbosctl ui after SIGINT: %v; want exit 0", err)
		}
	})
	fails(t, 2, []string{"reachable from other machines", "DBOS_UI_PASSWORD"}, "ui", "-addr", "0.0.0.0:0")
	fails(t, 2, []string{"-addr"}, "ui", "-addr", "nonsense")
}
