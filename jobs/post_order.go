package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/posting"
)

// PostOrderArgs posts the SAP Sales Order of one TikTok order that
// validation queued (ledger state ready), or settles the outcome of an
// earlier POST whose answer was lost (internal/posting). Enqueued by
// validation in the transaction that made the order ready, and by its
// watchdog.
type PostOrderArgs struct {
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
}

func (PostOrderArgs) Kind() string { return "post_order" }

// InsertOpts: one job per order while it is not finished (the ledger, not
// River's uniqueness, is what makes the POST happen once). Snoozes (SAP busy,
// waiting out a lost answer) spend no attempt.
func (PostOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSAPB1Write, MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: openJobStates}}
}

// PostOrderWorker works PostOrderArgs.
type PostOrderWorker struct {
	river.WorkerDefaults[PostOrderArgs]
	Deps Deps
}

// Timeout (TIKTOKB1_JOB_TIMEOUT, default 10 min) leaves room for SAP's own
// request timeout, a login and the reads around the POST; a job cut off
// mid-POST leaves the order posting, which the next attempt settles by
// looking it up.
func (w *PostOrderWorker) Timeout(*river.Job[PostOrderArgs]) time.Duration {
	return w.Deps.jobTimeout()
}

func (w *PostOrderWorker) Work(ctx context.Context, job *river.Job[PostOrderArgs]) error {
	if w.Deps.SAP == nil {
		return river.JobCancel(posting.ErrSAPNotConfigured)
	}
	p := w.Deps.poster(OrderJobs(nil))
	key := posting.Key{ShopID: job.Args.ShopID, OrderID: job.Args.OrderID}
	err := p.Post(ctx, key)
	return lastAttempt(ctx, job.JobRow, err, func(err error) error { return p.GaveUp(ctx, key, false, job.Attempt, err) })
}

// lastAttempt raises an exception (through gaveUp) when a job fails its last
// attempt, so a discarded job never goes unnoticed; snoozes and
// cancellations pass through.
func lastAttempt(ctx context.Context, job *rivertype.JobRow, err error, gaveUp func(error) error) error {
	if err == nil || job.Attempt < job.MaxAttempts || ctx.Err() != nil {
		return err
	}
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	if errors.As(err, &snooze) || errors.As(err, &cancel) {
		return err
	}
	if gerr := gaveUp(err); gerr != nil {
		return fmt.Errorf("%w (and: %v)", err, gerr)
	}
	return err
}
