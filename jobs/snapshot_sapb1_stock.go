package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
)

// SnapshotSAPB1StockInterval is how often SAP's stock (OITW) is read in full.
// The change detector keeps it fresh in between; the full read also catches
// commitments that move with documents no watermark sees (production
// orders, transfer requests).
const SnapshotSAPB1StockInterval = time.Hour

// SnapshotSAPB1StockArgs reads SAP's stock in full, swaps it in once the read
// is complete and recomputes available-to-sell.
type SnapshotSAPB1StockArgs struct{}

func (SnapshotSAPB1StockArgs) Kind() string { return "snapshot_sapb1_stock" }

func (SnapshotSAPB1StockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSAPB1Read, UniqueOpts: river.UniqueOpts{ByPeriod: 10 * time.Minute}, MaxAttempts: 5}
}

// SnapshotSAPB1StockWorker works SnapshotSAPB1StockArgs.
type SnapshotSAPB1StockWorker struct {
	river.WorkerDefaults[SnapshotSAPB1StockArgs]
	Deps Deps
}

func (w *SnapshotSAPB1StockWorker) Work(ctx context.Context, job *river.Job[SnapshotSAPB1StockArgs]) error {
	r, ok := stockReader(w.Deps)
	if !ok {
		return river.JobCancel(fmt.Errorf("SAPB1_SQL_DSN is unset: SAP stock cannot be read"))
	}
	// A failed or partial read publishes nothing and recomputes nothing
	// (DESIGN invariant 9): available-to-sell stays on the last complete
	// snapshot.
	if _, err := sapmaster.SnapshotStockAndRewind(ctx, w.Deps.Pool, r); err != nil {
		return err
	}
	if w.Deps.SAPBufferUDF != "" {
		// OITM.U_EcomBuffer, read in full with the stock (SAPB1_BUFFER_UDF).
		br, ok := w.Deps.SAPReader.(sapmaster.BufferReader)
		if !ok {
			return river.JobCancel(fmt.Errorf("SAPB1_BUFFER_UDF is set but the SAP reader cannot read it"))
		}
		if _, _, err := sapmaster.LandBuffers(ctx, w.Deps.Pool, br); err != nil {
			return err
		}
	}
	changes, err := inventory.Recompute(ctx, w.Deps.Pool)
	if err != nil {
		return err
	}
	return enqueueInventoryPush(ctx, w.Deps, changes)
}

// stockReader is the SAP reader as the stock jobs need it; false when SAP
// is not configured (or the reader cannot read stock).
func stockReader(d Deps) (sapmaster.StockChangeReader, bool) {
	if d.SAPReader == nil {
		return nil, false
	}
	r, ok := d.SAPReader.(sapmaster.StockChangeReader)
	return r, ok
}

// sapStockPeriodic is the SAP stock schedule, when SAP's stock can be read:
// the full snapshot hourly and at start, the change detector every few
// seconds.
func sapStockPeriodic(deps Deps) []*river.PeriodicJob {
	if _, ok := stockReader(deps); !ok {
		return nil
	}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(SnapshotSAPB1StockInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SnapshotSAPB1StockArgs{}, nil },
			&river.PeriodicJobOpts{ID: "snapshot_sapb1_stock", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(DetectSAPB1StockChangesInterval),
			func() (river.JobArgs, *river.InsertOpts) { return DetectSAPB1StockChangesArgs{}, nil },
			&river.PeriodicJobOpts{ID: "detect_sapb1_stock_changes", RunOnStart: true}),
	}
}
