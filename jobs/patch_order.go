package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/posting"
)

// PatchOrderArgs brings one posted Sales Order in step with its TikTok
// order (internal/posting Patch): lines whose units were cancelled on TikTok
// removed or reduced (one PATCH with replaceLines and the document's ETag),
// and the release UDF set once the release check approved the order. On
// sapb1_write, through the governor.
type PatchOrderArgs struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

func (PatchOrderArgs) Kind() string { return "patch_order" }

func (PatchOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSAPB1Write, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: openJobStates}}
}

// PatchOrderWorker works PatchOrderArgs.
type PatchOrderWorker struct {
	river.WorkerDefaults[PatchOrderArgs]
	Deps Deps
}

func (w *PatchOrderWorker) Timeout(*river.Job[PatchOrderArgs]) time.Duration {
	return w.Deps.jobTimeout()
}

func (w *PatchOrderWorker) Work(ctx context.Context, job *river.Job[PatchOrderArgs]) error {
	err := w.Deps.poster(OrderJobs(nil)).Patch(ctx, posting.Key{ShopID: job.Args.ShopID, OrderID: job.Args.OrderID})
	if err == posting.ErrSAPNotConfigured {
		return river.JobCancel(err)
	}
	return err
}

// PatchOrders enqueues patch_order for keys in tx (posting.PatchJobs).
func (j orderJobs) PatchOrders(ctx context.Context, tx pgx.Tx, keys []posting.Key) error {
	params := make([]river.InsertManyParams, len(keys))
	for i, k := range keys {
		params[i] = river.InsertManyParams{Args: PatchOrderArgs{ShopID: k.ShopID, OrderID: k.OrderID}}
	}
	return j.insert(ctx, tx, params)
}
