package governor

import (
	"fmt"
	"math"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// The governor's decisions, as pure functions over its shared row
// (integration.sapb1_governor) and the database clock. The transactions in
// governor.go lock the row, call these, and write the row back.

// Breaker states, as stored in breaker_state.
const (
	breakerClosed   = "closed"
	breakerOpen     = "open"
	breakerHalfOpen = "half_open"
)

const (
	// minRetry and maxSlotRetry bound the suggested wait for a slot.
	minRetry     = 50 * time.Millisecond
	maxSlotRetry = 5 * time.Second
	// unknownLatency stands in for the average latency before any answer.
	unknownLatency = 500 * time.Millisecond
	// probeRetry is the suggested wait while a half-open probe is out.
	probeRetry = 2 * time.Second
	// latencyWeight is the weight of the newest answer in avg_latency_ms.
	latencyWeight = 0.2
)

// policy holds the per-process parameters of the decisions.
type policy struct {
	slow            time.Duration
	breakerFailures int
	cooldown        time.Duration
}

// laneLimit is how many requests may be in flight (both lanes together) for
// lane to start one more: the priority lane may fill the effective cap, the
// normal lane leaves the reserved slots free.
func laneLimit(st *db.IntegrationSapb1Governor, lane Lane) int {
	if lane == Priority {
		return int(st.EffectiveCap)
	}
	return int(st.EffectiveCap - st.PriorityReserved)
}

// refill returns the tokens in the bucket at now.
func refill(st *db.IntegrationSapb1Governor, now time.Time) float64 {
	elapsed := max(0, now.Sub(st.TokensAt).Seconds())
	return math.Min(st.Burst, st.Tokens+elapsed*st.RatePerSecond)
}

// slotRetry suggests when a slot may be free: one average request's time
// shared among the requests in flight, as one of them ends about that often.
func slotRetry(st *db.IntegrationSapb1Governor, inUse int) time.Duration {
	avg := time.Duration(st.AvgLatencyMs * float64(time.Millisecond))
	if avg <= 0 {
		avg = unknownLatency
	}
	return min(max(avg/time.Duration(max(inUse, 1)), minRetry), maxSlotRetry)
}

// seconds converts a number of seconds to a Duration, rounded up to the
// millisecond so that waiting it is always enough.
func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s*1000)) * time.Millisecond
}

// acquire decides whether lane may start a request at now with inUse
// requests in flight. On yes it takes a token (and, after a cool-down, makes
// this request the breaker's probe) in st and returns nil; on no it returns
// why and when to try again, and st must not be saved.
func (p policy) acquire(st *db.IntegrationSapb1Governor, now time.Time, lane Lane, inUse int, holder string, leaseUntil time.Time) *BusyError {
	probe := false
	switch st.BreakerState {
	case breakerOpen:
		end := now
		if st.BreakerOpenedAt != nil {
			end = st.BreakerOpenedAt.Add(p.cooldown)
		}
		if now.Before(end) {
			return &BusyError{Reason: ReasonBreakerOpen, Lane: lane, RetryIn: end.Sub(now)}
		}
		probe = true
	case breakerHalfOpen:
		if st.ProbeUntil != nil && now.Before(*st.ProbeUntil) {
			return &BusyError{Reason: ReasonBreakerOpen, Lane: lane, RetryIn: min(probeRetry, p.cooldown, st.ProbeUntil.Sub(now))}
		}
		probe = true
	}

	if limit := laneLimit(st, lane); inUse >= limit {
		return &BusyError{Reason: ReasonSlots, Lane: lane, InUse: inUse, Limit: limit, RetryIn: slotRetry(st, inUse)}
	}

	// The priority lane may borrow one token (the bucket goes down to -1
	// and repays it before the normal lane gets another), so a cancellation
	// never waits for the rate behind a backlog of normal requests.
	need := 1.0
	if lane == Priority {
		need = 0
	}
	tokens := refill(st, now)
	if tokens < need {
		return &BusyError{Reason: ReasonRate, Lane: lane, RetryIn: max(seconds((need-tokens)/st.RatePerSecond), time.Millisecond)}
	}
	st.Tokens = tokens - 1
	st.TokensAt = now

	if probe {
		st.BreakerState = breakerHalfOpen
		st.ProbeHolder = &holder
		st.ProbeUntil = &leaseUntil
		setReason(st, now, fmt.Sprintf("breaker half-open: cool-down of %s over, one probe request let through", p.cooldown))
	}
	return nil
}

// release feeds the outcome of a request started at acquiredAt (by the
// acquisition holder) into the adaptive cap and the breaker.
func (p policy) release(st *db.IntegrationSapb1Governor, now, acquiredAt time.Time, holder string, o Outcome) {
	isProbe := st.ProbeHolder != nil && *st.ProbeHolder == holder
	if !o.Kind.sent() {
		if isProbe {
			// Nothing was learnt: let the next request probe at once.
			st.ProbeHolder, st.ProbeUntil = nil, nil
		}
		return
	}

	if o.Kind != Unreachable && o.Latency > 0 {
		ms := float64(o.Latency) / float64(time.Millisecond)
		if st.AvgLatencyMs == 0 {
			st.AvgLatencyMs = ms
		} else {
			st.AvgLatencyMs += latencyWeight * (ms - st.AvgLatencyMs)
		}
	}

	slow := o.Latency > p.slow
	switch {
	case o.Kind == ServerError || o.Kind == BadGateway || o.Kind == Timeout || (o.Kind == OK && slow):
		// Multiplicative decrease, once per window: a bad answer to a
		// request started before the last decrease was already accounted
		// for by that decrease.
		if st.CapDecreasedAt != nil && acquiredAt.Before(*st.CapDecreasedAt) {
			break
		}
		floor := st.PriorityReserved + 1
		old := st.EffectiveCap
		st.EffectiveCap = max(floor, old/2)
		st.CapDecreasedAt = &now
		st.CapChangedAt = now
		st.GoodOutcomes = 0
		if st.EffectiveCap != old {
			why := o.Kind.describe()
			if o.Kind == OK {
				why = fmt.Sprintf("an answer took %s (slow above %s)", o.Latency.Round(time.Millisecond), p.slow)
			}
			setReason(st, now, fmt.Sprintf("cap halved from %d to %d: %s", old, st.EffectiveCap, why))
		}
	case o.Kind == OK:
		// Additive increase: +1 per window of good answers (as many as the
		// cap), counting only requests started under the current cap.
		if acquiredAt.Before(st.CapChangedAt) {
			break
		}
		st.GoodOutcomes++
		if st.GoodOutcomes >= st.EffectiveCap {
			n := st.GoodOutcomes
			st.GoodOutcomes = 0
			if st.EffectiveCap < st.MaxConcurrent {
				st.EffectiveCap++
				st.CapChangedAt = now
				setReason(st, now, fmt.Sprintf("cap raised from %d to %d after %d good answers", st.EffectiveCap-1, st.EffectiveCap, n))
			}
		}
	}

	if o.Kind.answered() {
		st.ConsecutiveFailures = 0
		if st.BreakerState != breakerClosed {
			st.BreakerState = breakerClosed
			st.BreakerOpenedAt, st.ProbeHolder, st.ProbeUntil = nil, nil, nil
			setReason(st, now, "breaker closed: SAP answered again")
		}
		return
	}
	st.ConsecutiveFailures++
	switch {
	case st.BreakerState == breakerClosed && int(st.ConsecutiveFailures) >= p.breakerFailures:
		st.BreakerState = breakerOpen
		st.BreakerOpenedAt = &now
		setReason(st, now, fmt.Sprintf("breaker opened: %d requests in a row got no answer from SAP (last: %s)", st.ConsecutiveFailures, o.Kind.describe()))
	case st.BreakerState == breakerHalfOpen && isProbe:
		st.BreakerState = breakerOpen
		st.BreakerOpenedAt = &now
		st.ProbeHolder, st.ProbeUntil = nil, nil
		setReason(st, now, fmt.Sprintf("breaker reopened: the probe request got no answer (%s)", o.Kind.describe()))
	}
}

func setReason(st *db.IntegrationSapb1Governor, now time.Time, reason string) {
	st.Reason = reason
	st.ChangedAt = now
}
