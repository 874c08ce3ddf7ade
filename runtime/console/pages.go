package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

//go:embed ui
var uiFS embed.FS

// pages are the parsed templates, one set per page, and the static files.
type pages struct {
	tmpl    map[string]*template.Template // page name -> layout + page
	static  map[string][]byte             // file name -> content
	version string                        // a hash of the static files, for their URLs
}

// pageNames are the templates in ui/ that render a whole page.
var pageNames = []string{"queues", "workflows", "workflow", "error"}

func loadPages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}, static: map[string][]byte{}}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(uiFS, "ui/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(uiFS, "ui/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse page %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	sum := sha256.New()
	for _, name := range []string{"console.css", "console.js", "favicon.svg"} {
		b, err := fs.ReadFile(uiFS, "ui/"+name)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		p.static[name] = b
		sum.Write(b)
	}
	p.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title   string // the console's title (Options.Title)
	Heading string // the page's own title
	Nav     string // the top bar entry to highlight: "queues" or "workflows"
	Base    string // the path prefix of every link, without a trailing slash
	Token   string // the token every form posts
	Refresh int64  // live refresh period in milliseconds; 0 is off
	Version string // of the static files
	Now     time.Time
	Data    any
}

// URL returns the console's path for the elements given, each escaped as
// one path segment: URL "workflows" id is Base + "/workflows/" + id.
func (v *view) URL(elems ...string) string {
	var b strings.Builder
	b.WriteString(v.Base)
	for _, e := range elems {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(e))
	}
	if len(elems) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// Static returns the URL of a static file, versioned by content.
func (v *view) Static(name string) string {
	return v.Base + "/static/" + name + "?v=" + v.Version
}

// List returns the URL of the workflows page with the given query
// parameters, given as name, value pairs ("" values are left out).
func (v *view) List(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u := v.Base + "/workflows"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// newView is a view of the page for r.
func (h *handler) newView(r *http.Request, nav, heading string, data any) *view {
	refresh := int64(0)
	if h.refresh > 0 {
		refresh = h.refresh.Milliseconds()
	}
	return &view{
		Title:   h.opts.Title,
		Heading: heading,
		Nav:     nav,
		Base:    h.base(r),
		Token:   h.token,
		Refresh: refresh,
		Version: h.pages.version,
		Now:     time.Now(),
		Data:    data,
	}
}

// render writes page name with status. It renders into a buffer first, so
// that a template error becomes a clean 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := h.pages.tmpl[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		http.Error(w, "console: render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Reason  string // "Not found"
	Message string
}

// fail answers r with the error page.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	reason := http.StatusText(status)
	v := h.newView(r, "", reason, errorPage{Status: status, Reason: reason, Message: msg})
	v.Refresh = 0 // an error page has nothing live
	h.render(w, status, "error", v)
}

// failErr answers r with the error page for err: 404 for an unknown
// workflow, 500 (with err's message) otherwise.
func (h *handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, dbos.ErrNotFound) {
		msg := capitalize(err.Error())
		if id := r.PathValue("id"); id != "" {
			msg = fmt.Sprintf("There is no workflow %q: it never existed, or it finished and was deleted.", id)
		}
		h.fail(w, r, http.StatusNotFound, msg)
		return
	}
	h.fail(w, r, http.StatusInternalServerError, capitalize(err.Error()))
}

// ctx is the request's context bound to the console's runtime.
func (h *handler) ctx(r *http.Request) context.Context { return h.rt.WithContext(r.Context()) }

// static serves the embedded CSS and JavaScript.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, ok := h.pages.static[name]
	if !ok {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no file %s.", name))
		return
	}
	ct := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}[path.Ext(name)]
	w.Header().Set("Content-Type", ct)
	if r.URL.Query().Get("v") == h.pages.version {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}

// redirect sends the browser, after an action, to the page at target (a
// path within the console) with 303 See Other, so that reloading that page
// does not post the action again.
func (h *handler) redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, h.base(r)+target, http.StatusSeeOther)
}

// capitalize makes a Go error message the start of a sentence.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
