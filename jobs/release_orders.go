package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/posting"
)

// DefaultReleaseOrdersInterval is how often posted Sales Orders on hold are
// checked against TikTok for release, and posted orders checked for
// changes to patch, when Deps does not say otherwise.
const DefaultReleaseOrdersInterval = 30 * time.Second

// ReleaseOrdersArgs is the release gate and the patch detector
// (internal/posting Release and DetectChanges): posted orders whose lines
// changed on TikTok get a patch_order job; the posted orders on hold whose
// release is due are checked in one batched TikTok read per shop, landed,
// and the shippable ones approved (patch_order sets the release UDF in
// SAP). Scheduled when SAP is configured; the TikTok check runs when TikTok
// is configured too.
type ReleaseOrdersArgs struct{}

func (ReleaseOrdersArgs) Kind() string { return "release_orders" }

// InsertOpts: one run at a time.
func (ReleaseOrdersArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTikTokRead, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: openJobStates}}
}

// ReleaseOrdersWorker works ReleaseOrdersArgs.
type ReleaseOrdersWorker struct {
	river.WorkerDefaults[ReleaseOrdersArgs]
	Deps Deps
}

func (w *ReleaseOrdersWorker) Timeout(*river.Job[ReleaseOrdersArgs]) time.Duration {
	return w.Deps.jobTimeout()
}

func (w *ReleaseOrdersWorker) Work(ctx context.Context, job *river.Job[ReleaseOrdersArgs]) error {
	d := w.Deps
	p := posting.New(posting.Options{Pool: d.Pool, SAP: d.SAP, Jobs: OrderJobs(nil), Location: d.SAPLocation,
		LookupAfter: d.SAPLookupAfter, ReleaseDelay: d.ReleaseDelay})
	if _, err := p.DetectChanges(ctx); err != nil {
		return fmt.Errorf("finding posted orders to patch: %w", err)
	}
	if !d.tiktokConfigured() {
		return nil
	}
	if _, err := p.Release(ctx, d.TikTok); err != nil {
		return fmt.Errorf("releasing orders: %w", err)
	}
	return nil
}

func (d Deps) releaseOrdersInterval() time.Duration {
	return cmp.Or(d.ReleaseOrdersInterval, DefaultReleaseOrdersInterval)
}

// releasePeriodic schedules release_orders when SAP is configured.
func releasePeriodic(deps Deps) []*river.PeriodicJob {
	if deps.SAP == nil {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(deps.releaseOrdersInterval()),
		func() (river.JobArgs, *river.InsertOpts) { return ReleaseOrdersArgs{}, nil },
		&river.PeriodicJobOpts{ID: "release_orders", RunOnStart: true},
	)}
}
