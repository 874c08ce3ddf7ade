package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"ago":     ago,
	"abs":     absTime,
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"dur":     duration,
	"period":  period,
	"short":   shortName,
	"badge":   badgeClass,
	"pct":     percent,
	"add":     func(a, b int) int { return a + b },
	"frac":    func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"elapsed": elapsed,
	"at":      func(t, now time.Time) timeAt { return timeAt{T: t, Now: now} },
	"nodes":   func(ns []*treeNode, more int, v *view) tree { return tree{Nodes: ns, More: more, View: v} },
	"ternary": func(cond bool, yes, no string) string {
		if cond {
			return yes
		}
		return no
	},
}

// timeAt is a time to show, and the page's now for its relative form.
type timeAt struct{ T, Now time.Time }

// tree is one level of the children tree, for the recursive template.
type tree struct {
	Nodes []*treeNode
	More  int
	View  *view
}

// ago says how long before now t was ("12s ago"), or how long after ("in
// 3s"); "" for the zero time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + coarse(-d)
	}
	if d < time.Second {
		return "just now"
	}
	return coarse(d) + " ago"
}

// coarse is d in its largest unit: 12s, 5m, 3h, 2d.
func coarse(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// absTime is t in UTC to the millisecond; "" for the zero time.
func absTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// duration is d for a reader: 850µs, 42ms, 1.25s, 3m07s, 2h05m, 3d04h.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	}
}

// shortName is a registered function name, or a step name such as
// "enqueue example.com/app/orders.Process", without import paths:
// "orders.Process", "enqueue orders.Process".
func shortName(name string) string {
	words := strings.Split(name, " ")
	for i, w := range words {
		if j := strings.LastIndexByte(w, '/'); j >= 0 {
			words[i] = w[j+1:]
		}
	}
	return strings.Join(words, " ")
}

// period is a rate limit's period: 1m, 30s, 1h, or 1.50s when not whole.
func period(d time.Duration) string {
	switch {
	case d <= 0:
		return duration(d)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return duration(d)
}

// badgeClass is the CSS class of a state's badge.
func badgeClass(s dbos.State) string {
	return "badge badge-" + strings.ToLower(strings.ReplaceAll(string(s), "_", "-"))
}

// percent is n of limit in thousandths of a bar, at most 1000.
func percent(n, limit int) string {
	if limit <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f", min(1000*float64(n)/float64(limit), 1000))
}

// maxShown caps the bytes of an input or output a page shows.
const maxShown = 64 << 10

// prettyJSON is b indented when it is JSON, else as it is; cut past
// maxShown bytes.
func prettyJSON(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var out bytes.Buffer
	if len(b) <= maxShown && json.Indent(&out, b, "", "  ") == nil {
		return out.String()
	}
	if len(b) > maxShown {
		return strings.ToValidUTF8(string(b[:maxShown]), "") + fmt.Sprintf("\n… (%d bytes in all; %d shown)", len(b), maxShown)
	}
	return string(b)
}
