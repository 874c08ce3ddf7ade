package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
	"github.com/dbosgen/dbosgen/runtime/console"
	"github.com/dbosgen/dbosgen/runtime/console/internal/consoletest"
	"github.com/dbosgen/dbosgen/runtime/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// launch launches a runtime on a fresh SQLite database and shuts it down
// when the test ends.
func launch(t *testing.T) *dbos.Runtime {
	t.Helper()
	return launchOn(t, "sqlite:"+testdb.SQLitePath(t))
}

func launchOn(t *testing.T, dbURL string) *dbos.Runtime {
	t.Helper()
	rt, err := dbos.Launch(context.Background(), dbos.Config{DatabaseURL: dbURL})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
	})
	return rt
}

// serve serves rt's console with opts and returns its server.
func serve(t *testing.T, rt *dbos.Runtime, opts console.Options) *httptest.Server {
	t.Helper()
	h, err := console.New(rt, opts)
	if err != nil {
		t.Fatalf("console.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and reads the whole response.
func do(t *testing.T, method, u string, form url.Values, header http.Header) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func get(t *testing.T, u string) response { t.Helper(); return do(t, http.MethodGet, u, nil, nil) }

// want fails the test unless r has the status and contains every string.
func (r response) want(t *testing.T, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	for _, s := range contains {
		if !strings.Contains(r.body, s) {
			t.Errorf("the page does not contain %q; body:\n%s", s, r.body)
		}
	}
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([0-9a-f]+)"`)

// token reads the console's token from one of its pages.
func token(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(get(t, srv.URL+"/").body)
	if m == nil {
		t.Fatal("the queues page has no form with a token")
	}
	return m[1]
}

// post sends a same-origin form POST, as the console's pages do.
func post(t *testing.T, srv *httptest.Server, path string, form url.Values) response {
	t.Helper()
	h := http.Header{"Origin": {srv.URL}, "Sec-Fetch-Site": {"same-origin"}}
	return do(t, http.MethodPost, srv.URL+path, form, h)
}

// order runs an order to its end and returns its ID.
func order(t *testing.T, rt *dbos.Runtime, id string, o consoletest.Order) string {
	t.Helper()
	ctx := rt.WithContext(context.Background())
	h, err := consoletest.EnqueueProcessOrder(ctx, consoletest.Orders, o, dbos.WithID(id))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, _ = h.GetResult(ctx)
	return h.ID()
}

// hold enqueues a Hold workflow at a new gate, waits until it runs there,
// and returns its ID; the gate opens when the test ends.
func hold(t *testing.T, rt *dbos.Runtime, id string) string {
	t.Helper()
	entered, open := consoletest.NewGate(id)
	t.Cleanup(open)
	h, err := consoletest.EnqueueHold(rt.WithContext(context.Background()), consoletest.Orders, id, dbos.WithID(id))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("workflow %s did not reach its gate", id)
	}
	return h.ID()
}

func status(t *testing.T, rt *dbos.Runtime, id string) dbos.Status {
	t.Helper()
	st, err := dbos.WorkflowStatus(rt.WithContext(context.Background()), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestNewRefusesNil(t *testing.T) {
	if _, err := console.New(nil, console.Options{}); err == nil {
		t.Fatal("New(nil) did not fail")
	}
}

func TestQueuesPage(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{Title: "Acme ops"})
	hold(t, rt, "held-1")
	r := get(t, srv.URL+"/")
	r.want(t, http.StatusOK,
		"<title>Queues · Acme ops</title>",
		`data-queue="console_orders"`, `data-queue="console_packing"`,
		"/ 4",           // running against Concurrency(4)
		"/ 120 per 1m",  // rate-limit use
		"8 per process", // WorkerConcurrency(8)
		`<button class="btn" type="submit">Pause</button>`,
	)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestPauseAndResumeQueue(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	tok := token(t, srv)
	paused := func() bool {
		qs, err := dbos.ListQueues(rt.WithContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.Name == "console_orders" {
				return q.Paused
			}
		}
		t.Fatal("no queue console_orders")
		return false
	}

	r := post(t, srv, "/queues/console_orders/pause", url.Values{"csrf_token": {tok}})
	r.want(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/#queue-console_orders") {
		t.Errorf("pause redirects to %q", loc)
	}
	if !paused() {
		t.Fatal("the queue is not paused")
	}
	get(t, srv.URL+"/").want(t, http.StatusOK, `<span class="badge badge-paused">paused</span>`, `action="/queues/console_orders/resume"`)

	post(t, srv, "/queues/console_orders/resume", url.Values{"csrf_token": {tok}}).want(t, http.StatusSeeOther)
	if paused() {
		t.Fatal("the queue is still paused")
	}

	post(t, srv, "/queues/no_such_queue/pause", url.Values{"csrf_token": {tok}}).
		want(t, http.StatusNotFound, "There is no queue named &#34;no_such_queue&#34;")
}

func TestWorkflowsPage(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	ok := order(t, rt, "order-ok", consoletest.Order{ID: "A1", Customer: "ada", Items: []string{"lamp"}})
	bad := order(t, rt, "order-bad", consoletest.Order{ID: "A2", Customer: "bob", Items: []string{"fail:out of stock"}})

	all := get(t, srv.URL+"/workflows")
	all.want(t, http.StatusOK, `href="/workflows/order-ok"`, `href="/workflows/order-bad"`, "consoletest.ProcessOrder", "consoletest.PackItem",
		`<span class="badge badge-success">SUCCESS</span>`, `<span class="badge badge-error">ERROR</span>`)
	if strings.Index(all.body, `href="/workflows/order-bad"`) > strings.Index(all.body, `href="/workflows/order-ok"`) {
		t.Error("the newest workflow is not first")
	}

	r := get(t, srv.URL+"/workflows?state=success&name="+url.QueryEscape("github.com/dbosgen/dbosgen/runtime/console/internal/consoletest.ProcessOrder"))
	r.want(t, http.StatusOK, `href="/workflows/`+ok+`"`)
	if strings.Contains(r.body, `href="/workflows/`+bad+`"`) {
		t.Error("state=SUCCESS lists the failed workflow")
	}
	get(t, srv.URL+"/workflows?queue=console_packing&since=1h").want(t, http.StatusOK, "consoletest.PackItem")
	get(t, srv.URL+"/workflows?queue=nothing").want(t, http.StatusOK, "No workflow matches these filters.")

	// Paging: one a page, newest first.
	p1 := get(t, srv.URL+"/workflows?name=github.com/dbosgen/dbosgen/runtime/console/internal/consoletest.ProcessOrder&limit=1")
	p1.want(t, http.StatusOK, `href="/workflows/order-bad"`, `rel="next"`, "1–1, newest first")
	if strings.Contains(p1.body, `rel="prev"`) {
		t.Error("the first page links to a newer one")
	}
	p2 := get(t, srv.URL+"/workflows?name=github.com/dbosgen/dbosgen/runtime/console/internal/consoletest.ProcessOrder&limit=1&offset=1")
	p2.want(t, http.StatusOK, `href="/workflows/order-ok"`, `rel="prev"`, "2–2, newest first")
	if strings.Contains(p2.body, `rel="next"`) {
		t.Error("the last page links to an older one")
	}

	for query, msg := range map[string]string{
		"state=RUNNING":   "Unknown state &#34;RUNNING&#34;: use one of ENQUEUED, PENDING, SUCCESS, ERROR, CANCELLED, DEAD_LETTER.",
		"since=yesterday": "Since &#34;yesterday&#34; is neither a duration",
		"since=-5m":       "is negative",
		"offset=-1":       "Offset &#34;-1&#34; is not a whole number of 0 or more.",
		"limit=0":         "Limit &#34;0&#34; is not a whole number from 1 to 1000.",
		"limit=abc":       "Limit &#34;abc&#34; is not a whole number",
	} {
		// The page comes back with the filters as typed, and what is wrong.
		get(t, srv.URL+"/workflows?queue=kept&"+query).want(t, http.StatusBadRequest, "Bad request:", msg, `name="queue" value="kept"`)
	}
	for _, since := range []string{"90s", "7d", "2020-01-02", "2020-01-02T15:04:05Z"} {
		get(t, srv.URL+"/workflows?since="+url.QueryEscape(since)).want(t, http.StatusOK, `href="/workflows/order-ok"`)
	}
}

func TestWorkflowPage(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	id := order(t, rt, "order-42", consoletest.Order{ID: "42", Customer: "ada", Items: []string{"lamp", "desk"}})

	r := get(t, srv.URL+"/workflows/"+id)
	r.want(t, http.StatusOK,
		`<h1 class="mono wf-id">order-42</h1>`,
		`<span class="badge badge-success badge-lg" id="wf-state">SUCCESS</span>`,
		"consoletest.Validate", "consoletest.Charge", "enqueue github.com/dbosgen/dbosgen/runtime/console/internal/consoletest.PackItem",
		"&#34;customer&#34;: &#34;ada&#34;",              // the input, indented
		"&#34;charge&#34;: &#34;ada charged for **&#34;", // the output
		`<rect class="bar"`,                              // the timeline
		`<ul class="tree">`,
		"consoletest.PackItem",
		`name="step" value="1" min="1" max="7"`, // 6 steps: fork from 1 to 7
	)
	if strings.Contains(r.body, `id="cancel"`) || strings.Contains(r.body, `id="resume"`) {
		t.Error("a finished workflow offers Cancel or Resume")
	}
	// The children link to their pages, which link back to the parent.
	steps, err := dbos.Steps(rt.WithContext(context.Background()), id)
	if err != nil {
		t.Fatal(err)
	}
	var child string
	for _, s := range steps {
		if len(s.Children) > 0 {
			child = s.Children[0]
			break
		}
	}
	if child == "" {
		t.Fatal("no step made a child")
	}
	r.want(t, http.StatusOK, `href="/workflows/`+url.PathEscape(child)+`"`)
	get(t, srv.URL+"/workflows/"+url.PathEscape(child)).want(t, http.StatusOK, `href="/workflows/order-42"`, "consoletest.Pick", "consoletest.Label")

	get(t, srv.URL+"/workflows/no-such-id").want(t, http.StatusNotFound, "Not Found", "no-such-id")
	get(t, srv.URL+"/nowhere").want(t, http.StatusNotFound, "There is no page at /nowhere.")
}

func TestEscaping(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{Title: "<i>ops</i>"})
	evil := `x"><script>alert(1)</script>`
	id := order(t, rt, evil, consoletest.Order{ID: "<b>1</b>", Customer: "<img src=x onerror=alert(1)>", Items: []string{"fail:<script>alert(2)</script>"}})
	for _, path := range []string{"/workflows/" + url.PathEscape(id), "/workflows", "/"} {
		r := get(t, srv.URL+path)
		r.want(t, http.StatusOK)
		for _, raw := range []string{"<script>alert", "<img src=x", "<i>ops</i>", `x"><`} {
			if strings.Contains(r.body, raw) {
				t.Errorf("%s contains %q unescaped", path, raw)
			}
		}
	}
	get(t, srv.URL+"/workflows/"+url.PathEscape(id)).want(t, http.StatusOK, "&lt;script&gt;alert(2)&lt;/script&gt;", "&lt;i&gt;ops&lt;/i&gt;")
}

// TestOddIDs checks that IDs with path and query characters reach their
// pages and actions, escaped as one path segment.
func TestOddIDs(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	tok := token(t, srv)
	id := hold(t, rt, "team/a b?c#d%e")
	esc := url.PathEscape(id)
	get(t, srv.URL+"/workflows").want(t, http.StatusOK, `href="/workflows/`+esc+`"`)
	get(t, srv.URL+"/workflows/"+esc).want(t, http.StatusOK, "team/a b?c#d%e", `action="/workflows/`+esc+`/cancel"`)
	r := post(t, srv, "/workflows/"+esc+"/cancel", url.Values{"csrf_token": {tok}})
	r.want(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/workflows/"+esc {
		t.Errorf("redirect to %q, want %q", loc, "/workflows/"+esc)
	}
	if st := status(t, rt, id); st.State != dbos.StateCancelled {
		t.Fatalf("state %s after cancel", st.State)
	}
}

func TestCancelResumeFork(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	tok := token(t, srv)
	id := hold(t, rt, "held-cancel")

	get(t, srv.URL+"/workflows/"+id).want(t, http.StatusOK, `id="wf-state">PENDING</span>`, `id="cancel"`)
	r := post(t, srv, "/workflows/"+id+"/cancel", url.Values{"csrf_token": {tok}})
	r.want(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/workflows/"+id {
		t.Errorf("cancel redirects to %q", loc)
	}
	if st := status(t, rt, id); st.State != dbos.StateCancelled {
		t.Fatalf("state %s after cancel", st.State)
	}
	get(t, srv.URL+"/workflows/"+id).want(t, http.StatusOK, `id="wf-state">CANCELLED</span>`, `id="resume"`)

	// Resume, with the token in the header instead of the form.
	h := http.Header{"Origin": {srv.URL}, console.TokenHeader: {tok}}
	do(t, http.MethodPost, srv.URL+"/workflows/"+id+"/resume", url.Values{}, h).want(t, http.StatusSeeOther)
	if st := status(t, rt, id); st.State == dbos.StateCancelled {
		t.Fatal("still cancelled after resume")
	}

	// Fork a finished order from its last step.
	done := order(t, rt, "order-fork", consoletest.Order{ID: "7", Customer: "cy", Items: []string{"pen"}})
	r = post(t, srv, "/workflows/"+done+"/fork", url.Values{"csrf_token": {tok}, "step": {"4"}})
	r.want(t, http.StatusSeeOther)
	newID := strings.TrimPrefix(r.header.Get("Location"), "/workflows/")
	if newID == "" || newID == done || strings.Contains(newID, "/") {
		t.Fatalf("fork redirects to %q", r.header.Get("Location"))
	}
	h2, err := consoletest.RetrieveProcessOrder(rt.WithContext(context.Background()), mustUnescape(t, newID))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(rt.WithContext(context.Background()), 30*time.Second)
	defer cancel()
	if rc, err := h2.GetResult(ctx); err != nil || rc.Order != "7" {
		t.Fatalf("fork's result %+v, %v", rc, err)
	}

	for step, msg := range map[string]string{"0": "from 1 to 5", "7": "from 1 to 5", "two": "Fork from step &#34;two&#34;", "": "give a step number"} {
		post(t, srv, "/workflows/"+done+"/fork", url.Values{"csrf_token": {tok}, "step": {step}}).want(t, http.StatusBadRequest, msg)
	}
	for _, action := range []string{"cancel", "resume", "fork"} {
		post(t, srv, "/workflows/no-such-id/"+action, url.Values{"csrf_token": {tok}, "step": {"1"}}).
			want(t, http.StatusNotFound, "no-such-id")
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.PathUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	tok := token(t, srv)
	id := hold(t, rt, "held-csrf")
	path := srv.URL + "/workflows/" + id + "/cancel"

	cases := []struct {
		name   string
		form   url.Values
		header http.Header
		msg    string
	}{
		{"cross-site fetch metadata", url.Values{"csrf_token": {tok}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, "cross-origin request"},
		{"foreign Origin", url.Values{"csrf_token": {tok}}, http.Header{"Origin": {"https://evil.example"}}, "cross-origin request"},
		{"no token", url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}}, "does not carry the console&#39;s token"},
		{"wrong token", url.Values{"csrf_token": {strings.Repeat("0", len(tok))}}, http.Header{"Origin": {srv.URL}}, "does not carry the console&#39;s token"},
		{"wrong header token", nil, http.Header{console.TokenHeader: {"nope"}}, "does not carry the console&#39;s token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			do(t, http.MethodPost, path, c.form, c.header).want(t, http.StatusForbidden, "Forbidden", c.msg)
		})
	}
	if st := status(t, rt, id); st.State != dbos.StatePending {
		t.Fatalf("a refused request changed the workflow: %s", st.State)
	}
	// Another console's token is refused too: tokens are per handler.
	other := serve(t, rt, console.Options{})
	post(t, other, "/workflows/"+id+"/cancel", url.Values{"csrf_token": {tok}}).want(t, http.StatusForbidden)
}

func TestMethodNotAllowed(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/workflows/x/cancel", "POST"},
		{http.MethodGet, "/workflows/x/resume", "POST"},
		{http.MethodGet, "/workflows/x/fork", "POST"},
		{http.MethodGet, "/queues/console_orders/pause", "POST"},
		{http.MethodPut, "/queues/console_orders/resume", "POST"},
		{http.MethodPost, "/", "GET, HEAD"},
		{http.MethodDelete, "/workflows", "GET, HEAD"},
		{http.MethodPost, "/workflows/x", "GET, HEAD"},
	} {
		h := http.Header{"Sec-Fetch-Site": {"same-origin"}}
		r := do(t, c.method, srv.URL+c.path, nil, h)
		r.want(t, http.StatusMethodNotAllowed, "Method Not Allowed", "is not allowed here")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	if qs, _ := dbos.ListQueues(rt.WithContext(context.Background())); len(qs) > 0 {
		for _, q := range qs {
			if q.Paused {
				t.Errorf("a GET paused queue %s", q.Name)
			}
		}
	}
}

func TestBasicAuth(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{Username: "ops", Password: "s3cret"})
	for _, c := range []struct {
		name       string
		user, pass string
		set        bool
		status     int
	}{
		{"none", "", "", false, http.StatusUnauthorized},
		{"wrong password", "ops", "guess", true, http.StatusUnauthorized},
		{"wrong user", "root", "s3cret", true, http.StatusUnauthorized},
		{"right", "ops", "s3cret", true, http.StatusOK},
	} {
		for _, path := range []string{"/", "/workflows", "/static/console.css"} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			if c.set {
				req.SetBasicAuth(c.user, c.pass)
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Errorf("%s %s: status %d, want %d", c.name, path, res.StatusCode, c.status)
			}
			if c.status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Basic realm="dbos console"`) {
				t.Errorf("%s: WWW-Authenticate %q", c.name, res.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// Without credentials a POST is refused before anything else.
	do(t, http.MethodPost, srv.URL+"/queues/console_orders/pause", url.Values{}, nil).want(t, http.StatusUnauthorized)
}

func TestAllowedHosts(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{AllowedHosts: []string{"127.0.0.1", "localhost", "::1"}})
	get(t, srv.URL+"/").want(t, http.StatusOK)
	for host, want := range map[string]int{"localhost:8910": http.StatusOK, "[::1]:8910": http.StatusOK, "evil.example": http.StatusForbidden, "evil.example:8910": http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		req.Host = host
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, res.StatusCode, want)
		}
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	rt := launch(t)
	h, err := console.New(rt, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/dbos/", http.StripPrefix("/admin/dbos", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	id := hold(t, rt, "held-prefix")

	r := get(t, srv.URL+"/admin/dbos/")
	r.want(t, http.StatusOK, `href="/admin/dbos/workflows"`, `href="/admin/dbos/static/console.css?v=`, `action="/admin/dbos/queues/console_orders/pause"`)
	get(t, srv.URL+"/admin/dbos/workflows").want(t, http.StatusOK, `href="/admin/dbos/workflows/`+id+`"`)
	tok := tokenRE.FindStringSubmatch(r.body)[1]
	res := do(t, http.MethodPost, srv.URL+"/admin/dbos/workflows/"+id+"/cancel", url.Values{"csrf_token": {tok}}, http.Header{"Origin": {srv.URL}})
	res.want(t, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/admin/dbos/workflows/"+id {
		t.Errorf("redirect to %q", loc)
	}
	get(t, srv.URL+"/admin/dbos/static/console.js").want(t, http.StatusOK, "data-live")

	// Behind a proxy that removed the prefix, BasePath says it.
	srv2 := serve(t, rt, console.Options{BasePath: "/ops/"})
	get(t, srv2.URL+"/").want(t, http.StatusOK, `href="/ops/workflows"`)
	if _, err := console.New(rt, console.Options{BasePath: "ops"}); err == nil {
		t.Error("a BasePath without a leading / was accepted")
	}
}

func TestStatic(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	r := get(t, srv.URL+"/static/console.css")
	r.want(t, http.StatusOK, "--accent")
	if ct := r.header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	r = get(t, srv.URL+"/static/console.js")
	if ct := r.header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	get(t, srv.URL+"/static/nothing.js").want(t, http.StatusNotFound, "There is no file nothing.js.")
}

// TestRefreshOff checks that a negative Refresh leaves the pages static.
func TestRefreshOff(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{Refresh: -1})
	r := get(t, srv.URL+"/")
	r.want(t, http.StatusOK, `data-refresh="0"`)
	if strings.Contains(r.body, `id="live"`) {
		t.Error("the live indicator shows with refresh off")
	}
	get(t, serve(t, rt, console.Options{}).URL+"/").want(t, http.StatusOK, `data-refresh="2000"`)
}

// TestStoppedRuntime checks that a runtime that was shut down gives a clean
// error page, not a panic or an empty page.
func TestStoppedRuntime(t *testing.T) {
	rt := launch(t)
	srv := serve(t, rt, console.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	r := get(t, srv.URL+"/")
	if r.status != http.StatusOK && r.status != http.StatusInternalServerError {
		t.Fatalf("status %d after shutdown", r.status)
	}
	if r.status == http.StatusInternalServerError && !strings.Contains(r.body, `class="error-message"`) {
		t.Errorf("no error page: %s", r.body)
	}
}
