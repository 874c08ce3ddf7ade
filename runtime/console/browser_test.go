package console_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/console"
	"github.com/dbosgen/dbosgen/runtime/console/internal/consoletest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

var update = flag.Bool("update", false, "write the browser test's screenshots to docs/console/*.png")

// requireChromiumEnv, set to 1, turns "no Chromium" from a skip into a
// failure (as in CI).
const requireChromiumEnv = "DBOS_TEST_REQUIRE_CHROMIUM"

// screenshotDir is where -update writes the screenshots, from this
// package's folder.
const screenshotDir = "../../docs/console"

// The browser's window, and so the screenshots' size.
const windowW, windowH = 1280, 800

// chromium returns the path of a Chromium or Chrome binary, or skips the
// test (fails it with DBOS_TEST_REQUIRE_CHROMIUM=1) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium, chromium-browser or google-chrome on $PATH"
	if os.Getenv(requireChromiumEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, requireChromiumEnv)
	}
	t.Skipf("%s (set %s=1 to fail instead of skipping)", msg, requireChromiumEnv)
	return ""
}

// browser starts a headless Chromium with a 1280x800 window and returns a
// context for its tab; it fails the test on any uncaught exception or
// Content-Security-Policy violation in the pages.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.WindowSize(windowW, windowH),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(windowW, windowH)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				t.Errorf("browser console: %s", m)
			} else {
				t.Logf("browser console: %s", m)
			}
		}
	})
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
		wg.Wait()
	})
	return ctx
}

// do runs browser actions, failing the test on error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// waitFor waits until the JavaScript expression is true in the page.
func (b *tab) waitFor(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.t.Fatalf("wait until %s (%s): %v", what, expr, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot writes the viewport (or the whole page) as docs/console/name
// with -update; without it, it writes nothing.
func (b *tab) screenshot(name string, full bool) {
	b.t.Helper()
	if !b.shots {
		return
	}
	// Wait for the toast of an action to go, and take the page at rest.
	b.waitFor("the toast is hidden", `document.getElementById("toast").hidden`)
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s", path)
}

// tab is a browser tab on a console.
type tab struct {
	t     *testing.T
	ctx   context.Context
	srv   string // the console's URL
	shots bool   // write screenshots
}

// TestBrowser drives the console in headless Chromium as an operator would,
// on SQLite and on Postgres: it finds the queues, pauses and resumes one with
// its button, opens a running workflow from the list, cancels it with its
// button, watches another finish without reloading, and forks a finished
// one. With -update it writes the screenshots of docs/console (SQLite only).
func TestBrowser(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		browse(t, "sqlite", "sqlite:"+testdb.SQLitePath(t), *update)
	})
	t.Run("postgres", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short: SQLite only")
		}
		browse(t, "pg", testdb.PostgresURL(t), false)
	})
}

func browse(t *testing.T, engine, dbURL string, shots bool) {
	rt := launchOn(t, dbURL)
	ctx := rt.WithContext(context.Background())
	srv := serve(t, rt, console.Options{Refresh: 250 * time.Millisecond})
	b := &tab{t: t, ctx: browser(t), srv: srv.URL, shots: shots}
	id := func(s string) string { return engine + "-" + s }

	// Finished work: an order of three items, and one whose packing failed.
	shipped := order(t, rt, id("order-1001"), consoletest.Order{ID: "1001", Customer: "ada@example.com", Items: []string{"lamp", "desk", "chair"}})
	order(t, rt, id("order-1002"), consoletest.Order{ID: "1002", Customer: "bob@example.com", Items: []string{"vase", "fail:vase out of stock"}})
	// Running work: a job held at its gate (to cancel), and an order held
	// after it charged (to watch it finish).
	held := hold(t, rt, id("job-7"))
	gated := id("order-1003")
	entered, release := consoletest.NewGate(gated)
	t.Cleanup(release)
	if _, err := consoletest.EnqueueProcessOrder(ctx, consoletest.Orders, consoletest.Order{ID: "1003", Customer: "cy@example.com", Items: []string{"pen", "ink"}, Gate: gated}, dbos.WithID(gated)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("order 1003 did not reach its gate")
	}

	// The queues page shows the test's queues; the two held workflows run.
	const orders, packing = `tr[data-queue="console_orders"]`, `tr[data-queue="console_packing"]`
	b.do("open the queues page", chromedp.Navigate(b.srv+"/"), chromedp.WaitVisible(chromedp.CSS(orders)), chromedp.WaitVisible(chromedp.CSS(packing)))
	b.waitFor("console_orders runs 2", textIs(orders+" .running", "2"))
	b.mark()

	// Pause console_orders with its button, and resume it.
	b.do("press Pause on console_orders", chromedp.Click(chromedp.CSS(orders+" button")))
	b.waitFor("console_orders shows paused", textIs(orders+" .status", "paused"))
	b.waitFor("the toast says so", textIs("#toast", "Queue console_orders paused"))
	if !queuePaused(t, rt, "console_orders") {
		t.Fatal("the Pause button did not pause console_orders")
	}
	b.do("press Resume on console_orders", chromedp.Click(chromedp.CSS(orders+" button")))
	b.waitFor("console_orders shows active", textIs(orders+" .status", "active"))
	if queuePaused(t, rt, "console_orders") {
		t.Fatal("the Resume button did not resume console_orders")
	}

	// Pause console_packing, so that a new order's items wait on it.
	b.do("press Pause on console_packing", chromedp.Click(chromedp.CSS(packing+" button")))
	b.waitFor("console_packing shows paused", textIs(packing+" .status", "paused"))
	waiting, err := consoletest.EnqueueProcessOrder(ctx, consoletest.Orders, consoletest.Order{ID: "1004", Customer: "dee@example.com", Items: []string{"rug", "mat"}}, dbos.WithID(id("order-1004")))
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor("two items wait on console_packing, live", textIs(packing+" .enqueued", "2"))
	b.screenshot("queues.png", false)
	b.do("press Resume on console_packing", chromedp.Click(chromedp.CSS(packing+" button")))
	b.waitFor("console_packing shows active", textIs(packing+" .status", "active"))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := waiting.GetResult(wctx); err != nil {
		t.Fatalf("order 1004 after its queue resumed: %v", err)
	}
	b.waitFor("console_packing is empty again", textIs(packing+" .enqueued", "0"))
	b.unmoved("the queue actions")

	// The workflows page lists the held job: open it and cancel it.
	row := fmt.Sprintf(`tr[data-id=%q]`, held)
	b.do("open the workflows page", chromedp.Navigate(b.srv+"/workflows"), chromedp.WaitVisible(chromedp.CSS(row)))
	b.do("open the held job", chromedp.Click(chromedp.CSS(row+" a.id")), chromedp.WaitVisible(chromedp.ID("cancel")))
	if path := eval[string](b, "location.pathname"); path != "/workflows/"+held {
		t.Fatalf("the job's link led to %s", path)
	}
	b.waitFor("the job shows PENDING", textIs("#wf-state", "PENDING"))
	b.mark()
	b.do("press Cancel", chromedp.Click(chromedp.ID("cancel")))
	b.waitFor("the job shows CANCELLED", textIs("#wf-state", "CANCELLED"))
	b.do("the Resume button appears", chromedp.WaitVisible(chromedp.ID("resume")))
	b.unmoved("Cancel")
	if st := status(t, rt, held); st.State != dbos.StateCancelled {
		t.Fatalf("after Cancel the job is %s", st.State)
	}

	// The held order's page follows it to its end, without a reload.
	b.do("open order 1003", chromedp.Navigate(b.srv+"/workflows/"+gated), chromedp.WaitVisible(chromedp.ID("wf-state")))
	b.waitFor("order 1003 shows PENDING", textIs("#wf-state", "PENDING"))
	b.mark()
	release()
	b.waitFor("order 1003 shows SUCCESS, live", textIs("#wf-state", "SUCCESS"))
	b.waitFor("its output shows", `document.querySelectorAll("pre.json")[1].textContent.includes("cy@example.com charged")`)
	b.unmoved("the live refresh")

	b.do("open the workflows page", chromedp.Navigate(b.srv+"/workflows"), chromedp.WaitVisible(chromedp.CSS(row)))
	b.waitFor("it lists the cancelled job", textIs(row+" .badge", "CANCELLED"))
	b.screenshot("workflows.png", false)

	// The shipped order's page: 8 steps on the timeline, 3 children.
	b.do("open order 1001", chromedp.Navigate(b.srv+"/workflows/"+shipped), chromedp.WaitVisible(chromedp.CSS(".tree")))
	if n := eval[int](b, `document.querySelectorAll(".steps svg.timeline rect.bar").length`); n != 8 {
		t.Errorf("the timeline has %d bars, want 8 (validate, 3 enqueues, 3 results, charge)", n)
	}
	if n := eval[int](b, `document.querySelectorAll(".tree > li .badge-success").length`); n != 3 {
		t.Errorf("the children tree shows %d successful children, want 3", n)
	}
	b.screenshot("workflow.png", true)

	// Fork it from step 8 (the charge): the browser goes to the fork's page.
	b.do("set the step", chromedp.SetValue(chromedp.CSS(`input[name="step"]`), "8"))
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("fork")))); err != nil {
		t.Fatalf("press Fork: %v", err)
	}
	b.do("the fork's page opens", chromedp.WaitVisible(chromedp.ID("wf-state")))
	forked, err := url.PathUnescape(strings.TrimPrefix(eval[string](b, "location.pathname"), "/workflows/"))
	if err != nil || forked == shipped {
		t.Fatalf("after Fork the browser shows /workflows/%s (%v)", forked, err)
	}
	fh, err := consoletest.RetrieveProcessOrder(ctx, forked)
	if err != nil {
		t.Fatalf("the fork %q: %v", forked, err)
	}
	if r, err := fh.GetResult(wctx); err != nil || r.Order != "1001" {
		t.Fatalf("the fork's result: %+v, %v", r, err)
	}
	b.waitFor("the fork's page shows SUCCESS", textIs("#wf-state", "SUCCESS"))
}

// textIs is a JavaScript test that the element sel's trimmed text is want.
func textIs(sel, want string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim() === %q`, sel, want)
}

// mark sets a mark on the page's window, which a reload would clear.
func (b *tab) mark() {
	b.t.Helper()
	eval[bool](b, "(window.consoleTestMark = true)")
}

// unmoved fails the test when the page was reloaded since mark.
func (b *tab) unmoved(what string) {
	b.t.Helper()
	if !eval[bool](b, "window.consoleTestMark === true") {
		b.t.Fatalf("%s reloaded the page", what)
	}
}

func queuePaused(t *testing.T, rt *dbos.Runtime, name string) bool {
	t.Helper()
	qs, err := dbos.ListQueues(rt.WithContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == name {
			return q.Paused
		}
	}
	t.Fatalf("no queue %s", name)
	return false
}
