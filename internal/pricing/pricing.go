// Package pricing pushes SAP prices to TikTok (DESIGN.md "Master data, SAP →
// TikTok": prices from a configured SAP price list, pushed when they
// change). The shop's price list is integration.shop_config.price_list; SAP's
// prices are landed into sapb1.price (internal/sapmaster LandPrices); the
// ledger integration.price_push keeps the last price TikTok accepted per
// seller SKU, so only changed prices are sent.
package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// KindPriceRefused: TikTok refused a product's price update. Not retried
// until the SAP price changes.
const KindPriceRefused = "price_push_refused"

// SKUsPerUpdate bounds the SKUs of one price update call.
const SKUsPerUpdate = 100

// TikTok is what the price push needs of internal/tiktok's Client.
type TikTok interface {
	UpdatePrice(ctx context.Context, shop tiktok.Shop, productID string, updates []tiktok.PriceUpdate) error
}

// Result counts what one Push did.
type Result struct {
	Due     int `json:"due"`     // listings whose price changed
	Sent    int `json:"sent"`    // prices TikTok accepted
	Refused int `json:"refused"` // prices TikTok refused (exceptions)
	Calls   int `json:"calls"`   // price update calls
}

// Push sends the shop's changed prices, one call per product and batch,
// recording each call's result as it comes back: a rate limit (the error,
// see tiktok.RetryAfter) loses nothing, the next run reads the ledger again.
// A refusal becomes an exception, not a retry loop.
func Push(ctx context.Context, pool *pgxpool.Pool, api TikTok, shop tiktok.Shop) (Result, error) {
	var res Result
	q := db.New(pool)
	due, err := q.ListPricePushDue(ctx, shop.ID)
	if err != nil {
		return res, fmt.Errorf("price push: reading the prices due of shop %s: %w", shop.ID, err)
	}
	res.Due = len(due)
	for batch := range chunksByProduct(due) {
		pid, cur := batch[0].ProductID, batch[0].Currency
		updates := make([]tiktok.PriceUpdate, len(batch))
		var skus []string
		var amounts []decimal.Decimal
		for i, r := range batch {
			updates[i] = tiktok.PriceUpdate{SKUID: r.SkuID, Amount: r.Amount.StringFixed(2), Currency: r.Currency}
			skus, amounts = append(skus, r.SellerSku), append(amounts, r.Amount)
		}
		res.Calls++
		err := api.UpdatePrice(ctx, shop, pid, updates)
		if _, limited := tiktok.RetryAfter(err); limited {
			return res, err
		}
		var apiErr *tiktok.APIError
		if errors.As(err, &apiErr) {
			res.Refused += len(batch)
			if ferr := q.RecordPricePushFailed(ctx, db.RecordPricePushFailedParams{ShopID: shop.ID, SellerSkus: skus, Amounts: amounts, Error: err.Error()}); ferr != nil {
				return res, fmt.Errorf("price push: recording a refusal of shop %s: %w", shop.ID, ferr)
			}
			shopID := shop.ID
			details, _ := json.Marshal(map[string]any{"product_id": pid, "seller_skus": skus, "error": err.Error()})
			if _, ferr := q.RaiseException(ctx, db.RaiseExceptionParams{
				Kind: KindPriceRefused, OwnerTeam: "operations", Severity: "warning", ShopID: &shopID, Sku: &skus[0],
				Message: fmt.Sprintf("TikTok refused the SAP prices of product %s (seller SKUs %v) in shop %s: %v. They are not retried until the SAP price changes.",
					pid, skus, shopID, err),
				Details: details,
			}); ferr != nil {
				return res, fmt.Errorf("price push: raising %s: %w", KindPriceRefused, ferr)
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("price push: updating product %s of shop %s: %w", pid, shop.ID, err)
		}
		res.Sent += len(batch)
		if err := q.RecordPricePushSent(ctx, db.RecordPricePushSentParams{ShopID: shop.ID, SellerSkus: skus, Amounts: amounts, Currency: cur}); err != nil {
			return res, fmt.Errorf("price push: recording sent prices of shop %s: %w", shop.ID, err)
		}
	}
	return res, nil
}

// chunksByProduct yields the rows (ordered by product) in batches of one
// product and currency, at most SKUsPerUpdate each.
func chunksByProduct(rows []db.ListPricePushDueRow) func(func([]db.ListPricePushDueRow) bool) {
	return func(yield func([]db.ListPricePushDueRow) bool) {
		for start := 0; start < len(rows); {
			end := start + 1
			for end < len(rows) && rows[end].ProductID == rows[start].ProductID && rows[end].Currency == rows[start].Currency {
				end++
			}
			for b := range slices.Chunk(rows[start:end], SKUsPerUpdate) {
				if !yield(b) {
					return
				}
			}
			start = end
		}
	}
}
