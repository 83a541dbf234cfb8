package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// PurgeOrderPIIInterval is how often buyers' personal data is purged.
const PurgeOrderPIIInterval = time.Hour

// DefaultPIIRetention is how long personal data is kept after an order
// completed or was cancelled (TIKTOKB1_PII_RETENTION).
const DefaultPIIRetention = 90 * 24 * time.Hour

// PurgeOrderPIIArgs deletes the personal data (pii.order_recipient) of
// orders completed or cancelled longer than the retention ago, and of orders
// never derived whose data was last seen that long ago.
type PurgeOrderPIIArgs struct{}

func (PurgeOrderPIIArgs) Kind() string { return "purge_order_pii" }

func (PurgeOrderPIIArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueDefault,
		UniqueOpts:  river.UniqueOpts{ByPeriod: PurgeOrderPIIInterval},
		MaxAttempts: 5,
	}
}

// PurgeOrderPIIWorker works PurgeOrderPIIArgs.
type PurgeOrderPIIWorker struct {
	river.WorkerDefaults[PurgeOrderPIIArgs]
	Pool      *pgxpool.Pool
	Retention time.Duration // default DefaultPIIRetention
}

func (w *PurgeOrderPIIWorker) Work(ctx context.Context, job *river.Job[PurgeOrderPIIArgs]) error {
	retention := w.Retention
	if retention <= 0 {
		retention = DefaultPIIRetention
	}
	if _, err := db.New(w.Pool).PurgeOrderPII(ctx, time.Now().Add(-retention)); err != nil {
		return fmt.Errorf("purging buyers' personal data: %w", err)
	}
	return nil
}
