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
// (deauthorisation) and 7 (authorisation expiring) are acted on here; the
// other types are marked processed and left to the flows that read
// tiktok.webhook_event (orders, cancellations, returns, products).
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
// holds the event's row lock, so two runs never both act.
func (w *ProcessTikTokWebhookWorker) process(ctx context.Context, eventID int64) error {
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
		default:
			// Landed for the flows that read tiktok.webhook_event.
		}
		return q.FinishWebhookEvent(ctx, db.FinishWebhookEventParams{ID: eventID})
	})
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
