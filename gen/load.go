package gen

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/tools/go/packages"
)

// loadMode is what generation needs of each package: files, syntax with
// comments, and types. Dependencies' types come from export data.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
	packages.NeedTypes | packages.NeedTypesInfo

// load loads the packages matching patterns from dir with the dbosgen build
// tag, so a stale generated file is left out. It fails only when the go
// command itself fails; errors inside packages are left in Package.Errors
// for the caller to sort out.
func load(ctx context.Context, dir string, patterns []string) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Context:    ctx,
		Mode:       loadMode,
		Dir:        dir,
		BuildFlags: []string{"-tags=" + strings.Join(append(goflagsTags(os.Getenv("GOFLAGS")), buildTag), ",")},
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	return pkgs, nil
}

// goflagsTags returns the build tags set with -tags in goflags (the
// GOFLAGS environment variable), which the -tags flag dbosgen passes would
// otherwise replace.
func goflagsTags(goflags string) []string {
	var tags []string
	for _, f := range strings.Fields(goflags) {
		f = strings.TrimPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		if v, ok := strings.CutPrefix(f, "tags="); ok {
			tags = nil // a later -tags replaces an earlier one
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
		}
	}
	return tags
}

// blockingErrors returns the errors that keep dbosgen from trusting pkg:
// everything but type errors, which are expected while user code refers to
// names that are generated.
func blockingErrors(pkg *packages.Package) []Diagnostic {
	var out []Diagnostic
	for _, e := range pkg.Errors {
		if e.Kind == packages.TypeError || strings.HasPrefix(e.Msg, "# ") {
			// "# <path>" errors are the compiler's output from building
			// export data: the same type errors again, or a dependency that
			// does not build, which shows up as type errors too.
			continue
		}
		msg := e.Msg
		if e.Kind == packages.ParseError {
			msg += "; fix the syntax error and run dbosgen again"
		}
		out = append(out, Diagnostic{Pos: parsePos(e.Pos), Severity: SeverityError, Message: msg})
	}
	return out
}
