package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// RefreshTikTokTokensInterval is how often the access tokens are checked.
const RefreshTikTokTokensInterval = 15 * time.Minute

// RefreshTikTokTokensArgs refreshes every active authorisation whose access
// token expires within TIKTOK_TOKEN_REFRESH_AHEAD, one at a time, each under
// the same row lock as a refresh on demand.
type RefreshTikTokTokensArgs struct{}

func (RefreshTikTokTokensArgs) Kind() string { return "refresh_tiktok_tokens" }

func (RefreshTikTokTokensArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueTikTokRead,
		UniqueOpts:  river.UniqueOpts{ByPeriod: RefreshTikTokTokensInterval},
		MaxAttempts: 3,
	}
}

// RefreshTikTokTokensWorker works RefreshTikTokTokensArgs.
type RefreshTikTokTokensWorker struct {
	river.WorkerDefaults[RefreshTikTokTokensArgs]
	Deps Deps
}

func (w *RefreshTikTokTokensWorker) Work(ctx context.Context, job *river.Job[RefreshTikTokTokensArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	// A seller TikTok refuses gets its exception from the store and does not
	// fail the run; anything else is retried (the ones refreshed are no
	// longer due, so a retry only redoes the failures).
	if _, err := w.Deps.Shops.RefreshDue(ctx); err != nil {
		return fmt.Errorf("refreshing TikTok tokens: %w", err)
	}
	return nil
}
