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

// The order poll's defaults (jobs.Deps may change each).
const (
	// DefaultOrdersPollInterval is how often every active shop is polled.
	DefaultOrdersPollInterval = time.Minute
	// DefaultOrdersPollLag keeps the window this far behind now: TikTok's
	// order search trails its writes.
	DefaultOrdersPollLag = 2 * time.Minute
	// DefaultOrdersPollOverlap re-reads this much before the last watermark,
	// for orders TikTok's search showed late.
	DefaultOrdersPollOverlap = 10 * time.Minute
	// KindOrdersPollFailing is the exception for IT when every attempt of a
	// shop's order poll failed.
	KindOrdersPollFailing = "tiktok_orders_poll_failing"
	// FlowOrdersPoll is the poll's flow in ops.sync_run (scope: the shop id;
	// watermark: unix seconds of the newest update_time landed).
	FlowOrdersPoll = "orders_poll"
	// firstPollBefore is how far before the shop's authorisation the first
	// poll starts. (A later step adds the shop's cut-over time.)
	firstPollBefore = 24 * time.Hour
	// pollTimeout bounds one poll of one shop; a large backlog is walked in
	// one run, page by page.
	pollTimeout = 30 * time.Minute
)

// PollTikTokOrdersArgs polls one shop's orders: the order search over the
// update_time window since the last successful poll (minus an overlap) up to
// now minus a lag, in ascending update_time, each page landed as it comes
// (internal/landing). Without a shop id it schedules one poll per active
// shop: that is the periodic job.
type PollTikTokOrdersArgs struct {
	ShopID string `json:"shop_id,omitempty"`
}

func (PollTikTokOrdersArgs) Kind() string { return "poll_tiktok_orders" }

// InsertOpts: at most one poll per shop waits or runs at a time.
func (PollTikTokOrdersArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueTikTokRead,
		MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

// PollTikTokOrdersWorker works PollTikTokOrdersArgs.
type PollTikTokOrdersWorker struct {
	river.WorkerDefaults[PollTikTokOrdersArgs]
	Deps Deps
}

func (w *PollTikTokOrdersWorker) Timeout(*river.Job[PollTikTokOrdersArgs]) time.Duration {
	return pollTimeout
}

func (w *PollTikTokOrdersWorker) Work(ctx context.Context, job *river.Job[PollTikTokOrdersArgs]) error {
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
	// Every attempt failed: IT hears of it (the next scheduled poll still
	// tries, and its success resolves this).
	shopID := job.Args.ShopID
	details, _ := json.Marshal(map[string]any{"error": err.Error(), "attempts": job.Attempt})
	if _, rerr := db.New(w.Deps.Pool).RaiseException(context.WithoutCancel(ctx), db.RaiseExceptionParams{
		Kind: KindOrdersPollFailing, OwnerTeam: "it", Severity: "error", ShopID: &shopID,
		Message: fmt.Sprintf("Polling the orders of shop %s failed %d times in a row: %v. Orders still arrive by webhook, but a lost webhook is not "+
			"caught up until the poll works again (ops.sync_run, flow orders_poll, has each run's error). This resolves itself once a poll succeeds.",
			shopID, job.Attempt, err),
		Details: details,
	}); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// schedule enqueues a poll of every active shop (one already waiting or
// running is not doubled).
func (w *PollTikTokOrdersWorker) schedule(ctx context.Context) error {
	return enqueuePerShop(ctx, w.Deps.Pool, "order polls", func(id string) river.JobArgs { return PollTikTokOrdersArgs{ShopID: id} })
}

// pollCounts is what a poll records in ops.sync_run.counts.
type pollCounts struct {
	WindowGE   int64 `json:"window_update_time_ge"`
	WindowLT   int64 `json:"window_update_time_lt"`
	Pages      int   `json:"pages"`
	Received   int   `json:"received"`
	Landed     int   `json:"landed"`
	Unchanged  int   `json:"unchanged"`
	Derived    int   `json:"derived"`
	Lines      int   `json:"lines"`
	Unreadable int   `json:"unreadable"`
	Rejected   int   `json:"rejected"`
	// DeriveFailed counts pages whose derivation failed as a whole (see
	// tiktok_order_derivation_failed); their payloads are kept.
	DeriveFailed int `json:"derive_failed,omitempty"`
	// Complete is false when the run stopped early (TikTok's rate limit):
	// the next run continues from its watermark without the overlap.
	Complete bool `json:"complete"`
}

func (w *PollTikTokOrdersWorker) poll(ctx context.Context, shopID string) error {
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

	// The window: from the last successful poll's watermark (minus the
	// overlap, unless that poll stopped early) up to now minus the lag.
	start := shop.AuthorizedAt.Add(-firstPollBefore)
	overlap := w.Deps.ordersPollOverlap()
	last, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: FlowOrdersPoll, Scope: shopID})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("reading the last order poll of shop %s: %w", shopID, err)
	default:
		if last.Watermark != nil {
			if wm, perr := strconv.ParseInt(*last.Watermark, 10, 64); perr == nil {
				start = time.Unix(wm, 0)
			}
		}
		var prev pollCounts
		if json.Unmarshal(last.Counts, &prev) == nil && !prev.Complete && prev.WindowLT > 0 {
			overlap = 0
		}
	}
	ge, lt := tiktok.OrderWindow(start, w.Deps.now(), w.Deps.ordersPollLag(), overlap)
	if lt <= ge {
		return nil // nothing old enough to read yet
	}

	run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: FlowOrdersPoll, Scope: shopID})
	if err != nil {
		return fmt.Errorf("recording the order poll of shop %s: %w", shopID, err)
	}
	counts := pollCounts{WindowGE: ge, WindowLT: lt}
	newest := start.Unix()
	err = w.Deps.TikTok.SearchOrders(ctx, tiktok.Shop{ID: shop.ID, Cipher: shop.Cipher},
		tiktok.OrderFilter{UpdateTimeGE: ge, UpdateTimeLT: lt}, tiktok.MaxOrderPageSize,
		func(page []tiktok.Order) error {
			res, err := landing.Land(ctx, w.Deps.Pool, shopID, landing.SourcePoll, page)
			if err != nil {
				return err
			}
			counts.Pages++
			counts.Received += res.Received
			counts.Landed += res.Landed
			counts.Unchanged += res.Unchanged
			counts.Rejected += res.Rejected
			counts.Derived += res.Derive.Orders
			counts.Lines += res.Derive.Lines
			counts.Unreadable += res.Derive.Unreadable
			if res.DeriveError != "" {
				counts.DeriveFailed++
			}
			newest = max(newest, res.NewestUpdateTime)
			return nil
		})

	retryIn, limited := tiktok.RetryAfter(err)
	counts.Complete = err == nil
	var runErr *string
	if err != nil && (!limited || counts.Pages == 0) {
		// A run stopped by the rate limit before its first page did nothing:
		// recorded as failed, it is not resumed from.
		msg := err.Error()
		runErr = &msg
	}
	// Finished even when the job's context is done: the run must not stay open.
	watermark := strconv.FormatInt(newest, 10)
	countsJSON, _ := json.Marshal(counts)
	if _, ferr := q.FinishSyncRun(context.WithoutCancel(ctx), db.FinishSyncRunParams{
		ID: run.ID, Watermark: &watermark, Counts: countsJSON, Error: runErr,
	}); ferr != nil {
		return errors.Join(err, fmt.Errorf("recording the end of the order poll of shop %s: %w", shopID, ferr))
	}
	switch {
	case err == nil:
		if _, rerr := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
			Kinds: []string{KindOrdersPollFailing}, ShopIds: []string{shopID}, ResolvedBy: "tiktokb1", Resolution: "auto: a poll succeeded",
		}); rerr != nil {
			return fmt.Errorf("resolving %s of shop %s: %w", KindOrdersPollFailing, shopID, rerr)
		}
		return nil
	case limited:
		// What was landed counts; the rest waits for TikTok, without
		// spending an attempt.
		if retryIn <= 0 {
			retryIn = defaultRateLimitSnooze
		}
		return river.JobSnooze(retryIn)
	case errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop):
		return nil // the shop's exception tells IT; retrying cannot help
	default:
		return fmt.Errorf("polling the orders of shop %s: %w", shopID, err)
	}
}
