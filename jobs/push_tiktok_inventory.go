package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// PushTikTokInventoryInterval is how often every active shop's changed
// available-to-sell is pushed (besides the push enqueued after a recompute).
const PushTikTokInventoryInterval = 5 * time.Second

// PushTikTokInventoryArgs pushes one shop's changed available-to-sell to
// TikTok (internal/inventory Push). Without a shop id it schedules one push
// per active shop: that is the periodic job.
type PushTikTokInventoryArgs struct {
	ShopID string `json:"shop_id,omitempty"`
}

func (PushTikTokInventoryArgs) Kind() string { return "push_tiktok_inventory" }

// InsertOpts: at most one push per shop waits at a time; the one that runs
// reads the ledger's latest values.
func (PushTikTokInventoryArgs) InsertOpts() river.InsertOpts {
	return onePerShop(QueueTikTokWrite, 5)
}

// PushTikTokInventoryWorker works PushTikTokInventoryArgs.
type PushTikTokInventoryWorker struct {
	river.WorkerDefaults[PushTikTokInventoryArgs]
	Deps Deps
}

func (w *PushTikTokInventoryWorker) Work(ctx context.Context, job *river.Job[PushTikTokInventoryArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	q := db.New(w.Deps.Pool)
	if job.Args.ShopID == "" {
		ids, err := q.ListShopsToPoll(ctx)
		if err != nil {
			return fmt.Errorf("listing shops to push inventory to: %w", err)
		}
		return EnqueueInventoryPush(ctx, ids)
	}
	shop, active, err := activeShop(ctx, q, job.Args.ShopID)
	if err != nil || !active {
		return err
	}
	res, err := inventory.Push(ctx, w.Deps.Pool, w.Deps.TikTok, shop, inventory.PushOptions{
		ConfirmShare: w.Deps.InventoryConfirmShare, ConfirmMinSKUs: w.Deps.InventoryConfirmMinSKUs,
	})
	if res.Due > 0 {
		slog.InfoContext(ctx, "inventory push", "shop_id", shop.ID, "result", res, "err", err)
	}
	if retryIn, limited := tiktok.RetryAfter(err); limited {
		// What went out is recorded; the rest waits for TikTok, without
		// spending an attempt, and is read again from the ledger then.
		if retryIn <= 0 {
			retryIn = defaultRateLimitSnooze
		}
		return river.JobSnooze(retryIn)
	}
	if errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop) {
		return nil // the shop's exception tells IT; retrying cannot help
	}
	return err
}

// EnqueueInventoryPush enqueues a push for each shop (one already waiting is
// not doubled), with the River client of ctx: call it from a job, e.g.
// after inventory.Recompute with the shops of its changes.
func EnqueueInventoryPush(ctx context.Context, shopIDs []string) error {
	var params []river.InsertManyParams
	for _, id := range shopIDs {
		if id != "" && !slices.ContainsFunc(params, func(p river.InsertManyParams) bool { return p.Args.(PushTikTokInventoryArgs).ShopID == id }) {
			params = append(params, river.InsertManyParams{Args: PushTikTokInventoryArgs{ShopID: id}})
		}
	}
	if len(params) == 0 {
		return nil
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("enqueueing inventory pushes: %w", err)
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("enqueueing inventory pushes: %w", err)
	}
	return nil
}

// shopsOfChanges lists the shops of a recompute's changes, for
// EnqueueInventoryPush.
func shopsOfChanges(changes []inventory.ShopChanges) []string {
	ids := make([]string, 0, len(changes))
	for _, c := range changes {
		ids = append(ids, c.ShopID)
	}
	return ids
}
