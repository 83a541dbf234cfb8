package sapmaster

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// StockReader is what SnapshotStock reads SAP's stock (OITW) through (a
// *sqlreader.Reader): keyset pages at READ COMMITTED, never NOLOCK.
type StockReader interface {
	StockAll(ctx context.Context, fn func([]sqlreader.Stock) error) error
}

// SnapshotStock reads the stock of every item in every warehouse into
// sapb1.stock_load page by page and swaps it into sapb1.stock only once the
// read is complete (DESIGN invariant 9): a read that fails half way
// publishes nothing, and available-to-sell keeps computing from the last
// complete snapshot. Published rows carry read_from, the time the snapshot
// started, before its first page was requested.
func SnapshotStock(ctx context.Context, pool *pgxpool.Pool, r StockReader) (int64, error) {
	q := db.New(pool)
	id, err := q.StartSnapshot(ctx, "stock")
	if err != nil {
		return 0, fmt.Errorf("sapmaster: starting the stock snapshot: %w", err)
	}
	var loaded int64
	err = r.StockAll(ctx, func(page []sqlreader.Stock) error {
		p := db.LoadStockParams{SnapshotID: id}
		for _, s := range page {
			p.ItemCodes = append(p.ItemCodes, s.ItemCode)
			p.WhsCodes = append(p.WhsCodes, s.WhsCode)
			p.OnHands = append(p.OnHands, s.OnHand)
			p.IsCommitteds = append(p.IsCommitteds, s.IsCommited)
			p.OnOrders = append(p.OnOrders, s.OnOrder)
		}
		n, err := q.LoadStock(ctx, p)
		loaded += n
		return err
	})
	if err == nil {
		var n int64
		if n, err = q.PublishStock(ctx, id); err == nil && n != 1 {
			return 0, fmt.Errorf("sapmaster: stock snapshot %d was no longer loading, nothing published", id)
		}
	}
	if err != nil {
		if derr := q.DiscardStockLoad(context.WithoutCancel(ctx), id); derr != nil {
			err = fmt.Errorf("%w (and its loaded rows could not be discarded: %v)", err, derr)
		}
		return 0, fail(ctx, q, id, "stock", err)
	}
	return loaded, nil
}
