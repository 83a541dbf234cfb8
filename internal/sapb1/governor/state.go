package governor

import (
	"context"
	"fmt"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Breaker is the circuit breaker's state.
type Breaker string

const (
	// BreakerClosed: requests flow.
	BreakerClosed Breaker = breakerClosed
	// BreakerOpen: SAP looks down; nothing is sent until the cool-down ends.
	BreakerOpen Breaker = breakerOpen
	// BreakerHalfOpen: one probe request is (or may be) out; its answer
	// closes the breaker or opens it again.
	BreakerHalfOpen Breaker = breakerHalfOpen
)

// State is the governor as the ops page and the metrics show it.
type State struct {
	// Now is the database clock when the state was read.
	Now time.Time
	// MaxConcurrent, PriorityReserved, RequestsPerSecond and Burst are the
	// shared limits, as the process started last wrote them.
	MaxConcurrent     int
	PriorityReserved  int
	RequestsPerSecond float64
	Burst             float64
	ConfiguredBy      string
	// EffectiveCap is the adaptive cap in force (PriorityReserved+1 to
	// MaxConcurrent).
	EffectiveCap int
	// InUse counts the slots held with a live lease, by lane.
	InUse map[Lane]int
	// Tokens is what the rate bucket holds now.
	Tokens float64
	// AvgLatency is the moving average of answered requests' latency.
	AvgLatency          time.Duration
	Breaker             Breaker
	BreakerOpenedAt     *time.Time
	ConsecutiveFailures int
	// Reason says why the cap or the breaker last changed, at ChangedAt.
	Reason    string
	ChangedAt time.Time
	// Slots lists every slot row, held or not.
	Slots []SlotState
}

// SlotState is one row of integration.sapb1_slot.
type SlotState struct {
	No int
	// Held is true while a holder has it with a live lease.
	Held bool
	// Expired is true when a holder has it but its lease ran out (the
	// holder died or overran); the next Acquire may take it.
	Expired    bool
	Lane       Lane
	HolderInfo string
	AcquiredAt time.Time
	LeaseUntil time.Time
}

// State reads the governor's shared state.
func (g *Governor) State(ctx context.Context) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	q := db.New(g.pool)
	row, err := q.GovernorState(ctx)
	if err != nil {
		return State{}, fmt.Errorf("sapb1 governor: state: %w", err)
	}
	slots, err := q.GovernorSlots(ctx)
	if err != nil {
		return State{}, fmt.Errorf("sapb1 governor: slots: %w", err)
	}
	st := row.IntegrationSapb1Governor
	s := State{
		Now:                 row.Now,
		MaxConcurrent:       int(st.MaxConcurrent),
		PriorityReserved:    int(st.PriorityReserved),
		RequestsPerSecond:   st.RatePerSecond,
		Burst:               st.Burst,
		ConfiguredBy:        st.ConfiguredBy,
		EffectiveCap:        int(st.EffectiveCap),
		InUse:               map[Lane]int{Normal: int(row.NormalInUse), Priority: int(row.PriorityInUse)},
		Tokens:              refill(&st, row.Now),
		AvgLatency:          time.Duration(st.AvgLatencyMs * float64(time.Millisecond)),
		Breaker:             Breaker(st.BreakerState),
		BreakerOpenedAt:     st.BreakerOpenedAt,
		ConsecutiveFailures: int(st.ConsecutiveFailures),
		Reason:              st.Reason,
		ChangedAt:           st.ChangedAt,
	}
	for _, r := range slots {
		ss := SlotState{No: int(r.SlotNo)}
		if r.Holder != nil && r.LeaseUntil != nil {
			ss.Held = r.LeaseUntil.After(row.Now)
			ss.Expired = !ss.Held
			ss.Lane = Lane(deref(r.Lane))
			ss.HolderInfo = deref(r.HolderInfo)
			ss.LeaseUntil = *r.LeaseUntil
			if r.AcquiredAt != nil {
				ss.AcquiredAt = *r.AcquiredAt
			}
		}
		s.Slots = append(s.Slots, ss)
	}
	return s, nil
}

// InUseTotal is the number of slots held with a live lease, both lanes.
func (s State) InUseTotal() int { return s.InUse[Normal] + s.InUse[Priority] }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
