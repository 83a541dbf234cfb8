package posting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
)

// ErrSAPNotConfigured is returned by Post and Cancel when the Poster has no
// Service Layer client.
var ErrSAPNotConfigured = errors.New("posting: SAP's Service Layer is not configured (SAPB1_SERVICE_LAYER_URL unset)")

// LedgerLine is one line of a posted Sales Order as the ledger keeps it
// (integration.order_posting.lines): where it came from on TikTok and where
// it is in SAP. Later flows (fulfilment, returns) map SAP lines to TikTok
// packages and line items through it.
type LedgerLine struct {
	LineNum       *int            `json:"line_num"` // SAP's LineNum; null until SAP answered (or when unmatched)
	Kind          orders.LineKind `json:"kind"`
	SellerSKU     string          `json:"seller_sku,omitempty"`
	ItemCode      string          `json:"item_code"`
	PackageID     string          `json:"package_id,omitempty"`
	Gift          bool            `json:"gift,omitempty"`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	LineTotal     decimal.Decimal `json:"line_total"`
	TikTokLineIDs []string        `json:"tiktok_line_ids,omitempty"`
}

// planned is a Sales Order about to be posted.
type planned struct {
	doc sapb1.Document
}

// writeTimeout bounds the ledger writes after SAP answered; they run even
// when the job's context ended meanwhile (a lost write would only cost a
// lookup, but there is no reason to lose it).
const writeTimeout = 30 * time.Second

func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}

// Post posts one order's Sales Order (the post_order job). It acts only on
// an order the ledger holds as ready (or posting/unknown: the outcome of an
// earlier POST is settled first), under the ledger row's lock:
//
//   - the order is decided and built again from the landed rows; cancelled
//     on TikTok, paused, or no longer valid → the ledger moves there and
//     nothing is posted;
//   - SAP's highest DocEntry is read and recorded with state posting in a
//     transaction committed before the POST is sent;
//   - SAP's answer is recorded (DocEntry, DocNum, lines, totals compared), and
//     a cancellation that landed meanwhile is handed to cancel_order;
//   - a lost answer (ErrUnknownOutcome, a 502, a timeout) → unknown: the job
//     snoozes past the Service Layer's timeout and looks the order up by its
//     UDF before deciding to post again;
//   - SAP's refusal → blocked with a sap_rejected exception (no retry loop);
//     a retryable error is returned (River backs off); a busy governor
//     snoozes the job.
func (p *Poster) Post(ctx context.Context, key Key) error {
	if p.opts.SAP == nil {
		return ErrSAPNotConfigured
	}
	l, err := db.New(p.opts.Pool).GetOrderPosting(ctx, db.GetOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("posting: reading the ledger of order %s: %w", key.OrderID, err)
	}
	switch l.State {
	case StateReady:
		return p.post(ctx, key)
	case StatePosting, StateUnknown:
		return p.settle(ctx, key, l)
	}
	return nil
}

// post records the intent and sends the POST of an order in state ready.
func (p *Poster) post(ctx context.Context, key Key) error {
	bound, err := p.opts.SAP.LastDocEntry(ctx, sapb1.Orders)
	if err != nil {
		return sapReadError("reading SAP's last Sales Order", err)
	}
	var plan *planned
	err = pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		l, err := q.LockOrderPosting(ctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		if l.State != StateReady {
			return nil
		}
		data, err := p.load(ctx, q, []Key{key})
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return fmt.Errorf("posting: order %s of shop %s is in the ledger but not landed", key.OrderID, key.ShopID)
		}
		ev := p.evaluate(data[0], p.now())
		ev.from = StateReady
		if ev.state != StateReady {
			_, err := p.apply(ctx, tx, []evaluation{ev})
			return err
		}
		doc := ev.posting.Document
		if ev.posting.Series != 0 {
			s := ev.posting.Series
			doc.Series = &s
		}
		docDate, err := time.Parse(time.DateOnly, doc.DocDate)
		if err != nil {
			return fmt.Errorf("posting: order %s: DocDate %q: %w", key.OrderID, doc.DocDate, err)
		}
		lines := make([]LedgerLine, len(ev.posting.Lines))
		for i, pl := range ev.posting.Lines {
			lines[i] = LedgerLine{Kind: pl.Kind, SellerSKU: pl.SellerSKU, ItemCode: pl.ItemCode, PackageID: pl.PackageID, Gift: pl.Gift,
				Quantity: pl.Quantity, Price: pl.Price, LineTotal: pl.LineTotal, TikTokLineIDs: pl.TikTokLineIDs}
		}
		t := ev.posting.Totals
		n, err := q.StartPosting(ctx, db.StartPostingParams{
			BoundDocEntry: int32(bound), DocDate: docDate, Lines: mustJSON(lines), Totals: mustJSON(t),
			ExpectedTotal: t.Expected, TiktokTotal: t.TikTokTotal, AsShipped: ev.asShipped,
			Reason: fmt.Sprintf("Being posted to SAP (the POST is sent after SAP's highest Sales Order, DocEntry %d, was noted).", bound),
			ShopID: key.ShopID, OrderID: key.OrderID,
		})
		if err != nil {
			return fmt.Errorf("posting: recording the intent to post order %s: %w", key.OrderID, err)
		}
		if n == 1 {
			plan = &planned{doc: doc}
		}
		return nil
	})
	if err != nil || plan == nil {
		return err
	}
	created, err := p.opts.SAP.Create(ctx, sapb1.Orders, plan.doc)
	if err != nil {
		return p.postFailed(ctx, key, err)
	}
	return p.record(ctx, key, created, "")
}

// sapReadError turns the error of a read (nothing written) into the job's
// answer: a snooze when the governor is busy, otherwise the error itself
// (River backs off).
func sapReadError(what string, err error) error {
	if errors.Is(err, governor.ErrBusy) {
		return governor.SnoozeOnBusy(err)
	}
	return fmt.Errorf("posting: %s: %w", what, err)
}

// postFailed settles a POST that returned an error.
func (p *Poster) postFailed(ctx context.Context, key Key, err error) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	q := db.New(p.opts.Pool)
	msg := err.Error()
	var apiErr *sapb1.Error
	switch {
	case errors.Is(err, governor.ErrBusy):
		// The request never left: nothing can have been committed.
		if _, err := q.UnsendPosting(wctx, db.UnsendPostingParams{ShopID: key.ShopID, OrderID: key.OrderID, ReasonKind: "sap_busy",
			Reason: "Queued: SAP's Service Layer is busy, the POST was not sent; it is tried again shortly."}); err != nil {
			return fmt.Errorf("posting: order %s: %w", key.OrderID, err)
		}
		return governor.SnoozeOnBusy(err)
	case errors.As(err, &apiErr) && !errors.Is(err, sapb1.ErrUnknownOutcome) && apiErr.Retryable():
		// SAP answered: it did not commit; the same request may succeed later.
		if _, err := q.SetPostingState(wctx, db.SetPostingStateParams{ShopID: key.ShopID, OrderID: key.OrderID,
			FromStates: []string{StatePosting}, State: StateReady, ReasonKind: "sap_retry", LastError: &msg,
			Reason: "Queued: SAP answered with an error that may pass (" + apiErr.Message + "); it is tried again."}); err != nil {
			return fmt.Errorf("posting: order %s: %w", key.OrderID, err)
		}
		return fmt.Errorf("posting: order %s: %w", key.OrderID, err)
	case errors.As(err, &apiErr) && !errors.Is(err, sapb1.ErrUnknownOutcome):
		// SAP refused it for good: a person must change something.
		return p.reject(wctx, key, apiErr)
	}
	// No answer, a 502, a cut-off answer or our own context ending: SAP may
	// still commit it. Never post again blind.
	if _, err := q.SetPostingState(wctx, db.SetPostingStateParams{ShopID: key.ShopID, OrderID: key.OrderID,
		FromStates: []string{StatePosting}, State: StateUnknown, ReasonKind: "sap_unknown_outcome", LastError: &msg,
		Reason: fmt.Sprintf("SAP's answer to the POST was lost; the Sales Order is looked up by %s once the Service Layer's timeout (%s) has passed, before anything is posted again.",
			p.udf.OrderID, p.opts.LookupAfter)}); err != nil {
		return fmt.Errorf("posting: order %s: %w", key.OrderID, err)
	}
	return river.JobSnooze(p.opts.LookupAfter)
}

// reject blocks an order SAP refused, with a sap_rejected exception that
// carries SAP's message. Resolving the exception posts it again.
func (p *Poster) reject(ctx context.Context, key Key, apiErr *sapb1.Error) error {
	owner := sapErrorOwner(apiErr)
	msg := fmt.Sprintf("SAP refused the Sales Order of TikTok order %s (shop %s): %d %s. Fix the cause in SAP or in the configuration, then resolve this exception: the order is posted again.",
		key.OrderID, key.ShopID, apiErr.Code, apiErr.Message)
	return pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.LockOrderPosting(ctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID}); err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		e, err := q.RaiseException(ctx, db.RaiseExceptionParams{
			Kind: KindSAPRejected, OwnerTeam: owner, Severity: "error", ShopID: &key.ShopID, OrderID: &key.OrderID, Message: msg,
			Details: mustJSON(map[string]any{"sap_code": apiErr.Code, "sap_message": apiErr.Message, "http_status": apiErr.HTTPStatus, "op": apiErr.Op}),
		})
		if err != nil {
			return fmt.Errorf("posting: raising sap_rejected for order %s: %w", key.OrderID, err)
		}
		text := apiErr.Error()
		_, err = q.SetPostingState(ctx, db.SetPostingStateParams{ShopID: key.ShopID, OrderID: key.OrderID,
			FromStates: []string{StatePosting}, State: StateBlocked, ReasonKind: KindSAPRejected, Reason: msg,
			LastError: &text, ExceptionID: &e.ID})
		return err
	})
}

// sapErrorOwner is the team that fixes what SAP refused: operations for
// items, stock and warehouses (master data they keep), IT otherwise (the
// customer, series, UDFs, the configuration).
func sapErrorOwner(e *sapb1.Error) string {
	m := strings.ToLower(e.Message)
	for _, w := range []string{"item", "stock", "inventory", "warehouse", "quantity", "frozen", "inactive", "bom", "price"} {
		if strings.Contains(m, w) && !strings.Contains(m, "business partner") && !strings.Contains(m, "bp code") {
			return orders.OwnerOperations
		}
	}
	return orders.OwnerIT
}

// settle finds out what became of a POST whose outcome is unknown (state
// unknown, or posting left by a process that died): once the Service
// Layer's own timeout has passed since it was sent, the Sales Order is
// looked up by its UDF above the DocEntry recorded before it; found → posted,
// not found → it did not commit, and the order is posted again.
func (p *Poster) settle(ctx context.Context, key Key, l db.IntegrationOrderPosting) error {
	if l.PostingStartedAt == nil || l.BoundDocEntry == nil {
		return fmt.Errorf("posting: order %s is %s without its intent recorded", key.OrderID, l.State)
	}
	if wait := time.Until(l.PostingStartedAt.Add(p.opts.LookupAfter)); wait > 0 {
		return river.JobSnooze(wait)
	}
	lookup := sapb1.DocumentKey{UDF: p.udf.OrderID, Value: key.OrderID, AfterDocEntry: int(*l.BoundDocEntry)}
	if l.DocDate != nil {
		lookup.Since = *l.DocDate
	}
	found, err := p.opts.SAP.FindByUDF(ctx, sapb1.Orders, lookup)
	if err != nil {
		return sapReadError("looking order "+key.OrderID+" up in SAP", err)
	}
	var mine []sapb1.Document
	for _, d := range found {
		if s := d.UDF.String(p.udf.ShopID); s == "" || s == key.ShopID {
			mine = append(mine, d)
		}
	}
	if len(mine) > 0 {
		if len(mine) > 1 {
			p.raiseDuplicates(ctx, key, mine)
		}
		return p.record(ctx, key, mine[0], "found by "+p.udf.OrderID+" after SAP's answer was lost")
	}
	wctx, cancel := detached(ctx)
	defer cancel()
	note := fmt.Sprintf("not in SAP %s after the POST was sent (looked up by %s above DocEntry %d): it did not commit, posted again",
		p.opts.LookupAfter, p.udf.OrderID, *l.BoundDocEntry)
	if _, err := db.New(p.opts.Pool).SetPostingState(wctx, db.SetPostingStateParams{ShopID: key.ShopID, OrderID: key.OrderID,
		FromStates: []string{StatePosting, StateUnknown}, State: StateReady, ReasonKind: "sap_not_found",
		Reason: "Queued again: the Sales Order was " + note + ".", LastError: &note}); err != nil {
		return fmt.Errorf("posting: order %s: %w", key.OrderID, err)
	}
	return p.post(ctx, key)
}

// record writes what SAP holds for an order: DocEntry, DocNum, its lines
// with SAP's LineNum, SAP's total compared with the expected one (a variance
// raises an exception for finance: the order is posted all the same), and
// hands a cancellation that landed meanwhile to cancel_order.
func (p *Poster) record(ctx context.Context, key Key, doc sapb1.Document, note string) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	return pgx.BeginFunc(wctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		l, err := q.LockOrderPosting(wctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
		if err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		var lines []LedgerLine
		if len(l.Lines) > 0 {
			if err := json.Unmarshal(l.Lines, &lines); err != nil {
				return fmt.Errorf("posting: the ledger lines of order %s: %w", key.OrderID, err)
			}
		}
		unmatched := matchLines(lines, doc.Lines)
		var totals orders.Totals
		check := orders.TotalCheck{Status: orders.TotalsMissing}
		if len(l.Totals) > 0 {
			if err := json.Unmarshal(l.Totals, &totals); err != nil {
				return fmt.Errorf("posting: the ledger totals of order %s: %w", key.OrderID, err)
			}
			check = orders.CompareTotals(totals, doc)
		}
		reason := fmt.Sprintf("Posted as SAP Sales Order %d (DocEntry %d).", doc.DocNum, doc.DocEntry)
		if note != "" {
			reason = fmt.Sprintf("Posted as SAP Sales Order %d (DocEntry %d), %s.", doc.DocNum, doc.DocEntry, note)
		}
		params := db.RecordPostedParams{ShopID: key.ShopID, OrderID: key.OrderID, DocEntry: int32(doc.DocEntry), DocNum: int32(doc.DocNum),
			Lines: mustJSON(nonNil(lines)), TotalCheck: check.Status, Reason: reason}
		if doc.DocTotal != nil {
			params.SapTotal = decimal.NewNullDecimal(doc.DocTotal.Decimal)
		}
		row, err := q.RecordPosted(wctx, params)
		if errors.Is(err, pgx.ErrNoRows) {
			// The ledger holds another Sales Order for this order already.
			return p.raiseDuplicateTx(wctx, q, key, []int{int(deref(l.DocEntry)), doc.DocEntry})
		}
		if err != nil {
			return fmt.Errorf("posting: recording Sales Order %d of order %s: %w", doc.DocEntry, key.OrderID, err)
		}
		docType := "ORDR"
		entry := int32(doc.DocEntry)
		if check.Status == orders.TotalsVariance || check.Status == orders.TotalsMissing {
			if _, err := q.RaiseException(wctx, db.RaiseExceptionParams{
				Kind: KindTotalVariance, OwnerTeam: orders.OwnerFinance, Severity: "warning", ShopID: &key.ShopID, OrderID: &key.OrderID,
				DocType: &docType, DocEntry: &entry,
				Message: fmt.Sprintf("Sales Order %d (DocEntry %d) of TikTok order %s does not add up as expected: %s The order is posted; reconcile it.",
					doc.DocNum, doc.DocEntry, key.OrderID, check.Explanation),
				Details: mustJSON(map[string]any{"status": check.Status, "expected": check.Expected, "sap_total": check.SAPTotal,
					"difference": check.Difference, "tiktok_total": check.TikTokTotal, "unexplained": check.Unexplained}),
			}); err != nil {
				return fmt.Errorf("posting: raising %s: %w", KindTotalVariance, err)
			}
		}
		if unmatched > 0 {
			if _, err := q.RaiseException(wctx, db.RaiseExceptionParams{
				Kind: KindLinesUnmatched, OwnerTeam: orders.OwnerIT, Severity: "warning", ShopID: &key.ShopID, OrderID: &key.OrderID,
				DocType: &docType, DocEntry: &entry,
				Message: fmt.Sprintf("%d line(s) of Sales Order %d (DocEntry %d) could not be matched to what was posted for TikTok order %s, so the ledger does not know their SAP LineNum: packages of those lines cannot be shipped from SAP deliveries. Check the order in SAP.",
					unmatched, doc.DocNum, doc.DocEntry, key.OrderID),
				Details: mustJSON(map[string]any{}),
			}); err != nil {
				return fmt.Errorf("posting: raising %s: %w", KindLinesUnmatched, err)
			}
		}
		if row.CancelResult == "" && (row.TiktokStatus == orders.StatusCancelled || row.CancelSeenAt != nil) {
			if _, err := q.MarkCancelSeen(wctx, db.MarkCancelSeenParams{ShopIds: []string{key.ShopID}, OrderIds: []string{key.OrderID}}); err != nil {
				return fmt.Errorf("posting: noting the cancellation of order %s: %w", key.OrderID, err)
			}
			if err := p.opts.Jobs.CancelOrders(wctx, tx, []Key{key}); err != nil {
				return fmt.Errorf("posting: handing the cancellation of order %s over: %w", key.OrderID, err)
			}
		}
		return nil
	})
}

// matchLines sets each planned line's SAP LineNum from SAP's lines, in
// order: the next SAP line with the same item and quantity (SAP adds lines
// of its own after a sales-BOM parent: its components). It returns the
// number of planned lines left without one.
func matchLines(plan []LedgerLine, sap []sapb1.DocumentLine) int {
	next, unmatched := 0, 0
	for i := range plan {
		plan[i].LineNum = nil
		for k := next; k < len(sap); k++ {
			s := sap[k]
			if s.LineNum == nil || !strings.EqualFold(s.ItemCode, plan[i].ItemCode) || (s.Quantity != nil && !s.Quantity.Equal(plan[i].Quantity)) {
				continue
			}
			n := *s.LineNum
			plan[i].LineNum = &n
			next = k + 1
			break
		}
		if plan[i].LineNum == nil {
			unmatched++
		}
	}
	return unmatched
}

// raiseDuplicates reports that SAP holds more than one Sales Order for an
// order: a person must cancel the extra ones.
func (p *Poster) raiseDuplicates(ctx context.Context, key Key, docs []sapb1.Document) {
	wctx, cancel := detached(ctx)
	defer cancel()
	entries := make([]int, len(docs))
	for i, d := range docs {
		entries[i] = d.DocEntry
	}
	if err := p.raiseDuplicateTx(wctx, db.New(p.opts.Pool), key, entries); err != nil {
		p.opts.Logger.Error("could not raise an exception for duplicate Sales Orders", "order", key.OrderID, "doc_entries", entries, "err", err)
	}
}

func (p *Poster) raiseDuplicateTx(ctx context.Context, q *db.Queries, key Key, entries []int) error {
	_, err := q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindDuplicateSalesOrder, OwnerTeam: orders.OwnerIT, Severity: "critical", ShopID: &key.ShopID, OrderID: &key.OrderID,
		Message: fmt.Sprintf("SAP holds more than one Sales Order for TikTok order %s (DocEntry %v): cancel all but the one the ledger records (the first), and tell the integrator.",
			key.OrderID, entries),
		Details: mustJSON(map[string]any{"doc_entries": entries}),
	})
	if err != nil {
		return fmt.Errorf("posting: raising %s for order %s: %w", KindDuplicateSalesOrder, key.OrderID, err)
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
