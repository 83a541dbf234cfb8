package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// TikTok's own stock of every listing is read again once it is older than
// TikTokStockMaxAge, by a job every ReadTikTokInventoryInterval reading at
// most TikTokStockSKUsPerRun SKUs (50 searches of 600) per shop: 100k
// listings are read within the hour. The push reads the listings it changes
// on every push besides.
const (
	ReadTikTokInventoryInterval = 15 * time.Minute
	TikTokStockMaxAge           = time.Hour
	TikTokStockSKUsPerRun       = 30000
)

// ReadTikTokInventoryArgs reads one shop's TikTok stock into
// tiktok.sku_stock (report.inventory_health's TikTok columns). Without a
// shop id it schedules one read per active shop: that is the periodic job.
type ReadTikTokInventoryArgs struct {
	ShopID string `json:"shop_id,omitempty"`
}

func (ReadTikTokInventoryArgs) Kind() string { return "read_tiktok_inventory" }

// InsertOpts: at most one read per shop waits at a time.
func (ReadTikTokInventoryArgs) InsertOpts() river.InsertOpts {
	return onePerShop(QueueTikTokRead, 3)
}

// ReadTikTokInventoryWorker works ReadTikTokInventoryArgs.
type ReadTikTokInventoryWorker struct {
	river.WorkerDefaults[ReadTikTokInventoryArgs]
	Deps Deps
}

func (w *ReadTikTokInventoryWorker) Work(ctx context.Context, job *river.Job[ReadTikTokInventoryArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	if job.Args.ShopID == "" {
		return enqueuePerShop(ctx, w.Deps.Pool, "TikTok stock reads", func(id string) river.JobArgs { return ReadTikTokInventoryArgs{ShopID: id} })
	}
	shop, active, err := activeShop(ctx, db.New(w.Deps.Pool), job.Args.ShopID)
	if err != nil || !active {
		return err
	}
	n, err := inventory.ReadTikTokStock(ctx, w.Deps.Pool, w.Deps.TikTok, shop, TikTokStockMaxAge, TikTokStockSKUsPerRun)
	if n > 0 {
		slog.InfoContext(ctx, "TikTok stock read", "shop_id", shop.ID, "skus", n)
	}
	if _, limited := tiktok.RetryAfter(err); limited {
		return nil // what was read is kept; the next run reads the rest first
	}
	if errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop) {
		return nil
	}
	return err
}
