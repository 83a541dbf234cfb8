package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/posting"
)

// DefaultValidateOrdersInterval is how often landed orders are validated
// (and, through validation, queued for posting and their cancellations
// handed on) when Deps does not say otherwise.
const DefaultValidateOrdersInterval = 5 * time.Second

// ValidateOrdersArgs validates the landed TikTok orders: what SQL finds
// wrong with each (SKU map, SAP items, bundles, currency, warehouse, absurd
// amounts), whether it posts now, later or never (orders.Decide), the
// exceptions raised and those resolved by themselves, and one post_order job
// per order that became ready, in the same transaction (internal/posting).
// It runs every few seconds; landing may enqueue it at once too.
type ValidateOrdersArgs struct{}

func (ValidateOrdersArgs) Kind() string { return "validate_orders" }

// InsertOpts: one run at a time (a run covers every order); an enqueue
// while one waits or runs is skipped.
func (ValidateOrdersArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: openJobStates}}
}

// openJobStates are River's states of a job not finished: a unique job
// by these states exists at most once until it completes, is cancelled or
// discarded.
var openJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// ValidateOrdersWorker works ValidateOrdersArgs.
type ValidateOrdersWorker struct {
	river.WorkerDefaults[ValidateOrdersArgs]
	Deps Deps
}

func (w *ValidateOrdersWorker) Timeout(*river.Job[ValidateOrdersArgs]) time.Duration {
	return w.Deps.jobTimeout()
}

func (w *ValidateOrdersWorker) Work(ctx context.Context, job *river.Job[ValidateOrdersArgs]) error {
	if _, err := w.Deps.poster(OrderJobs(nil)).Validate(ctx); err != nil {
		return fmt.Errorf("validating orders: %w", err)
	}
	return nil
}

// poster builds the orders flow's Poster over the Deps. jobs enqueues
// through j.
func (d Deps) poster(j posting.Jobs) *posting.Poster {
	return posting.New(posting.Options{
		Pool: d.Pool, SAP: d.SAP, Jobs: j, Location: d.SAPLocation, LookupAfter: d.SAPLookupAfter,
	})
}

func (d Deps) validateOrdersInterval() time.Duration {
	return cmp.Or(d.ValidateOrdersInterval, DefaultValidateOrdersInterval)
}

// orderPostingWorkers registers the orders flow's workers.
func orderPostingWorkers(w *river.Workers, deps Deps) {
	river.AddWorker(w, &ValidateOrdersWorker{Deps: deps})
	river.AddWorker(w, &PostOrderWorker{Deps: deps})
	river.AddWorker(w, &CancelOrderWorker{Deps: deps})
}

// orderPostingPeriodic is the orders flow's schedule: validation every few
// seconds (it also runs the posting watchdog).
func orderPostingPeriodic(deps Deps) []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(deps.validateOrdersInterval()),
		func() (river.JobArgs, *river.InsertOpts) { return ValidateOrdersArgs{}, nil },
		&river.PeriodicJobOpts{ID: "validate_orders", RunOnStart: true},
	)}
}

// OrderJobs enqueues the orders flow's jobs (post_order, cancel_order) in
// the caller's transaction through client; with a nil client, through the
// client of the running job's context (inside a worker).
func OrderJobs(client *river.Client[pgx.Tx]) posting.Jobs { return orderJobs{client: client} }

type orderJobs struct{ client *river.Client[pgx.Tx] }

func (j orderJobs) PostOrders(ctx context.Context, tx pgx.Tx, keys []posting.Key) error {
	params := make([]river.InsertManyParams, len(keys))
	for i, k := range keys {
		params[i] = river.InsertManyParams{Args: PostOrderArgs{ShopID: k.ShopID, OrderID: k.OrderID}}
	}
	return j.insert(ctx, tx, params)
}

func (j orderJobs) CancelOrders(ctx context.Context, tx pgx.Tx, keys []posting.Key) error {
	params := make([]river.InsertManyParams, len(keys))
	for i, k := range keys {
		params[i] = river.InsertManyParams{Args: CancelOrderArgs{ShopID: k.ShopID, OrderID: k.OrderID}}
	}
	return j.insert(ctx, tx, params)
}

func (j orderJobs) insert(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	client := j.client
	if client == nil {
		var err error
		if client, err = river.ClientFromContextSafely[pgx.Tx](ctx); err != nil {
			return fmt.Errorf("no River client to enqueue with: %w", err)
		}
	}
	_, err := client.InsertManyTx(ctx, tx, params)
	return err
}

// EnqueueValidateOrders asks for a validation run in tx (after landing
// orders, importing a mapping, ...), so it need not wait for the next
// periodic one. A run already queued or running makes it a no-op.
func EnqueueValidateOrders(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx]) error {
	if client == nil {
		var err error
		if client, err = river.ClientFromContextSafely[pgx.Tx](ctx); err != nil {
			return fmt.Errorf("no River client to enqueue with: %w", err)
		}
	}
	_, err := client.InsertTx(ctx, tx, ValidateOrdersArgs{}, nil)
	return err
}
