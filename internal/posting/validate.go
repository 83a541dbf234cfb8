package posting

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/orders"
)

// ValidateResult counts what one validation run did.
type ValidateResult struct {
	Evaluated int            // orders decided
	States    map[string]int // orders per state written (new or confirmed)
	Raised    int            // exceptions opened or changed
	Resolved  int            // exceptions resolved by themselves
	Queued    int            // post_order jobs enqueued
	Cancels   int            // cancellations handed to cancel_order (or to the posting job in flight)
	Requeued  int            // jobs queued again by the watchdog
}

// Validate runs validation once, set-based, a batch of orders per
// transaction:
//
//  1. orders landed or changed since the last run (and not seen in this
//     state), whatever their ledger state: new ones are decided, a
//     cancellation of one that is queued, being posted or posted is handed
//     to cancel_order;
//  2. orders not decided yet whose decision may have changed without a new
//     landed state (a mapping imported, an SAP item created or reactivated,
//     the shop's configuration changed, an extra hold over, a rejected POST
//     retried);
//  3. the watchdog: orders whose job should be queued but was last queued
//     long ago are queued again (River's unique jobs skip those still there).
//
// Each batch raises its exceptions, resolves those whose cause cleared,
// moves the ledger rows and enqueues one post_order per order that became
// ready, all in one transaction. Running it twice, or concurrently with the
// jobs, changes nothing twice: ledger writes compare-and-set on the state
// read, exceptions have one live row per problem, and jobs are unique.
func (p *Poster) Validate(ctx context.Context) (ValidateResult, error) {
	res := ValidateResult{States: map[string]int{}}
	q := db.New(p.opts.Pool)
	wm, err := q.ValidationWatermark(ctx)
	if err != nil {
		return res, fmt.Errorf("posting: reading the validation watermark: %w", err)
	}
	since := wm.Add(-p.opts.Overlap)
	after := db.ChangedOrdersPageParams{Since: since, AfterDerivedAt: since.Add(-time.Microsecond), MaxRows: int32(p.opts.BatchSize)}
	for {
		page, err := q.ChangedOrdersPage(ctx, after)
		if err != nil {
			return res, fmt.Errorf("posting: listing changed orders: %w", err)
		}
		if len(page) == 0 {
			break
		}
		keys := make([]Key, len(page))
		for i, r := range page {
			keys[i] = Key{r.ShopID, r.OrderID}
		}
		if err := p.validatePage(ctx, keys, &res); err != nil {
			return res, err
		}
		last := page[len(page)-1]
		after.AfterDerivedAt, after.AfterShop, after.AfterOrder = last.DerivedAt, last.ShopID, last.OrderID
		if len(page) < p.opts.BatchSize {
			break
		}
	}
	recheck := db.RecheckPostingsPageParams{MaxRows: int32(p.opts.BatchSize)}
	for {
		page, err := q.RecheckPostingsPage(ctx, recheck)
		if err != nil {
			return res, fmt.Errorf("posting: listing orders to check again: %w", err)
		}
		if len(page) == 0 {
			break
		}
		keys := make([]Key, len(page))
		for i, r := range page {
			keys[i] = Key{r.ShopID, r.OrderID}
		}
		if err := p.validatePage(ctx, keys, &res); err != nil {
			return res, err
		}
		last := page[len(page)-1]
		recheck.AfterShop, recheck.AfterOrder = last.ShopID, last.OrderID
		if len(page) < p.opts.BatchSize {
			break
		}
	}
	if err := p.requeueStale(ctx, &res); err != nil {
		return res, err
	}
	return res, nil
}

// inValidation are the ledger states validation decides ("" = no row yet).
func inValidation(state string) bool {
	switch state {
	case "", StateNew, StateBlocked, StateWaiting, StateSkipped:
		return true
	}
	return false
}

// validatePage decides one batch of orders in one transaction.
func (p *Poster) validatePage(ctx context.Context, keys []Key, res *ValidateResult) error {
	return pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		shopIDs, orderIDs := split(keys)
		if _, err := q.LockOrderPostings(ctx, db.LockOrderPostingsParams{ShopIds: shopIDs, OrderIds: orderIDs}); err != nil {
			return fmt.Errorf("posting: locking %d ledger rows: %w", len(keys), err)
		}
		data, err := p.load(ctx, q, keys)
		if err != nil {
			return err
		}
		now := p.now()
		var evs []evaluation
		type touch struct {
			ShopID         string    `json:"shop_id"`
			OrderID        string    `json:"order_id"`
			PayloadID      int64     `json:"payload_id"`
			OrderDerivedAt time.Time `json:"order_derived_at"`
		}
		var touched []touch
		var cancelled []Key
		for _, d := range data {
			if inValidation(d.row.State) {
				evs = append(evs, p.evaluate(d, now))
				continue
			}
			touched = append(touched, touch{d.key.ShopID, d.key.OrderID, d.row.PayloadID, d.row.DerivedAt})
			if d.row.Status == orders.StatusCancelled && d.row.CancelSeenAt == nil && d.row.CancelResult == "" {
				cancelled = append(cancelled, d.key)
			}
		}
		a, err := p.apply(ctx, tx, evs)
		if err != nil {
			return err
		}
		if len(touched) > 0 {
			if err := q.TouchOrderPostings(ctx, mustJSON(touched)); err != nil {
				return fmt.Errorf("posting: noting new order states: %w", err)
			}
		}
		n, err := p.handOverCancellations(ctx, tx, cancelled)
		if err != nil {
			return err
		}
		res.Evaluated += len(evs)
		for s, c := range a.states {
			res.States[s] += c
		}
		res.Raised += a.raised
		res.Resolved += a.resolved
		res.Queued += a.queued
		res.Cancels += n
		return nil
	})
}

// handOverCancellations notes TikTok's cancellation of orders past
// validation and enqueues cancel_order for those queued or posted, in tx.
// Those being posted are settled by their posting job once SAP answers.
func (p *Poster) handOverCancellations(ctx context.Context, tx pgx.Tx, keys []Key) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	shopIDs, orderIDs := split(keys)
	rows, err := db.New(tx).MarkCancelSeen(ctx, db.MarkCancelSeenParams{ShopIds: shopIDs, OrderIds: orderIDs})
	if err != nil {
		return 0, fmt.Errorf("posting: noting %d cancellations: %w", len(keys), err)
	}
	var queue []Key
	for _, r := range rows {
		if r.State == StateReady || r.State == StatePosted {
			queue = append(queue, Key{r.ShopID, r.OrderID})
		}
	}
	if len(queue) > 0 {
		if err := p.opts.Jobs.CancelOrders(ctx, tx, queue); err != nil {
			return 0, fmt.Errorf("posting: queueing %d cancellations: %w", len(queue), err)
		}
	}
	return len(rows), nil
}

// requeueStale is the watchdog: it queues post_order again for orders left
// ready, posting or unknown, and cancel_order for posted orders with an
// unsettled cancellation, whose job was last queued StaleAfter ago.
func (p *Poster) requeueStale(ctx context.Context, res *ValidateResult) error {
	if !p.canPost() {
		return nil
	}
	return pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		rows, err := db.New(tx).StalePostings(ctx, db.StalePostingsParams{
			StaleAfterSeconds: p.opts.StaleAfter.Seconds(), MaxRows: int32(p.opts.BatchSize),
		})
		if err != nil {
			return fmt.Errorf("posting: finding stale orders: %w", err)
		}
		var post, cancel []Key
		for _, r := range rows {
			if r.State == StatePosted {
				cancel = append(cancel, Key{r.ShopID, r.OrderID})
			} else {
				post = append(post, Key{r.ShopID, r.OrderID})
			}
		}
		if len(post) > 0 {
			if err := p.opts.Jobs.PostOrders(ctx, tx, post); err != nil {
				return fmt.Errorf("posting: queueing %d stale orders again: %w", len(post), err)
			}
		}
		if len(cancel) > 0 {
			if err := p.opts.Jobs.CancelOrders(ctx, tx, cancel); err != nil {
				return fmt.Errorf("posting: queueing %d stale cancellations again: %w", len(cancel), err)
			}
		}
		res.Requeued += len(rows)
		return nil
	})
}
