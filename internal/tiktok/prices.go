package tiktok

import (
	"context"
	"fmt"
)

// PriceUpdate is one SKU's new price: a decimal amount as TikTok writes it
// ("12.5") in the shop's currency.
type PriceUpdate struct {
	SKUID    string
	Amount   string
	Currency string
}

// UpdatePrice sets the price of SKUs of one product
// (POST /product/202309/products/{product_id}/prices/update). The call
// succeeds or fails as a whole.
func (c *Client) UpdatePrice(ctx context.Context, shop Shop, productID string, updates []PriceUpdate) error {
	type price struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	}
	type skuPrice struct {
		ID    string `json:"id"`
		Price price  `json:"price"`
	}
	skus := make([]skuPrice, 0, len(updates))
	for _, u := range updates {
		if u.SKUID == "" || u.Amount == "" || u.Currency == "" {
			return fmt.Errorf("tiktok price update: sku %q needs an id, an amount and a currency", u.SKUID)
		}
		skus = append(skus, skuPrice{ID: u.SKUID, Price: price{Amount: u.Amount, Currency: u.Currency}})
	}
	return c.Do(ctx, Request{Endpoint: UpdatePrice, PathArgs: []string{productID}, Shop: shop, Body: map[string]any{"skus": skus}}, nil)
}
