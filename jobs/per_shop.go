package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// enqueuePerShop inserts one job per active shop from inside a running job
// (the periodic fan-out of the polls); the jobs' uniqueness keeps one that is
// already waiting or running from being doubled.
func enqueuePerShop(ctx context.Context, pool *pgxpool.Pool, what string, args func(shopID string) river.JobArgs) error {
	ids, err := db.New(pool).ListShopsToPoll(ctx)
	if err != nil {
		return fmt.Errorf("listing shops to poll: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: args(id)}
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("scheduling %s: %w", what, err)
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("scheduling %s: %w", what, err)
	}
	return nil
}

// onePerShop is the InsertOpts of a job per shop: at most one per shop (its
// arguments) waits or runs at a time; the one that runs reads the latest
// state.
func onePerShop(queue string, maxAttempts int) river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: openJobStates}}
}

// activeShop reads the shop of a job per shop. A shop that is not onboarded
// cancels the job; one no longer active (deauthorised: an exception says so)
// gives ok false, and the job ends without work.
func activeShop(ctx context.Context, q *db.Queries, shopID string) (shop tiktok.Shop, ok bool, err error) {
	s, err := q.GetTikTokShop(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return tiktok.Shop{}, false, river.JobCancel(fmt.Errorf("shop %s is not onboarded", shopID))
	}
	if err != nil {
		return tiktok.Shop{}, false, fmt.Errorf("reading shop %s: %w", shopID, err)
	}
	return tiktok.Shop{ID: s.ID, Cipher: s.Cipher}, s.Status == shops.StatusActive, nil
}
