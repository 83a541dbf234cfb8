package sapmaster

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// BufferReader reads the e-commerce buffer UDF of the item master
// (OITM.U_EcomBuffer): sqlreader.Reader.
type BufferReader interface {
	EcomBuffers(ctx context.Context, fn func([]sqlreader.Buffer) error) error
}

// LandBuffers reads OITM.U_EcomBuffer in full and swaps it into
// sapb1.item_buffer; a failed read changes nothing. It returns the rows
// changed and deleted. Available-to-sell uses the value where
// integration.stock_buffer has no row for the item.
func LandBuffers(ctx context.Context, pool *pgxpool.Pool, r BufferReader) (changed, deleted int64, err error) {
	arg := db.ReplaceItemBuffersParams{ReadFrom: time.Now()}
	err = r.EcomBuffers(ctx, func(page []sqlreader.Buffer) error {
		for _, b := range page {
			arg.ItemCodes = append(arg.ItemCodes, b.ItemCode)
			arg.Buffers = append(arg.Buffers, b.Buffer)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("reading OITM.%s: %w", sqlreader.BufferUDF, err)
	}
	res, err := db.New(pool).ReplaceItemBuffers(ctx, arg)
	if err != nil {
		return 0, 0, fmt.Errorf("landing OITM.%s: %w", sqlreader.BufferUDF, err)
	}
	return res.Changed, res.Deleted, nil
}
