package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// SubscribedWebhookTypes are the webhooks every shop is subscribed to.
var SubscribedWebhookTypes = []int{
	tiktok.WebhookOrderStatusChange,
	tiktok.WebhookRecipientAddressUpdate,
	tiktok.WebhookCancellationStatusChange,
	tiktok.WebhookSellerDeauthorization,
	tiktok.WebhookAuthorizationExpiring,
	tiktok.WebhookProductStatusChange,
	tiktok.WebhookReturnStatusChange,
}

// KindWebhookSubscriptionFailed is the exception for IT when TikTok refuses a
// shop's webhook subscription for good.
const KindWebhookSubscriptionFailed = "tiktok_webhook_subscription_failed"

// defaultRateLimitSnooze is how long a rate-limited job waits when TikTok
// gave no Retry-After.
const defaultRateLimitSnooze = 30 * time.Second

// errTikTokNotConfigured cancels TikTok jobs in a process without TikTok.
var errTikTokNotConfigured = errors.New("TikTok Shop is not configured in this process (TIKTOK_APP_KEY unset); configure it and retry the job from River UI")

// SubscribeTikTokWebhooksArgs points one shop's webhooks (SubscribedWebhookTypes)
// at this service. Enqueued in the transaction that onboards the shop; the
// subscription is a PUT, so running it again is harmless.
type SubscribeTikTokWebhooksArgs struct {
	ShopID string `json:"shop_id"`
}

func (SubscribeTikTokWebhooksArgs) Kind() string { return "subscribe_tiktok_webhooks" }

func (SubscribeTikTokWebhooksArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTikTokWrite, MaxAttempts: 10}
}

// EnqueueWebhookSubscriptions returns the onboarding hook that enqueues one
// subscribe_tiktok_webhooks job per authorised shop, in the onboarding
// transaction.
func EnqueueWebhookSubscriptions(client *river.Client[pgx.Tx]) shops.AfterAuthorize {
	return func(ctx context.Context, tx pgx.Tx, shopIDs []string) error {
		params := make([]river.InsertManyParams, 0, len(shopIDs))
		for _, id := range shopIDs {
			params = append(params, river.InsertManyParams{Args: SubscribeTikTokWebhooksArgs{ShopID: id}})
		}
		if len(params) == 0 {
			return nil
		}
		_, err := client.InsertManyTx(ctx, tx, params)
		return err
	}
}

// SubscribeTikTokWebhooksWorker works SubscribeTikTokWebhooksArgs.
type SubscribeTikTokWebhooksWorker struct {
	river.WorkerDefaults[SubscribeTikTokWebhooksArgs]
	Deps Deps
}

func (w *SubscribeTikTokWebhooksWorker) Work(ctx context.Context, job *river.Job[SubscribeTikTokWebhooksArgs]) error {
	if !w.Deps.tiktokConfigured() || w.Deps.TikTokWebhookURL == "" {
		return river.JobCancel(errTikTokNotConfigured)
	}
	q := db.New(w.Deps.Pool)
	shop, err := q.GetTikTokShop(ctx, job.Args.ShopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("shop %s is not onboarded", job.Args.ShopID))
	}
	if err != nil {
		return fmt.Errorf("reading shop %s: %w", job.Args.ShopID, err)
	}
	if shop.Status != shops.StatusActive {
		return nil // deauthorised meanwhile: nothing to subscribe
	}
	for _, typ := range SubscribedWebhookTypes {
		eventType := tiktok.WebhookEventTypes[typ]
		err := w.Deps.TikTok.SubscribeWebhook(ctx, tiktok.Shop{ID: shop.ID, Cipher: shop.Cipher}, eventType, w.Deps.TikTokWebhookURL)
		if err == nil {
			continue
		}
		if d, ok := tiktok.RetryAfter(err); ok {
			if d <= 0 {
				d = defaultRateLimitSnooze
			}
			return river.JobSnooze(d)
		}
		if errors.Is(err, shops.ErrNotAuthorized) || errors.Is(err, shops.ErrUnknownShop) {
			// The store raised the exception that tells IT what to do;
			// re-authorising the shop enqueues this job again.
			return river.JobCancel(err)
		}
		var apiErr *tiktok.APIError
		if errors.As(err, &apiErr) && !apiErr.Temporary() {
			if rerr := w.raise(ctx, q, shop, eventType, apiErr.Message, apiErr); rerr != nil {
				return rerr
			}
			return river.JobCancel(err)
		}
		err = fmt.Errorf("subscribing shop %s to %s: %w", shop.ID, eventType, err)
		if job.Attempt >= job.MaxAttempts {
			// River discards the job after this attempt: IT must hear of it.
			if rerr := w.raise(ctx, q, shop, eventType, err.Error(), apiErr); rerr != nil {
				return errors.Join(err, rerr)
			}
		}
		return err
	}
	if _, err := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
		Kinds: []string{KindWebhookSubscriptionFailed}, ShopIds: []string{shop.ID},
		ResolvedBy: "tiktokb1", Resolution: "auto: webhooks subscribed",
	}); err != nil {
		return fmt.Errorf("resolving %s of shop %s: %w", KindWebhookSubscriptionFailed, shop.ID, err)
	}
	return nil
}

func (w *SubscribeTikTokWebhooksWorker) raise(ctx context.Context, q *db.Queries, shop db.TiktokShop, eventType, reason string, apiErr *tiktok.APIError) error {
	d := map[string]any{"event_type": eventType, "address": w.Deps.TikTokWebhookURL, "error": reason}
	if apiErr != nil {
		d["tiktok_code"], d["tiktok_message"], d["tiktok_request_id"] = apiErr.Code, apiErr.Message, apiErr.RequestID
	}
	details, _ := json.Marshal(d)
	_, err := q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindWebhookSubscriptionFailed, OwnerTeam: "it", Severity: "error", ShopID: &shop.ID,
		Message: fmt.Sprintf("TikTok webhooks of shop %s (%s) could not be pointed at %s (%s failed: %s). "+
			"Until this is fixed the shop's changes arrive only by polling. Check that TIKTOKB1_PUBLIC_URL is right and that the app has the webhook permission, "+
			"then retry the subscribe_tiktok_webhooks job in River UI (/riverui/).",
			shop.Name, shop.ID, w.Deps.TikTokWebhookURL, eventType, reason),
		Details: details,
	})
	if err != nil {
		return fmt.Errorf("raising %s for shop %s: %w", KindWebhookSubscriptionFailed, shop.ID, err)
	}
	return nil
}
