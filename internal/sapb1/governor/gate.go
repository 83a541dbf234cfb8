package governor

import (
	"context"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

// Admit lets the Service Layer client ask the governor before every request
// (it implements sapb1.Gate): a slot in the priority lane for a context
// marked with sapb1.WithPriority, in the normal lane otherwise. The returned
// func releases the slot with what happened, which feeds the adaptive cap
// and the breaker. An error is a *BusyError: River jobs snooze on it.
func (g *Governor) Admit(ctx context.Context, priority bool) (func(sapb1.Outcome), error) {
	lane := Normal
	if priority {
		lane = Priority
	}
	slot, err := g.Acquire(ctx, lane)
	if err != nil {
		return nil, err
	}
	return func(o sapb1.Outcome) {
		kind := Classify(o.Status, o.Err)
		if o.NotSent {
			kind = NotSent
		}
		// Release's own failure (a lost lease) is counted in its metrics;
		// the request's result stands either way.
		_ = slot.Release(context.WithoutCancel(ctx), Outcome{Kind: kind, Latency: o.Latency})
	}, nil
}

var _ sapb1.Gate = (*Governor)(nil)
