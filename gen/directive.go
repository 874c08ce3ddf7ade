package gen

import (
	"fmt"
	"go/token"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// policy holds the retry and recovery keys.
	policy
}

// keySpec describes one key=value setting of a directive.
type keySpec struct {
	// Key is what the user writes before "=".
	Key string
	// Only, when not zero, is the one kind of directive that accepts the
	// key, and Why says why the other kind does not.
	Only kind
	Why  string
	// Set checks value and stores it in s. Its error says what a valid
	// value looks like.
	Set func(s *settings, value string) error
	// Check, when not nil, checks the key against the other keys once all
	// are set. It runs only when Set accepted the key's value. written maps
	// every key the directive wrote, valid or not, to its value as written.
	Check func(s *settings, written map[string]string) error
}

// stepsOnly explains why the retry keys are rejected on a workflow.
const stepsOnly = "a workflow is not retried: after a crash it is recovered, resuming after its last completed step, up to max_recovery= times; put retries= on its steps instead"

// directiveKeys are the keys the directives accept. A new key is one entry
// here plus a field in settings; a key that sets a dbosimpl.Function field
// puts it in policy and adds it to funcEmitter.descriptor.
var directiveKeys = []keySpec{
	{Key: "name", Set: setName},
	{Key: "retries", Only: kindStep, Why: stepsOnly, Set: setRetries},
	{Key: "backoff", Only: kindStep, Why: stepsOnly, Set: setBackoff, Check: needsRetries("backoff")},
	{Key: "max_backoff", Only: kindStep, Why: stepsOnly, Set: setMaxBackoff, Check: checkMaxBackoff},
	{Key: "max_recovery", Set: setMaxRecovery},
	{Key: "schedule", Only: kindWorkflow, Why: scheduleWorkflowsOnly, Set: setSchedule},
	{Key: "backfill", Only: kindWorkflow, Why: scheduleWorkflowsOnly, Set: setBackfill, Check: checkBackfill},
}

// scheduleWorkflowsOnly explains why schedule= and backfill= are rejected
// on a step.
const scheduleWorkflowsOnly = "only a workflow runs on a schedule; put schedule= on a //dbos:workflow func F(ctx context.Context, at time.Time) error that calls this step"

// Runtime defaults of the keys, as dbosimpl.Register fills them in; mentioned
// in messages and checked against when a key is left out. A test keeps
// them equal to the runtime's DefaultBackoff, DefaultMaxBackoff and
// DefaultMaxRecovery.
const (
	defaultBackoff     = 100 * time.Millisecond
	defaultMaxBackoff  = 10 * time.Second
	defaultMaxRecovery = 50
)

// maxCount bounds whole-number keys, so that generated code compiles
// where int has 32 bits.
const maxCount = math.MaxInt32

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

// setRetries sets how many times a failed step is tried again.
func setRetries(s *settings, value string) error {
	n, err := parseCount(value, 0)
	if err != nil {
		return fmt.Errorf("%v: how many times a failed step is tried again (0 runs it once)", err)
	}
	s.Retries = some(n)
	return nil
}

// setBackoff sets the wait before a step's first retry.
func setBackoff(s *settings, value string) error {
	d, err := parseDuration(value, "backoff", defaultBackoff)
	if err != nil {
		return err
	}
	s.Backoff = some(d)
	return nil
}

// setMaxBackoff sets the longest wait between a step's retries.
func setMaxBackoff(s *settings, value string) error {
	d, err := parseDuration(value, "max_backoff", defaultMaxBackoff)
	if err != nil {
		return err
	}
	s.MaxBackoff = some(d)
	return nil
}

// setMaxRecovery sets how many times a workflow may be recovered.
func setMaxRecovery(s *settings, value string) error {
	n, err := parseCount(value, 1)
	if err != nil {
		return fmt.Errorf("%v: how many times a run may be recovered after its process stopped, before it is dead-lettered; leave max_recovery= out for the default of %d", err, defaultMaxRecovery)
	}
	s.MaxRecovery = some(n)
	return nil
}

// parseCount parses a whole number from least to maxCount, written in
// decimal digits only.
func parseCount(value string, least int) (int, error) {
	if value == "" || strings.Trim(value, "0123456789") != "" {
		return 0, fmt.Errorf("want a whole number >= %d", least)
	}
	n, err := strconv.Atoi(value)
	if err != nil || n > maxCount {
		return 0, fmt.Errorf("want a whole number from %d to %d", least, maxCount)
	}
	if n < least {
		return 0, fmt.Errorf("want a whole number >= %d", least)
	}
	return n, nil
}

// parseDuration parses a positive Go duration for key, whose default is
// def.
func parseDuration(value, key string, def time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	switch {
	case err != nil && isNumber(value):
		return 0, fmt.Errorf("want a Go duration with a unit, such as %sms or %ss", value, value)
	case err != nil:
		return 0, fmt.Errorf("want a Go duration such as 100ms or 2s")
	case d <= 0:
		return 0, fmt.Errorf("want a duration > 0, such as 100ms or 2s; leave %s= out for the default of %s", key, def)
	}
	return d, nil
}

// isNumber reports whether value is a plain decimal number such as 10 or
// 2.5, which only lacks a unit to be a duration.
func isNumber(value string) bool {
	_, err := strconv.ParseFloat(value, 64)
	return err == nil && strings.Trim(value, "0123456789.") == ""
}

// needsRetries returns a Check reporting key written without retries= or
// with retries=0, where it has no effect.
func needsRetries(key string) func(*settings, map[string]string) error {
	return func(s *settings, written map[string]string) error {
		if _, ok := written["retries"]; !ok {
			return fmt.Errorf("%s= has no effect without retries=; add retries=<N> to retry the step, or remove %s=", key, key)
		}
		if s.Retries.Set && s.Retries.Value == 0 {
			return fmt.Errorf("%s= has no effect with retries=0, since the step is never retried; raise retries= or remove %s=", key, key)
		}
		return nil
	}
}

// checkMaxBackoff reports max_backoff= without retries=, or below the
// backoff= it caps (the runtime default when backoff= is left out).
func checkMaxBackoff(s *settings, written map[string]string) error {
	if err := needsRetries("max_backoff")(s, written); err != nil {
		return err
	}
	maxb := "max_backoff=" + written["max_backoff"]
	if backoff, ok := written["backoff"]; ok {
		// An invalid backoff= is reported already and is not set.
		if s.Backoff.Set && s.MaxBackoff.Value < s.Backoff.Value {
			return fmt.Errorf("%s is below backoff=%s; the wait between retries starts at backoff= and doubles up to max_backoff=, so raise max_backoff= or lower backoff=",
				maxb, backoff)
		}
		return nil
	}
	if s.MaxBackoff.Value < defaultBackoff {
		return fmt.Errorf("%s is below the default backoff of %s; raise max_backoff=, or set backoff= to at most %s",
			maxb, defaultBackoff, s.MaxBackoff.Value)
	}
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
// through report with the byte offset in args they are about: the offset
// of the key they concern.
func parseSettings(dir directiveSpec, args string, report func(offset int, msg string)) settings {
	var s settings
	name := dir.Name
	words, aerr := splitArgs(args)
	if aerr != nil {
		report(aerr.Offset, fmt.Sprintf("//dbos:%s: %s", name, aerr.Msg))
		return s
	}
	written := map[string]string{}
	var valid []directiveArg
	for _, w := range words {
		spec, ok := lookupKey(w.Key)
		_, dup := written[w.Key]
		if ok && !dup {
			written[w.Key] = w.Value
		}
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
		case dup:
			report(w.Offset, fmt.Sprintf("key %s= is set twice in //dbos:%s; keep one", w.Key, name))
		case spec.Only != 0 && spec.Only != dir.Kind:
			report(w.Offset, fmt.Sprintf("//dbos:%s %s: %s= applies to //dbos:%s only; %s", name, showArg(w), w.Key, spec.Only, spec.Why))
		default:
			if err := spec.Set(&s, w.Value); err != nil {
				report(w.Offset, fmt.Sprintf("//dbos:%s %s: %v", name, showArg(w), err))
				continue
			}
			valid = append(valid, w)
		}
	}
	// Keys that depend on others are checked once all are known.
	for _, w := range valid {
		spec, _ := lookupKey(w.Key)
		if spec.Check == nil {
			continue
		}
		if err := spec.Check(&s, written); err != nil {
			report(w.Offset, fmt.Sprintf("//dbos:%s: %v", name, err))
		}
	}
	return s
}

// showArg renders a key=value argument for messages: the value as written
// when it is plain text, quoted otherwise.
func showArg(w directiveArg) string {
	plain := !strings.ContainsFunc(w.Value, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '`' || r == '\\'
	})
	if plain {
		return w.Key + "=" + w.Value
	}
	return w.Key + "=" + strconv.Quote(w.Value)
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
