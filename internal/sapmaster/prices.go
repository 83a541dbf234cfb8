package sapmaster

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// PriceReader reads one SAP price list (ITM1) in pages: sqlreader.Reader.
type PriceReader interface {
	Prices(ctx context.Context, priceList int, fn func([]sqlreader.Price) error) error
}

// PriceLanding counts what LandPrices wrote for one price list.
type PriceLanding struct {
	PriceList int   `json:"price_list"`
	Read      int   `json:"read"`
	Changed   int64 `json:"changed"`
	Deleted   int64 `json:"deleted"`
}

// LandPrices reads each price list shops use (integration.shop_config
// price_list) in full and swaps it into sapb1.price, rows changed only where
// the price or currency changed. A failed read of a list changes nothing of
// that list (DESIGN invariant 9).
func LandPrices(ctx context.Context, pool *pgxpool.Pool, r PriceReader) ([]PriceLanding, error) {
	q := db.New(pool)
	lists, err := q.ListConfiguredPriceLists(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the shops' price lists: %w", err)
	}
	var out []PriceLanding
	for _, pl := range lists {
		started := time.Now()
		arg := db.ReplacePriceListParams{PriceList: pl, ReadFrom: started}
		err := r.Prices(ctx, int(pl), func(page []sqlreader.Price) error {
			for _, p := range page {
				arg.ItemCodes = append(arg.ItemCodes, p.ItemCode)
				arg.Prices = append(arg.Prices, p.Price)
				arg.Currencies = append(arg.Currencies, p.Currency)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("reading SAP price list %d: %w", pl, err)
		}
		res, err := q.ReplacePriceList(ctx, arg)
		if err != nil {
			return out, fmt.Errorf("landing SAP price list %d: %w", pl, err)
		}
		out = append(out, PriceLanding{PriceList: int(pl), Read: len(arg.ItemCodes), Changed: res.Changed, Deleted: res.Deleted})
	}
	return out, nil
}
