package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/posting"
)

// CancelOrderArgs carries TikTok's cancellation of one order to SAP: never
// posted if it was not yet, the Sales Order cancelled (or closed when partly
// delivered), or cancelled_after_dispatch for CX when it left already
// (internal/posting). On the priority queue, through the governor's priority
// lane.
type CancelOrderArgs struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

func (CancelOrderArgs) Kind() string { return "cancel_order" }

func (CancelOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePriority, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: openJobStates}}
}

// CancelOrderWorker works CancelOrderArgs.
type CancelOrderWorker struct {
	river.WorkerDefaults[CancelOrderArgs]
	Deps Deps
}

func (w *CancelOrderWorker) Timeout(*river.Job[CancelOrderArgs]) time.Duration {
	return w.Deps.jobTimeout()
}

func (w *CancelOrderWorker) Work(ctx context.Context, job *river.Job[CancelOrderArgs]) error {
	p := w.Deps.poster(OrderJobs(nil))
	key := posting.Key{ShopID: job.Args.ShopID, OrderID: job.Args.OrderID}
	err := p.Cancel(ctx, key)
	if err == posting.ErrSAPNotConfigured {
		return river.JobCancel(err)
	}
	return lastAttempt(ctx, job.JobRow, err, func(err error) error { return p.GaveUp(ctx, key, true, job.Attempt, err) })
}
