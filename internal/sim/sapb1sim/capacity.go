package sapb1sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// SAP's capacity, as integrators see it (reference §A7): a company posts a
// roughly fixed number of documents per second however many clients push,
// so throughput stays flat while latency grows with concurrency. The model
// is a single queue of time slots: every document write (a document POST or
// PATCH, or an action) reserves the next 1/rate seconds of "SAP time",
// waits for its slot to start, does its database work, and answers when
// the slot ends. With c writers in flight each waits about c/rate seconds;
// with one, 1/rate.
type pacer struct {
	mu   sync.Mutex
	next time.Time
}

// reserve takes the next slot. A rate <= 0 means unlimited (zero slot).
func (p *pacer) reserve(rate float64) (start, end time.Time) {
	now := time.Now()
	if rate <= 0 {
		return now, now
	}
	per := time.Duration(float64(time.Second) / rate)
	p.mu.Lock()
	defer p.mu.Unlock()
	start = p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(per)
	return start, p.next
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) { _ = sleepUntil(ctx, time.Now().Add(d)) }

// Faults are the knobs a test or rehearsal turns at runtime (POST
// /_sim/faults, or SetFaults). The zero value is a healthy SAP with no
// capacity limit and no proxy timeout.
type Faults struct {
	// Outage answers every Service Layer request with 503 Service
	// Unavailable, as Apache does when no node is up.
	Outage bool `json:"outage"`
	// SlowLogin delays every Login by this long (logins took 30-40 s for
	// integrators, reference §A1).
	SlowLogin time.Duration `json:"slow_login"`
	// CommitDelay holds the answer of a write this long after its commit,
	// so a client that dies or times out meanwhile does not know the
	// document exists (the crash tests).
	CommitDelay time.Duration `json:"commit_delay"`
	// ProxyTimeout is Apache's: past it the client gets 502 Proxy Error
	// while the request goes on and may still commit. 0 = none.
	ProxyTimeout time.Duration `json:"proxy_timeout"`
	// DocsPerSecond is the capacity for document writes. 0 = unlimited.
	DocsPerSecond float64 `json:"docs_per_second"`
	// DeadlockRate is the probability that a document write fails as a
	// deadlock victim while another document write is in flight (SAP's
	// postings contend on OITW/OITM rows). 0 = never.
	DeadlockRate float64 `json:"deadlock_rate"`
}

// faultState holds the current Faults behind a lock.
type faultState struct {
	mu sync.Mutex
	f  Faults
}

func (s *Server) faults() Faults {
	s.fault.mu.Lock()
	defer s.fault.mu.Unlock()
	return s.fault.f
}

// Faults returns the fault and capacity knobs now in force.
func (s *Server) Faults() Faults { return s.faults() }

// SetFaults replaces the fault and capacity knobs. Requests already waiting
// keep the slot they reserved.
func (s *Server) SetFaults(f Faults) {
	s.fault.mu.Lock()
	s.fault.f = f
	s.fault.mu.Unlock()
}

// counters are the simulator's statistics.
type counters struct {
	requests      atomic.Int64
	documents     atomic.Int64
	http502       atomic.Int64
	deadlocks     atomic.Int64
	logins        atomic.Int64
	loginFailures atomic.Int64
	writesNow     atomic.Int64
	peakWrites    atomic.Int64
}

// Stats are what GET /_sim/stats reports.
type Stats struct {
	// Documents added (committed), those answered with a 502 included.
	Documents int64 `json:"documents"`
	// PeakConcurrentWrites is the most document-writing requests in flight
	// at once, measured at the HTTP layer from arrival to answer (a 502
	// ends a request for the client, so it ends it here too).
	PeakConcurrentWrites int64 `json:"peak_concurrent_writes"`
	// HTTP502 counts answers the proxy gave up on.
	HTTP502 int64 `json:"http_502"`
	// Deadlocks counts writes that failed as deadlock victims.
	Deadlocks int64 `json:"deadlocks"`
	// Logins counts successful logins.
	Logins int64 `json:"logins"`
	// Requests counts Service Layer requests (the control API excluded).
	Requests int64 `json:"requests"`
}

// Stats returns the counters now.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Documents:            c.documents.Load(),
		PeakConcurrentWrites: c.peakWrites.Load(),
		HTTP502:              c.http502.Load(),
		Deadlocks:            c.deadlocks.Load(),
		Logins:               c.logins.Load(),
		Requests:             c.requests.Load(),
	}
}

// ResetStats sets every counter to zero (the peak restarts from the writes
// in flight now).
func (s *Server) ResetStats() {
	c := &s.stats
	c.requests.Store(0)
	c.documents.Store(0)
	c.http502.Store(0)
	c.deadlocks.Store(0)
	c.logins.Store(0)
	c.loginFailures.Store(0)
	c.peakWrites.Store(c.writesNow.Load())
}

// beginWrite counts a document-writing request in flight; the returned
// function ends it.
func (s *Server) beginWrite() func() {
	c := &s.stats
	n := c.writesNow.Add(1)
	for {
		p := c.peakWrites.Load()
		if n <= p || c.peakWrites.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { c.writesNow.Add(-1) }
}

// admitWrite is where a document write waits for its slot of SAP's
// capacity, and where it may lose a deadlock: only while another write is
// in flight, as a real deadlock needs a second transaction. It returns when
// the slot ends; the caller answers no earlier.
func (s *Server) admitWrite(ctx context.Context) (time.Time, *slError) {
	f := s.faults()
	start, end := s.pace.reserve(f.DocsPerSecond)
	if err := sleepUntil(ctx, start); err != nil {
		return end, errDeadlock()
	}
	if f.DeadlockRate > 0 && s.stats.writesNow.Load() > 1 && rand.Float64() < f.DeadlockRate {
		return end, errDeadlock()
	}
	return end, nil
}

// countDeadlock counts an answer that reports a deadlock, injected or real.
func (s *Server) countDeadlock(e *slError) {
	if e != nil && e.code == -2038 {
		s.stats.deadlocks.Add(1)
	}
}
