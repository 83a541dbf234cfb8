package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// StockSearcher is what reading TikTok's stock needs of internal/tiktok's
// Client.
type StockSearcher interface {
	SearchInventory(ctx context.Context, shop tiktok.Shop, skuIDs []string) ([]tiktok.SKUStock, error)
}

// recordStock keeps what TikTok's inventory search answered in
// tiktok.sku_stock, per TikTok warehouse, or as the SKU's total (warehouse
// "") when TikTok gave no per-warehouse breakdown.
func recordStock(ctx context.Context, q *db.Queries, shopID string, stock []tiktok.SKUStock) error {
	arg := db.RecordTikTokSKUStockParams{ShopID: shopID}
	add := func(s tiktok.SKUStock, warehouseID string, available, committed int64) {
		arg.SkuIds = append(arg.SkuIds, s.SKUID)
		arg.TiktokWarehouseIds = append(arg.TiktokWarehouseIds, warehouseID)
		arg.ProductIds = append(arg.ProductIds, s.ProductID)
		arg.SellerSkus = append(arg.SellerSkus, s.SellerSKU)
		arg.Available = append(arg.Available, available)
		arg.Committed = append(arg.Committed, committed)
	}
	for _, s := range stock {
		if len(s.Warehouses) == 0 {
			add(s, "", s.Available, s.Committed)
		}
		for _, w := range s.Warehouses {
			add(s, w.WarehouseID, w.Available, w.Committed)
		}
	}
	if len(arg.SkuIds) == 0 {
		return nil
	}
	if err := q.RecordTikTokSKUStock(ctx, arg); err != nil {
		return fmt.Errorf("inventory: recording TikTok's stock of shop %s: %w", shopID, err)
	}
	return nil
}

// ReadTikTokStock reads TikTok's own stock of up to maxSKUs of the shop's
// listed SKUs not read within maxAge (the oldest first) and records it, so
// report.inventory_health can show TikTok's listing next to
// available-to-sell even for listings no push has read lately. Each search
// is recorded as it comes: after a rate limit (the error) what was read is
// kept. It returns how many SKUs TikTok answered for.
func ReadTikTokStock(ctx context.Context, pool *pgxpool.Pool, api StockSearcher, shop tiktok.Shop, maxAge time.Duration, maxSKUs int) (int, error) {
	q := db.New(pool)
	ids, err := q.ListTikTokSKUsToRead(ctx, db.ListTikTokSKUsToReadParams{
		ShopID: shop.ID, ReadBefore: time.Now().Add(-maxAge), MaxSkus: int32(min(maxSKUs, 1<<30)),
	})
	if err != nil {
		return 0, fmt.Errorf("inventory: listing the TikTok SKUs of shop %s: %w", shop.ID, err)
	}
	read := 0
	for start := 0; start < len(ids); start += tiktok.MaxSKUIDsPerInventorySearch {
		batch := ids[start:min(start+tiktok.MaxSKUIDsPerInventorySearch, len(ids))]
		stock, err := api.SearchInventory(ctx, shop, batch)
		if err != nil {
			return read, fmt.Errorf("inventory: reading TikTok's stock of shop %s: %w", shop.ID, err)
		}
		if err := recordStock(ctx, q, shop.ID, stock); err != nil {
			return read, err
		}
		read += len(stock)
	}
	return read, nil
}
