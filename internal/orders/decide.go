package orders

import (
	"fmt"
	"time"
)

// Verdict is what to do with an order that is not posted yet.
type Verdict string

// Verdicts of Decide.
const (
	Post      Verdict = "post"      // build and post the Sales Order now
	Wait      Verdict = "wait"      // not yet: decide again on the order's next change, or at Until
	Skip      Verdict = "skip"      // never post this order; nothing is wrong
	Exception Verdict = "exception" // a person must decide: raise an ops.exception of Kind
)

// Decision reasons (Decision.Kind). For Exception it is the exception kind.
const (
	ReasonReady                = "ready"
	ReasonReadyAsShipped       = "ready_as_shipped"
	ReasonPaused               = "orders_paused"
	ReasonUnpaid               = "unpaid"
	ReasonOnHold               = "on_hold"
	ReasonExtraHold            = "extra_hold"
	ReasonCancelRequested      = "cancel_requested"
	ReasonBeforeCutOver        = "before_cutover"
	ReasonCancelled            = "cancelled"
	ReasonFBTSkipped           = "fbt_skipped"
	KindOrderAlreadyShipped    = "order_already_shipped"
	KindUnknownOrderStatus     = "unknown_order_status"
	KindCancelledAfterDispatch = "cancelled_after_dispatch"
)

// Decision is Decide's answer, with a reason a person understands.
type Decision struct {
	Verdict Verdict
	Kind    string // a Reason… constant, or the exception kind
	Reason  string // one sentence for the ops page
	// Until is when a Wait ends by itself (the extra hold); zero when the
	// order must change first (payment, TikTok's hold, a cancel request).
	Until time.Time
	// AsShipped: TikTok shows the order shipped already and the shop's rule
	// says post it anyway (post_as_shipped).
	AsShipped bool
	// FBT: the order is fulfilled by TikTok and posts against the shop's FBT
	// warehouse, never committing the seller's own stock.
	FBT bool
}

// shipped are the statuses in which goods have left: an order first seen in
// one of them follows the shop's already-shipped rule. PARTIALLY_SHIPPING
// counts: some of its parcels left without a Sales Order.
var shipped = map[string]bool{
	StatusPartiallyShipping: true, StatusInTransit: true, StatusDelivered: true, StatusCompleted: true,
}

// Decide says whether an order that is not posted yet is posted now
// (DESIGN.md, "Orders"). In order of precedence:
//
//   - created before the shop's cut-over → skip (it was keyed into SAP
//     before go-live);
//   - cancelled → skip (cancelled before posting: never posted);
//   - fulfilled by TikTok and the shop skips FBT → skip;
//   - the shop's orders flow is paused → wait;
//   - UNPAID or ON_HOLD → wait (TikTok's buyer window is not over);
//   - a cancellation the buyer asked for is pending → wait for the answer;
//   - AWAITING_SHIPMENT or AWAITING_COLLECTION → post, once the extra hold
//     (counted from payment) has passed;
//   - PARTIALLY_SHIPPING, IN_TRANSIT, DELIVERED, COMPLETED → the shop's
//     already-shipped rule: post as shipped, or exception;
//   - any other status → exception.
func Decide(o Order, cfg ShopConfig, now time.Time) Decision {
	fbt := o.FulfillmentType == FulfilledByTikTok
	switch {
	case !cfg.CutOver.IsZero() && o.CreateTime.Before(cfg.CutOver):
		return Decision{Verdict: Skip, Kind: ReasonBeforeCutOver, Reason: fmt.Sprintf(
			"Created %s, before the shop's cut-over %s: orders from before go-live are never posted.",
			stamp(o.CreateTime), stamp(cfg.CutOver))}
	case o.Status == StatusCancelled:
		return Decision{Verdict: Skip, Kind: ReasonCancelled, Reason: "Cancelled on TikTok before it was posted: it is never posted."}
	case fbt && cfg.FBT != FBTWarehouse:
		return Decision{Verdict: Skip, Kind: ReasonFBTSkipped, Reason: "Fulfilled by TikTok from its own stock; the shop skips FBT orders, so SAP stock is never committed."}
	case cfg.OrdersPaused:
		return Decision{Verdict: Wait, Kind: ReasonPaused, Reason: "The shop's orders flow is paused; it posts once resumed."}
	case o.Status == StatusUnpaid:
		return Decision{Verdict: Wait, Kind: ReasonUnpaid, Reason: "Not paid yet: posted once TikTok shows it awaiting shipment."}
	case o.Status == StatusOnHold:
		return Decision{Verdict: Wait, Kind: ReasonOnHold, Reason: "Paid, in TikTok's on-hold window (the buyer may still cancel): posted once it is awaiting shipment."}
	case o.BuyerRequestCancel:
		return Decision{Verdict: Wait, Kind: ReasonCancelRequested, Reason: "The buyer asked to cancel and the request is not answered yet: posted only if it is rejected."}
	}
	d := Decision{FBT: fbt}
	switch {
	case o.Status == StatusAwaitingShipment || o.Status == StatusAwaitingCollection:
		from := o.PaidTime
		if from.IsZero() {
			from = o.CreateTime
		}
		if until := from.Add(cfg.ExtraHold); cfg.ExtraHold > 0 && now.Before(until) {
			return Decision{Verdict: Wait, Kind: ReasonExtraHold, Until: until, Reason: fmt.Sprintf(
				"Held %s after payment as the shop asks: posted at %s.", cfg.ExtraHold, stamp(until))}
		}
		d.Verdict, d.Kind, d.Reason = Post, ReasonReady, "Awaiting shipment: post the Sales Order."
	case shipped[o.Status]:
		if cfg.AlreadyShipped != ShippedPost {
			return Decision{Verdict: Exception, Kind: KindOrderAlreadyShipped, Reason: fmt.Sprintf(
				"TikTok shows the order %s but it has no Sales Order: the goods left without SAP. Check the stock and post it by hand, or set the shop's already-shipped rule to post_as_shipped.",
				o.Status)}
		}
		d.Verdict, d.Kind, d.AsShipped = Post, ReasonReadyAsShipped, true
		d.Reason = fmt.Sprintf("TikTok shows the order %s already; the shop's rule posts it as shipped.", o.Status)
	default:
		return Decision{Verdict: Exception, Kind: KindUnknownOrderStatus, Reason: fmt.Sprintf(
			"TikTok sent the status %q, which the orders flow does not know: IT must check the API version.", o.Status)}
	}
	if fbt {
		d.Reason += fmt.Sprintf(" Fulfilled by TikTok: posted against the FBT warehouse %s.", cfg.FBTWarehouse)
	}
	return d
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// PostingState is where an order's Sales Order stands in the posting ledger.
type PostingState string

// Posting states.
const (
	StateNotPosted PostingState = "not_posted" // no Sales Order, no POST in flight
	StateInFlight  PostingState = "in_flight"  // a POST was sent and its outcome is not known yet
	StatePosted    PostingState = "posted"     // the Sales Order exists and is open
	StateCancelled PostingState = "cancelled"  // the Sales Order was cancelled
	StateClosed    PostingState = "closed"     // the Sales Order was closed
)

// Do is what a cancellation does to the SAP side.
type Do string

// Cancellation actions.
const (
	DoNeverPost    Do = "never_post"    // mark the ledger so the order is never posted
	DoAwaitOutcome Do = "await_outcome" // record the cancellation; the posting job settles it once SAP's answer is known
	DoCancel       Do = "cancel"        // POST Orders(n)/Cancel
	DoClose        Do = "close"         // POST Orders(n)/Close: the delivered part stays, the rest is released
	DoNothing      Do = "nothing"       // the Sales Order is cancelled or closed already
)

// Action is CancellationAction's answer: what to do in SAP, and an exception
// to raise as well (Raise "" = none).
type Action struct {
	Do     Do
	Raise  string // exception kind, e.g. cancelled_after_dispatch (owner: cx)
	Reason string
}

// CancellationAction says what a TikTok cancellation of a whole order does
// (DESIGN.md, "Cancellations"): not posted → never post; a POST in flight →
// wait for its outcome (the posting job re-checks for a cancellation after
// SAP answers); posted and nothing delivered → cancel the Sales Order;
// partly delivered → close it and raise cancelled_after_dispatch for the
// delivered part; wholly delivered → cancelled_after_dispatch (CX
// intercepts the parcel or expects a return). When Cancel fails because a
// delivery was created meanwhile, read the deliveries again and ask again.
func CancellationAction(state PostingState, delivered, partlyDelivered bool) Action {
	switch state {
	case StateNotPosted:
		return Action{Do: DoNeverPost, Reason: "Cancelled before it was posted: it is never posted."}
	case StateInFlight:
		return Action{Do: DoAwaitOutcome, Reason: "Cancelled while its Sales Order was being posted: the posting job cancels it once SAP's answer is known."}
	case StateCancelled, StateClosed:
		return Action{Do: DoNothing, Reason: fmt.Sprintf("The Sales Order is %s already.", state)}
	case StatePosted:
		switch {
		case delivered:
			return Action{Do: DoNothing, Raise: KindCancelledAfterDispatch, Reason: "Cancelled on TikTok after SAP delivered it: intercept the parcel or expect a return."}
		case partlyDelivered:
			return Action{Do: DoClose, Raise: KindCancelledAfterDispatch, Reason: "Cancelled on TikTok after part of it was delivered: the Sales Order is closed; intercept the parcels sent or expect a return."}
		default:
			return Action{Do: DoCancel, Reason: "Cancelled on TikTok before dispatch: the Sales Order is cancelled."}
		}
	}
	return Action{Do: DoNothing, Raise: "unknown_posting_state", Reason: fmt.Sprintf("The posting ledger state %q is unknown: IT must look.", state)}
}
