package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// PurgeSyncRunsArgs deletes finished ops.sync_run rows past their retention.
// Each flow's last successful run is kept, so no watermark is ever lost.
type PurgeSyncRunsArgs struct{}

func (PurgeSyncRunsArgs) Kind() string { return "purge_sync_runs" }

func (PurgeSyncRunsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueDefault,
		UniqueOpts:  river.UniqueOpts{ByPeriod: time.Hour},
		MaxAttempts: 5,
	}
}

// PurgeSyncRunsWorker works PurgeSyncRunsArgs.
type PurgeSyncRunsWorker struct {
	river.WorkerDefaults[PurgeSyncRunsArgs]
	Pool      *pgxpool.Pool
	Retention time.Duration // default 90 days
}

func (w *PurgeSyncRunsWorker) Work(ctx context.Context, job *river.Job[PurgeSyncRunsArgs]) error {
	retention := w.Retention
	if retention <= 0 {
		retention = 90 * 24 * time.Hour
	}
	if _, err := db.New(w.Pool).PurgeSyncRuns(ctx, time.Now().Add(-retention)); err != nil {
		return fmt.Errorf("purge sync runs: %w", err)
	}
	return nil
}
