package behaviour

import (
	"context"
	"errors"
	"fmt"

	dbos "github.com/dbosgen/dbosgen/runtime"
)

// Stage is one step of ThreeStages; it counts its runs under
// "Stage/<key>/<step>".
//
//dbos:step
func Stage(ctx context.Context, key string, step, input int) (int, error) {
	count(fmt.Sprintf("Stage/%s/%d", key, step))
	return input*10 + step, nil
}

// ThreeStages runs Stage 1, 2 and 3 in order, each on the previous one's
// output: seed 7 gives 7123.
//
//dbos:workflow
func ThreeStages(ctx context.Context, key string, seed int) (int, error) {
	v := seed
	for step := 1; step <= 3; step++ {
		var err error
		if v, err = RunStage(ctx, key, step, v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// ForkFrom forks ThreeStages call id from fromStep (its step 1) and awaits
// the fork (its step 2). It returns "<fork ID>=<result>", or "not found"
// when the fork found no such call.
//
//dbos:workflow
func ForkFrom(ctx context.Context, id string, fromStep int) (string, error) {
	h, err := ForkThreeStages(ctx, id, fromStep)
	if errors.Is(err, dbos.ErrNotFound) {
		return "not found", nil
	}
	if err != nil {
		return "", err
	}
	r, err := h.GetResult(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s=%d", h.ID(), r), nil
}
