package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
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
