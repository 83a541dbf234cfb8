package landing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// DefaultReplayPageSize is how many orders one replay transaction derives.
const DefaultReplayPageSize = 500

// ReplayOptions choose what Replay re-derives. Zero values take the defaults
// in the comments.
type ReplayOptions struct {
	// Since limits the replay to orders with a payload received at or after
	// it; nil replays every order.
	Since *time.Time
	// PageSize is the number of orders per transaction; default
	// DefaultReplayPageSize.
	PageSize int
	// Progress, when set, is called after each page.
	Progress func(ReplayProgress)
}

// ReplayProgress is the state of a replay after a page.
type ReplayProgress struct {
	Page    int           // pages done, from 1
	Done    int64         // orders replayed so far
	Total   int64         // orders to replay, counted at the start
	Derive  DeriveResult  // what this page did
	Elapsed time.Duration // since the replay started
}

// ReplayResult sums up a replay.
type ReplayResult struct {
	Orders int64        // orders replayed
	Pages  int          // transactions
	Derive DeriveResult // totals over every page
}

// Replay derives the typed orders, lines and packages again from
// tiktok.order_payload, a page of orders per transaction. Each order takes the
// newest of all its payloads (not only those since opts.Since), exactly as
// landing them fresh would, so replaying after a fix of the derivation
// rewrites the typed tables with what the fixed derivation makes of the same
// payloads. It is idempotent, and safe while orders keep landing: a state
// landed meanwhile is never overwritten by an older one.
func Replay(ctx context.Context, dbtx Beginner, opts ReplayOptions) (ReplayResult, error) {
	var res ReplayResult
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultReplayPageSize
	}
	start := time.Now()
	total, err := countReplay(ctx, dbtx, opts.Since)
	if err != nil {
		return res, err
	}
	afterShop, afterOrder := "", ""
	for {
		var page []db.ReplayOrderPageRow
		var d DeriveResult
		err := pgx.BeginFunc(ctx, dbtx, func(tx pgx.Tx) error {
			q := db.New(tx)
			var err error
			page, err = q.ReplayOrderPage(ctx, db.ReplayOrderPageParams{
				Since: opts.Since, AfterShop: afterShop, AfterOrder: afterOrder, MaxRows: int32(opts.PageSize),
			})
			if err != nil || len(page) == 0 {
				return err
			}
			shopIDs, orderIDs := make([]string, len(page)), make([]string, len(page))
			for i, r := range page {
				shopIDs[i], orderIDs[i] = r.ShopID, r.OrderID
			}
			ids, err := q.OrderPayloadIDs(ctx, db.OrderPayloadIDsParams{ShopIds: shopIDs, OrderIds: orderIDs})
			if err != nil {
				return err
			}
			d, err = Derive(ctx, tx, ids, true)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("landing: replaying orders after %s/%s: %w", afterShop, afterOrder, err)
		}
		if len(page) == 0 {
			return res, nil
		}
		last := page[len(page)-1]
		afterShop, afterOrder = last.ShopID, last.OrderID
		res.Pages++
		res.Orders += int64(len(page))
		res.Derive.Orders += d.Orders
		res.Derive.Lines += d.Lines
		res.Derive.Packages += d.Packages
		res.Derive.Unreadable += d.Unreadable
		res.Derive.Resolved += d.Resolved
		if opts.Progress != nil {
			opts.Progress(ReplayProgress{Page: res.Pages, Done: res.Orders, Total: max(total, res.Orders), Derive: d, Elapsed: time.Since(start)})
		}
	}
}

func countReplay(ctx context.Context, dbtx Beginner, since *time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, dbtx, func(tx pgx.Tx) error {
		var err error
		n, err = db.New(tx).CountReplayOrders(ctx, since)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("landing: counting orders to replay: %w", err)
	}
	return n, nil
}
