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
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// KindWebhookUnprocessable is the exception for IT when a stored webhook
// cannot be processed (its data does not decode, or every attempt failed).
const KindWebhookUnprocessable = "tiktok_webhook_unprocessable"

// ProcessTikTokWebhookArgs acts on one landed webhook (tiktok.webhook_event).
// Enqueued in the transaction that stored it, only when it was new.
type ProcessTikTokWebhookArgs struct {
	EventID int64 `json:"event_id"`
}

func (ProcessTikTokWebhookArgs) Kind() string { return "process_tiktok_webhook" }

func (ProcessTikTokWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTikTokRead, MaxAttempts: 10}
}

// ProcessTikTokWebhookWorker works ProcessTikTokWebhookArgs. Types 6
// (deauthorisation), 7 (authorisation expiring) and 5 (product status,
// integration.tiktok_product_status) are acted on here; for
// types 1 (order status), 3 (address) and 11 (cancellation) the order is read
// from TikTok and landed (internal/landing); the other types are marked
// processed and left to the flows that read tiktok.webhook_event (returns,
// products).
type ProcessTikTokWebhookWorker struct {
	river.WorkerDefaults[ProcessTikTokWebhookArgs]
	Deps Deps
}

func (w *ProcessTikTokWebhookWorker) Work(ctx context.Context, job *river.Job[ProcessTikTokWebhookArgs]) error {
	if !w.Deps.tiktokConfigured() {
		return river.JobCancel(errTikTokNotConfigured)
	}
	err := w.process(ctx, job.Args.EventID)
	if err == nil {
		return nil
	}
	if d, limited := tiktok.RetryAfter(err); limited {
		// TikTok (or our own limit) asks to wait: that spends no attempt.
		if d <= 0 {
			d = defaultRateLimitSnooze
		}
		return river.JobSnooze(d)
	}
	var perm *permanentError
	if errors.As(err, &perm) || job.Attempt >= job.MaxAttempts {
		// Failed for good: the event is closed with its error and IT hears of it.
		if ferr := w.fail(ctx, job.Args.EventID, err); ferr != nil {
			return errors.Join(err, ferr)
		}
		if perm != nil {
			return nil
		}
		return err
	}
	msg := err.Error()
	_ = db.New(w.Deps.Pool).NoteWebhookEventError(ctx, db.NoteWebhookEventErrorParams{ID: job.Args.EventID, ProcessError: &msg})
	return err
}

// permanentError is an event that no retry can process.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// process acts on the event and marks it processed, in one transaction that
// holds the event's row lock, so two runs never both act. An order webhook's
// order is read from TikTok first, outside that transaction.
func (w *ProcessTikTokWebhookWorker) process(ctx context.Context, eventID int64) error {
	orders, skipped, err := w.fetchOrder(ctx, eventID)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.Deps.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		ev, err := q.LockWebhookEvent(ctx, eventID)
		if errors.Is(err, pgx.ErrNoRows) {
			return &permanentError{fmt.Errorf("webhook event %d does not exist", eventID)}
		}
		if err != nil {
			return fmt.Errorf("reading webhook event %d: %w", eventID, err)
		}
		if ev.ProcessedAt != nil {
			return nil
		}
		wh, err := tiktok.ParseWebhook(ev.Body)
		if err != nil {
			return &permanentError{fmt.Errorf("webhook event %d: %w", eventID, err)}
		}
		shopID := string(wh.ShopID)
		switch int(wh.Type) {
		case tiktok.WebhookSellerDeauthorization:
			f, err := wh.Fields()
			if err != nil {
				return &permanentError{err}
			}
			if _, err := w.Deps.Shops.Deauthorized(ctx, tx, shopID, ev.EventTime, f.Message); err != nil {
				return err
			}
		case tiktok.WebhookAuthorizationExpiring:
			f, err := wh.Fields()
			if err != nil {
				return &permanentError{err}
			}
			var expiresAt time.Time
			if f.ExpirationTime > 0 {
				expiresAt = time.Unix(int64(f.ExpirationTime), 0).UTC()
			}
			if _, err := w.Deps.Shops.AuthorizationExpiring(ctx, tx, shopID, expiresAt, f.Message); err != nil {
				return err
			}
		case tiktok.WebhookOrderStatusChange, tiktok.WebhookRecipientAddressUpdate, tiktok.WebhookCancellationStatusChange:
			// The order as TikTok shows it now is landed (the cancellation
			// flow reads type 11's cancellation itself).
			if skipped != "" {
				return q.FinishWebhookEvent(ctx, db.FinishWebhookEventParams{ID: eventID, ProcessError: &skipped})
			}
			if orders == nil {
				// The event changed since it was read (another run); read again.
				return fmt.Errorf("webhook event %d: order not fetched", eventID)
			}
			if _, err := landing.Land(ctx, tx, shopID, landing.SourceWebhook, orders); err != nil {
				return err
			}
		case tiktok.WebhookProductStatusChange:
			// The product's status per shop: the inventory push skips the
			// SKUs of a deactivated product (DESIGN.md "Inventory").
			f, err := wh.Fields()
			if err != nil {
				return &permanentError{err}
			}
			if f.ProductID == "" || f.Status == "" || shopID == "" {
				msg := "no shop_id, product_id or status: nothing to record"
				return q.FinishWebhookEvent(ctx, db.FinishWebhookEventParams{ID: eventID, ProcessError: &msg})
			}
			at := ev.ReceivedAt
			switch {
			case f.UpdateTime > 0:
				at = time.Unix(int64(f.UpdateTime), 0).UTC()
			case ev.EventTime != nil:
				at = *ev.EventTime
			}
			if err := q.SetTikTokProductStatus(ctx, db.SetTikTokProductStatusParams{
				ShopID: shopID, ProductID: string(f.ProductID), Status: f.Status, StatusTime: at,
			}); err != nil {
				return fmt.Errorf("webhook event %d: recording the status of product %s: %w", eventID, f.ProductID, err)
			}
		default:
			// Landed for the flows that read tiktok.webhook_event.
		}
		return q.FinishWebhookEvent(ctx, db.FinishWebhookEventParams{ID: eventID})
	})
}

// orderWebhook reports whether a webhook type's order is read and landed.
func orderWebhook(typ int) bool {
	return typ == tiktok.WebhookOrderStatusChange || typ == tiktok.WebhookRecipientAddressUpdate ||
		typ == tiktok.WebhookCancellationStatusChange
}

// fetchOrder reads from TikTok the order an order webhook names. It returns
// nothing for other events (and for events gone or processed: process says
// so), and skipped instead of orders when the shop no longer lets us read it.
// An unknown shop or an event without an order id is a permanent error.
func (w *ProcessTikTokWebhookWorker) fetchOrder(ctx context.Context, eventID int64) (orders []tiktok.Order, skipped string, err error) {
	q := db.New(w.Deps.Pool)
	ev, err := q.LockWebhookEvent(ctx, eventID) // outside a transaction: a plain read
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading webhook event %d: %w", eventID, err)
	}
	if ev.ProcessedAt != nil {
		return nil, "", nil
	}
	wh, err := tiktok.ParseWebhook(ev.Body)
	if err != nil || !orderWebhook(int(wh.Type)) {
		return nil, "", nil
	}
	f, err := wh.Fields()
	if err != nil {
		return nil, "", &permanentError{err}
	}
	shopID, orderID := string(wh.ShopID), string(f.OrderID)
	if orderID == "" {
		return nil, "", &permanentError{fmt.Errorf("webhook event %d (type %d) names no order_id", eventID, wh.Type)}
	}
	shop, err := q.GetTikTokShop(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", &permanentError{fmt.Errorf("webhook event %d is for shop %q, which is not onboarded", eventID, shopID)}
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading shop %s: %w", shopID, err)
	}
	if shop.Status != shops.StatusActive {
		return nil, fmt.Sprintf("shop %s is %s: order %s was not read", shopID, shop.Status, orderID), nil
	}
	got, err := w.Deps.TikTok.OrderDetails(ctx, tiktok.Shop{ID: shop.ID, Cipher: shop.Cipher}, []string{orderID})
	if errors.Is(err, shops.ErrNotAuthorized) {
		return nil, fmt.Sprintf("shop %s's authorisation no longer works: order %s was not read", shopID, orderID), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading order %s of shop %s: %w", orderID, shopID, err)
	}
	for _, o := range got {
		if o.ID == orderID {
			orders = append(orders, o)
		}
	}
	if len(orders) == 0 {
		return nil, "", fmt.Errorf("TikTok's order detail has no order %s of shop %s (yet)", orderID, shopID)
	}
	return orders, "", nil
}

// fail closes the event with its error and raises an exception for IT.
func (w *ProcessTikTokWebhookWorker) fail(ctx context.Context, eventID int64, cause error) error {
	msg := cause.Error()
	return pgx.BeginFunc(ctx, w.Deps.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		ev, err := q.LockWebhookEvent(ctx, eventID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // nothing to close
		}
		if err != nil {
			return err
		}
		if err := q.FinishWebhookEvent(ctx, db.FinishWebhookEventParams{ID: eventID, ProcessError: &msg}); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"event_id": ev.ID, "notification_id": ev.NotificationID, "type": ev.Type, "error": msg})
		// One live exception per shop counts every such event; each event
		// keeps its own error in tiktok.webhook_event.process_error.
		_, err = q.RaiseException(ctx, db.RaiseExceptionParams{
			Kind: KindWebhookUnprocessable, OwnerTeam: "it", Severity: "error", ShopID: ev.ShopID,
			Message: fmt.Sprintf("TikTok webhook %s (type %d, tiktok.webhook_event id %d) could not be processed: %s. "+
				"Its raw body is kept in tiktok.webhook_event (process_error says why for each such event) so it can be replayed once the cause is fixed.",
				ev.NotificationID, ev.Type, ev.ID, msg),
			Details: details,
		})
		return err
	})
}
