package posting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
)

// KindPatchFailed is raised when SAP refuses to patch a posted Sales Order
// (a delivery exists for a line to reduce or remove, the order was closed):
// owner operations, who reconcile it by hand (a return, or the delivery
// undone). It resolves itself once a later patch goes through.
const KindPatchFailed = "sales_order_patch_failed"

// ChangeResult counts what one change detection run did.
type ChangeResult struct {
	Queued         int // patch_order jobs queued for orders whose lines changed on TikTok
	AddressChanges int // posted orders whose buyer's address changed (noted only)
}

// DetectChanges finds, set-based, the posted Sales Orders that no longer
// match their TikTok order — a unit the ledger's lines carry is cancelled on
// TikTok now — and queues patch_order for them in the same transaction. It
// also notes address changes of posted orders (webhook 3): the Sales Order
// carries no address from us, so nothing is patched for them.
func (p *Poster) DetectChanges(ctx context.Context) (ChangeResult, error) {
	var res ChangeResult
	if !p.canPost() {
		return res, nil
	}
	pj, ok := p.opts.Jobs.(PatchJobs)
	if !ok {
		return res, errors.New("posting: the Poster's Jobs cannot enqueue patch_order")
	}
	err := pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.QueuePatches(ctx, db.QueuePatchesParams{StaleAfterSeconds: p.opts.StaleAfter.Seconds(), MaxRows: int32(p.opts.BatchSize)})
		if err != nil {
			return fmt.Errorf("posting: finding posted orders that changed: %w", err)
		}
		keys := make([]Key, len(rows))
		for i, r := range rows {
			keys[i] = Key{r.ShopID, r.OrderID}
		}
		if len(keys) > 0 {
			if err := pj.PatchOrders(ctx, tx, keys); err != nil {
				return fmt.Errorf("posting: queueing %d patches: %w", len(keys), err)
			}
		}
		res.Queued = len(keys)
		addr, err := q.NoteAddressChanges(ctx, int32(p.opts.BatchSize))
		if err != nil {
			return fmt.Errorf("posting: noting address changes: %w", err)
		}
		for _, a := range addr {
			if a.AddressChangedAt != nil {
				res.AddressChanges++
				p.opts.Logger.Info("the buyer's address of a posted order changed on TikTok; the Sales Order carries no address, nothing is patched",
					"shop", a.ShopID, "order", a.OrderID, "doc_entry", deref(a.DocEntry))
			}
		}
		return nil
	})
	return res, err
}

// patchPlan is what Patch sends to SAP for one order.
type patchPlan struct {
	docEntry     int
	lines        []LedgerLine         // the ledger's lines after the patch (LineNum of kept lines)
	docLines     []sapb1.DocumentLine // sent with replaceLines when linesChanged
	linesChanged bool
	release      bool
	totals       orders.Totals
	removed      int
	reduced      int
}

// Patch brings a posted Sales Order in step with its TikTok order (the
// patch_order job, on sapb1_write through the governor):
//
//   - its lines: the document is built again from the landed order
//     (orders.Build leaves cancelled units out); a ledger line whose units
//     are all cancelled is removed, one with fewer units has its quantity
//     (and amount) reduced, all in one PATCH with replaceLines and the
//     document's ETag; the ledger's lines follow, with SAP's LineNum;
//   - its release: an order the release check approved gets the release
//     UDF set to Y (in the same PATCH when both are due).
//
// SAP refusing (a delivery exists for a line to change) raises
// sales_order_patch_failed for operations. Nothing to do → nothing sent: a
// second run changes nothing.
func (p *Poster) Patch(ctx context.Context, key Key) error {
	if p.opts.SAP == nil {
		return ErrSAPNotConfigured
	}
	var plan *patchPlan
	err := pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		l, err := q.LockOrderPosting(ctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		if l.State != StatePosted || l.CancelResult != nil || l.CancelSeenAt != nil || l.DocEntry == nil {
			return q.FinishPatch(ctx, db.FinishPatchParams{ShopID: key.ShopID, OrderID: key.OrderID})
		}
		data, err := p.load(ctx, q, []Key{key})
		if err != nil || len(data) == 0 {
			return err
		}
		d := data[0]
		if d.row.Status == orders.StatusCancelled {
			// Wholly cancelled: the cancellation flow cancels the Sales Order.
			return nil
		}
		var ledgerLines []LedgerLine
		if len(l.Lines) > 0 {
			if err := json.Unmarshal(l.Lines, &ledgerLines); err != nil {
				return fmt.Errorf("posting: the ledger lines of order %s: %w", key.OrderID, err)
			}
		}
		built, _ := orders.Build(d.order, d.lines, d.cfg, d.catalog, p.opts.Location)
		plan = planPatch(ledgerLines, built)
		plan.docEntry = int(*l.DocEntry)
		plan.release = l.ReleaseApprovedAt != nil && l.ReleasedAt == nil && !d.row.IsBuyerRequestCancel
		if len(built.Lines) == 0 {
			plan.linesChanged = false // nothing left to post: the order's cancellation handles it
		}
		if !plan.linesChanged && !plan.release {
			plan = nil
			return q.FinishPatch(ctx, db.FinishPatchParams{ShopID: key.ShopID, OrderID: key.OrderID})
		}
		return nil
	})
	if err != nil || plan == nil {
		return err
	}
	doc, err := p.opts.SAP.Get(ctx, sapb1.Orders, plan.docEntry)
	if err != nil {
		return sapReadError(fmt.Sprintf("reading Sales Order %d", plan.docEntry), err)
	}
	if doc.Cancelled == "tYES" || doc.DocumentStatus == "bost_Close" {
		return p.patchFailed(ctx, key, plan.docEntry, "the Sales Order is closed or cancelled in SAP", nil)
	}
	patch := sapb1.Document{ETag: doc.ETag}
	if plan.release {
		patch.UDF = sapb1.UDFs{p.udf.Release: orders.ReleaseReleased}
	}
	if plan.linesChanged {
		patch.Lines = plan.docLines
	}
	if err := p.opts.SAP.Patch(ctx, sapb1.Orders, plan.docEntry, patch, plan.linesChanged); err != nil {
		var apiErr *sapb1.Error
		switch {
		case errors.Is(err, governor.ErrBusy):
			return governor.SnoozeOnBusy(err)
		case errors.As(err, &apiErr) && !apiErr.Retryable() && !errors.Is(err, sapb1.ErrUnknownOutcome):
			return p.patchFailed(ctx, key, plan.docEntry, fmt.Sprintf("SAP answered %d %s", apiErr.Code, apiErr.Message), apiErr)
		}
		// Retryable, a changed ETag, or an unknown outcome: the next attempt
		// plans again from the ledger and SAP's document as they are then;
		// the PATCH sends absolute quantities, so repeating it is harmless.
		return fmt.Errorf("posting: patching Sales Order %d of order %s: %w", plan.docEntry, key.OrderID, err)
	}
	after, err := p.opts.SAP.Get(ctx, sapb1.Orders, plan.docEntry)
	if err != nil {
		return sapReadError(fmt.Sprintf("reading Sales Order %d after patching it", plan.docEntry), err)
	}
	return p.recordPatch(ctx, key, plan, after)
}

// planPatch compares the ledger's lines with the document built again and
// says what the PATCH sends: every ledger line still wanted by its LineNum
// (with the new quantity and amount when they changed), none of those whose
// units are all cancelled (replaceLines removes them), new lines appended.
func planPatch(ledger []LedgerLine, built orders.Posting) *patchPlan {
	plan := &patchPlan{totals: built.Totals}
	used := make([]bool, len(ledger))
	match := func(pl orders.PostedLine, withPrice bool) int {
		for i, l := range ledger {
			if used[i] || l.Kind != pl.Kind || l.SellerSKU != pl.SellerSKU || !strings.EqualFold(l.ItemCode, pl.ItemCode) ||
				l.PackageID != pl.PackageID || l.Gift != pl.Gift || (withPrice && !l.Price.Equal(pl.Price)) {
				continue
			}
			return i
		}
		return -1
	}
	newIdx := make([]int, len(built.Lines))
	for k, pl := range built.Lines {
		i := match(pl, true)
		if i < 0 {
			i = match(pl, false)
		}
		newIdx[k] = i
		if i >= 0 {
			used[i] = true
		}
	}
	for k, pl := range built.Lines {
		i := newIdx[k]
		nl := LedgerLine{Kind: pl.Kind, SellerSKU: pl.SellerSKU, ItemCode: pl.ItemCode, PackageID: pl.PackageID, Gift: pl.Gift,
			Quantity: pl.Quantity, Price: pl.Price, LineTotal: pl.LineTotal, TikTokLineIDs: pl.TikTokLineIDs}
		dl := built.Document.Lines[k]
		switch {
		case i < 0 || ledger[i].LineNum == nil:
			plan.linesChanged = true
		case ledger[i].Quantity.Equal(pl.Quantity) && ledger[i].LineTotal.Equal(pl.LineTotal):
			nl.LineNum = ledger[i].LineNum
			dl = sapb1.DocumentLine{LineNum: ledger[i].LineNum}
		default:
			plan.linesChanged = true
			plan.reduced++
			nl.LineNum = ledger[i].LineNum
			dl.LineNum = ledger[i].LineNum
		}
		plan.lines = append(plan.lines, nl)
		plan.docLines = append(plan.docLines, dl)
	}
	for i := range ledger {
		if !used[i] {
			plan.linesChanged = true
			plan.removed++
		}
	}
	return plan
}

// recordPatch writes what SAP holds after the PATCH: the lines with SAP's
// LineNum, the totals compared, released; and resolves an earlier
// sales_order_patch_failed.
func (p *Poster) recordPatch(ctx context.Context, key Key, plan *patchPlan, doc sapb1.Document) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	return pgx.BeginFunc(wctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		l, err := q.LockOrderPosting(wctx, db.LockOrderPostingParams{ShopID: key.ShopID, OrderID: key.OrderID})
		if err != nil {
			return fmt.Errorf("posting: locking order %s: %w", key.OrderID, err)
		}
		lines := plan.lines
		totals := plan.totals
		if !plan.linesChanged {
			lines = nil
			if len(l.Lines) > 0 {
				if err := json.Unmarshal(l.Lines, &lines); err != nil {
					return fmt.Errorf("posting: the ledger lines of order %s: %w", key.OrderID, err)
				}
			}
			if len(l.Totals) > 0 {
				if err := json.Unmarshal(l.Totals, &totals); err != nil {
					return fmt.Errorf("posting: the ledger totals of order %s: %w", key.OrderID, err)
				}
			}
		} else if unmatched := matchLines(lines, doc.Lines); unmatched > 0 {
			p.opts.Logger.Warn("patched Sales Order lines not all matched", "order", key.OrderID, "unmatched", unmatched)
		}
		check := orders.CompareTotals(totals, doc)
		reason := fmt.Sprintf("Posted as SAP Sales Order %d (DocEntry %d); its lines were patched to follow TikTok (%d removed, %d reduced).",
			doc.DocNum, doc.DocEntry, plan.removed, plan.reduced)
		params := db.RecordPatchParams{Lines: mustJSON(nonNil(lines)), Totals: mustJSON(totals), ExpectedTotal: totals.Expected,
			TiktokTotal: totals.TikTokTotal, TotalCheck: check.Status, LinesChanged: plan.linesChanged, Released: plan.release,
			Reason: reason, ShopID: key.ShopID, OrderID: key.OrderID, DocEntry: int32(plan.docEntry)}
		if doc.DocTotal != nil {
			params.SapTotal = decimal.NewNullDecimal(doc.DocTotal.Decimal)
		}
		if _, err := q.RecordPatch(wctx, params); err != nil {
			return fmt.Errorf("posting: recording the patch of order %s: %w", key.OrderID, err)
		}
		if plan.linesChanged && check.Status == orders.TotalsVariance {
			docType, entry := "ORDR", int32(plan.docEntry)
			if _, err := q.RaiseException(wctx, db.RaiseExceptionParams{
				Kind: KindTotalVariance, OwnerTeam: orders.OwnerFinance, Severity: "warning", ShopID: &key.ShopID, OrderID: &key.OrderID,
				DocType: &docType, DocEntry: &entry,
				Message: fmt.Sprintf("Sales Order %d (DocEntry %d) of TikTok order %s does not add up as expected after its lines were patched: %s Reconcile it.",
					doc.DocNum, doc.DocEntry, key.OrderID, check.Explanation),
				Details: mustJSON(map[string]any{"status": check.Status, "expected": check.Expected, "sap_total": check.SAPTotal,
					"difference": check.Difference, "tiktok_total": check.TikTokTotal}),
			}); err != nil {
				return fmt.Errorf("posting: raising %s: %w", KindTotalVariance, err)
			}
		}
		_, err = q.ResolveOrderExceptions(wctx, db.ResolveOrderExceptionsParams{ShopID: key.ShopID, OrderID: key.OrderID,
			Kinds: []string{KindPatchFailed}, Resolution: "auto: the Sales Order was patched"})
		return err
	})
}

// patchFailed raises sales_order_patch_failed for operations. The order
// stays queued (patch_queued_at), so the change detection tries again once
// StaleAfter has passed and resolves the exception when it goes through.
func (p *Poster) patchFailed(ctx context.Context, key Key, docEntry int, why string, apiErr *sapb1.Error) error {
	wctx, cancel := detached(ctx)
	defer cancel()
	docType, entry := "ORDR", int32(docEntry)
	details := map[string]any{"doc_entry": docEntry}
	if apiErr != nil {
		details["sap_code"], details["sap_message"] = apiErr.Code, apiErr.Message
	}
	_, err := db.New(p.opts.Pool).RaiseException(wctx, db.RaiseExceptionParams{
		Kind: KindPatchFailed, OwnerTeam: orders.OwnerOperations, Severity: "error", ShopID: &key.ShopID, OrderID: &key.OrderID,
		DocType: &docType, DocEntry: &entry,
		Message: fmt.Sprintf("TikTok order %s (shop %s) changed after it was posted (units cancelled, or its release), but its Sales Order (DocEntry %d) could not be patched: %s. If goods were delivered for the cancelled units, arrange a return; otherwise correct the Sales Order in SAP. The flow tries again every few minutes and resolves this once it goes through.",
			key.OrderID, key.ShopID, docEntry, why),
		Details: mustJSON(details),
	})
	if err != nil {
		return fmt.Errorf("posting: raising %s for order %s: %w", KindPatchFailed, key.OrderID, err)
	}
	return nil
}
