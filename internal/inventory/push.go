package inventory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Exceptions the push raises (owner: operations).
const (
	// KindPushHeld: a push would change more than the configured share of a
	// shop's listings at once; `tiktokb1 inventory confirm` releases it.
	KindPushHeld = "inventory_push_held"
	// KindPushRefused: TikTok refused one SKU's quantity (a campaign locks
	// its stock, the product is not live, ...). Not retried until the value
	// changes; resolved once TikTok accepts a value for the SKU again.
	KindPushRefused = "inventory_push_refused"
)

// Push defaults (PushOptions may change each).
const (
	DefaultConfirmShare   = 0.2
	DefaultConfirmMinSKUs = 10
	DefaultSKUsPerUpdate  = 100
	codeProductNotFound   = 12019150
	codeSKUNotInProduct   = 12052557
)

// TikTok is what the push needs of internal/tiktok's Client.
type TikTok interface {
	SearchProducts(ctx context.Context, shop tiktok.Shop, sellerSKUs []string) ([]tiktok.Product, error)
	SearchInventory(ctx context.Context, shop tiktok.Shop, skuIDs []string) ([]tiktok.SKUStock, error)
	UpdateInventory(ctx context.Context, shop tiktok.Shop, productID string, updates []tiktok.StockUpdate) ([]tiktok.SKUError, error)
}

// PushOptions tune Push.
type PushOptions struct {
	// ConfirmShare: a push changing more than this share of the shop's
	// listings at once is held for confirmation (default 0.2).
	ConfirmShare float64
	// ConfirmMinSKUs: a push changing fewer listings is never held (default
	// 10), so a small shop is not held for every change.
	ConfirmMinSKUs int
	// SKUsPerUpdate bounds the SKUs of one update call (default 100).
	SKUsPerUpdate int
}

// PushResult counts what one Push did.
type PushResult struct {
	Due       int  `json:"due"`       // ledger rows not in sync
	Unlisted  int  `json:"unlisted"`  // rows whose seller SKU has no TikTok listing
	Inactive  int  `json:"inactive"`  // rows of products TikTok deactivated: not pushed
	Decreases int  `json:"decreases"` // rows below the last value sent
	Checked   int  `json:"checked"`   // rows read from TikTok before sending
	Sent      int  `json:"sent"`      // rows TikTok accepted (corrections included)
	Capped    int  `json:"capped"`    // rows sent below computed for sales not landed yet
	Corrected int  `json:"corrected"` // rows lowered again for sales during the push
	Refused   int  `json:"refused"`   // rows TikTok refused (exceptions)
	Calls     int  `json:"calls"`     // inventory update calls
	Held      bool `json:"held"`      // the push was held for confirmation
}

type pushRow struct {
	db.ListInventoryPushDueRow
	target int64 // the value to send
}

type pusher struct {
	q    *db.Queries
	api  TikTok
	shop tiktok.Shop
	opts PushOptions
	res  PushResult
}

// Push sends a shop's changed available-to-sell to TikTok, by the push rule
// of DESIGN.md "Inventory" (a push never re-adds units TikTok sold): every
// changed listing is read from TikTok in one search, and what TikTok shows
// committed beyond the units of landed orders the last recompute counted
// (sales available-to-sell does not count yet) is taken off; the updates go
// out right after, decreases and increases alike; then TikTok is read again
// and sales made while the push ran are taken off too. Values TikTok refuses become exceptions, not retries. Results are
// recorded after every call, so a rate limit (the error, see
// tiktok.RetryAfter) loses nothing: the next run reads the ledger's latest
// values.
func Push(ctx context.Context, pool *pgxpool.Pool, api TikTok, shop tiktok.Shop, opts PushOptions) (PushResult, error) {
	opts.ConfirmShare = cmp.Or(opts.ConfirmShare, DefaultConfirmShare)
	opts.ConfirmMinSKUs = cmp.Or(opts.ConfirmMinSKUs, DefaultConfirmMinSKUs)
	opts.SKUsPerUpdate = cmp.Or(opts.SKUsPerUpdate, DefaultSKUsPerUpdate)
	p := &pusher{q: db.New(pool), api: api, shop: shop, opts: opts}
	err := p.run(ctx)
	return p.res, err
}

func (p *pusher) run(ctx context.Context) error {
	due, err := p.q.ListInventoryPushDue(ctx, p.shop.ID)
	if err != nil {
		return fmt.Errorf("inventory push: reading the ledger of shop %s: %w", p.shop.ID, err)
	}
	p.res.Due = len(due)
	if len(due) == 0 {
		return p.releaseHold(ctx, "auto: nothing is left to push")
	}
	if err := p.resolve(ctx, due); err != nil {
		return err
	}
	deactivated, err := p.q.ListDeactivatedTikTokProducts(ctx, p.shop.ID)
	if err != nil {
		return fmt.Errorf("inventory push: reading the deactivated products of shop %s: %w", p.shop.ID, err)
	}
	var rows []*pushRow
	for _, r := range due {
		if r.SkuID == nil || r.ProductID == nil {
			p.res.Unlisted++
			continue
		}
		if slices.Contains(deactivated, *r.ProductID) {
			// TikTok deactivated the product: not pushed; the row stays due
			// and goes out once the product is reactivated.
			p.res.Inactive++
			continue
		}
		rows = append(rows, &pushRow{ListInventoryPushDueRow: r})
	}
	if len(rows) == 0 {
		return nil
	}
	if held, err := p.guard(ctx, rows); err != nil || held {
		return err
	}

	// Every row against TikTok's listing first, decreases included: a value
	// below the last one sent can still be above what TikTok may sell now,
	// when TikTok sold units since that available-to-sell does not count
	// yet (committed beyond the landed orders the last recompute counted).
	// One read, then the updates: nothing is ever set higher, even for a
	// moment.
	p.res.Checked = len(rows)
	before, err := p.read(ctx, rows)
	if err != nil {
		return err
	}
	var up, unchanged []*pushRow
	for _, r := range rows {
		st, ok := before[*r.SkuID]
		if !ok {
			// TikTok no longer knows the id (the listing was recreated):
			// looked up again by seller SKU next time.
			if err := p.q.ForgetTikTokSKU(ctx, db.ForgetTikTokSKUParams{ShopID: p.shop.ID, SellerSku: r.SellerSku}); err != nil {
				return fmt.Errorf("inventory push: forgetting a stale TikTok id of shop %s: %w", p.shop.ID, err)
			}
			continue
		}
		if r.SentQuantity != nil && r.ComputedQuantity < *r.SentQuantity {
			p.res.Decreases++
		}
		unlanded := max(0, st.committed-st.landed)
		safe := max(0, r.ComputedQuantity-unlanded)
		if safe < r.ComputedQuantity {
			p.res.Capped++
		}
		r.target = min(safe, tiktok.MaxInventoryQuantity)
		if r.target == st.available(r.TiktokWarehouseID) {
			unchanged = append(unchanged, r) // TikTok shows it already
		} else {
			up = append(up, r)
		}
	}
	if err := p.checked(ctx, unchanged); err != nil {
		return err
	}
	sentUp, err := p.send(ctx, up)
	if err != nil {
		return err
	}

	// Sales between the read and the update were overwritten: read again
	// and take off whatever TikTok committed since the first read.
	if len(sentUp) > 0 {
		after, err := p.read(ctx, sentUp)
		if err != nil {
			return err
		}
		var fix []*pushRow
		for _, r := range sentUp {
			b, a := before[*r.SkuID], after[*r.SkuID]
			if a == nil || b == nil {
				continue
			}
			if sold := a.committed - b.committed; sold > 0 {
				r.target = max(0, r.target-sold)
				fix = append(fix, r)
			}
		}
		p.res.Corrected = len(fix)
		if _, err := p.send(ctx, fix); err != nil {
			return err
		}
	}
	return p.releaseHold(ctx, "auto: the confirmed push went out")
}

// resolve finds the TikTok ids of seller SKUs not looked up yet (or known
// without a listing for an hour), caching every answer.
func (p *pusher) resolve(ctx context.Context, due []db.ListInventoryPushDueRow) error {
	var want []string
	for _, r := range due {
		if r.SkuID == nil && !slices.Contains(want, r.SellerSku) {
			want = append(want, r.SellerSku)
		}
	}
	if len(want) == 0 {
		return nil
	}
	products, searchErr := p.api.SearchProducts(ctx, p.shop, want)
	found := map[string][2]string{}
	statuses := db.SetTikTokProductStatusesParams{ShopID: p.shop.ID}
	for _, pr := range products {
		statuses.ProductIds, statuses.Statuses = append(statuses.ProductIds, string(pr.ID)), append(statuses.Statuses, pr.Status)
		for _, k := range pr.SKUs {
			found[k.SellerSKU] = [2]string{string(pr.ID), string(k.ID)}
		}
	}
	arg := db.UpsertTikTokSKUsParams{ShopID: p.shop.ID}
	for _, s := range want {
		ids, ok := found[s]
		if !ok && searchErr != nil {
			continue // not searched yet: a failed search proves nothing
		}
		arg.SellerSkus, arg.ProductIds, arg.SkuIds = append(arg.SellerSkus, s), append(arg.ProductIds, ids[0]), append(arg.SkuIds, ids[1])
	}
	if len(arg.SellerSkus) > 0 {
		if err := p.q.UpsertTikTokSKUs(ctx, arg); err != nil {
			return fmt.Errorf("inventory push: caching TikTok ids of shop %s: %w", p.shop.ID, err)
		}
	}
	if len(statuses.ProductIds) > 0 {
		if err := p.q.SetTikTokProductStatuses(ctx, statuses); err != nil {
			return fmt.Errorf("inventory push: recording product statuses of shop %s: %w", p.shop.ID, err)
		}
	}
	if searchErr != nil {
		return fmt.Errorf("inventory push: looking up seller SKUs of shop %s: %w", p.shop.ID, searchErr)
	}
	for i := range due {
		if ids, ok := found[due[i].SellerSku]; ok {
			due[i].ProductID, due[i].SkuID = &ids[0], &ids[1]
		}
	}
	return nil
}

// guard holds a push that would change too many listings at once
// (invariant 9), until `tiktokb1 inventory confirm`.
func (p *pusher) guard(ctx context.Context, rows []*pushRow) (held bool, err error) {
	var changed []*pushRow
	for _, r := range rows {
		if r.BasisQuantity == nil || *r.BasisQuantity != r.ComputedQuantity {
			changed = append(changed, r)
		}
	}
	listings, err := p.q.CountShopListings(ctx, p.shop.ID)
	if err != nil {
		return false, fmt.Errorf("inventory push: counting the listings of shop %s: %w", p.shop.ID, err)
	}
	hold, err := p.q.GetInventoryPushHold(ctx, p.shop.ID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("inventory push: reading the hold of shop %s: %w", p.shop.ID, err)
	case hold.ConfirmedAt != nil:
		return false, nil // confirmed: everything due goes out
	}
	mass := len(changed) >= p.opts.ConfirmMinSKUs && float64(len(changed)) > p.opts.ConfirmShare*float64(listings)
	if !mass {
		return false, p.releaseHold(ctx, "auto: the push no longer changes too many listings at once")
	}
	p.res.Held = true
	newHold := err != nil || int(hold.Skus) != len(changed)
	if _, err := p.q.HoldInventoryPush(ctx, db.HoldInventoryPushParams{ShopID: p.shop.ID, Skus: int32(len(changed)), Listings: int32(listings)}); err != nil {
		return true, fmt.Errorf("inventory push: holding the push of shop %s: %w", p.shop.ID, err)
	}
	arg := db.MarkInventoryPushHeldParams{ShopID: p.shop.ID}
	for _, r := range changed {
		arg.TiktokWarehouseIds, arg.SellerSkus = append(arg.TiktokWarehouseIds, r.TiktokWarehouseID), append(arg.SellerSkus, r.SellerSku)
	}
	if err := p.q.MarkInventoryPushHeld(ctx, arg); err != nil {
		return true, fmt.Errorf("inventory push: marking the held rows of shop %s: %w", p.shop.ID, err)
	}
	if !newHold {
		return true, nil
	}
	shopID := p.shop.ID
	details, _ := json.Marshal(map[string]any{"changed": len(changed), "listings": listings, "share": p.opts.ConfirmShare})
	_, err = p.q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindPushHeld, OwnerTeam: "operations", Severity: "warning", ShopID: &shopID,
		Message: fmt.Sprintf("The inventory push of shop %s would change %d of its %d TikTok listings at once (more than %.0f%%), so it is held: "+
			"a bad or partial SAP read must never publish. Check integration.inventory_push (result held) against SAP, then run "+
			"`tiktokb1 inventory confirm --shop %s` to send it.", shopID, len(changed), listings, p.opts.ConfirmShare*100, shopID),
		Details: details,
	})
	if err != nil {
		return true, fmt.Errorf("inventory push: raising %s for shop %s: %w", KindPushHeld, shopID, err)
	}
	return true, nil
}

func (p *pusher) releaseHold(ctx context.Context, why string) error {
	if err := p.q.ReleaseInventoryPushHold(ctx, p.shop.ID); err != nil {
		return fmt.Errorf("inventory push: releasing the hold of shop %s: %w", p.shop.ID, err)
	}
	if _, err := p.q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
		Kinds: []string{KindPushHeld}, ShopIds: []string{p.shop.ID}, ResolvedBy: "tiktokb1", Resolution: why,
	}); err != nil {
		return fmt.Errorf("inventory push: resolving %s of shop %s: %w", KindPushHeld, p.shop.ID, err)
	}
	return nil
}

// listing is one SKU's stock on TikTok, with the units of landed orders
// TikTok still holds committed.
type listing struct {
	tiktok.SKUStock
	committed, landed int64
}

func (l *listing) available(warehouseID string) int64 {
	for _, w := range l.Warehouses {
		if w.WarehouseID == warehouseID {
			return w.Available
		}
	}
	return l.Available
}

// read reads TikTok's current stock of the rows' SKUs and the units of
// landed orders TikTok still commits that the last recompute counted. The
// rows take the ledger's available-to-sell from the same statement: a
// recompute that committed since the due rows were listed may count orders
// the older value did not.
func (p *pusher) read(ctx context.Context, rows []*pushRow) (map[string]*listing, error) {
	var ids, skus []string
	for _, r := range rows {
		if !slices.Contains(ids, *r.SkuID) {
			ids, skus = append(ids, *r.SkuID), append(skus, r.SellerSku)
		}
	}
	stock, err := p.api.SearchInventory(ctx, p.shop, ids)
	if err != nil {
		return nil, fmt.Errorf("inventory push: reading TikTok's stock of shop %s: %w", p.shop.ID, err)
	}
	if err := recordStock(ctx, p.q, p.shop.ID, stock); err != nil {
		return nil, err
	}
	landed, err := p.q.LandedCommittedUnits(ctx, db.LandedCommittedUnitsParams{ShopID: p.shop.ID, SellerSkus: skus})
	if err != nil {
		return nil, fmt.Errorf("inventory push: counting landed orders of shop %s: %w", p.shop.ID, err)
	}
	units := map[string]int64{}
	computed := map[[2]string]int64{}
	for _, l := range landed {
		units[l.SellerSku] = l.Units
		computed[[2]string{l.TiktokWarehouseID, l.SellerSku}] = l.ComputedQuantity
	}
	for _, r := range rows {
		if c, ok := computed[[2]string{r.TiktokWarehouseID, r.SellerSku}]; ok {
			r.ComputedQuantity = c
		}
	}
	out := map[string]*listing{}
	for _, s := range stock {
		out[s.SKUID] = &listing{SKUStock: s, committed: s.Committed, landed: units[s.SellerSKU]}
	}
	return out, nil
}

// checked records rows whose value TikTok's listing shows already: nothing
// is sent, and the ledger says that value is in effect.
func (p *pusher) checked(ctx context.Context, rows []*pushRow) error {
	if len(rows) == 0 {
		return nil
	}
	arg := db.RecordInventoryPushSentParams{ShopID: p.shop.ID}
	for _, r := range rows {
		arg.TiktokWarehouseIds = append(arg.TiktokWarehouseIds, r.TiktokWarehouseID)
		arg.SellerSkus = append(arg.SellerSkus, r.SellerSku)
		arg.Sent = append(arg.Sent, r.target)
		arg.Basis = append(arg.Basis, r.ComputedQuantity)
	}
	if err := p.q.RecordInventoryPushSent(ctx, arg); err != nil {
		return fmt.Errorf("inventory push: recording checked rows of shop %s: %w", p.shop.ID, err)
	}
	return nil
}

// send updates the rows' targets, one call per product and batch, and
// records each call's results as it comes back. It returns the rows TikTok
// accepted.
func (p *pusher) send(ctx context.Context, rows []*pushRow) ([]*pushRow, error) {
	byProduct := map[string][]*pushRow{}
	var products []string
	for _, r := range rows {
		if _, ok := byProduct[*r.ProductID]; !ok {
			products = append(products, *r.ProductID)
		}
		byProduct[*r.ProductID] = append(byProduct[*r.ProductID], r)
	}
	var accepted []*pushRow
	for _, pid := range products {
		for batch := range slices.Chunk(byProduct[pid], p.opts.SKUsPerUpdate) {
			ok, err := p.update(ctx, pid, batch)
			accepted = append(accepted, ok...)
			if err != nil {
				return accepted, err
			}
		}
	}
	return accepted, nil
}

func (p *pusher) update(ctx context.Context, productID string, batch []*pushRow) ([]*pushRow, error) {
	updates := make([]tiktok.StockUpdate, len(batch))
	for i, r := range batch {
		updates[i] = tiktok.StockUpdate{SKUID: *r.SkuID, WarehouseID: r.TiktokWarehouseID, Quantity: r.target}
	}
	p.res.Calls++
	refused, err := p.api.UpdateInventory(ctx, p.shop, productID, updates)
	if err != nil {
		var api *tiktok.APIError
		if errors.As(err, &api) && api.Code == codeProductNotFound {
			// A stale id: looked up again next run.
			for _, r := range batch {
				if ferr := p.q.ForgetTikTokSKU(ctx, db.ForgetTikTokSKUParams{ShopID: p.shop.ID, SellerSku: r.SellerSku}); ferr != nil {
					return nil, ferr
				}
			}
			return nil, nil
		}
		return nil, fmt.Errorf("inventory push: updating product %s of shop %s: %w", productID, p.shop.ID, err)
	}
	var ok []*pushRow
	sent := db.RecordInventoryPushSentParams{ShopID: p.shop.ID}
	for _, r := range batch {
		var why []string
		for _, e := range refused {
			if e.SKUID == *r.SkuID && (e.WarehouseID == "" || e.WarehouseID == r.TiktokWarehouseID) {
				why = append(why, e.Error())
				if e.Code == codeSKUNotInProduct {
					if ferr := p.q.ForgetTikTokSKU(ctx, db.ForgetTikTokSKUParams{ShopID: p.shop.ID, SellerSku: r.SellerSku}); ferr != nil {
						return ok, ferr
					}
				}
			}
		}
		if why != nil {
			if err := p.refuse(ctx, r, why); err != nil {
				return ok, err
			}
			continue
		}
		ok = append(ok, r)
		sent.TiktokWarehouseIds = append(sent.TiktokWarehouseIds, r.TiktokWarehouseID)
		sent.SellerSkus = append(sent.SellerSkus, r.SellerSku)
		sent.Sent = append(sent.Sent, r.target)
		sent.Basis = append(sent.Basis, r.ComputedQuantity)
	}
	if len(ok) == 0 {
		return nil, nil
	}
	p.res.Sent += len(ok)
	if err := p.q.RecordInventoryPushSent(ctx, sent); err != nil {
		return ok, fmt.Errorf("inventory push: recording sent rows of shop %s: %w", p.shop.ID, err)
	}
	if err := p.q.ResolveSKUExceptions(ctx, db.ResolveSKUExceptionsParams{
		Resolution: "auto: TikTok accepted a quantity for the SKU", Kind: KindPushRefused, ShopID: p.shop.ID, Skus: sent.SellerSkus,
	}); err != nil {
		return ok, fmt.Errorf("inventory push: resolving refusals of shop %s: %w", p.shop.ID, err)
	}
	return ok, nil
}

// refuse records a refused row and raises its exception: no retry loop, the
// row is tried again only when its computed value changes.
func (p *pusher) refuse(ctx context.Context, r *pushRow, why []string) error {
	p.res.Refused++
	msg := fmt.Sprint(why)
	if err := p.q.RecordInventoryPushFailed(ctx, db.RecordInventoryPushFailedParams{
		Error: msg, Basis: r.ComputedQuantity, ShopID: p.shop.ID, TiktokWarehouseID: r.TiktokWarehouseID, SellerSku: r.SellerSku,
	}); err != nil {
		return fmt.Errorf("inventory push: recording a refusal for %s: %w", r.SellerSku, err)
	}
	shopID, sku := p.shop.ID, r.SellerSku
	details, _ := json.Marshal(map[string]any{"tiktok_warehouse_id": r.TiktokWarehouseID, "sku_id": *r.SkuID,
		"product_id": *r.ProductID, "quantity": r.target, "computed": r.ComputedQuantity, "errors": why})
	if _, err := p.q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindPushRefused, OwnerTeam: "operations", Severity: "warning", ShopID: &shopID, Sku: &sku,
		Message: fmt.Sprintf("TikTok refused stock %d for %s in shop %s: %s. A campaign (flash deal) that locks stock refuses any value below "+
			"the locked quantity; the value is not retried until SAP's available-to-sell changes, and this resolves itself once TikTok accepts one.",
			r.target, sku, shopID, msg),
		Details: details,
	}); err != nil {
		return fmt.Errorf("inventory push: raising %s for %s: %w", KindPushRefused, sku, err)
	}
	return nil
}

// Confirm releases the held inventory pushes of one shop (every shop when
// shopID is empty), as `tiktokb1 inventory confirm`: the next push of each
// sends everything due. It returns the holds it confirmed.
func Confirm(ctx context.Context, pool *pgxpool.Pool, shopID, by string) ([]db.IntegrationInventoryPushHold, error) {
	var shop *string
	if shopID != "" {
		shop = &shopID
	}
	holds, err := db.New(pool).ConfirmInventoryPush(ctx, db.ConfirmInventoryPushParams{ConfirmedBy: by, ShopID: shop})
	if err != nil {
		return nil, fmt.Errorf("inventory: confirming held pushes: %w", err)
	}
	return holds, nil
}
