package tiktok

import (
	"context"
	"encoding/json"
	"fmt"
)

// Product is a product with its SKUs, as product search returns it.
type Product struct {
	ID     FlexString   `json:"id"`
	Title  string       `json:"title"`
	Status string       `json:"status"`
	SKUs   []ProductSKU `json:"skus"`
}

// ProductSKU is one SKU of a product.
type ProductSKU struct {
	ID        FlexString `json:"id"`
	SellerSKU string     `json:"seller_sku"`
	Price     struct {
		Currency  string `json:"currency"`
		SalePrice string `json:"sale_price"`
	} `json:"price"`
	Inventory []struct {
		WarehouseID FlexString `json:"warehouse_id"`
		Quantity    FlexInt    `json:"quantity"`
	} `json:"inventory"`
}

// MaxSellerSKUsPerSearch is how many seller SKUs one product search takes.
const MaxSellerSKUsPerSearch = 10

// SearchProducts finds the products and SKU ids of seller SKUs, in searches
// of at most 10 SKUs, every page of each.
func (c *Client) SearchProducts(ctx context.Context, shop Shop, sellerSKUs []string) ([]Product, error) {
	var all []Product
	for start := 0; start < len(sellerSKUs); start += MaxSellerSKUsPerSearch {
		end := min(start+MaxSellerSKUsPerSearch, len(sellerSKUs))
		req := Request{Endpoint: SearchProducts, Shop: shop, Body: map[string]any{"seller_skus": sellerSKUs[start:end], "status": "ALL"}}
		err := c.walk(ctx, req, 100, func(data json.RawMessage) (page, error) {
			var out struct {
				page
				Products []Product `json:"products"`
			}
			if err := unmarshalNumbers(data, &out); err != nil {
				return page{}, err
			}
			all = append(all, out.Products...)
			return out.page, nil
		})
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// SKUStock is TikTok's current stock of one SKU: what buyers can buy
// (available) and what sold but has not shipped (committed), per warehouse.
type SKUStock struct {
	ProductID  string
	SKUID      string
	SellerSKU  string
	Available  int64
	Committed  int64
	Warehouses []WarehouseStock
}

// WarehouseStock is one warehouse's part of a SKU's stock.
type WarehouseStock struct {
	WarehouseID string
	Available   int64
	Committed   int64
}

// MaxSKUIDsPerInventorySearch is how many SKU ids one inventory search takes.
const MaxSKUIDsPerInventorySearch = 600

// SearchInventory reads the current stock of SKUs, in calls of at most 600 ids.
func (c *Client) SearchInventory(ctx context.Context, shop Shop, skuIDs []string) ([]SKUStock, error) {
	var all []SKUStock
	for start := 0; start < len(skuIDs); start += MaxSKUIDsPerInventorySearch {
		end := min(start+MaxSKUIDsPerInventorySearch, len(skuIDs))
		var out struct {
			Inventory []struct {
				ProductID FlexString `json:"product_id"`
				SKUs      []struct {
					ID                 FlexString `json:"id"`
					SellerSKU          string     `json:"seller_sku"`
					TotalAvailable     FlexInt    `json:"total_available_quantity"`
					TotalCommitted     FlexInt    `json:"total_committed_quantity"`
					WarehouseInventory []struct {
						WarehouseID FlexString `json:"warehouse_id"`
						Available   FlexInt    `json:"available_quantity"`
						Committed   FlexInt    `json:"committed_quantity"`
					} `json:"warehouse_inventory"`
				} `json:"skus"`
			} `json:"inventory"`
		}
		req := Request{Endpoint: SearchInventory, Shop: shop, Body: map[string]any{"sku_ids": skuIDs[start:end]}}
		if err := c.Do(ctx, req, &out); err != nil {
			return all, err
		}
		for _, p := range out.Inventory {
			for _, s := range p.SKUs {
				st := SKUStock{ProductID: string(p.ProductID), SKUID: string(s.ID), SellerSKU: s.SellerSKU,
					Available: int64(s.TotalAvailable), Committed: int64(s.TotalCommitted)}
				for _, w := range s.WarehouseInventory {
					st.Warehouses = append(st.Warehouses, WarehouseStock{WarehouseID: string(w.WarehouseID), Available: int64(w.Available), Committed: int64(w.Committed)})
				}
				all = append(all, st)
			}
		}
	}
	return all, nil
}

// StockUpdate sets one SKU's available quantity in one warehouse (empty
// WarehouseID: the shop's only warehouse).
type StockUpdate struct {
	SKUID       string
	WarehouseID string
	Quantity    int64
}

// MaxInventoryQuantity is the largest quantity TikTok accepts.
const MaxInventoryQuantity = 99998

// SKUError is one SKU of an inventory update that TikTok refused while
// accepting the rest (campaign-locked stock, SKU not live, ...).
type SKUError struct {
	SKUID       string
	WarehouseID string
	Code        int64
	Message     string
}

func (e SKUError) Error() string {
	return fmt.Sprintf("sku %s warehouse %s: code %d: %s", e.SKUID, e.WarehouseID, e.Code, e.Message)
}

// UpdateInventory sets the available quantity of SKUs of one product. The
// call as a whole succeeds or fails; per-SKU refusals come back as SKUErrors.
func (c *Client) UpdateInventory(ctx context.Context, shop Shop, productID string, updates []StockUpdate) ([]SKUError, error) {
	type whQty struct {
		WarehouseID string `json:"warehouse_id,omitempty"`
		Quantity    int64  `json:"quantity"`
	}
	type skuInv struct {
		ID        string  `json:"id"`
		Inventory []whQty `json:"inventory"`
	}
	var skus []skuInv
	index := map[string]int{}
	for _, u := range updates {
		if u.Quantity < 0 || u.Quantity > MaxInventoryQuantity {
			return nil, fmt.Errorf("tiktok inventory update: sku %s quantity %d is outside 0..%d", u.SKUID, u.Quantity, MaxInventoryQuantity)
		}
		i, ok := index[u.SKUID]
		if !ok {
			i = len(skus)
			index[u.SKUID] = i
			skus = append(skus, skuInv{ID: u.SKUID})
		}
		skus[i].Inventory = append(skus[i].Inventory, whQty{WarehouseID: u.WarehouseID, Quantity: u.Quantity})
	}
	var out struct {
		Errors []struct {
			Code    FlexInt `json:"code"`
			Message string  `json:"message"`
			Detail  struct {
				SKUID       FlexString `json:"sku_id"`
				ExtraErrors []struct {
					Code        FlexInt    `json:"code"`
					Message     string     `json:"message"`
					WarehouseID FlexString `json:"warehouse_id"`
				} `json:"extra_errors"`
			} `json:"detail"`
		} `json:"errors"`
	}
	req := Request{Endpoint: UpdateInventory, PathArgs: []string{productID}, Shop: shop, Body: map[string]any{"skus": skus}}
	if err := c.Do(ctx, req, &out); err != nil {
		return nil, err
	}
	var refused []SKUError
	for _, e := range out.Errors {
		if len(e.Detail.ExtraErrors) == 0 {
			refused = append(refused, SKUError{SKUID: string(e.Detail.SKUID), Code: int64(e.Code), Message: e.Message})
			continue
		}
		for _, x := range e.Detail.ExtraErrors {
			refused = append(refused, SKUError{SKUID: string(e.Detail.SKUID), WarehouseID: string(x.WarehouseID), Code: int64(x.Code), Message: x.Message})
		}
	}
	return refused, nil
}

// Warehouse is one of the shop's warehouses.
type Warehouse struct {
	ID           FlexString `json:"id"`
	Name         string     `json:"name"`
	IsDefault    bool       `json:"is_default"`
	EffectStatus string     `json:"effect_status"`
	Type         string     `json:"type"`
}

// Warehouses lists the shop's warehouses.
func (c *Client) Warehouses(ctx context.Context, shop Shop) ([]Warehouse, error) {
	var out struct {
		Warehouses []Warehouse `json:"warehouses"`
	}
	err := c.Do(ctx, Request{Endpoint: GetWarehouses, Shop: shop}, &out)
	return out.Warehouses, err
}
