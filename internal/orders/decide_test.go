package orders_test

import (
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/orders"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	paid := now.Add(-30 * time.Minute)
	base := orders.Order{ShopID: "S", ID: "576000000000000001", Status: orders.StatusAwaitingShipment,
		FulfillmentType: orders.FulfilledBySeller, ShippingType: orders.ShippingTikTok,
		CreateTime: paid.Add(-5 * time.Minute), PaidTime: paid}
	cfg := orders.ShopConfig{ShopID: "S", CutOver: now.AddDate(0, 0, -7), AlreadyShipped: orders.ShippedException}

	type tc struct {
		name    string
		order   func(o *orders.Order)
		cfg     func(c *orders.ShopConfig)
		verdict orders.Verdict
		kind    string
		until   time.Time
		shipped bool
	}
	for _, c := range []tc{
		{name: "awaiting shipment posts", verdict: orders.Post, kind: orders.ReasonReady},
		{name: "awaiting collection posts", order: func(o *orders.Order) { o.Status = orders.StatusAwaitingCollection }, verdict: orders.Post, kind: orders.ReasonReady},
		{name: "unpaid waits", order: func(o *orders.Order) { o.Status, o.PaidTime = orders.StatusUnpaid, time.Time{} }, verdict: orders.Wait, kind: orders.ReasonUnpaid},
		{name: "on hold waits", order: func(o *orders.Order) { o.Status = orders.StatusOnHold }, verdict: orders.Wait, kind: orders.ReasonOnHold},
		{name: "a pending cancel request waits", order: func(o *orders.Order) { o.BuyerRequestCancel = true }, verdict: orders.Wait, kind: orders.ReasonCancelRequested},
		{name: "paused waits", cfg: func(c *orders.ShopConfig) { c.OrdersPaused = true }, verdict: orders.Wait, kind: orders.ReasonPaused},
		{name: "extra hold of an hour, paid 30 minutes ago: waits until paid + 1h",
			cfg: func(c *orders.ShopConfig) { c.ExtraHold = time.Hour }, verdict: orders.Wait, kind: orders.ReasonExtraHold, until: paid.Add(time.Hour)},
		{name: "extra hold of 30 minutes has passed", cfg: func(c *orders.ShopConfig) { c.ExtraHold = 30 * time.Minute }, verdict: orders.Post, kind: orders.ReasonReady},
		{name: "created before the cut-over is skipped, whatever its status",
			order: func(o *orders.Order) { o.CreateTime, o.Status = cfg.CutOver.Add(-time.Second), orders.StatusUnpaid }, verdict: orders.Skip, kind: orders.ReasonBeforeCutOver},
		{name: "created at the cut-over posts", order: func(o *orders.Order) { o.CreateTime = cfg.CutOver }, verdict: orders.Post},
		{name: "cancelled before posting is skipped", order: func(o *orders.Order) { o.Status = orders.StatusCancelled }, verdict: orders.Skip, kind: orders.ReasonCancelled},
		{name: "FBT is skipped by default, even unpaid",
			order: func(o *orders.Order) { o.FulfillmentType, o.Status = orders.FulfilledByTikTok, orders.StatusUnpaid }, verdict: orders.Skip, kind: orders.ReasonFBTSkipped},
		{name: "FBT with a warehouse posts", order: func(o *orders.Order) { o.FulfillmentType = orders.FulfilledByTikTok },
			cfg: func(c *orders.ShopConfig) { c.FBT, c.FBTWarehouse = orders.FBTWarehouse, "FBT" }, verdict: orders.Post},
		{name: "in transit: exception by default", order: func(o *orders.Order) { o.Status = orders.StatusInTransit }, verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped},
		{name: "delivered: exception by default", order: func(o *orders.Order) { o.Status = orders.StatusDelivered }, verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped},
		{name: "partially shipping: parcels left without SAP", order: func(o *orders.Order) { o.Status = orders.StatusPartiallyShipping }, verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped},
		{name: "in transit, rule post_as_shipped", order: func(o *orders.Order) { o.Status = orders.StatusInTransit },
			cfg: func(c *orders.ShopConfig) { c.AlreadyShipped = orders.ShippedPost }, verdict: orders.Post, kind: orders.ReasonReadyAsShipped, shipped: true},
		{name: "completed, rule post_as_shipped", order: func(o *orders.Order) { o.Status = orders.StatusCompleted },
			cfg: func(c *orders.ShopConfig) { c.AlreadyShipped = orders.ShippedPost }, verdict: orders.Post, kind: orders.ReasonReadyAsShipped, shipped: true},
		{name: "an unknown status is an exception", order: func(o *orders.Order) { o.Status = "TO_SHIP" }, verdict: orders.Exception, kind: orders.KindUnknownOrderStatus},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, s := base, cfg
			if c.order != nil {
				c.order(&o)
			}
			if c.cfg != nil {
				c.cfg(&s)
			}
			d := orders.Decide(o, s, now)
			if d.Verdict != c.verdict || (c.kind != "" && d.Kind != c.kind) || !d.Until.Equal(c.until) || d.AsShipped != c.shipped {
				t.Errorf("got %+v, want %s/%s until %v as shipped %v", d, c.verdict, c.kind, c.until, c.shipped)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func TestCancellationAction(t *testing.T) {
	for _, c := range []struct {
		state             orders.PostingState
		delivered, partly bool
		do                orders.Do
		raise             string
	}{
		{orders.StateNotPosted, false, false, orders.DoNeverPost, ""},
		{orders.StateInFlight, false, false, orders.DoAwaitOutcome, ""},
		{orders.StatePosted, false, false, orders.DoCancel, ""},
		{orders.StatePosted, false, true, orders.DoClose, orders.KindCancelledAfterDispatch},
		{orders.StatePosted, true, false, orders.DoNothing, orders.KindCancelledAfterDispatch},
		{orders.StatePosted, true, true, orders.DoNothing, orders.KindCancelledAfterDispatch},
		{orders.StateCancelled, false, false, orders.DoNothing, ""},
		{orders.StateClosed, false, true, orders.DoNothing, ""},
		{"bogus", false, false, orders.DoNothing, "unknown_posting_state"},
	} {
		a := orders.CancellationAction(c.state, c.delivered, c.partly)
		if a.Do != c.do || a.Raise != c.raise || a.Reason == "" {
			t.Errorf("CancellationAction(%s, delivered %v, partly %v) = %+v, want %s raise %q", c.state, c.delivered, c.partly, a, c.do, c.raise)
		}
	}
}
