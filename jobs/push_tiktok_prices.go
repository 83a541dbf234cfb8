package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/pricing"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// PricesInterval is how often the SAP price lists shops use are read and
// changed prices pushed (DESIGN.md "Master data": prices pushed when they
// change; a price is not a stock level, minutes are fine).
const PricesInterval = 15 * time.Minute

// SnapshotSAPB1PricesArgs reads the SAP price lists the shops use
// (integration.shop_config price_list) into sapb1.price and enqueues a price
// push for each shop with a price list.
type SnapshotSAPB1PricesArgs struct{}

func (SnapshotSAPB1PricesArgs) Kind() string { return "snapshot_sapb1_prices" }

func (SnapshotSAPB1PricesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSAPB1Read, UniqueOpts: river.UniqueOpts{ByPeriod: 5 * time.Minute}, MaxAttempts: 5}
}

// SnapshotSAPB1PricesWorker works SnapshotSAPB1PricesArgs.
type SnapshotSAPB1PricesWorker struct {
	river.WorkerDefaults[SnapshotSAPB1PricesArgs]
	Deps Deps
}

func (w *SnapshotSAPB1PricesWorker) Work(ctx context.Context, job *river.Job[SnapshotSAPB1PricesArgs]) error {
	r, ok := priceReader(w.Deps)
	if !ok {
		return river.JobCancel(fmt.Errorf("SAPB1_SQL_DSN is unset: SAP prices cannot be read"))
	}
	landed, err := sapmaster.LandPrices(ctx, w.Deps.Pool, r)
	if err != nil {
		return err
	}
	if len(landed) > 0 {
		slog.InfoContext(ctx, "SAP prices landed", "price_lists", landed)
	}
	if !w.Deps.tiktokConfigured() {
		return nil
	}
	ids, err := db.New(w.Deps.Pool).ListShopsWithPriceList(ctx)
	if err != nil {
		return fmt.Errorf("listing shops with a price list: %w", err)
	}
	return enqueuePricePush(ctx, ids)
}

// PushTikTokPricesArgs pushes one shop's changed prices to TikTok
// (internal/pricing Push). Without a shop id it schedules one push per shop
// with a price list.
type PushTikTokPricesArgs struct {
	ShopID string `json:"shop_id,omitempty"`
}

func (PushTikTokPricesArgs) Kind() string { return "push_tiktok_prices" }

// InsertOpts: at most one price push per shop waits at a time.
func (PushTikTokPricesArgs) InsertOpts() river.InsertOpts {
	return onePerShop(QueueTikTokWrite, 5)
}

// PushTikTokPricesWorker works PushTikTokPricesArgs.
type PushTikTokPricesWorker struct {
	river.WorkerDefaults[PushTikTokPricesArgs]
	Deps Deps
}

func (w *PushTikTokPricesWorker) Work(ctx context.Context, job *river.Job[PushTikTokPricesArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	q := db.New(w.Deps.Pool)
	if job.Args.ShopID == "" {
		ids, err := q.ListShopsWithPriceList(ctx)
		if err != nil {
			return fmt.Errorf("listing shops with a price list: %w", err)
		}
		return enqueuePricePush(ctx, ids)
	}
	shop, active, err := activeShop(ctx, q, job.Args.ShopID)
	if err != nil || !active {
		return err
	}
	res, err := pricing.Push(ctx, w.Deps.Pool, w.Deps.TikTok, shop)
	if res.Due > 0 {
		slog.InfoContext(ctx, "price push", "shop_id", shop.ID, "result", res, "err", err)
	}
	if retryIn, limited := tiktok.RetryAfter(err); limited {
		if retryIn <= 0 {
			retryIn = defaultRateLimitSnooze
		}
		return river.JobSnooze(retryIn)
	}
	if errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop) {
		return nil
	}
	return err
}

// enqueuePricePush enqueues a price push per shop with the River client of
// ctx (one already waiting is not doubled).
func enqueuePricePush(ctx context.Context, shopIDs []string) error {
	var params []river.InsertManyParams
	for _, id := range shopIDs {
		params = append(params, river.InsertManyParams{Args: PushTikTokPricesArgs{ShopID: id}})
	}
	if len(params) == 0 {
		return nil
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("enqueueing price pushes: %w", err)
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("enqueueing price pushes: %w", err)
	}
	return nil
}

// priceReader is the SAP reader as the price snapshot needs it.
func priceReader(d Deps) (sapmaster.PriceReader, bool) {
	if d.SAPReader == nil {
		return nil, false
	}
	r, ok := d.SAPReader.(sapmaster.PriceReader)
	return r, ok
}

// pricePeriodic is the price schedule: the SAP price lists read (and pushes
// enqueued) every PricesInterval and at start, when SAP can be read.
func pricePeriodic(deps Deps) []*river.PeriodicJob {
	if _, ok := priceReader(deps); !ok {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(PricesInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SnapshotSAPB1PricesArgs{}, nil },
		&river.PeriodicJobOpts{ID: "snapshot_sapb1_prices", RunOnStart: true})}
}
