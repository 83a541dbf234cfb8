package governor

import "github.com/tiktokb1/tiktokb1/internal/config"

// FromSettings maps the validated SAPB1_* settings (config.Governor) onto a
// Config. The fields without a variable keep their defaults: Burst is one
// second of RequestsPerSecond, the lease margin 30s, and Acquire never waits.
func FromSettings(s config.Governor) Config {
	reserved := s.PriorityReserved
	if reserved == 0 {
		reserved = -1 // Config's zero value means "the default, 1"
	}
	return Config{
		MaxConcurrent:     s.MaxConcurrent,
		PriorityReserved:  reserved,
		RequestsPerSecond: s.RequestsPerSecond,
		RequestTimeout:    s.RequestTimeout,
		SlowRequest:       s.SlowRequest,
		BreakerFailures:   s.BreakerFailures,
		BreakerCooldown:   s.BreakerCooldown,
	}
}
