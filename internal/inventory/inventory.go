// Package inventory computes what TikTok may sell of each listing from SAP's
// stock (DESIGN.md "Inventory", issue 7). The computation is one set-based
// statement, queries/inventory.sql ComputeAvailableToSell: per SAP item and
// warehouse set, Σ OnHand − Σ IsCommited over the set (summed first, then
// clamped once) minus the e-commerce buffer and the units of TikTok orders
// SAP's stock does not reflect yet; per listing the minimum over the items
// one unit takes, times the listing's allocation share. It writes the values
// that changed into the push ledger integration.inventory_push; push.go
// sends them to TikTok and tiktok_stock.go keeps what TikTok shows.
package inventory

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// ShopChanges counts one shop's listings whose available-to-sell changed;
// the values are in integration.inventory_push.
type ShopChanges = db.ComputeAvailableToSellRow

// Recompute computes available-to-sell for every listing in every TikTok
// warehouse that has a warehouse set and records the changed values in
// integration.inventory_push, in one statement, and counts them per shop.
// Nothing changed: no shops. Concurrent recomputes run one after the other.
func Recompute(ctx context.Context, pool *pgxpool.Pool) ([]ShopChanges, error) {
	var rows []ShopChanges
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.LockInventoryRecompute(ctx); err != nil {
			return err
		}
		// Before the computation, so the push never takes an order as
		// counted that the computation did not see.
		if err := q.MarkInventoryRecomputed(ctx); err != nil {
			return err
		}
		if err := q.TuneInventoryTransaction(ctx); err != nil {
			return err
		}
		var err error
		rows, err = q.ComputeAvailableToSell(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("inventory: computing available-to-sell: %w", err)
	}
	return rows, nil
}

// Listings is how many listings changed over every shop.
func Listings(changes []ShopChanges) int64 {
	var n int64
	for _, c := range changes {
		n += c.Listings
	}
	return n
}
