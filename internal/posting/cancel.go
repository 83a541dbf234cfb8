package posting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
)

// CancellationsPausedSnooze is how long cancel_order waits while the shop's
// cancellations flow is paused.
const CancellationsPausedSnooze = time.Minute

// Cancel carries TikTok's cancellation of a whole order to SAP (the
// cancel_order job, on the priority queue and the governor's priority lane),
// serialised with the posting on the ledger row:
//
//   - not posted (new, blocked, waiting, ready) → cancelled_before_post: it
//     is never posted (a post_order job still queued finds it not ready);
//   - being posted (posting, unknown) → noted; the posting job hands it back
//     once SAP's answer is known;
//   - posted → SAP's Sales Order is read: nothing delivered → Cancel;
//     partly delivered → Close, and cancelled_after_dispatch for CX; wholly
//     delivered → cancelled_after_dispatch only. A delivery created meanwhile
//     makes Cancel fail with SAP's business error: the order is read again
//     and decided again (orders.CancellationAction).
//
// An order TikTok does not show cancelled is left alone.
func (p *Poster) Cancel(ctx context.Context, key Key) error {
	var docEntry int
	err := pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		data, err := p.load(ctx, q, []Key{key})
		if err != nil {
			return err
		}
		if len(data) == 0 || data[0].row.Status != orders.StatusCancelled {
			return nil
		}
		d := data[0]
		if d.row.CancellationsPaused {
			return river.JobSnooze(CancellationsPausedSnooze)
		}
		l, err := q.LockOrderPosting(ctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
		if errors.Is(err, pgx.ErrNoRows) {
			// Cancelled before validation ever saw it.
			l.State = ""
		} else if err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		switch l.State {
		case "", StateNew, StateBlocked, StateWaiting, StateReady:
			ev := evaluation{key: key, from: l.State, state: StateCancelledBeforePost, reasonKind: orders.ReasonCancelled,
				reason: "Cancelled on TikTok before it was posted: it is never posted.", final: true,
				resolution: "auto: the order was cancelled on TikTok before it was posted", shopConfigured: d.row.Configured,
				payloadID: d.row.PayloadID, derivedAt: d.row.DerivedAt}
			_, err := p.apply(ctx, tx, []evaluation{ev})
			return err
		case StatePosting, StateUnknown:
			_, err := q.MarkCancelSeen(ctx, db.MarkCancelSeenParams{ShopIds: []string{key.ShopID}, OrderIds: []string{key.OrderID}})
			return err
		case StatePosted:
			if l.CancelResult != nil || l.DocEntry == nil {
				return nil
			}
			if l.CancelSeenAt == nil {
				if _, err := q.MarkCancelSeen(ctx, db.MarkCancelSeenParams{ShopIds: []string{key.ShopID}, OrderIds: []string{key.OrderID}}); err != nil {
					return err
				}
			}
			docEntry = int(*l.DocEntry)
		}
		return nil
	})
	if err != nil || docEntry == 0 {
		return err
	}
	if p.opts.SAP == nil {
		return ErrSAPNotConfigured
	}
	return p.cancelInSAP(sapb1.WithPriority(ctx), key, docEntry)
}

// cancelInSAP cancels or closes a posted Sales Order, or reports it
// delivered. The ledger row is changed by compare-and-set from posted: only
// this job moves a posted order on.
func (p *Poster) cancelInSAP(ctx context.Context, key Key, docEntry int) error {
	var lastErr *sapb1.Error
	for range 3 {
		doc, err := p.opts.SAP.Get(ctx, sapb1.Orders, docEntry)
		if err != nil {
			var apiErr *sapb1.Error
			if errors.As(err, &apiErr) && errors.Is(err, sapb1.ErrNotFound) {
				return p.cancelFailed(ctx, key, docEntry, apiErr)
			}
			return sapReadError(fmt.Sprintf("reading Sales Order %d", docEntry), err)
		}
		delivered, partly := deliveredOf(doc)
		switch {
		case doc.Cancelled == "tYES":
			return p.recordCancel(ctx, key, doc, StateCancelled, "cancelled", "Cancelled on TikTok; its Sales Order is cancelled in SAP.", "")
		case doc.DocumentStatus == "bost_Close" && !delivered && !partly:
			return p.recordCancel(ctx, key, doc, StateClosed, "closed", "Cancelled on TikTok; its Sales Order was closed in SAP already.", "")
		}
		act := orders.CancellationAction(orders.StatePosted, delivered, partly)
		switch act.Do {
		case orders.DoCancel:
			err = p.opts.SAP.Cancel(ctx, sapb1.Orders, docEntry)
		case orders.DoClose:
			if doc.DocumentStatus != "bost_Close" {
				err = p.opts.SAP.CloseDocument(ctx, sapb1.Orders, docEntry)
			}
		}
		var apiErr *sapb1.Error
		switch {
		case err == nil:
			switch act.Do {
			case orders.DoCancel:
				return p.recordCancel(ctx, key, doc, StateCancelled, "cancelled", "Cancelled on TikTok before dispatch; its Sales Order is cancelled in SAP.", "")
			case orders.DoClose:
				return p.recordCancel(ctx, key, doc, StateClosed, "closed", act.Reason, act.Raise)
			default:
				return p.recordCancel(ctx, key, doc, StatePosted, "after_dispatch", act.Reason, act.Raise)
			}
		case errors.Is(err, governor.ErrBusy):
			return governor.SnoozeOnBusy(err)
		case errors.As(err, &apiErr) && errors.Is(err, sapb1.ErrBusinessRule):
			// A delivery was created meanwhile (or the order was closed or
			// cancelled in SAP): read it again and decide again.
			lastErr = apiErr
			continue
		case errors.As(err, &apiErr) && !apiErr.Retryable() && !errors.Is(err, sapb1.ErrUnknownOutcome):
			return p.cancelFailed(ctx, key, docEntry, apiErr)
		default:
			// Retryable or unknown: the next attempt reads the order first,
			// so an action that did happen is seen, not repeated.
			return fmt.Errorf("posting: cancelling Sales Order %d of order %s: %w", docEntry, key.OrderID, err)
		}
	}
	return p.cancelFailed(ctx, key, docEntry, lastErr)
}

// deliveredOf says whether a Sales Order was delivered wholly or in part,
// from its lines' open quantities.
func deliveredOf(doc sapb1.Document) (delivered, partly bool) {
	var some, open bool
	for _, l := range doc.Lines {
		if l.Quantity == nil || l.RemainingOpenQuantity == nil {
			continue
		}
		if l.RemainingOpenQuantity.LessThan(l.Quantity.Decimal) {
			some = true
		}
		if l.RemainingOpenQuantity.GreaterThan(decimal.Zero) {
			open = true
		}
	}
	switch {
	case some && !open:
		return true, false
	case some:
		return false, true
	}
	return false, false
}

// recordCancel writes the outcome of a cancellation, with the exception it
// raises (cancelled_after_dispatch, owner CX) in the same transaction, and
// resolves an earlier order_cancel_failed.
func (p *Poster) recordCancel(ctx context.Context, key Key, doc sapb1.Document, state, result, reason, raise string) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	return pgx.BeginFunc(wctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.LockOrderPosting(wctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID}); err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		var exceptionID *int64
		if raise != "" {
			docType, entry := "ORDR", int32(doc.DocEntry)
			e, err := q.RaiseException(wctx, db.RaiseExceptionParams{
				Kind: raise, OwnerTeam: orders.OwnerCX, Severity: "error", ShopID: &key.ShopID, OrderID: &key.OrderID,
				DocType: &docType, DocEntry: &entry,
				Message: fmt.Sprintf("TikTok order %s (shop %s) was cancelled after goods left: %s SAP Sales Order %d (DocEntry %d).",
					key.OrderID, key.ShopID, reason, doc.DocNum, doc.DocEntry),
				Details: mustJSON(map[string]any{"doc_entry": doc.DocEntry, "doc_num": doc.DocNum, "result": result}),
			})
			if err != nil {
				return fmt.Errorf("posting: raising %s for order %s: %w", raise, key.OrderID, err)
			}
			exceptionID = &e.ID
		}
		if _, err := q.RecordCancellation(wctx, db.RecordCancellationParams{
			ShopID: key.ShopID, OrderID: key.OrderID, State: state, CancelResult: result, Reason: reason, ExceptionID: exceptionID,
		}); err != nil {
			return fmt.Errorf("posting: recording the cancellation of order %s: %w", key.OrderID, err)
		}
		_, err := q.ResolveOrderExceptions(wctx, db.ResolveOrderExceptionsParams{ShopID: key.ShopID, OrderID: key.OrderID,
			Kinds: []string{KindCancelFailed}, Resolution: "auto: the cancellation went through"})
		return err
	})
}

// cancelFailed raises order_cancel_failed for IT with SAP's message; the
// cancellation stays unsettled, so the watchdog queues it again later.
func (p *Poster) cancelFailed(ctx context.Context, key Key, docEntry int, apiErr *sapb1.Error) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	why := "SAP kept refusing it"
	if apiErr != nil {
		why = fmt.Sprintf("SAP answered %d %s", apiErr.Code, apiErr.Message)
	}
	docType, entry := "ORDR", int32(docEntry)
	_, err := db.New(p.opts.Pool).RaiseException(wctx, db.RaiseExceptionParams{
		Kind: KindCancelFailed, OwnerTeam: orders.OwnerIT, Severity: "error", ShopID: &key.ShopID, OrderID: &key.OrderID,
		DocType: &docType, DocEntry: &entry,
		Message: fmt.Sprintf("TikTok cancelled order %s (shop %s) but its Sales Order (DocEntry %d) could not be cancelled or closed: %s. Cancel or close it in SAP; the flow tries again every few minutes and resolves this once it is.",
			key.OrderID, key.ShopID, docEntry, why),
		Details: mustJSON(map[string]any{"doc_entry": docEntry}),
	})
	if err != nil {
		return fmt.Errorf("posting: raising %s for order %s: %w", KindCancelFailed, key.OrderID, err)
	}
	return nil
}

// GaveUp raises an exception for IT when a posting (cancel false) or a
// cancellation job failed its last attempt: River discards the job, the
// ledger keeps the order where it was, and the watchdog queues it again
// later; this makes sure a person hears of it meanwhile.
func (p *Poster) GaveUp(ctx context.Context, key Key, cancel bool, attempts int, cause error) error {
	wctx, stop := detached(ctx)
	defer stop()
	kind, what := KindPostFailed, "posted"
	if cancel {
		kind, what = KindCancelFailed, "cancelled in SAP"
	}
	_, err := db.New(p.opts.Pool).RaiseException(wctx, db.RaiseExceptionParams{
		Kind: kind, OwnerTeam: orders.OwnerIT, Severity: "error", ShopID: &key.ShopID, OrderID: &key.OrderID,
		Message: fmt.Sprintf("TikTok order %s (shop %s) could not be %s after %d attempts; the last error: %v. The flow tries again every few minutes; look at SAP's Service Layer and the River UI.",
			key.OrderID, key.ShopID, what, attempts, cause),
		Details: mustJSON(map[string]any{"attempts": attempts, "error": cause.Error()}),
	})
	if err != nil {
		return fmt.Errorf("posting: raising %s for order %s: %w", kind, key.OrderID, err)
	}
	return nil
}
