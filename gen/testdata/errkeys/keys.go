// Package errkeys has bad values of the retry and recovery keys, each
// reported at the column of its key.
package errkeys

import "context"

//dbos:step retries=-1
func NegativeRetries(ctx context.Context) error { return nil }

//dbos:step retries=many
func WordRetries(ctx context.Context) error { return nil }

//dbos:step retries=1.5
func FractionRetries(ctx context.Context) error { return nil }

//dbos:step retries=99999999999
func HugeRetries(ctx context.Context) error { return nil }

//dbos:step retries=
func EmptyRetries(ctx context.Context) error { return nil }

//dbos:step retries
func NoValueRetries(ctx context.Context) error { return nil }

//dbos:step retries=1 retries=2
func TwiceRetries(ctx context.Context) error { return nil }

//dbos:step retires=3
func TypoRetries(ctx context.Context) error { return nil }

//dbos:step retries=3 backoff=fast
func WordBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 backoff=10
func UnitlessBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 backoff=0
func ZeroBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 backoff=-1s
func NegativeBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 backof=1s
func TypoBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 max_backoff=soon
func WordMaxBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 max_backoff=0s
func ZeroMaxBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 backoff=2s max_backoff=1s
func MaxBelowBackoff(ctx context.Context) error { return nil }

//dbos:step retries=3 max_backoff=50ms
func MaxBelowDefault(ctx context.Context) error { return nil }

//dbos:step backoff=1s
func BackoffWithoutRetries(ctx context.Context) error { return nil }

//dbos:step max_backoff=1s name=x.y
func MaxBackoffWithoutRetries(ctx context.Context) error { return nil }

//dbos:step retries=0 backoff=1s max_backoff=2s
func BackoffWithZeroRetries(ctx context.Context) error { return nil }

//dbos:step retries=x backoff=1s
func NoFollowOn(ctx context.Context) error { return nil }

//dbos:step max_recovery=0
func ZeroRecovery(ctx context.Context) error { return nil }

//dbos:workflow max_recovery=-3
func NegativeRecovery(ctx context.Context) error { return nil }

//dbos:workflow max_recovery=lots
func WordRecovery(ctx context.Context) error { return nil }

//dbos:workflow max_recovry=3
func TypoRecovery(ctx context.Context) error { return nil }

//dbos:workflow name=billing.charge retries=2
func WorkflowRetries(ctx context.Context) error { return nil }

//dbos:workflow backoff=1s max_backoff=2s
func WorkflowBackoff(ctx context.Context) error { return nil }

//dbos:workflow max_recovery=2 max_recovery=3
func TwiceRecovery(ctx context.Context) error { return nil }
