// Package console is the web console of a dbos runtime: an http.Handler
// that shows the queues and workflows of the runtime's database and lets an
// operator pause and resume queues and cancel, resume and fork workflows.
//
// Mount it on a server of your own, under a prefix if you like:
//
//	h, err := console.New(rt, console.Options{Username: "ops", Password: secret})
//	mux.Handle("/dbos/", http.StripPrefix("/dbos", h))
//
// or run it alone with `dbosctl ui`, which serves it on 127.0.0.1.
//
// Pages:
//
//   - / (Queues): each queue's depth, running tasks against its concurrency
//     limits, rate-limit use, paused flag, and Pause/Resume buttons.
//   - /workflows (Workflows): the workflows, newest first, filtered by
//     state, queue, function name and age (?state=, ?queue=, ?name=,
//     ?since=1h), in pages (?offset=, ?limit=).
//   - /workflows/{id} (one workflow): its status, times, input and output,
//     error, the timeline of its steps, the tree of its children, and
//     Cancel, Resume and Fork buttons.
//
// The pages refresh themselves every Options.Refresh while they are
// visible (a small script fetches the page again and swaps its live
// parts); without JavaScript they work the same, without refreshing.
// Everything the console shows is embedded in the binary: it needs no
// network beyond its own server.
//
// # Security
//
// Every request that changes something is a POST (any other method gets
// 405, and a GET never changes anything). A POST must come from the
// console's own pages: http.CrossOriginProtection refuses cross-origin
// browser requests, and each POST must also carry the handler's random
// token, which only its pages contain (form field "csrf_token" or header
// X-Console-Token); either refusal is a 403. With Options.Username and
// Password set, every request needs those credentials (HTTP basic auth,
// 401 otherwise). Options.AllowedHosts refuses requests for other host
// names, which stops DNS-rebinding attacks on a console served on a
// loopback address. Pages are sent with a Content-Security-Policy that
// allows only the console's own script and style, and may not be framed.
//
// The console reads and acts only through the public API of package dbos,
// with the runtime bound to each request's context (Runtime.WithContext).
package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// Options configures a console. The zero value serves an unauthenticated
// console titled "dbos console" that refreshes every 2 seconds.
type Options struct {
	// Title names the console in its top bar and the browser's tab.
	// Defaults to "dbos console".
	Title string

	// Username and Password, when either is set, require HTTP basic
	// authentication with exactly these credentials on every request
	// (compared in constant time); a request without them gets 401.
	// Serve the console over HTTPS when they cross a network.
	Username string
	Password string

	// AllowedHosts, when not empty, are the only host names (the Host
	// header, without its port) the console answers; any other gets 403.
	// Set it to the names the console is reached by (for example
	// "localhost" and "127.0.0.1") to defeat DNS rebinding. Empty allows
	// every host.
	AllowedHosts []string

	// BasePath is the path under which browsers reach the console when a
	// proxy in front of it removed that prefix. Leave it empty when the
	// console sees the full request (served directly, or mounted with
	// http.StripPrefix): the prefix is then found from the request.
	BasePath string

	// Refresh is how often a visible page refreshes itself. Defaults to
	// 2 seconds; a negative value turns live refresh off.
	Refresh time.Duration
}

// DefaultRefresh is how often pages refresh themselves unless
// Options.Refresh says otherwise.
const DefaultRefresh = 2 * time.Second

// The names under which a POST carries the handler's token.
const (
	// TokenField is the form field of the token.
	TokenField = "csrf_token"
	// TokenHeader is the request header of the token.
	TokenHeader = "X-Console-Token"
)

// handler is the console: its options, token and routes.
type handler struct {
	rt      *dbos.Runtime
	opts    Options
	token   string // the random token every POST must carry
	refresh time.Duration
	userSum [32]byte // sha256 of Options.Username
	passSum [32]byte // sha256 of Options.Password
	auth    bool
	hosts   map[string]bool
	pages   *pages
	root    http.Handler // mux, wrapped in cross-origin protection
}

// New returns the console of rt as an http.Handler (see the package
// documentation for its pages and security). It fails when rt is nil or
// opts is invalid.
func New(rt *dbos.Runtime, opts Options) (http.Handler, error) {
	if rt == nil {
		return nil, errors.New("console: New needs a launched runtime, not nil")
	}
	if opts.Title == "" {
		opts.Title = "dbos console"
	}
	if opts.BasePath != "" {
		if !strings.HasPrefix(opts.BasePath, "/") {
			return nil, fmt.Errorf("console: Options.BasePath %q must start with /", opts.BasePath)
		}
		opts.BasePath = strings.TrimRight(opts.BasePath, "/")
	}
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("console: make a token: %w", err)
	}
	h := &handler{
		rt:      rt,
		opts:    opts,
		token:   hex.EncodeToString(tok[:]),
		refresh: opts.Refresh,
		auth:    opts.Username != "" || opts.Password != "",
		userSum: sha256.Sum256([]byte(opts.Username)),
		passSum: sha256.Sum256([]byte(opts.Password)),
	}
	if h.refresh == 0 {
		h.refresh = DefaultRefresh
	}
	if len(opts.AllowedHosts) > 0 {
		h.hosts = make(map[string]bool, len(opts.AllowedHosts))
		for _, host := range opts.AllowedHosts {
			h.hosts[strings.ToLower(strings.Trim(host, "[]"))] = true
		}
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	h.pages = p

	mux := http.NewServeMux()
	h.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, "This request came from another site (a cross-origin request), so the console refused it. Use the console's own buttons.")
	}))
	h.root = cop.Handler(mux)
	return h, nil
}

// routes registers every page and action. Each pattern is registered with
// its method, and again without one to answer other methods with a 405
// page.
func (h *handler) routes(mux *http.ServeMux) {
	route := func(method, path string, fn http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, fn)
		mux.HandleFunc(path, h.methodNotAllowed(method))
	}
	route(http.MethodGet, "/{$}", h.queuesPage)
	route(http.MethodPost, "/queues/{name}/pause", h.post(h.pauseQueue))
	route(http.MethodPost, "/queues/{name}/resume", h.post(h.resumeQueue))
	route(http.MethodGet, "/workflows", h.workflowsPage)
	route(http.MethodGet, "/workflows/{id}", h.workflowPage)
	route(http.MethodPost, "/workflows/{id}/cancel", h.post(h.cancelWorkflow))
	route(http.MethodPost, "/workflows/{id}/resume", h.post(h.resumeWorkflow))
	route(http.MethodPost, "/workflows/{id}/fork", h.post(h.forkWorkflow))
	route(http.MethodGet, "/static/{file}", h.static)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
	})
}

// ServeHTTP checks the host and the credentials, sets the security headers
// and hands the request to the routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	if h.hosts != nil && !h.hosts[hostOf(r.Host)] {
		h.fail(w, r, http.StatusForbidden, fmt.Sprintf("This console does not answer for the host %q. Open it by one of its allowed host names.", r.Host))
		return
	}
	if h.auth && !h.authorized(r) {
		hdr.Set("WWW-Authenticate", `Basic realm="dbos console", charset="UTF-8"`)
		http.Error(w, "401 Unauthorized: this console needs a user name and password.", http.StatusUnauthorized)
		return
	}
	h.root.ServeHTTP(w, r)
}

// authorized reports whether r carries the configured credentials. Both
// are compared, in constant time, whatever the first comparison says.
func (h *handler) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	okUser := subtle.ConstantTimeCompare(u[:], h.userSum[:])
	okPass := subtle.ConstantTimeCompare(p[:], h.passSum[:])
	return okUser&okPass == 1
}

// hostOf is host without its port, lowercased.
func hostOf(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// post wraps an action: it runs only when the request carries the
// handler's token.
func (h *handler) post(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // a form of a few fields
		tok := r.Header.Get(TokenHeader)
		if tok == "" {
			tok = r.PostFormValue(TokenField)
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(h.token)) != 1 {
			h.fail(w, r, http.StatusForbidden, "This request does not carry the console's token, so it was refused: it did not come from one of the console's pages. Reload the page and try again.")
			return
		}
		fn(w, r)
	}
}

// methodNotAllowed answers a method a route does not take.
func (h *handler) methodNotAllowed(allowed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if allowed == http.MethodGet {
			w.Header().Set("Allow", "GET, HEAD")
		} else {
			w.Header().Set("Allow", allowed)
		}
		h.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not allowed here: use %s.", r.Method, r.URL.Path, allowed))
	}
}

// base is the path prefix under which the browser reached the console,
// without a trailing slash: Options.BasePath, else what http.StripPrefix
// removed (the request URI's path minus the path the console sees).
func (h *handler) base(r *http.Request) string {
	if h.opts.BasePath != "" {
		return h.opts.BasePath
	}
	full := r.RequestURI
	if i := strings.IndexByte(full, '?'); i >= 0 {
		full = full[:i]
	}
	if strings.HasPrefix(full, "/") {
		if prefix, ok := strings.CutSuffix(full, r.URL.EscapedPath()); ok {
			return strings.TrimRight(prefix, "/")
		}
	}
	return ""
}
