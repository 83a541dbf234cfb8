package tiktoksim

import (
	"math"
	"time"
)

// bucket is a token bucket. TikTok limits per app, shop and endpoint with
// no published numbers (reference §4); the simulator makes rate and burst
// options so a rehearsal can play a stricter shop.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes one token from key's bucket. When it is empty, it returns the
// whole seconds until one is back, for Retry-After.
func (s *Server) allow(key string, now time.Time) (retryAfter int, ok bool) {
	if s.opts.RateLimit < 0 {
		return 0, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rate, burst := s.opts.RateLimit, float64(s.opts.RateBurst)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := int(math.Ceil((1 - b.tokens) / rate))
	return max(wait, 1), false
}
