// Package posting is the I/O around internal/orders: the validation runner
// (which landed TikTok orders may post, what blocks the others, exceptions
// raised and resolved by themselves), the posting of their SAP Sales Orders
// through the Service Layer, and their cancellations. Every step goes through
// the posting ledger, integration.order_posting: one row per TikTok order,
// locked (or compared-and-set) by whoever acts on the order, so any number of
// processes can run the jobs (DESIGN invariants 3, 6 and 8;
// docs/decisions/0011-order-posting.md).
//
// The ledger's states:
//
//	new ─┬─ blocked ─┐   (an exception stops it; fixing the cause lets it go on)
//	     ├─ waiting ─┤   (unpaid, on hold, extra hold, paused, cancel requested)
//	     ├─ skipped ─┘   (before the cut-over, FBT skipped: re-decided when the shop's configuration changes)
//	     └─ ready ── posting ──┬── posted ──┬── cancelled
//	                  │    ↑   │            └── closed   (partly delivered)
//	                  └─ unknown (answer lost: looked up by UDF after the Service Layer's timeout)
//	new, blocked, waiting, ready ── cancelled_before_post (never posted)
package posting

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

// Ledger states (integration.order_posting.state).
const (
	StateNew                 = "new"
	StateBlocked             = "blocked"
	StateWaiting             = "waiting"
	StateSkipped             = "skipped"
	StateReady               = "ready"
	StatePosting             = "posting"
	StateUnknown             = "unknown"
	StatePosted              = "posted"
	StateCancelled           = "cancelled"
	StateClosed              = "closed"
	StateCancelledBeforePost = "cancelled_before_post"
)

// Exception kinds raised here besides those of internal/orders and the
// validation's own (see validationKinds).
const (
	KindShopNotConfigured      = "shop_not_configured"         // owner it; shop-level (no order id)
	KindItemMissing            = "item_missing"                // the SAP item a SKU resolves to is not in the snapshot
	KindItemInactive           = "item_inactive"               // ... is inactive (validFor N)
	KindItemFrozen             = "item_frozen"                 // ... is frozen
	KindItemNotSalesItem       = "item_not_sales_item"         // ... is not a sales item
	KindWarehouseUnknown       = "warehouse_unknown"           // owner it: the shop's warehouse is not an active SAP warehouse
	KindAbsurdQuantity         = "absurd_quantity"             // more units of one SKU than an order may believably hold
	KindAbsurdAmount           = "absurd_amount"               // a unit price above what a unit may believably cost
	KindSAPRejected            = "sap_rejected"                // SAP refused the POST for good; resolving it retries
	KindTotalVariance          = "order_total_variance"        // owner finance: SAP's DocTotal differs from the expected total
	KindDuplicateSalesOrder    = "sales_order_duplicate"       // owner it, critical: SAP holds more than one Sales Order for an order
	KindLinesUnmatched         = "sales_order_lines_unmatched" // owner it: SAP's lines could not all be matched to the ledger's
	KindPostFailed             = "order_post_failed"           // owner it: post_order gave up after its last attempt
	KindCancelFailed           = "order_cancel_failed"         // owner it: a cancellation SAP refused, or cancel_order gave up
	KindCancelledAfterDispatch = orders.KindCancelledAfterDispatch
)

// validationKinds are the exceptions validation raises on orders and
// resolves by itself once their cause is gone.
var validationKinds = []string{
	orders.KindUnmappedSKU, orders.KindBundleUndefined, orders.KindBundleBadComponent, orders.KindCurrencyMismatch,
	orders.KindMissingPrice, orders.KindPriceInconsistent, orders.KindInvalidAmount, orders.KindNoActiveLines,
	orders.KindShopConfigIncomplete, orders.KindOrderAlreadyShipped, orders.KindUnknownOrderStatus,
	KindItemMissing, KindItemInactive, KindItemFrozen, KindItemNotSalesItem, KindWarehouseUnknown,
	KindAbsurdQuantity, KindAbsurdAmount,
}

// Key names one TikTok order.
type Key struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

// Jobs enqueues the River jobs of the flow inside the caller's transaction,
// so the ledger change and the job that acts on it commit together (DESIGN
// invariant 3). The jobs package implements it.
type Jobs interface {
	PostOrders(ctx context.Context, tx pgx.Tx, keys []Key) error
	CancelOrders(ctx context.Context, tx pgx.Tx, keys []Key) error
}

// Defaults of Options.
const (
	DefaultLookupAfter    = 2 * time.Minute
	DefaultMaxUnitsPerSKU = 1000
	DefaultBatchSize      = 500
	DefaultOverlap        = 10 * time.Minute
	DefaultStaleAfter     = 5 * time.Minute
)

// DefaultMaxUnitPrice is the highest unit price validation believes, in the
// order's currency (one billion: above any real listing even in VND or IDR).
var DefaultMaxUnitPrice = decimal.New(1, 9)

// Options configure a Poster. Zero values take the defaults in the comments.
type Options struct {
	Pool *pgxpool.Pool
	// SAP is the Service Layer client behind the governor. Nil: validation
	// runs and decides, but no order is queued for posting.
	SAP  *sapb1.Client
	Jobs Jobs
	// Location is the SAP company's time zone, in which DocDate and
	// DocDueDate are dated; default UTC.
	Location *time.Location
	// LookupAfter is how long after a POST whose answer was lost the order
	// is looked up by its UDF: the Service Layer's own timeout, past which it
	// cannot commit any more. Default DefaultLookupAfter (2 × the client's
	// default request timeout).
	LookupAfter time.Duration
	// MaxUnitsPerSKU and MaxUnitPrice bound what validation believes of a
	// landed order; beyond them it raises absurd_quantity or absurd_amount.
	// Defaults DefaultMaxUnitsPerSKU and DefaultMaxUnitPrice.
	MaxUnitsPerSKU int
	MaxUnitPrice   decimal.Decimal
	// BatchSize is the number of orders validated per transaction; default
	// DefaultBatchSize.
	BatchSize int
	// Overlap is how far before the newest landed state it has seen
	// validation reads again (a landing transaction that began earlier and
	// committed later); default DefaultOverlap.
	Overlap time.Duration
	// StaleAfter: an order left ready, posting or unknown (or a posted order
	// with an unsettled cancellation) whose job was last queued longer ago
	// is queued again; default DefaultStaleAfter.
	StaleAfter time.Duration
	// ReleaseDelay: a posted Sales Order stays on hold at least this long
	// before the release check (Release); default 0.
	ReleaseDelay time.Duration
	// UDF names the SAP user fields; empty names take internal/orders'
	// defaults.
	UDF orders.UDFNames
	// Now is the clock of decisions (the extra hold); default time.Now.
	Now func() time.Time
	// Logger receives what someone must act on; default discard.
	Logger *slog.Logger
}

// Poster validates, posts and cancels orders. It holds no state of its own:
// any number of them, in any number of processes, share the ledger.
type Poster struct {
	opts Options
	udf  orders.UDFNames
}

// New returns a Poster.
func New(opts Options) *Poster {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	opts.LookupAfter = cmp.Or(opts.LookupAfter, DefaultLookupAfter)
	opts.MaxUnitsPerSKU = cmp.Or(opts.MaxUnitsPerSKU, DefaultMaxUnitsPerSKU)
	if !opts.MaxUnitPrice.IsPositive() {
		opts.MaxUnitPrice = DefaultMaxUnitPrice
	}
	opts.BatchSize = cmp.Or(opts.BatchSize, DefaultBatchSize)
	opts.Overlap = cmp.Or(opts.Overlap, DefaultOverlap)
	opts.StaleAfter = cmp.Or(opts.StaleAfter, DefaultStaleAfter)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	udf := opts.UDF
	udf.OrderID = cmp.Or(udf.OrderID, orders.DefaultOrderIDUDF)
	udf.ShopID = cmp.Or(udf.ShopID, orders.DefaultShopIDUDF)
	udf.PackageID = cmp.Or(udf.PackageID, orders.DefaultPackageIDUDF)
	udf.Release = cmp.Or(udf.Release, orders.DefaultReleaseUDF)
	return &Poster{opts: opts, udf: udf}
}

// canPost reports whether orders may be queued for SAP.
func (p *Poster) canPost() bool { return p.opts.SAP != nil }

func (p *Poster) now() time.Time { return p.opts.Now() }
