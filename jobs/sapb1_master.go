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

// SAP master data schedule: a full snapshot hourly (and at start), and the
// change detector every few seconds between them.
const (
	SnapshotSAPB1MasterInterval = time.Hour
	RefreshSAPB1ItemsInterval   = 10 * time.Second
)

// SnapshotSAPB1MasterArgs reads SAP's items, bills of materials and
// warehouses in full and swaps each in once its read is complete.
type SnapshotSAPB1MasterArgs struct{}

func (SnapshotSAPB1MasterArgs) Kind() string { return "snapshot_sapb1_master" }

func (SnapshotSAPB1MasterArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSAPB1Read, UniqueOpts: river.UniqueOpts{ByPeriod: 10 * time.Minute}, MaxAttempts: 5}
}

// SnapshotSAPB1MasterWorker works SnapshotSAPB1MasterArgs.
type SnapshotSAPB1MasterWorker struct {
	river.WorkerDefaults[SnapshotSAPB1MasterArgs]
	Deps Deps
}

func (w *SnapshotSAPB1MasterWorker) Work(ctx context.Context, job *river.Job[SnapshotSAPB1MasterArgs]) error {
	if w.Deps.SAPReader == nil {
		return river.JobCancel(fmt.Errorf("SAPB1_SQL_DSN is unset: SAP master data cannot be read"))
	}
	if _, err := sapmaster.SnapshotWarehouses(ctx, w.Deps.Pool, w.Deps.SAPReader); err != nil {
		return err
	}
	if _, err := sapmaster.SnapshotItems(ctx, w.Deps.Pool, w.Deps.SAPReader); err != nil {
		return err
	}
	if _, err := sapmaster.SnapshotBOMs(ctx, w.Deps.Pool, w.Deps.SAPReader); err != nil {
		return err
	}
	// The listings available-to-sell covers come from the items: at start
	// the stock snapshot may have recomputed before they were read.
	return recomputeInventory(ctx, w.Deps)
}

// recomputeInventory recomputes available-to-sell and enqueues the pushes
// of the shops whose values changed.
func recomputeInventory(ctx context.Context, deps Deps) error {
	changes, err := inventory.Recompute(ctx, deps.Pool)
	if err != nil {
		return err
	}
	return enqueueInventoryPush(ctx, deps, changes)
}

// RefreshSAPB1ItemsArgs upserts the items whose UpdateDate+UpdateTS moved.
type RefreshSAPB1ItemsArgs struct{}

func (RefreshSAPB1ItemsArgs) Kind() string { return "refresh_sapb1_items" }

func (RefreshSAPB1ItemsArgs) InsertOpts() river.InsertOpts {
	// One at a time is enough: a run that overlaps the next would read the
	// same changes.
	return river.InsertOpts{Queue: QueueSAPB1Read, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}, MaxAttempts: 3}
}

// RefreshSAPB1ItemsWorker works RefreshSAPB1ItemsArgs.
type RefreshSAPB1ItemsWorker struct {
	river.WorkerDefaults[RefreshSAPB1ItemsArgs]
	Deps Deps
}

func (w *RefreshSAPB1ItemsWorker) Work(ctx context.Context, job *river.Job[RefreshSAPB1ItemsArgs]) error {
	if w.Deps.SAPReader == nil {
		return river.JobCancel(fmt.Errorf("SAPB1_SQL_DSN is unset: SAP items cannot be read"))
	}
	_, err := sapmaster.RefreshChangedItems(ctx, w.Deps.Pool, w.Deps.SAPReader)
	return err
}

// sapMasterPeriodic is the SAP master data schedule, when SAP can be read.
func sapMasterPeriodic(deps Deps) []*river.PeriodicJob {
	if deps.SAPReader == nil {
		return nil
	}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(SnapshotSAPB1MasterInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SnapshotSAPB1MasterArgs{}, nil },
			&river.PeriodicJobOpts{ID: "snapshot_sapb1_master", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(RefreshSAPB1ItemsInterval),
			func() (river.JobArgs, *river.InsertOpts) { return RefreshSAPB1ItemsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "refresh_sapb1_items"}),
	}
}
