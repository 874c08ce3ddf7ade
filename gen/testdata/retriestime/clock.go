// Package retriestime is the golden case for a package-level name time
// when only a descriptor's durations need package time: the generated
// file must import it under another name.
package retriestime

import "context"

// time is a package-level name, so the generated file must import "time"
// under another name.
var time = "noon"

// Ring rings at time, retrying after a second.
//
//dbos:step retries=1 backoff=1s
func Ring(ctx context.Context) (string, error) {
	return time, nil
}
