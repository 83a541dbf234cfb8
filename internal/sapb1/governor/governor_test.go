package governor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// newGovernor opens a governor on pool with cfg; the rate is unlimited for
// practical purposes unless cfg sets one.
func newGovernor(t testing.TB, pool *pgxpool.Pool, cfg governor.Config) *governor.Governor {
	t.Helper()
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = 10000
	}
	g, err := governor.New(context.Background(), pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func acquire(t testing.TB, g *governor.Governor, lane governor.Lane) *governor.Slot {
	t.Helper()
	s, err := g.Acquire(context.Background(), lane)
	if err != nil {
		t.Fatalf("Acquire(%s): %v", lane, err)
	}
	return s
}

// busy asserts that Acquire(lane) is refused for reason and returns the refusal.
func busy(t testing.TB, g *governor.Governor, lane governor.Lane, reason governor.Reason) *governor.BusyError {
	t.Helper()
	s, err := g.Acquire(context.Background(), lane)
	if err == nil {
		t.Fatalf("Acquire(%s) got slot %d, want busy (%s)", lane, s.No, reason)
	}
	var be *governor.BusyError
	if !errors.As(err, &be) || !errors.Is(err, governor.ErrBusy) {
		t.Fatalf("Acquire(%s): %v, want a *BusyError matching ErrBusy", lane, err)
	}
	if be.Reason != reason {
		t.Fatalf("Acquire(%s) busy for %s (%v), want %s", lane, be.Reason, err, reason)
	}
	if be.RetryIn <= 0 {
		t.Fatalf("Acquire(%s): RetryIn %s, want > 0", lane, be.RetryIn)
	}
	return be
}

func release(t testing.TB, s *governor.Slot, kind governor.Kind, latency time.Duration) {
	t.Helper()
	if err := s.Release(context.Background(), governor.Outcome{Kind: kind, Latency: latency}); err != nil {
		t.Fatalf("Release slot %d: %v", s.No, err)
	}
}

func state(t testing.TB, g *governor.Governor) governor.State {
	t.Helper()
	s, err := g.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gauge reads a metric's value from reg (labels as name=value pairs).
func gauge(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

// With cap 3 and one slot reserved, the normal lane gets two slots and no
// more, however often it asks; a cancellation still gets the third at once.
func TestPriorityLaneGetsReservedSlotWhileNormalLaneIsSaturated(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 3, PriorityReserved: 1})
	reg := prometheus.NewRegistry()
	if err := g.Register(reg); err != nil {
		t.Fatal(err)
	}

	n1 := acquire(t, g, governor.Normal)
	n2 := acquire(t, g, governor.Normal)
	for range 5 {
		be := busy(t, g, governor.Normal, governor.ReasonSlots)
		if be.InUse != 2 || be.Limit != 2 {
			t.Fatalf("busy normal lane: %d in use, limit %d; want 2 and 2", be.InUse, be.Limit)
		}
	}
	p1 := acquire(t, g, governor.Priority)
	if p1.Lane != governor.Priority {
		t.Fatalf("slot lane %s", p1.Lane)
	}
	// The cap holds for the priority lane too.
	busy(t, g, governor.Priority, governor.ReasonSlots)

	st := state(t, g)
	if st.InUse[governor.Normal] != 2 || st.InUse[governor.Priority] != 1 {
		t.Fatalf("in use %v, want 2 normal and 1 priority", st.InUse)
	}
	if v := gauge(t, reg, "tiktokb1_sapb1_slots_in_use", "lane", "priority"); v != 1 {
		t.Fatalf("slots_in_use{priority} = %v, want 1", v)
	}
	if v := gauge(t, reg, "tiktokb1_sapb1_acquire_total", "lane", "normal", "outcome", "busy_slots"); v != 5 {
		t.Fatalf("acquire_total{normal,busy_slots} = %v, want 5", v)
	}

	// While a cancellation holds a slot, the normal lane still leaves the
	// reserved one free: freeing a normal slot lets one normal request in,
	// and the next normal request waits.
	release(t, n1, governor.OK, 100*time.Millisecond)
	busy(t, g, governor.Normal, governor.ReasonSlots)
	release(t, p1, governor.OK, 100*time.Millisecond)
	n3 := acquire(t, g, governor.Normal)
	busy(t, g, governor.Normal, governor.ReasonSlots)
	p2 := acquire(t, g, governor.Priority)
	for _, s := range []*governor.Slot{n2, n3, p2} {
		release(t, s, governor.OK, 100*time.Millisecond)
	}
	if st := state(t, g); st.InUseTotal() != 0 {
		t.Fatalf("after releasing everything: %v in use", st.InUse)
	}
}

// A burst beyond the bucket is refused with the time the bucket needs to
// refill one token, and asking again after that time succeeds.
func TestRateBurstBeyondBucketSuggestsRefillTime(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 4, RequestsPerSecond: 5}) // burst 5
	for range 5 {
		s := acquire(t, g, governor.Normal)
		release(t, s, governor.NotSent, 0)
	}
	be := busy(t, g, governor.Normal, governor.ReasonRate)
	// One token takes 200 ms at 5 per second; the burst itself took a few
	// milliseconds, which the bucket has already refilled in part.
	if be.RetryIn > 200*time.Millisecond || be.RetryIn < 120*time.Millisecond {
		t.Fatalf("RetryIn %s, want just under 200ms (one token at 5/s)", be.RetryIn)
	}
	if !strings.Contains(be.Error(), "request rate used up") {
		t.Errorf("error text %q", be.Error())
	}
	time.Sleep(be.RetryIn)
	s := acquire(t, g, governor.Normal)
	release(t, s, governor.NotSent, 0)
	// The bucket is shared: a second governor (another process) on the same
	// database finds it empty too.
	other := newGovernor(t, pool, governor.Config{MaxConcurrent: 4, RequestsPerSecond: 5})
	busy(t, other, governor.Normal, governor.ReasonRate)
	// A cancellation may borrow one token from the empty bucket, not two;
	// the normal lane then waits for the debt to be repaid as well.
	p := acquire(t, other, governor.Priority)
	release(t, p, governor.NotSent, 0)
	be = busy(t, g, governor.Priority, governor.ReasonRate)
	if be.RetryIn > 200*time.Millisecond {
		t.Fatalf("priority RetryIn %s, want at most one token's 200ms", be.RetryIn)
	}
	be = busy(t, g, governor.Normal, governor.ReasonRate)
	if be.RetryIn <= 200*time.Millisecond || be.RetryIn > 400*time.Millisecond {
		t.Fatalf("normal RetryIn %s after the borrow, want 200ms to 400ms (the debt and one token)", be.RetryIn)
	}
}

// A run of 502s and timeouts halves the effective cap (once per window:
// requests that were already in flight do not halve it again), good answers
// raise it one step per window, and never above the configured cap.
func TestAdaptiveCapHalvesOnBadAnswersAndRecoversStepByStep(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 8, PriorityReserved: 1, BreakerFailures: 100, SlowRequest: time.Second})
	reg := prometheus.NewRegistry()
	if err := g.Register(reg); err != nil {
		t.Fatal(err)
	}
	cap := func() int {
		t.Helper()
		st := state(t, g)
		if v := gauge(t, reg, "tiktokb1_sapb1_effective_cap"); int(v) != st.EffectiveCap {
			t.Fatalf("effective_cap metric %v, State %d", v, st.EffectiveCap)
		}
		return st.EffectiveCap
	}
	if c := cap(); c != 8 {
		t.Fatalf("effective cap at start %d, want 8", c)
	}

	// Four requests in flight together all get 502: one halving, not four.
	var inFlight []*governor.Slot
	for range 4 {
		inFlight = append(inFlight, acquire(t, g, governor.Normal))
	}
	for _, s := range inFlight {
		release(t, s, governor.BadGateway, 2*time.Second)
	}
	if c := cap(); c != 4 {
		t.Fatalf("after 4 simultaneous 502s: cap %d, want 4", c)
	}
	if st := state(t, g); !strings.Contains(st.Reason, "halved from 8 to 4") || !strings.Contains(st.Reason, "502") {
		t.Fatalf("reason %q", st.Reason)
	}
	// Each further bad answer is a new window: timeout, then slow.
	release(t, acquire(t, g, governor.Normal), governor.Timeout, time.Minute)
	if c := cap(); c != 2 {
		t.Fatalf("after a timeout: cap %d, want 2", c)
	}
	// The floor is the reserved slots plus one: the normal lane always has
	// a slot.
	release(t, acquire(t, g, governor.Normal), governor.OK, 3*time.Second) // slow answer
	if c := cap(); c != 2 {
		t.Fatalf("at the floor: cap %d, want 2", c)
	}
	// With cap 2 and one reserved, the normal lane has one slot.
	s := acquire(t, g, governor.Normal)
	busy(t, g, governor.Normal, governor.ReasonSlots)
	release(t, s, governor.OK, 10*time.Millisecond)

	// Good answers: +1 after as many good answers as the cap. The release
	// above was the first good answer at cap 2, so one more raises it to 3,
	// then three more to 4.
	var got []int
	for range 5 {
		release(t, acquire(t, g, governor.Normal), governor.OK, 10*time.Millisecond)
		got = append(got, cap())
	}
	if !slices.Equal(got, []int{3, 3, 3, 4, 4}) {
		t.Fatalf("cap after each good answer %v, want [3 3 3 4 4]", got)
	}
	// Many good answers: the cap climbs to 8 and stays there.
	for range 60 {
		release(t, acquire(t, g, governor.Normal), governor.OK, 10*time.Millisecond)
		if c := cap(); c > 8 {
			t.Fatalf("cap %d above the configured 8", c)
		}
	}
	if c := cap(); c != 8 {
		t.Fatalf("after 60 good answers: cap %d, want 8", c)
	}
	if v := gauge(t, reg, "tiktokb1_sapb1_request_seconds", "outcome", "bad_gateway"); v != 4 {
		t.Fatalf("request_seconds{bad_gateway} count %v, want 4", v)
	}
}

// N requests in a row without an answer open the breaker: nothing goes to
// SAP until the cool-down ends (RetryIn says when), then exactly one probe;
// a failed probe reopens it, an answered probe closes it.
func TestBreakerOpensAfterFailuresProbesOnceAndClosesOnSuccess(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	const cooldown = 800 * time.Millisecond
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 4, BreakerFailures: 3, BreakerCooldown: cooldown})
	reg := prometheus.NewRegistry()
	if err := g.Register(reg); err != nil {
		t.Fatal(err)
	}

	// Two failures, then an answer: the count starts again.
	release(t, acquire(t, g, governor.Normal), governor.Unreachable, 0)
	release(t, acquire(t, g, governor.Normal), governor.Unreachable, 0)
	release(t, acquire(t, g, governor.Normal), governor.OK, 50*time.Millisecond)
	for range 3 {
		if st := state(t, g); st.Breaker != governor.BreakerClosed {
			t.Fatalf("breaker %s before %d failures in a row", st.Breaker, 3)
		}
		release(t, acquire(t, g, governor.Normal), governor.Unreachable, 0)
	}
	st := state(t, g)
	if st.Breaker != governor.BreakerOpen || !strings.Contains(st.Reason, "3 requests in a row") {
		t.Fatalf("after 3 failures: breaker %s (%q), want open", st.Breaker, st.Reason)
	}
	if v := gauge(t, reg, "tiktokb1_sapb1_breaker_open"); v != 1 {
		t.Fatalf("breaker_open metric %v, want 1", v)
	}
	for _, lane := range []governor.Lane{governor.Normal, governor.Priority} {
		be := busy(t, g, lane, governor.ReasonBreakerOpen)
		if be.RetryIn > cooldown || be.RetryIn < cooldown-300*time.Millisecond {
			t.Fatalf("%s lane: RetryIn %s, want about the cool-down %s", lane, be.RetryIn, cooldown)
		}
	}

	// After the cool-down: one probe, and nobody else.
	time.Sleep(cooldown)
	probe := acquire(t, g, governor.Normal)
	if !probe.Probe {
		t.Fatal("first slot after the cool-down is not marked as the probe")
	}
	busy(t, g, governor.Normal, governor.ReasonBreakerOpen)
	busy(t, g, governor.Priority, governor.ReasonBreakerOpen)
	if st := state(t, g); st.Breaker != governor.BreakerHalfOpen {
		t.Fatalf("breaker %s with the probe out, want half_open", st.Breaker)
	}
	// The probe fails: open again for a full cool-down.
	release(t, probe, governor.Timeout, time.Second)
	if st := state(t, g); st.Breaker != governor.BreakerOpen || !strings.Contains(st.Reason, "probe") {
		t.Fatalf("after a failed probe: breaker %s (%q), want open", st.Breaker, st.Reason)
	}
	be := busy(t, g, governor.Normal, governor.ReasonBreakerOpen)
	if be.RetryIn < cooldown-300*time.Millisecond {
		t.Fatalf("RetryIn %s after reopening, want about %s", be.RetryIn, cooldown)
	}

	// Next probe is answered: closed, and requests flow again.
	time.Sleep(be.RetryIn)
	probe = acquire(t, g, governor.Priority)
	busy(t, g, governor.Normal, governor.ReasonBreakerOpen)
	release(t, probe, governor.OK, 100*time.Millisecond)
	st = state(t, g)
	if st.Breaker != governor.BreakerClosed || st.ConsecutiveFailures != 0 {
		t.Fatalf("after the probe was answered: breaker %s, %d failures", st.Breaker, st.ConsecutiveFailures)
	}
	if v := gauge(t, reg, "tiktokb1_sapb1_breaker_open"); v != 0 {
		t.Fatalf("breaker_open metric %v, want 0", v)
	}
	// The failed probe's timeout also halved the cap (4 to 2): one normal
	// slot and the reserved one.
	a, b := acquire(t, g, governor.Normal), acquire(t, g, governor.Priority)
	release(t, a, governor.OK, 0)
	release(t, b, governor.OK, 0)
}

// A probe whose slot goes unused (NotSent) lets the next request probe at
// once instead of blocking everyone until its lease ends.
func TestBreakerUnusedProbeLetsAnotherProbe(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 2, BreakerFailures: 1, BreakerCooldown: 200 * time.Millisecond})
	release(t, acquire(t, g, governor.Normal), governor.BadGateway, time.Second)
	busy(t, g, governor.Normal, governor.ReasonBreakerOpen)
	time.Sleep(250 * time.Millisecond)
	probe := acquire(t, g, governor.Normal)
	busy(t, g, governor.Normal, governor.ReasonBreakerOpen)
	release(t, probe, governor.NotSent, 0)
	next := acquire(t, g, governor.Normal)
	if !next.Probe {
		t.Fatal("next slot is not the probe")
	}
	release(t, next, governor.OK, 0)
	if st := state(t, g); st.Breaker != governor.BreakerClosed {
		t.Fatalf("breaker %s", st.Breaker)
	}
}

// Lowering the cap while slots above it are held never orphans them: they
// keep counting against the cap until released, and then disappear.
func TestShrinkingTheCapKeepsHeldSlotsCounted(t *testing.T) {
	pool := testdb.New(t)
	g4 := newGovernor(t, pool, governor.Config{MaxConcurrent: 4, PriorityReserved: -1})
	var held []*governor.Slot
	for range 4 {
		held = append(held, acquire(t, g4, governor.Normal))
	}
	g2 := newGovernor(t, pool, governor.Config{MaxConcurrent: 2, PriorityReserved: -1})
	st := state(t, g2)
	if st.MaxConcurrent != 2 || len(st.Slots) != 4 || st.InUseTotal() != 4 || st.EffectiveCap != 2 {
		t.Fatalf("after shrinking with 4 held: cap %d, effective %d, %d slot rows, %d in use; want 2, 2, 4, 4",
			st.MaxConcurrent, st.EffectiveCap, len(st.Slots), st.InUseTotal())
	}
	busy(t, g2, governor.Priority, governor.ReasonSlots)
	// Releasing slots 4 and 3 removes them; two held slots still fill the cap.
	release(t, held[3], governor.OK, 0)
	release(t, held[2], governor.OK, 0)
	busy(t, g2, governor.Normal, governor.ReasonSlots)
	release(t, held[1], governor.OK, 0)
	s := acquire(t, g2, governor.Normal)
	if s.No > 2 {
		t.Fatalf("took slot %d above the cap", s.No)
	}
	release(t, s, governor.OK, 0)
	release(t, held[0], governor.OK, 0)
	if st := state(t, g2); len(st.Slots) != 2 {
		t.Fatalf("%d slot rows after releasing everything, want 2", len(st.Slots))
	}
	// Growing again adds the slots.
	g3 := newGovernor(t, pool, governor.Config{MaxConcurrent: 3, PriorityReserved: -1})
	if st := state(t, g3); len(st.Slots) != 3 || st.MaxConcurrent != 3 {
		t.Fatalf("after growing to 3: %d slot rows, cap %d", len(st.Slots), st.MaxConcurrent)
	}
}

// A slot renewed before its lease ends stays held; one whose lease ran out
// can be taken by someone else, and its late Release says so without
// freeing the new holder's slot.
func TestRenewKeepsSlotAndExpiredLeaseIsReported(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	cfg := governor.Config{MaxConcurrent: 1, RequestTimeout: 300 * time.Millisecond, LeaseMargin: 300 * time.Millisecond}
	g := newGovernor(t, pool, cfg)
	if g.Config().Lease() != 600*time.Millisecond || g.Config().PriorityReserved != 0 {
		t.Fatalf("lease %s, reserved %d", g.Config().Lease(), g.Config().PriorityReserved)
	}

	s := acquire(t, g, governor.Normal)
	first := s.LeaseUntil()
	time.Sleep(400 * time.Millisecond)
	if err := s.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.LeaseUntil().After(first) {
		t.Fatalf("lease %s not extended past %s", s.LeaseUntil(), first)
	}
	time.Sleep(400 * time.Millisecond) // past the first lease, within the renewed one
	busy(t, g, governor.Normal, governor.ReasonSlots)

	time.Sleep(time.Until(s.LeaseUntil()) + 100*time.Millisecond)
	other := acquire(t, g, governor.Normal)
	if err := s.Renew(context.Background()); !errors.Is(err, governor.ErrLeaseLost) {
		t.Fatalf("Renew after the lease ran out: %v, want ErrLeaseLost", err)
	}
	if err := s.Release(context.Background(), governor.Outcome{Kind: governor.OK}); !errors.Is(err, governor.ErrLeaseLost) {
		t.Fatalf("Release after the lease ran out: %v, want ErrLeaseLost", err)
	}
	// The new holder keeps its slot.
	busy(t, g, governor.Normal, governor.ReasonSlots)
	release(t, other, governor.OK, 0)
	// Release twice is harmless.
	release(t, other, governor.OK, 0)
}

// Do releases the slot with the kind the request reports and returns the
// request's own error; a busy governor is returned as ErrBusy.
func TestDoReleasesWithOutcome(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 2, BreakerFailures: 1})
	boom := errors.New("boom")
	err := g.Do(context.Background(), governor.Normal, func(ctx context.Context) (governor.Kind, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("Do gave the request no deadline")
		}
		if st := state(t, g); st.InUse[governor.Normal] != 1 {
			t.Errorf("in use during Do: %v", st.InUse)
		}
		return governor.Unreachable, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Do: %v, want the request's error", err)
	}
	if st := state(t, g); st.InUseTotal() != 0 || st.Breaker != governor.BreakerOpen {
		t.Fatalf("after Do: %v in use, breaker %s; want 0 and open", st.InUse, st.Breaker)
	}
	err = g.Do(context.Background(), governor.Normal, func(context.Context) (governor.Kind, error) {
		t.Error("request ran while the breaker is open")
		return governor.OK, nil
	})
	if !errors.Is(err, governor.ErrBusy) {
		t.Fatalf("Do with the breaker open: %v, want ErrBusy", err)
	}
}

// MaxWait makes Acquire wait for a slot that frees soon instead of
// answering busy.
func TestAcquireWaitsUpToMaxWait(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 2, MaxWait: 2 * time.Second})
	s := acquire(t, g, governor.Normal)
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = s.Release(context.Background(), governor.Outcome{Kind: governor.OK, Latency: 200 * time.Millisecond})
	}()
	start := time.Now()
	s2 := acquire(t, g, governor.Normal)
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("got a slot after %s, before the first was released", waited)
	}
	release(t, s2, governor.OK, 0)
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  governor.Config
		want string
	}{
		{governor.Config{MaxConcurrent: -1}, "MaxConcurrent -1: want 1 to 1000"},
		{governor.Config{MaxConcurrent: 2, PriorityReserved: 2}, "PriorityReserved 2: want -1 (none) to MaxConcurrent-1 (1)"},
		{governor.Config{RequestsPerSecond: -3}, "RequestsPerSecond -3: want more than 0"},
		{governor.Config{Burst: 0.5}, "Burst 0.5: want at least 1"},
		{governor.Config{BreakerFailures: -1}, "BreakerFailures -1: want at least 1"},
		{governor.Config{SlowRequest: -time.Second}, "SlowRequest -1s: want more than 0"},
	} {
		_, err := governor.New(context.Background(), nil, tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestAcquireRejectsUnknownLane(t *testing.T) {
	pool := testdb.New(t)
	g := newGovernor(t, pool, governor.Config{})
	if _, err := g.Acquire(context.Background(), "express"); err == nil || errors.Is(err, governor.ErrBusy) {
		t.Fatalf("Acquire(express): %v", err)
	}
	cfg := g.Config()
	if cfg.MaxConcurrent != 4 || cfg.PriorityReserved != 1 || cfg.Burst != 10000 || cfg.Lease() != 90*time.Second ||
		cfg.SlowRequest != 10*time.Second || cfg.BreakerFailures != 5 || cfg.BreakerCooldown != 30*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
}
