package posting

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/orders"
)

// orderData is one landed order with everything deciding and building its
// Sales Order needs, read in one go for a set of orders.
type orderData struct {
	key      Key
	row      db.OrdersForPostingRow
	order    orders.Order
	cfg      orders.ShopConfig
	lines    []orders.Line
	catalog  orders.Catalog
	problems []problem // found by SQL (OrderProblems)
}

// problem is one exception to raise for an order (or, with OrderID "", for
// its shop).
type problem struct {
	Kind     string         `json:"kind"`
	Owner    string         `json:"owner"`
	Severity string         `json:"severity,omitempty"`
	ShopID   string         `json:"shop_id"`
	OrderID  string         `json:"order_id,omitempty"`
	SKU      string         `json:"sku,omitempty"`
	ItemCode string         `json:"item_code,omitempty"`
	Message  string         `json:"message"`
	Details  map[string]any `json:"details,omitempty"`
}

// load reads the orders named by keys (those that are landed), their lines
// with what their SKUs resolve to, and the problems SQL finds with them.
func (p *Poster) load(ctx context.Context, q *db.Queries, keys []Key) ([]*orderData, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	shopIDs, orderIDs := split(keys)
	rows, err := q.OrdersForPosting(ctx, db.OrdersForPostingParams{ShopIds: shopIDs, OrderIds: orderIDs})
	if err != nil {
		return nil, fmt.Errorf("posting: reading %d orders: %w", len(keys), err)
	}
	byKey := make(map[Key]*orderData, len(rows))
	out := make([]*orderData, 0, len(rows))
	for _, r := range rows {
		d := &orderData{key: Key{r.ShopID, r.OrderID}, row: r}
		d.order, d.cfg, err = p.fromRow(r)
		if err != nil {
			return nil, err
		}
		d.catalog = orders.Catalog{Items: map[string]string{}, Bundles: map[string]orders.Bundle{}}
		byKey[d.key] = d
		out = append(out, d)
	}
	lines, err := q.OrderLinesForPosting(ctx, db.OrderLinesForPostingParams{ShopIds: shopIDs, OrderIds: orderIDs})
	if err != nil {
		return nil, fmt.Errorf("posting: reading the lines of %d orders: %w", len(keys), err)
	}
	for _, l := range lines {
		d := byKey[Key{l.ShopID, l.OrderID}]
		if d == nil {
			continue
		}
		d.lines = append(d.lines, orders.Line{
			ID: l.LineID, SKUID: l.SkuID, SellerSKU: l.SellerSku, Currency: l.Currency,
			OriginalPrice: decimal.NewNullDecimal(l.OriginalPrice), SalePrice: decimal.NewNullDecimal(l.SalePrice),
			SellerDiscount: l.SellerDiscount, PlatformDiscount: l.PlatformDiscount, Tax: l.Tax,
			IsGift: l.IsGift, PackageID: l.PackageID, DisplayStatus: l.DisplayStatus,
		})
		switch l.ResolvedBy {
		case "shop_map", "global_map", "identity":
			d.catalog.Items[l.SellerSku] = l.ItemCode
		case "bundle":
			b := orders.Bundle{Mode: orders.BundleMode(l.BundleMode), KitItemCode: l.KitItemCode}
			var comps []struct {
				ItemCode    string          `json:"item_code"`
				Quantity    decimal.Decimal `json:"quantity"`
				PriceWeight decimal.Decimal `json:"price_weight"`
			}
			if err := json.Unmarshal(l.Components, &comps); err != nil {
				return nil, fmt.Errorf("posting: the components of bundle %s: %w", l.SellerSku, err)
			}
			for _, c := range comps {
				b.Components = append(b.Components, orders.Component{ItemCode: c.ItemCode, Quantity: c.Quantity, PriceWeight: c.PriceWeight})
			}
			d.catalog.Bundles[l.SellerSku] = b
		}
	}
	probs, err := q.OrderProblems(ctx, db.OrderProblemsParams{
		ShopIds: shopIDs, OrderIds: orderIDs, MaxUnitsPerSku: int32(min(p.opts.MaxUnitsPerSKU, 1<<30)), MaxUnitPrice: p.opts.MaxUnitPrice,
	})
	if err != nil {
		return nil, fmt.Errorf("posting: validating %d orders: %w", len(keys), err)
	}
	for _, pr := range probs {
		d := byKey[Key{pr.ShopID, pr.OrderID}]
		if d == nil {
			continue
		}
		d.problems = append(d.problems, problem{
			Kind: pr.Kind, Owner: pr.Owner, ShopID: pr.ShopID, OrderID: pr.OrderID, SKU: pr.Sku, ItemCode: pr.ItemCode,
			Message: pr.Message, Details: map[string]any{"line_ids": pr.LineIds},
		})
	}
	return out, nil
}

// fromRow maps a landed order and its shop's configuration to the types of
// internal/orders.
func (p *Poster) fromRow(r db.OrdersForPostingRow) (orders.Order, orders.ShopConfig, error) {
	o := orders.Order{
		ShopID: r.ShopID, ID: r.OrderID, Status: r.Status, FulfillmentType: r.FulfillmentType, ShippingType: r.ShippingType,
		Currency: r.Currency, Region: r.Region, CreateTime: r.CreateTime.UTC(), PaidTime: utc(r.PaidTime), ShipBy: utc(r.RtsSlaTime),
		BuyerRequestCancel: r.IsBuyerRequestCancel,
		Payment: orders.Payment{
			SubTotal: r.SubTotal, ShippingFee: r.ShippingFee, OriginalShippingFee: r.OriginalShippingFee,
			ShippingFeeSellerDiscount: r.ShippingFeeSellerDiscount, ShippingFeePlatformDiscount: r.ShippingFeePlatformDiscount,
			SellerDiscount: r.SellerDiscount, PlatformDiscount: r.PlatformDiscount, Tax: r.Tax, ProductTax: r.ProductTax,
			ShippingFeeTax: r.ShippingFeeTax, OtherFees: r.OtherFees, TotalAmount: r.TotalAmount,
		},
	}
	cfg := orders.ShopConfig{
		ShopID: r.ShopID, CardCode: r.CardCode, Currency: r.ShopCurrency, Series: int(r.Series),
		DefaultWarehouse: r.DefaultWarehouse, Shipping: orders.ShippingMode(r.ShippingMode), ShippingItemCode: r.ShippingItemCode,
		FreightExpenseCode: int(r.FreightExpenseCode), PricesIncludeTax: r.PricesIncludeTax, TikTokRemitsTax: r.TiktokRemitsTax,
		ExemptTaxCode: r.ExemptTaxCode, FBT: orders.FBTMode(r.FbtMode), FBTWarehouse: r.FbtWarehouse,
		AlreadyShipped: orders.ShippedRule(r.AlreadyShipped), CutOver: utc(r.CutoverAt),
		ExtraHold: time.Duration(r.ExtraHoldSeconds * float64(time.Second)), OrdersPaused: r.OrdersPaused, UDF: p.udf,
	}
	if len(r.TaxCodes) > 0 {
		if err := json.Unmarshal(r.TaxCodes, &cfg.TaxCodes); err != nil {
			return o, cfg, fmt.Errorf("posting: the tax codes of shop %s: %w", r.ShopID, err)
		}
		if len(cfg.TaxCodes) == 0 {
			cfg.TaxCodes = nil
		}
	}
	return o, cfg, nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// evaluation is what validation (or the posting job, before it posts)
// decides for one order.
type evaluation struct {
	key        Key
	from       string // the ledger state evaluated; "" when the order has no ledger row yet
	state      string
	reason     string
	reasonKind string
	waitUntil  *time.Time
	asShipped  bool
	payloadID  int64
	derivedAt  time.Time
	problems   []problem
	// final: the order is not to be posted (skipped, cancelled before
	// posting): every exception that held it, sap_rejected included, goes.
	final      bool
	resolution string
	// shopConfigured: the shop has its configuration (its
	// shop_not_configured exception can go).
	shopConfigured bool
	posting        *orders.Posting // state ready: the Sales Order to post
}

// coveredBySQL are the kinds OrderProblems reports better than Build does
// (naming the SAP item and the mapping's source): Build's own are dropped
// when SQL found the same kind for the order.
var coveredBySQL = []string{orders.KindUnmappedSKU, orders.KindBundleUndefined, orders.KindBundleBadComponent, orders.KindCurrencyMismatch}

// evaluate decides an order: skipped (never posted, nothing wrong),
// blocked (problems, each an exception), waiting, or ready with the Sales
// Order built. Decide's skip verdicts (cut-over, cancelled, FBT skipped) win
// over problems: nobody must fix an order that will never post. Problems are
// raised for waiting orders too, so they can be fixed before the order may
// post.
func (p *Poster) evaluate(d *orderData, now time.Time) evaluation {
	ev := evaluation{key: d.key, from: d.row.State, payloadID: d.row.PayloadID, derivedAt: d.row.DerivedAt, shopConfigured: d.row.Configured}
	if !d.row.Configured {
		pr := problem{Kind: KindShopNotConfigured, Owner: orders.OwnerIT, ShopID: d.key.ShopID, Message: fmt.Sprintf(
			"Shop %s has no configuration in integration.shop_config, so none of its orders can be posted: import it with `tiktokb1 mapping import shops FILE` (customer, currency, warehouse, cut-over time, ...). Its orders post by themselves once it is there.",
			d.key.ShopID)}
		ev.problems = []problem{pr}
		ev.state, ev.reason, ev.reasonKind = StateBlocked, pr.Message, pr.Kind
		return ev
	}
	dec := orders.Decide(d.order, d.cfg, now)
	if dec.Verdict == orders.Skip {
		ev.state, ev.reason, ev.reasonKind, ev.final = StateSkipped, dec.Reason, dec.Kind, true
		ev.resolution = "auto: the order is not to be posted: " + dec.Reason
		if dec.Kind == orders.ReasonCancelled {
			ev.state = StateCancelledBeforePost
		}
		return ev
	}

	var probs []problem
	if dec.Verdict == orders.Exception {
		owner := orders.OwnerOperations
		if dec.Kind == orders.KindUnknownOrderStatus {
			owner = orders.OwnerIT
		}
		probs = append(probs, problem{Kind: dec.Kind, Owner: owner, ShopID: d.key.ShopID, OrderID: d.key.OrderID, Message: dec.Reason})
	}
	probs = append(probs, d.problems...)
	sqlKinds := map[string]bool{}
	for _, pr := range d.problems {
		sqlKinds[pr.Kind] = true
	}
	posting, built := orders.Build(d.order, d.lines, d.cfg, d.catalog, p.opts.Location)
	for _, bp := range built {
		if slices.Contains(coveredBySQL, bp.Kind) && sqlKinds[bp.Kind] {
			continue
		}
		probs = append(probs, problem{Kind: bp.Kind, Owner: bp.Owner, ShopID: d.key.ShopID, OrderID: d.key.OrderID,
			SKU: bp.SellerSKU, ItemCode: bp.ItemCode, Message: bp.Message, Details: map[string]any{"line_ids": bp.LineIDs}})
	}
	probs = dedupe(probs)
	ev.problems = probs

	switch {
	case d.row.SapExceptionID != 0:
		ev.state, ev.reasonKind = StateBlocked, KindSAPRejected
		ev.reason = d.row.SapExceptionMessage
	case len(probs) > 0:
		ev.state, ev.reason, ev.reasonKind = StateBlocked, probs[0].Message, probs[0].Kind
		if len(probs) > 1 {
			ev.reason += fmt.Sprintf(" (and %d more problem(s): see its exceptions)", len(probs)-1)
		}
	case dec.Verdict == orders.Wait:
		ev.state, ev.reason, ev.reasonKind = StateWaiting, dec.Reason, dec.Kind
		if !dec.Until.IsZero() {
			u := dec.Until
			ev.waitUntil = &u
		}
	default: // Post
		ev.state, ev.reason, ev.reasonKind, ev.asShipped = StateReady, dec.Reason, dec.Kind, dec.AsShipped
		ev.posting = &posting
	}
	return ev
}

// dedupe keeps one problem per (kind, SKU, item).
func dedupe(ps []problem) []problem {
	seen := map[[3]string]bool{}
	out := ps[:0]
	for _, p := range ps {
		k := [3]string{p.Kind, p.SKU, p.ItemCode}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

func split(keys []Key) (shopIDs, orderIDs []string) {
	shopIDs, orderIDs = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		shopIDs[i], orderIDs[i] = k.ShopID, k.OrderID
	}
	return shopIDs, orderIDs
}
