package gen

import (
	"fmt"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// directiveTool is the tool part of every directive: //dbos:<name>.
const directiveTool = "dbos"

// directiveSpec describes one //dbos: directive.
type directiveSpec struct {
	Name string
	Kind kind
}

// directiveSpecs are the known directives.
var directiveSpecs = []directiveSpec{
	{Name: "step", Kind: kindStep},
	{Name: "workflow", Kind: kindWorkflow},
}

// lookupDirective returns the spec of the directive called name.
func lookupDirective(name string) (directiveSpec, bool) {
	for _, s := range directiveSpecs {
		if s.Name == name {
			return s, true
		}
	}
	return directiveSpec{}, false
}

// directiveNames returns the known directive names.
func directiveNames() []string {
	names := make([]string, len(directiveSpecs))
	for i, s := range directiveSpecs {
		names[i] = s.Name
	}
	return names
}

// settings are the values a directive's keys set.
type settings struct {
	// Name is the registered name; "" means the default,
	// "<import path>.<function name>".
	Name string
}

// keySpec describes one key=value setting of a directive.
type keySpec struct {
	// Key is what the user writes before "=".
	Key string
	// Set checks value and stores it in s. Its error says what a valid
	// value looks like.
	Set func(s *settings, value string) error
}

// directiveKeys are the keys every directive accepts. A new key is one
// entry here plus a field in settings.
var directiveKeys = []keySpec{
	{Key: "name", Set: setName},
}

// setName sets the registered name.
func setName(s *settings, value string) error {
	if value == "" {
		return fmt.Errorf("the name is empty; write name=<registered name>, or leave the key out to use the default")
	}
	if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("the name %q contains control characters; use printable characters", value)
	}
	s.Name = value
	return nil
}

// lookupKey returns the spec of the key called key.
func lookupKey(key string) (keySpec, bool) {
	for _, k := range directiveKeys {
		if k.Key == key {
			return k, true
		}
	}
	return keySpec{}, false
}

// keyNames returns the known keys, sorted.
func keyNames() []string {
	names := make([]string, len(directiveKeys))
	for i, k := range directiveKeys {
		names[i] = k.Key
	}
	sort.Strings(names)
	return names
}

// directiveArg is one word of a directive's arguments.
type directiveArg struct {
	// Key is the text before "=", or the whole word when it has none.
	Key string
	// Value is the text after "=", unquoted when it was a Go string.
	Value string
	// HasValue says whether the word had an "=".
	HasValue bool
	// Offset is the byte offset of the word in the arguments.
	Offset int
}

// argError is a syntax error in directive arguments.
type argError struct {
	Offset int
	Msg    string
}

// splitArgs splits directive arguments into words of the form key=value,
// where value is either bare (up to the next space) or a quoted Go string
// ("..." or `...`) that may contain spaces.
func splitArgs(s string) ([]directiveArg, *argError) {
	var out []directiveArg
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		arg := directiveArg{Key: s[start:i], Offset: start}
		if i < len(s) && s[i] == '=' {
			arg.HasValue = true
			i++
			if i < len(s) && (s[i] == '"' || s[i] == '`') {
				quoted, err := strconv.QuotedPrefix(s[i:])
				if err != nil {
					return nil, &argError{Offset: i, Msg: fmt.Sprintf("the quoted value of %s= is not a valid Go string; close the quote", arg.Key)}
				}
				arg.Value, _ = strconv.Unquote(quoted)
				i += len(quoted)
				if i < len(s) && !isSpace(s[i]) {
					return nil, &argError{Offset: i, Msg: fmt.Sprintf("unexpected text after the quoted value of %s=; separate arguments with spaces", arg.Key)}
				}
			} else {
				vstart := i
				for i < len(s) && !isSpace(s[i]) {
					i++
				}
				arg.Value = s[vstart:i]
			}
		}
		out = append(out, arg)
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// parseSettings applies the arguments of a directive written as
// "//dbos:<name> <args>" to a fresh settings. Problems are reported
// through report with the byte offset in args they are about.
func parseSettings(name, args string, report func(offset int, msg string)) settings {
	var s settings
	words, aerr := splitArgs(args)
	if aerr != nil {
		report(aerr.Offset, fmt.Sprintf("//dbos:%s: %s", name, aerr.Msg))
		return s
	}
	seen := map[string]bool{}
	for _, w := range words {
		spec, ok := lookupKey(w.Key)
		switch {
		case !ok && !w.HasValue:
			report(w.Offset, fmt.Sprintf("unexpected %q in //dbos:%s; arguments are key=value pairs (%s)", w.Key, name, knownKeysText()))
		case !ok:
			msg := fmt.Sprintf("unknown key %q in //dbos:%s", w.Key, name)
			if s := suggest(w.Key, keyNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %s=?", s)
			} else {
				msg += fmt.Sprintf("; %s", knownKeysText())
			}
			report(w.Offset, msg)
		case !w.HasValue:
			report(w.Offset, fmt.Sprintf("key %q in //dbos:%s needs a value; write %s=<value>", w.Key, name, w.Key))
		case seen[w.Key]:
			report(w.Offset, fmt.Sprintf("key %s= is set twice in //dbos:%s; keep one", w.Key, name))
		default:
			seen[w.Key] = true
			if err := spec.Set(&s, w.Value); err != nil {
				report(w.Offset, fmt.Sprintf("//dbos:%s %s=: %v", name, w.Key, err))
			}
		}
	}
	return s
}

// knownKeysText lists the known keys for error messages.
func knownKeysText() string {
	keys := keyNames()
	for i, k := range keys {
		keys[i] = k + "="
	}
	if len(keys) == 1 {
		return "the only key is " + keys[0]
	}
	return "known keys: " + strings.Join(keys, ", ")
}

// knownDirectivesText lists the known directives for error messages.
func knownDirectivesText() string {
	names := directiveNames()
	for i, n := range names {
		names[i] = "//dbos:" + n
	}
	return strings.Join(names, " and ")
}

// offsetPos returns the position offset bytes after pos on the same line.
func offsetPos(fset *token.FileSet, pos token.Pos, offset int) token.Position {
	return fset.Position(pos + token.Pos(offset))
}
