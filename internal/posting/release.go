package posting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// PatchJobs enqueues patch_order jobs in the caller's transaction. The jobs
// package's Jobs implements it besides Jobs.
type PatchJobs interface {
	PatchOrders(ctx context.Context, tx pgx.Tx, keys []Key) error
}

// OrderReader reads orders from TikTok by id, in calls of at most 50 ids
// (a *tiktok.Client).
type OrderReader interface {
	OrderDetails(ctx context.Context, shop tiktok.Shop, ids []string) ([]tiktok.Order, error)
}

// DefaultReleaseBatch is how many orders one release run checks at most.
const DefaultReleaseBatch = 1000

// ReleaseResult counts what one release run did.
type ReleaseResult struct {
	Checked  int            // orders checked against TikTok
	Calls    int            // order detail calls made (one batched read per shop, 50 ids a call)
	Approved int            // orders approved: patch_order sets the release UDF
	Held     map[string]int // orders not released, per reason
}

// Hold reasons (integration.order_posting.release_hold).
const (
	HoldCancelRequested = "cancel_requested" // the buyer asked to cancel; the request is pending
	HoldCancelled       = "cancelled"        // cancelled on TikTok: the cancellation flow handles it
	HoldNotShippable    = "not_shippable"    // not AWAITING_SHIPMENT / AWAITING_COLLECTION
	HoldNotFound        = "not_found"        // TikTok did not return it
	HoldShopInactive    = "shop_inactive"    // the shop's authorisation is gone: nothing can be checked
)

// Release is the release gate (DESIGN.md "Release gate"): the posted Sales
// Orders still on hold whose release is due are checked against TikTok in
// one batched read per shop (order detail, 50 ids a call); the orders read
// are landed (source detail) so the check is not lost; an order still
// AWAITING_SHIPMENT or AWAITING_COLLECTION without a pending cancellation
// request is approved, and patch_order (on sapb1_write, through the
// governor) sets its release UDF in SAP in the same transaction. Any other
// is left on hold with the reason noted: a cancelled one is the cancellation
// flow's, a pending request is checked again next run.
func (p *Poster) Release(ctx context.Context, read OrderReader) (ReleaseResult, error) {
	res := ReleaseResult{Held: map[string]int{}}
	if !p.canPost() {
		return res, nil
	}
	pj, ok := p.opts.Jobs.(PatchJobs)
	if !ok {
		return res, errors.New("posting: the Poster's Jobs cannot enqueue patch_order")
	}
	rows, err := db.New(p.opts.Pool).ReleaseCandidates(ctx, db.ReleaseCandidatesParams{
		ReleaseDelaySeconds: p.opts.ReleaseDelay.Seconds(), StaleAfterSeconds: p.opts.StaleAfter.Seconds(), MaxRows: DefaultReleaseBatch,
	})
	if err != nil {
		return res, fmt.Errorf("posting: listing orders to release: %w", err)
	}
	type shopBatch struct {
		shop   tiktok.Shop
		active bool
		ids    []string
	}
	var batches []*shopBatch
	byShop := map[string]*shopBatch{}
	for _, r := range rows {
		b := byShop[r.ShopID]
		if b == nil {
			b = &shopBatch{shop: tiktok.Shop{ID: r.ShopID, Cipher: r.Cipher}, active: r.ShopStatus == "active"}
			byShop[r.ShopID] = b
			batches = append(batches, b)
		}
		b.ids = append(b.ids, r.OrderID)
	}
	var firstErr error
	for _, b := range batches {
		if err := p.releaseShop(ctx, read, pj, b.shop, b.active, b.ids, &res); err != nil {
			p.opts.Logger.Error("release check failed", "shop", b.shop.ID, "orders", len(b.ids), "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return res, firstErr
}

// releaseShop checks one shop's orders with one batched read and writes the
// verdicts.
func (p *Poster) releaseShop(ctx context.Context, read OrderReader, pj PatchJobs, shop tiktok.Shop, active bool, ids []string, res *ReleaseResult) error {
	type hold struct {
		ShopID  string `json:"shop_id"`
		OrderID string `json:"order_id"`
		Hold    string `json:"hold"`
	}
	var holds []hold
	var approve []string
	var got []tiktok.Order
	if active {
		var err error
		got, err = read.OrderDetails(ctx, shop, ids)
		res.Calls += (len(ids) + tiktok.MaxOrderDetailIDs - 1) / tiktok.MaxOrderDetailIDs
		if err != nil {
			return fmt.Errorf("posting: reading %d orders of shop %s from TikTok: %w", len(ids), shop.ID, err)
		}
		res.Checked += len(ids)
		byID := make(map[string]tiktok.Order, len(got))
		for _, o := range got {
			byID[o.ID] = o
		}
		for _, id := range ids {
			o, found := byID[id]
			h := ""
			switch {
			case !found:
				h = HoldNotFound
			case o.Status == orders.StatusCancelled:
				h = HoldCancelled
			case buyerRequestsCancel(o.Raw):
				h = HoldCancelRequested
			case o.Status != "AWAITING_SHIPMENT" && o.Status != "AWAITING_COLLECTION":
				h = HoldNotShippable + ": " + o.Status
			}
			if h == "" {
				approve = append(approve, id)
				continue
			}
			holds = append(holds, hold{shop.ID, id, h})
		}
	} else {
		for _, id := range ids {
			holds = append(holds, hold{shop.ID, id, HoldShopInactive})
		}
	}
	if len(got) > 0 {
		// The states read are landed, so the check is not lost: a
		// cancellation seen here reaches the cancellation flow through
		// validation like any other landed state.
		if _, err := landing.Land(ctx, p.opts.Pool, shop.ID, landing.SourceDetail, got); err != nil {
			return fmt.Errorf("posting: landing %d orders of shop %s read for release: %w", len(got), shop.ID, err)
		}
	}
	return pgx.BeginFunc(ctx, p.opts.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if len(holds) > 0 {
			if err := q.HoldReleases(ctx, mustJSON(holds)); err != nil {
				return fmt.Errorf("posting: noting %d orders held: %w", len(holds), err)
			}
			for _, h := range holds {
				kind := h.Hold
				if i := len(HoldNotShippable); len(kind) > i && kind[:i] == HoldNotShippable {
					kind = HoldNotShippable
				}
				res.Held[kind]++
			}
		}
		if len(approve) == 0 {
			return nil
		}
		shops := make([]string, len(approve))
		for i := range shops {
			shops[i] = shop.ID
		}
		rows, err := q.ApproveReleases(ctx, db.ApproveReleasesParams{ShopIds: shops, OrderIds: approve})
		if err != nil {
			return fmt.Errorf("posting: approving %d releases: %w", len(approve), err)
		}
		keys := make([]Key, len(rows))
		for i, r := range rows {
			keys[i] = Key{r.ShopID, r.OrderID}
		}
		if len(keys) > 0 {
			if err := pj.PatchOrders(ctx, tx, keys); err != nil {
				return fmt.Errorf("posting: queueing %d releases: %w", len(keys), err)
			}
		}
		res.Approved += len(keys)
		return nil
	})
}

// buyerRequestsCancel reads is_buyer_request_cancel from a raw order.
func buyerRequestsCancel(raw json.RawMessage) bool {
	var o struct {
		IsBuyerRequestCancel any `json:"is_buyer_request_cancel"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return false
	}
	switch v := o.IsBuyerRequestCancel.(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "1"
	case float64:
		return v != 0
	}
	return false
}
