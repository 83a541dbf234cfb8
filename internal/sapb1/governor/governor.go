// Package governor protects SAP Business One's Service Layer (DESIGN.md
// invariant 4). Every Service Layer request takes a slot from it first and
// gives the slot back with the request's outcome. Across every process that
// shares the Postgres database it enforces:
//
//   - a cap on concurrent requests, held in a slot table with leases
//     (integration.sapb1_slot): a killed process's slots free themselves when
//     their lease runs out;
//   - a request rate (a token bucket in integration.sapb1_governor);
//   - adaptive back-off: the effective cap halves when answers get slow or
//     SAP answers 502, times out or fails, and grows by one per window of
//     good answers, never above the configured cap;
//   - a circuit breaker: after consecutive requests that got no answer it
//     opens for a cool-down, then lets one probe through, whose answer
//     closes it;
//   - a priority lane (cancellations) that may take any free slot, while the
//     normal lane leaves a configured number of slots free for it.
//
// Acquire never blocks for long: when SAP may not take a request now it
// returns a *BusyError (errors.Is(err, ErrBusy)) with a suggested delay, and
// a River job turns that into a snooze with SnoozeOnBusy, so it neither holds
// a worker nor spends an attempt.
//
// Only short transactions with row locks are used (no advisory locks, no
// LISTEN), so the governor works behind PgBouncer in transaction mode. The
// decisions are in docs/decisions/0008-sapb1-governor.md.
package governor

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Lane is the queue a request waits in.
type Lane string

const (
	// Normal is the lane of every request but cancellations. It leaves
	// Config.PriorityReserved slots free for the priority lane.
	Normal Lane = "normal"
	// Priority is the lane of cancellations: it may take any free slot.
	Priority Lane = "priority"
)

func (l Lane) valid() bool { return l == Normal || l == Priority }

// Kind is what became of a Service Layer request.
type Kind string

const (
	// OK: SAP answered (any status below 500, business errors included).
	OK Kind = "ok"
	// ServerError: SAP answered with a server error (500, 501, 505...).
	ServerError Kind = "server_error"
	// BadGateway: the Service Layer's proxy answered 502; SAP may still
	// commit the request.
	BadGateway Kind = "bad_gateway"
	// Timeout: no answer within the request timeout (or a 504).
	Timeout Kind = "timeout"
	// Unreachable: no connection to the Service Layer, or a 503.
	Unreachable Kind = "unreachable"
	// NotSent: the slot was not used (or the caller gave up on the request
	// itself); it teaches the governor nothing. An empty Kind counts as
	// NotSent.
	NotSent Kind = "not_sent"
)

var kinds = []Kind{OK, ServerError, BadGateway, Timeout, Unreachable}

// sent reports whether k is the outcome of a request that went out.
func (k Kind) sent() bool {
	switch k {
	case OK, ServerError, BadGateway, Timeout, Unreachable:
		return true
	}
	return false
}

// answered reports whether SAP itself answered.
func (k Kind) answered() bool { return k == OK || k == ServerError }

func (k Kind) describe() string {
	switch k {
	case ServerError:
		return "a server error from SAP"
	case BadGateway:
		return "a 502 (bad gateway) from the Service Layer"
	case Timeout:
		return "a request timed out"
	case Unreachable:
		return "the Service Layer was unreachable"
	}
	return string(k)
}

// Outcome is what Release learns from a request.
type Outcome struct {
	Kind Kind
	// Latency is how long the request took, from sending to the answer.
	Latency time.Duration
}

// Reason is why Acquire said no.
type Reason string

const (
	// ReasonSlots: every slot the lane may use is taken.
	ReasonSlots Reason = "busy_slots"
	// ReasonRate: the request rate is used up.
	ReasonRate Reason = "busy_rate"
	// ReasonBreakerOpen: SAP looks down (the breaker is open, or a probe is
	// out to check whether it is back).
	ReasonBreakerOpen Reason = "breaker_open"
)

// ErrBusy matches every *BusyError: errors.Is(err, ErrBusy).
var ErrBusy = errors.New("sapb1 governor: busy")

// ErrLeaseLost is returned by Release and Renew when the slot's lease ran
// out before: for a while the request was not counted against the cap.
var ErrLeaseLost = errors.New("sapb1 governor: the slot's lease ran out")

// BusyError says the request may not be sent now, why, and when to try again.
type BusyError struct {
	Reason Reason
	Lane   Lane
	// RetryIn is the suggested delay before trying again: the time until the
	// bucket refills one token, until the breaker's cool-down ends, or an
	// estimate of when a slot frees (the average request time shared by the
	// requests in flight).
	RetryIn time.Duration
	// InUse and Limit are the requests in flight and the lane's limit, for
	// ReasonSlots.
	InUse, Limit int
}

func (e *BusyError) Error() string {
	var what string
	switch e.Reason {
	case ReasonSlots:
		what = fmt.Sprintf("no free slot for the %s lane (%d in use, limit %d)", e.Lane, e.InUse, e.Limit)
	case ReasonRate:
		what = "request rate used up"
	case ReasonBreakerOpen:
		what = "circuit breaker open: SAP looks down"
	default:
		what = string(e.Reason)
	}
	return fmt.Sprintf("sapb1 governor: busy: %s; retry in %s", what, e.RetryIn.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Config are the governor's limits. Zero values take the defaults in the
// comments; MaxConcurrent, PriorityReserved and RequestsPerSecond and Burst
// are shared through Postgres (the process started last writes them), the
// others are per process.
type Config struct {
	// MaxConcurrent is the cap on concurrent Service Layer requests across
	// every process (SAPB1_MAX_CONCURRENT; default 4, 1 to 1000).
	MaxConcurrent int
	// PriorityReserved is how many slots the normal lane leaves free for the
	// priority lane (SAPB1_PRIORITY_RESERVED; default 1, or 0 when
	// MaxConcurrent is 1; -1 for none). Less than MaxConcurrent.
	PriorityReserved int
	// RequestsPerSecond is the rate requests may start at, across every
	// process (SAPB1_REQUESTS_PER_SECOND; default 10).
	RequestsPerSecond float64
	// Burst is how many requests may start back to back after a quiet spell
	// (default RequestsPerSecond, at least 1).
	Burst float64
	// RequestTimeout is the Service Layer request timeout; Do enforces it
	// (SAPB1_REQUEST_TIMEOUT; default 60s).
	RequestTimeout time.Duration
	// LeaseMargin is added to RequestTimeout to make a slot's lease: a slot
	// whose holder died frees itself that long after it was taken (default
	// 30s).
	LeaseMargin time.Duration
	// SlowRequest is the latency above which an answer counts as a sign of
	// stress and halves the effective cap (SAPB1_SLOW_REQUEST; default 10s).
	SlowRequest time.Duration
	// BreakerFailures is how many requests in a row without an answer open
	// the breaker (SAPB1_BREAKER_FAILURES; default 5).
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before one probe
	// request is let through (SAPB1_BREAKER_COOLDOWN; default 30s).
	BreakerCooldown time.Duration
	// MaxWait is how long Acquire may wait for a slot or a token before
	// returning a *BusyError (default 0: it never waits). It never waits
	// out an open breaker.
	MaxWait time.Duration
	// HolderInfo tells people which process holds a slot (default
	// "<hostname> pid <pid>").
	HolderInfo string
	// Logger receives the warnings nobody gets as an error (default
	// slog.Default()).
	Logger *slog.Logger
}

// withDefaults fills the zero values and checks the result.
func (c Config) withDefaults() (Config, error) {
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 4
	}
	switch {
	case c.PriorityReserved == 0:
		c.PriorityReserved = min(1, c.MaxConcurrent-1)
	case c.PriorityReserved == -1:
		c.PriorityReserved = 0
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 10
	}
	if c.Burst == 0 {
		c.Burst = max(1, c.RequestsPerSecond)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 60 * time.Second
	}
	if c.LeaseMargin == 0 {
		c.LeaseMargin = 30 * time.Second
	}
	if c.SlowRequest == 0 {
		c.SlowRequest = 10 * time.Second
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = 30 * time.Second
	}
	if c.HolderInfo == "" {
		host, _ := os.Hostname()
		c.HolderInfo = fmt.Sprintf("%s pid %d", host, os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.MaxConcurrent >= 1 && c.MaxConcurrent <= 1000, "MaxConcurrent %d: want 1 to 1000", c.MaxConcurrent)
	check(c.PriorityReserved >= 0 && c.PriorityReserved < c.MaxConcurrent, "PriorityReserved %d: want -1 (none) to MaxConcurrent-1 (%d)", c.PriorityReserved, c.MaxConcurrent-1)
	check(c.RequestsPerSecond > 0, "RequestsPerSecond %g: want more than 0", c.RequestsPerSecond)
	check(c.Burst >= 1, "Burst %g: want at least 1", c.Burst)
	check(c.RequestTimeout > 0, "RequestTimeout %s: want more than 0", c.RequestTimeout)
	check(c.LeaseMargin > 0, "LeaseMargin %s: want more than 0", c.LeaseMargin)
	check(c.SlowRequest > 0, "SlowRequest %s: want more than 0", c.SlowRequest)
	check(c.BreakerFailures >= 1, "BreakerFailures %d: want at least 1", c.BreakerFailures)
	check(c.BreakerCooldown > 0, "BreakerCooldown %s: want more than 0", c.BreakerCooldown)
	check(c.MaxWait >= 0, "MaxWait %s: want 0 or more", c.MaxWait)
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("sapb1 governor: invalid config: %w", err)
	}
	return c, nil
}

// Lease is how long a slot is held without renewal: RequestTimeout +
// LeaseMargin.
func (c Config) Lease() time.Duration { return c.RequestTimeout + c.LeaseMargin }

// dbTimeout bounds each of the governor's transactions, lock wait included.
const dbTimeout = 5 * time.Second

// Governor hands out Service Layer slots. It is safe for concurrent use and
// keeps no state of its own besides its metrics: everything is in Postgres.
type Governor struct {
	pool    *pgxpool.Pool
	cfg     Config
	policy  policy
	metrics *instruments
}

// New checks cfg, writes its shared limits to Postgres (the last process
// started wins) and sizes the slot table to MaxConcurrent. Shrinking never
// takes a held slot away: a held slot above the cap keeps counting against it
// until it is released or its lease runs out.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Governor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Governor{
		pool:    pool,
		cfg:     cfg,
		policy:  policy{slow: cfg.SlowRequest, breakerFailures: cfg.BreakerFailures, cooldown: cfg.BreakerCooldown},
		metrics: newInstruments(),
	}
	if err := g.configure(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// Config returns the configuration in force, defaults filled in.
func (g *Governor) Config() Config { return g.cfg }

func (g *Governor) configure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		_, err := q.GovernorConfigure(ctx, db.GovernorConfigureParams{
			MaxConcurrent:    int32(g.cfg.MaxConcurrent),
			PriorityReserved: int32(g.cfg.PriorityReserved),
			RatePerSecond:    g.cfg.RequestsPerSecond,
			Burst:            g.cfg.Burst,
			Reason: fmt.Sprintf("configured by %s: cap %d, %d reserved for the priority lane, %g requests per second",
				g.cfg.HolderInfo, g.cfg.MaxConcurrent, g.cfg.PriorityReserved, g.cfg.RequestsPerSecond),
			ConfiguredBy: g.cfg.HolderInfo,
		})
		if err != nil {
			return err
		}
		row, err := q.GovernorLock(ctx)
		if err != nil {
			return err
		}
		if _, err := q.GovernorAddSlots(ctx, int32(g.cfg.MaxConcurrent)); err != nil {
			return err
		}
		_, err = q.GovernorRemoveSpareSlots(ctx, db.GovernorRemoveSpareSlotsParams{MaxConcurrent: int32(g.cfg.MaxConcurrent), Now: row.Now})
		return err
	})
	if err != nil {
		return fmt.Errorf("sapb1 governor: configure: %w", err)
	}
	return nil
}

// Slot is one Service Layer request's permission to run. Give it back with
// Release once the request is answered (or abandoned).
type Slot struct {
	g      *Governor
	holder string
	// No is the slot's number in integration.sapb1_slot.
	No   int
	Lane Lane
	// AcquiredAt is when the slot was taken, by the database clock.
	AcquiredAt time.Time
	// Probe is true when this request is the circuit breaker's probe.
	Probe bool

	mu         sync.Mutex
	leaseUntil time.Time
	released   bool
}

// LeaseUntil is when the slot frees itself unless renewed (database clock).
func (s *Slot) LeaseUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaseUntil
}

// errBusy rolls back a transaction that decided "busy".
var errBusy = errors.New("busy")

// Acquire takes a slot for one Service Layer request in lane. When the
// request may not be sent now it returns a *BusyError (errors.Is(err,
// ErrBusy)) at once, or after waiting at most Config.MaxWait; other errors
// are database errors.
func (g *Governor) Acquire(ctx context.Context, lane Lane) (*Slot, error) {
	if !lane.valid() {
		return nil, fmt.Errorf("sapb1 governor: unknown lane %q", lane)
	}
	deadline := time.Now().Add(g.cfg.MaxWait)
	for {
		slot, busy, err := g.tryAcquire(ctx, lane)
		switch {
		case err != nil:
			g.metrics.acquires.WithLabelValues(string(lane), "error").Inc()
			return nil, fmt.Errorf("sapb1 governor: acquire: %w", err)
		case busy == nil:
			g.metrics.acquires.WithLabelValues(string(lane), "acquired").Inc()
			return slot, nil
		}
		remaining := time.Until(deadline)
		if busy.Reason == ReasonBreakerOpen || busy.RetryIn > remaining {
			g.metrics.acquires.WithLabelValues(string(lane), string(busy.Reason)).Inc()
			return nil, busy
		}
		wait := min(Jitter(busy.RetryIn), remaining)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			g.metrics.acquires.WithLabelValues(string(lane), string(busy.Reason)).Inc()
			return nil, busy
		case <-t.C:
		}
	}
}

// tryAcquire makes one decision in one transaction.
func (g *Governor) tryAcquire(ctx context.Context, lane Lane) (*Slot, *BusyError, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	holder := newHolder()
	var (
		slot *Slot
		busy *BusyError
	)
	err := pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.GovernorLock(ctx)
		if err != nil {
			return err
		}
		inUse, err := q.GovernorSlotsInUse(ctx, row.Now)
		if err != nil {
			return err
		}
		st := row.IntegrationSapb1Governor
		leaseUntil := row.Now.Add(g.cfg.Lease())
		n := int(inUse.Normal + inUse.Priority)
		if busy = g.policy.acquire(&st, row.Now, lane, n, holder, leaseUntil); busy != nil {
			return errBusy
		}
		taken, err := q.GovernorTakeSlot(ctx, db.GovernorTakeSlotParams{
			Holder:     holder,
			HolderInfo: g.cfg.HolderInfo,
			Lane:       string(lane),
			Now:        row.Now,
			LeaseUntil: leaseUntil,
			MaxSlot:    st.MaxConcurrent,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			// The count allows one more but no slot row within the cap is
			// free: the slot table is short (a process with a larger cap
			// has not sized it yet). Safe answer: busy.
			busy = &BusyError{Reason: ReasonSlots, Lane: lane, InUse: n, Limit: n, RetryIn: slotRetry(&st, n)}
			return errBusy
		}
		if err != nil {
			return err
		}
		if err := save(ctx, q, &st, row.Now); err != nil {
			return err
		}
		slot = &Slot{
			g: g, holder: holder, No: int(taken.SlotNo), Lane: lane,
			AcquiredAt: row.Now, leaseUntil: leaseUntil,
			Probe: st.ProbeHolder != nil && *st.ProbeHolder == holder,
		}
		return nil
	})
	if errors.Is(err, errBusy) {
		return nil, busy, nil
	}
	return slot, nil, err
}

func save(ctx context.Context, q *db.Queries, st *db.IntegrationSapb1Governor, now time.Time) error {
	return q.GovernorSaveState(ctx, db.GovernorSaveStateParams{
		EffectiveCap:        st.EffectiveCap,
		Tokens:              st.Tokens,
		TokensAt:            st.TokensAt,
		GoodOutcomes:        st.GoodOutcomes,
		CapChangedAt:        st.CapChangedAt,
		CapDecreasedAt:      st.CapDecreasedAt,
		AvgLatencyMs:        st.AvgLatencyMs,
		BreakerState:        st.BreakerState,
		BreakerOpenedAt:     st.BreakerOpenedAt,
		ProbeHolder:         st.ProbeHolder,
		ProbeUntil:          st.ProbeUntil,
		ConsecutiveFailures: st.ConsecutiveFailures,
		Reason:              st.Reason,
		ChangedAt:           st.ChangedAt,
	})
}

// releaseTimeout bounds Release, which runs even when ctx is cancelled.
const releaseTimeout = 5 * time.Second

// Release frees the slot and feeds the outcome to the adaptive cap and the
// breaker, in one short transaction. It runs even when ctx is already
// cancelled (a request that ended must free its slot). A second Release is a
// no-op. It returns an error wrapping ErrLeaseLost when the lease had run out
// (the outcome still counts).
func (s *Slot) Release(ctx context.Context, o Outcome) error {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return nil
	}
	s.released = true
	leaseUntil := s.leaseUntil
	s.mu.Unlock()

	if o.Kind.sent() {
		s.g.metrics.requests.WithLabelValues(string(o.Kind)).Observe(o.Latency.Seconds())
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	var lost bool
	err := pgx.BeginFunc(ctx, s.g.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := q.GovernorLock(ctx)
		if err != nil {
			return err
		}
		freed, err := q.GovernorFreeSlot(ctx, db.GovernorFreeSlotParams{SlotNo: int32(s.No), Holder: s.holder})
		if err != nil {
			return err
		}
		lost = freed == 0 || !row.Now.Before(leaseUntil)
		st := row.IntegrationSapb1Governor
		if freed > 0 && s.No > int(st.MaxConcurrent) {
			if _, err := q.GovernorRemoveSpareSlots(ctx, db.GovernorRemoveSpareSlotsParams{MaxConcurrent: st.MaxConcurrent, Now: row.Now}); err != nil {
				return err
			}
		}
		s.g.policy.release(&st, row.Now, s.AcquiredAt, s.holder, o)
		return save(ctx, q, &st, row.Now)
	})
	if err != nil {
		s.mu.Lock()
		s.released = false // may be tried again; the lease frees it otherwise
		s.mu.Unlock()
		return fmt.Errorf("sapb1 governor: release slot %d: %w", s.No, err)
	}
	if lost {
		s.g.metrics.leaseLost.Inc()
		return fmt.Errorf("%w (slot %d, lease until %s)", ErrLeaseLost, s.No, leaseUntil.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// Renew extends the slot's lease by Config.Lease from now, for a request
// that legitimately runs long. It fails with ErrLeaseLost when the lease
// already ran out.
func (s *Slot) Renew(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return fmt.Errorf("sapb1 governor: renew slot %d: already released", s.No)
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	var until *time.Time
	err := pgx.BeginFunc(ctx, s.g.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The lock keeps a renewal from reviving a slot another acquisition
		// has just counted as free.
		row, err := q.GovernorLock(ctx)
		if err != nil {
			return err
		}
		until, err = q.GovernorRenewSlot(ctx, db.GovernorRenewSlotParams{
			SlotNo: int32(s.No), Holder: s.holder, Now: row.Now, LeaseUntil: row.Now.Add(s.g.cfg.Lease()),
		})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		s.g.metrics.leaseLost.Inc()
		return fmt.Errorf("%w (slot %d)", ErrLeaseLost, s.No)
	}
	if err != nil {
		return fmt.Errorf("sapb1 governor: renew slot %d: %w", s.No, err)
	}
	if until != nil {
		s.leaseUntil = *until
	}
	return nil
}

// Do runs one Service Layer request under a slot of lane: it acquires (a
// *BusyError is returned as is), runs fn with a context bounded by
// Config.RequestTimeout, and releases the slot with fn's Kind and the time fn
// took. It returns fn's error. A failure to release is logged, never
// returned: the request has run, and an error here could make a caller send
// it again.
func (g *Governor) Do(ctx context.Context, lane Lane, fn func(ctx context.Context) (Kind, error)) error {
	slot, err := g.Acquire(ctx, lane)
	if err != nil {
		return err
	}
	kind := NotSent
	start := time.Now()
	defer func() {
		if err := slot.Release(ctx, Outcome{Kind: kind, Latency: time.Since(start)}); err != nil {
			g.cfg.Logger.WarnContext(ctx, "sapb1 governor: releasing a slot failed; it frees itself when its lease ends",
				slog.Int("slot", slot.No), slog.String("error", err.Error()))
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, g.cfg.RequestTimeout)
	defer cancel()
	kind, err = fn(rctx)
	return err
}

// Jitter returns d plus up to 20% more, so that callers told the same delay
// do not all come back at the same instant.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + rand.N(d/5+1)
}

// newHolder returns a random token for one acquisition.
func newHolder() string { return crand.Text() }
