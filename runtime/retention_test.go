package dbos

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNegativeRetentionFailsLaunch(t *testing.T) {
	_, err := Launch(context.Background(), Config{DatabaseURL: "sqlite:" + t.TempDir() + "/x.sqlite", Retention: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "Config.Retention -1s: must not be negative") {
		t.Errorf("Launch with Retention -1s: err = %v", err)
	}
}
