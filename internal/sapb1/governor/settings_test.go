package governor_test

import (
	"context"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// The SAPB1_* settings reach the governor as set, "0 reserved" included, and
// the shared limits land in Postgres.
func TestFromSettings(t *testing.T) {
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := map[string]string{
			"SAPB1_MAX_CONCURRENT":      "6",
			"SAPB1_PRIORITY_RESERVED":   "0",
			"SAPB1_REQUESTS_PER_SECOND": "2.5",
			"SAPB1_REQUEST_TIMEOUT":     "20s",
			"SAPB1_SLOW_REQUEST":        "5s",
			"SAPB1_BREAKER_FAILURES":    "7",
			"SAPB1_BREAKER_COOLDOWN":    "45s",
		}[name]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := governor.New(context.Background(), testdb.New(t), governor.FromSettings(cfg.Governor))
	if err != nil {
		t.Fatal(err)
	}
	c := g.Config()
	if c.MaxConcurrent != 6 || c.PriorityReserved != 0 || c.RequestsPerSecond != 2.5 || c.Burst != 2.5 ||
		c.Lease() != 50*time.Second || c.SlowRequest != 5*time.Second || c.BreakerFailures != 7 || c.BreakerCooldown != 45*time.Second {
		t.Fatalf("config %+v", c)
	}
	st, err := g.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.MaxConcurrent != 6 || st.PriorityReserved != 0 || st.EffectiveCap != 6 || st.RequestsPerSecond != 2.5 || len(st.Slots) != 6 {
		t.Fatalf("state %+v", st)
	}
}
