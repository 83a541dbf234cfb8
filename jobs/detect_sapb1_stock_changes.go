package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
)

// DetectSAPB1StockChangesInterval is how often the stock change detector
// polls SAP's watermarks (OIVL.TransSeq, ORDR UpdateDate+UpdateTS).
const DetectSAPB1StockChangesInterval = 5 * time.Second

// DetectSAPB1StockChangesArgs reads the stock of the items that moved in SAP
// since the last run, publishes it and recomputes available-to-sell.
type DetectSAPB1StockChangesArgs struct{}

func (DetectSAPB1StockChangesArgs) Kind() string { return "detect_sapb1_stock_changes" }

func (DetectSAPB1StockChangesArgs) InsertOpts() river.InsertOpts {
	// One at a time: a run that overlaps the next would read the same
	// changes (the runs also serialise on an advisory lock).
	return river.InsertOpts{Queue: QueueSAPB1Read, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}, MaxAttempts: 3}
}

// DetectSAPB1StockChangesWorker works DetectSAPB1StockChangesArgs.
type DetectSAPB1StockChangesWorker struct {
	river.WorkerDefaults[DetectSAPB1StockChangesArgs]
	Deps Deps
}

func (w *DetectSAPB1StockChangesWorker) Work(ctx context.Context, job *river.Job[DetectSAPB1StockChangesArgs]) error {
	r, ok := stockReader(w.Deps)
	if !ok {
		return river.JobCancel(fmt.Errorf("SAPB1_SQL_DSN is unset: SAP stock cannot be read"))
	}
	res, err := sapmaster.DetectStockChanges(ctx, w.Deps.Pool, r)
	if err != nil || res.RowsWritten == 0 {
		return err
	}
	// Scope: the whole recompute (one statement, ~2 s at 100k SKUs); it
	// writes only the listings whose value changed. Recomputing only the
	// re-read items' listings is a later optimisation.
	changes, err := inventory.Recompute(ctx, w.Deps.Pool)
	if err != nil {
		return err
	}
	return enqueueInventoryPush(ctx, w.Deps, changes)
}

// enqueueInventoryPush enqueues the TikTok inventory push
// (jobs/push_tiktok_inventory.go) for the shops whose available-to-sell
// changed, so a stock change does not wait for the push's own 5 s schedule.
// The changed values are already committed in integration.inventory_push,
// which the push reads; if this enqueue is lost, the periodic push sends
// them.
func enqueueInventoryPush(ctx context.Context, deps Deps, changes []inventory.ShopChanges) error {
	if len(changes) == 0 || !deps.tiktokConfigured() {
		return nil
	}
	return EnqueueInventoryPush(ctx, shopsOfChanges(changes))
}
