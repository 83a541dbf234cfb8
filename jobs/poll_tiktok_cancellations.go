package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

const (
	// FlowCancellationsPoll is the cancellation poll's flow in ops.sync_run
	// (scope: the shop id; watermark: unix seconds of the newest
	// cancellation update_time seen).
	FlowCancellationsPoll = "cancellations_poll"
	// KindCancellationsPollFailing is the exception for IT when every
	// attempt of a shop's cancellation poll failed.
	KindCancellationsPollFailing = "tiktok_cancellations_poll_failing"
)

// PollTikTokCancellationsArgs polls one shop's cancellations (DESIGN.md
// "Cancellations (priority)"): the cancellation search over the update_time
// window since the last successful poll (minus the order poll's overlap) up
// to now minus the order poll's lag; the orders those cancellations name
// are read (order detail, 50 ids a call) and landed (internal/landing,
// source detail), so validation and cancel_order act on them even when
// their webhooks (types 1 and 11) were lost. Without a shop id it schedules
// one poll per active shop: that is the periodic job.
type PollTikTokCancellationsArgs struct {
	ShopID string `json:"shop_id,omitempty"`
}

func (PollTikTokCancellationsArgs) Kind() string { return "poll_tiktok_cancellations" }

// InsertOpts: on the priority queue; at most one poll per shop waits or
// runs at a time.
func (PollTikTokCancellationsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueuePriority,
		MaxAttempts: 5,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: openJobStates},
	}
}

// PollTikTokCancellationsWorker works PollTikTokCancellationsArgs.
type PollTikTokCancellationsWorker struct {
	river.WorkerDefaults[PollTikTokCancellationsArgs]
	Deps Deps
}

func (w *PollTikTokCancellationsWorker) Timeout(*river.Job[PollTikTokCancellationsArgs]) time.Duration {
	return pollTimeout
}

func (w *PollTikTokCancellationsWorker) Work(ctx context.Context, job *river.Job[PollTikTokCancellationsArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	if job.Args.ShopID == "" {
		return w.schedule(ctx)
	}
	err := w.poll(ctx, job.Args.ShopID)
	if err == nil {
		return nil
	}
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	if errors.As(err, &snooze) || errors.As(err, &cancel) || job.Attempt < job.MaxAttempts {
		return err
	}
	shopID := job.Args.ShopID
	details, _ := json.Marshal(map[string]any{"error": err.Error(), "attempts": job.Attempt})
	if _, rerr := db.New(w.Deps.Pool).RaiseException(context.WithoutCancel(ctx), db.RaiseExceptionParams{
		Kind: KindCancellationsPollFailing, OwnerTeam: "it", Severity: "error", ShopID: &shopID,
		Message: fmt.Sprintf("Polling the cancellations of shop %s failed %d times in a row: %v. Cancellations still arrive by webhook (and the order poll), "+
			"but a lost cancellation webhook is not caught up by this poll until it works again (ops.sync_run, flow cancellations_poll, has each run's error). "+
			"This resolves itself once a poll succeeds.", shopID, job.Attempt, err),
		Details: details,
	}); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// schedule enqueues a cancellation poll of every active shop (one already
// waiting or running is not doubled).
func (w *PollTikTokCancellationsWorker) schedule(ctx context.Context) error {
	return enqueuePerShop(ctx, w.Deps.Pool, "cancellation polls", func(id string) river.JobArgs { return PollTikTokCancellationsArgs{ShopID: id} })
}

// cancellationPollCounts is what a cancellation poll records in
// ops.sync_run.counts.
type cancellationPollCounts struct {
	WindowGE      int64 `json:"window_update_time_ge"`
	WindowLT      int64 `json:"window_update_time_lt"`
	Cancellations int   `json:"cancellations"`
	Orders        int   `json:"orders"`
	Received      int   `json:"received"`
	Landed        int   `json:"landed"`
	Unchanged     int   `json:"unchanged"`
	Rejected      int   `json:"rejected"`
	Derived       int   `json:"derived"`
	DeriveFailed  int   `json:"derive_failed,omitempty"`
	Complete      bool  `json:"complete"`
}

func (w *PollTikTokCancellationsWorker) poll(ctx context.Context, shopID string) error {
	q := db.New(w.Deps.Pool)
	shop, err := q.GetTikTokShop(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("shop %s is not onboarded", shopID))
	}
	if err != nil {
		return fmt.Errorf("reading shop %s: %w", shopID, err)
	}
	if shop.Status != shops.StatusActive {
		return nil // deauthorised: its flows stop (an exception already says so)
	}

	// The window: from the last successful poll's watermark minus the
	// overlap up to now minus the lag. The search pages in create_time
	// order, so a run that stopped early is recorded as failed and the next
	// one starts over from the last complete run (landing again is a no-op).
	start := shop.AuthorizedAt.Add(-firstPollBefore)
	last, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: FlowCancellationsPoll, Scope: shopID})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("reading the last cancellation poll of shop %s: %w", shopID, err)
	default:
		if last.Watermark != nil {
			if wm, perr := strconv.ParseInt(*last.Watermark, 10, 64); perr == nil {
				start = time.Unix(wm, 0)
			}
		}
	}
	ge, lt := tiktok.OrderWindow(start, w.Deps.now(), w.Deps.ordersPollLag(), w.Deps.ordersPollOverlap())
	if lt <= ge {
		return nil // nothing old enough to read yet
	}

	run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: FlowCancellationsPoll, Scope: shopID})
	if err != nil {
		return fmt.Errorf("recording the cancellation poll of shop %s: %w", shopID, err)
	}
	counts := cancellationPollCounts{WindowGE: ge, WindowLT: lt}
	newest := start.Unix()
	tshop := tiktok.Shop{ID: shop.ID, Cipher: shop.Cipher}
	var orderIDs []string
	seen := map[string]bool{}
	err = w.Deps.TikTok.SearchCancellations(ctx, tshop, tiktok.CancellationFilter{UpdateTimeGE: ge, UpdateTimeLT: lt},
		func(page []tiktok.Cancellation) error {
			for _, c := range page {
				counts.Cancellations++
				newest = max(newest, c.UpdateTime)
				if c.OrderID != "" && !seen[c.OrderID] {
					seen[c.OrderID] = true
					orderIDs = append(orderIDs, c.OrderID)
				}
			}
			return nil
		})
	counts.Orders = len(orderIDs)
	// The orders found are landed even when the search stopped early.
	for i := 0; i < len(orderIDs) && (err == nil || limitedOnly(err)); i += tiktok.MaxOrderDetailIDs {
		ids := orderIDs[i:min(i+tiktok.MaxOrderDetailIDs, len(orderIDs))]
		orders, derr := w.Deps.TikTok.OrderDetails(ctx, tshop, ids)
		if derr == nil {
			derr = w.land(ctx, shopID, orders, &counts)
		}
		if derr != nil {
			err = errors.Join(err, derr)
			break
		}
	}

	retryIn, limited := tiktok.RetryAfter(err)
	counts.Complete = err == nil
	var runErr *string
	if err != nil {
		msg := err.Error()
		runErr = &msg
	}
	watermark := strconv.FormatInt(newest, 10)
	countsJSON, _ := json.Marshal(counts)
	if _, ferr := q.FinishSyncRun(context.WithoutCancel(ctx), db.FinishSyncRunParams{
		ID: run.ID, Watermark: &watermark, Counts: countsJSON, Error: runErr,
	}); ferr != nil {
		return errors.Join(err, fmt.Errorf("recording the end of the cancellation poll of shop %s: %w", shopID, ferr))
	}
	switch {
	case err == nil:
		if _, rerr := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
			Kinds: []string{KindCancellationsPollFailing}, ShopIds: []string{shopID}, ResolvedBy: "tiktokb1", Resolution: "auto: a poll succeeded",
		}); rerr != nil {
			return fmt.Errorf("resolving %s of shop %s: %w", KindCancellationsPollFailing, shopID, rerr)
		}
		return nil
	case limited:
		if retryIn <= 0 {
			retryIn = defaultRateLimitSnooze
		}
		return river.JobSnooze(retryIn)
	case errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop):
		return nil // the shop's exception tells IT; retrying cannot help
	default:
		return fmt.Errorf("polling the cancellations of shop %s: %w", shopID, err)
	}
}

// limitedOnly reports whether err is TikTok's (or our) rate limit: the
// orders already found are still read, until the limit stops that too.
func limitedOnly(err error) bool {
	_, limited := tiktok.RetryAfter(err)
	return limited
}

// land lands one batch of order details and, when anything new landed,
// asks for a validation run in the same transaction, so a cancellation is
// handed on without waiting for the periodic one.
func (w *PollTikTokCancellationsWorker) land(ctx context.Context, shopID string, orders []tiktok.Order, counts *cancellationPollCounts) error {
	var res landing.Result
	if err := pgx.BeginFunc(ctx, w.Deps.Pool, func(tx pgx.Tx) error {
		var err error
		if res, err = landing.Land(ctx, tx, shopID, landing.SourceDetail, orders); err != nil {
			return fmt.Errorf("landing cancelled orders of shop %s: %w", shopID, err)
		}
		if res.Landed == 0 {
			return nil
		}
		return EnqueueValidateOrders(ctx, tx, nil)
	}); err != nil {
		return err
	}
	counts.Received += res.Received
	counts.Landed += res.Landed
	counts.Unchanged += res.Unchanged
	counts.Rejected += res.Rejected
	counts.Derived += res.Derive.Orders
	if res.DeriveError != "" {
		counts.DeriveFailed++
	}
	return nil
}
