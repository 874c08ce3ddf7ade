// Package sentinel holds the errors callers branch on with errors.Is,
// which package dbos exports under the same names, and the codes that
// record them with a checkpointed step, so that a replay returns an error
// that matches the same sentinel as the first run's did.
package sentinel

import (
	"errors"
)

// The sentinel errors; package dbos documents each.
var (
	ErrNotLaunched   = errors.New("dbos: runtime not launched (call dbos.Launch first or bind one with rt.WithContext)")
	ErrNotFound      = errors.New("dbos: workflow not found")
	ErrDuplicate     = errors.New("dbos: duplicate deduplication ID")
	ErrConflictingID = errors.New("dbos: workflow ID already used by another function")
	ErrEncode        = errors.New("dbos: cannot encode value")
	ErrDecode        = errors.New("dbos: cannot decode value")
	ErrUnregistered  = errors.New("dbos: function not registered")
	ErrTimeout       = errors.New("dbos: workflow timed out")
	ErrCancelled     = errors.New("dbos: workflow cancelled")
	ErrDeadLetter    = errors.New("dbos: workflow dead-lettered after too many recoveries")
	ErrShutdown      = errors.New("dbos: runtime is shutting down")
	ErrClientOnly    = errors.New("dbos: this process is client-only (Config.ClientOnly)")
	ErrSchema        = errors.New("dbos: database schema is not this program's")
	// ErrOutsideWorkflow: a call that only a workflow's code may make
	// (Sleep, Topic.Recv, Event.Set) was made elsewhere.
	ErrOutsideWorkflow = errors.New("dbos: only a workflow's own code may make this call")
	// ErrOtherDatabase: a write in the caller's transaction (EnqueueFTx)
	// whose transaction is on another database than the runtime's. Not
	// recorded with steps (EnqueueFTx is refused inside a workflow), so it
	// has no code.
	ErrOtherDatabase = errors.New("dbos: the transaction is not on the runtime's database")
)

// codes names each sentinel a step's error may wrap, in the order Code
// tries them. A code is stored with the step: never change one.
var codes = []struct {
	code string
	err  error
}{
	{"duplicate", ErrDuplicate},
	{"timeout", ErrTimeout},
	{"cancelled", ErrCancelled},
	{"dead_letter", ErrDeadLetter},
	{"not_found", ErrNotFound},
	{"conflicting_id", ErrConflictingID},
	{"encode", ErrEncode},
	{"decode", ErrDecode},
	{"unregistered", ErrUnregistered},
	{"not_launched", ErrNotLaunched},
	{"shutdown", ErrShutdown},
	{"client_only", ErrClientOnly},
	{"outside_workflow", ErrOutsideWorkflow},
}

// Code returns the code of the first sentinel err matches, or "".
func Code(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// ForCode returns the sentinel a code names, or nil for "" and for a code
// this build does not know.
func ForCode(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// WorkflowError makes the error of a workflow that finished with an error:
// package dbos sets it, at init, to make its *dbos.WorkflowError, which
// callers branch on with errors.As. The default, for tests of the runtime's
// internal packages, makes an error with the message alone.
var WorkflowError = func(workflowID, message string) error { return errors.New(message) }
