package tiktoksim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

type inventorySearch struct {
	ProductIDs []string `json:"product_ids,omitempty"`
	SKUIDs     []string `json:"sku_ids,omitempty"`
}

type warehouseInventoryJSON struct {
	WarehouseID       string `json:"warehouse_id"`
	AvailableQuantity int    `json:"available_quantity"`
	CommittedQuantity int    `json:"committed_quantity"`
}

type inventorySKUJSON struct {
	ID                     string                   `json:"id"`
	SellerSKU              string                   `json:"seller_sku"`
	TotalAvailableQuantity int                      `json:"total_available_quantity"`
	TotalCommittedQuantity int                      `json:"total_committed_quantity"`
	WarehouseInventory     []warehouseInventoryJSON `json:"warehouse_inventory"`
}

type inventoryJSON struct {
	ProductID string             `json:"product_id"`
	SKUs      []inventorySKUJSON `json:"skus"`
}

// apiSearchInventory is POST /product/202309/inventory/search: by product
// ids (≤100) or SKU ids (≤600); with both, the SKUs of the products plus the
// SKUs named. Unknown ids are left out.
func (s *Server) apiSearchInventory(rq *apiRequest) (any, *apiError) {
	var f inventorySearch
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &f); e != nil {
		return nil, e
	}
	switch {
	case len(f.ProductIDs) == 0 && len(f.SKUIDs) == 0:
		return nil, invalidParam("product_ids or sku_ids is required.")
	case len(f.ProductIDs) > 100:
		return nil, invalidParam("product_ids: at most 100 ids, got %d.", len(f.ProductIDs))
	case len(f.SKUIDs) > 600:
		return nil, bizError(12019015, "The number of SKU exceed the limit")
	}
	for _, id := range append(slices.Clone(f.ProductIDs), f.SKUIDs...) {
		if !isNumericID(id) {
			return nil, bizError(12019008, "Product id is invalid")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[*sku]bool{}
	for _, id := range f.ProductIDs {
		if p := s.productByID[id]; p != nil {
			for _, k := range p.skus {
				want[k] = true
			}
		}
	}
	for _, id := range f.SKUIDs {
		if k := s.skuByID[id]; k != nil {
			want[k] = true
		}
	}
	out := []inventoryJSON{}
	for _, p := range s.products {
		var skus []inventorySKUJSON
		for _, k := range p.skus {
			if !want[k] {
				continue
			}
			sj := inventorySKUJSON{ID: k.id, SellerSKU: k.sellerSKU, WarehouseInventory: []warehouseInventoryJSON{}}
			for _, wh := range s.warehouses {
				st := k.whStock(wh.id)
				sj.TotalAvailableQuantity += st.available
				sj.TotalCommittedQuantity += st.committed
				sj.WarehouseInventory = append(sj.WarehouseInventory, warehouseInventoryJSON{wh.id, st.available, st.committed})
			}
			skus = append(skus, sj)
		}
		if skus != nil {
			out = append(out, inventoryJSON{ProductID: p.id, SKUs: skus})
		}
	}
	return map[string]any{"inventory": out}, nil
}

type inventoryUpdate struct {
	SKUs []struct {
		ID        string `json:"id"`
		Inventory []struct {
			WarehouseID string      `json:"warehouse_id"`
			Quantity    json.Number `json:"quantity"`
		} `json:"inventory"`
	} `json:"skus"`
}

type skuErrorJSON struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Detail  skuErrorDetail `json:"detail"`
}

type skuErrorDetail struct {
	SKUID       string           `json:"sku_id"`
	ExtraErrors []extraErrorJSON `json:"extra_errors"`
}

type extraErrorJSON struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	WarehouseID string `json:"warehouse_id,omitempty"`
}

// Codes of the update-inventory page (rymndcs/tiktok_shop_rb_api's copy of
// TikTok's error tables); the batch itself answers code 0 with per-SKU
// errors under 12052990 (reference §6, sample).
const (
	codeBatchInventory = 12052990
	codeStockInvalid   = 12019024 // "stock count is invalid"
	codeMultiWarehouse = 12019028
	codeNoSKUID        = 12052036
	codeNoWarehouse    = 12052097
	codeDupWarehouse   = 12052555
	codeDupSKU         = 12052553
	codeNotInProduct   = 12052557
	codePromoLocked    = 12052393
	codeNotLive        = 12052901
	codeNoProduct      = 12019150
)

// maxQuantity is the largest quantity an update may set ("<99999", C1).
const maxQuantity = 99998

// apiUpdateInventory is POST /product/202309/products/{product_id}/inventory/update.
// Each SKU either updates completely or fails with its reasons.
func (s *Server) apiUpdateInventory(rq *apiRequest) (any, *apiError) {
	var req inventoryUpdate
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &req); e != nil {
		return nil, e
	}
	if len(req.SKUs) == 0 {
		return nil, invalidParam("skus must not be empty.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prod := s.productByID[rq.params["product_id"]]
	if prod == nil {
		return nil, bizError(codeNoProduct, "The product ID does not exist.")
	}
	var errs []skuErrorJSON
	seen := map[string]bool{}
	ok := 0
	for _, u := range req.SKUs {
		var extra []extraErrorJSON
		fail := func(code int, msg, wh string) { extra = append(extra, extraErrorJSON{code, msg, wh}) }
		k := s.skuByID[u.ID]
		set := map[string]int{}
		switch {
		case u.ID == "":
			fail(codeNoSKUID, "The SKU ID is necessary", "")
		case seen[u.ID]:
			fail(codeDupSKU, "Sku id duplicate", "")
		case k == nil || k.prod != prod:
			fail(codeNotInProduct, "The SKU ID does not belong to the product.", "")
		case prod.status != "ACTIVATE":
			fail(codeNotLive, "The product in its current status is not available for this operation. Change the product status and try again.", "")
		case len(u.Inventory) == 0:
			fail(codeStockInvalid, "stock count is invalid: inventory must not be empty", "")
		}
		seen[u.ID] = true
		if extra == nil {
			for _, inv := range u.Inventory {
				wh := inv.WarehouseID
				if wh == "" {
					if len(s.warehouses) > 1 {
						fail(codeMultiWarehouse, "Multiple warehouses detected. Include all warehouse IDs and the corresponding details and try again.", "")
						continue
					}
					wh = s.warehouses[0].id
				}
				if !slices.ContainsFunc(s.warehouses, func(w *warehouse) bool { return w.id == wh }) {
					fail(codeNoWarehouse, "The warehouse does not exist", wh)
					continue
				}
				if _, dup := set[wh]; dup {
					fail(codeDupWarehouse, "The warehouse id is duplicate", wh)
					continue
				}
				q, err := strconv.ParseInt(inv.Quantity.String(), 10, 64)
				if err != nil || q < 0 || q > maxQuantity {
					fail(codeStockInvalid, fmt.Sprintf("stock count is invalid: quantity must be an integer from 0 to %d, got %s", maxQuantity, inv.Quantity), wh)
					continue
				}
				set[wh] = int(q)
			}
		}
		if extra == nil && k.locked > 0 {
			total := 0
			for _, wh := range s.warehouses {
				if q, ok := set[wh.id]; ok {
					total += q
				} else {
					total += k.whStock(wh.id).available
				}
			}
			if total < k.locked {
				fail(codePromoLocked, fmt.Sprintf("Product locked for Promotion and stock can't be updated below current stock (%d locked, %d asked)", k.locked, total), "")
			}
		}
		if extra != nil {
			errs = append(errs, skuErrorJSON{codeBatchInventory, "batch update inventory error", skuErrorDetail{u.ID, extra}})
			continue
		}
		total := 0
		for wh, q := range set {
			k.whStock(wh).available = q
		}
		for _, wh := range s.warehouses {
			total += k.whStock(wh.id).available
		}
		k.updates++
		k.lastPush, k.lastAt = &total, rq.now.Unix()
		ok++
	}
	s.counters.inventory(ok, len(errs))
	if errs == nil {
		return struct{}{}, nil
	}
	return map[string]any{"errors": errs}, nil
}

type warehouseJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	IsDefault    bool   `json:"is_default"`
	EffectStatus string `json:"effect_status"`
	Type         string `json:"type"`
	SubType      string `json:"sub_type"`
	Address      any    `json:"address"`
}

// apiWarehouses is GET /logistics/202309/warehouses.
func (s *Server) apiWarehouses(rq *apiRequest) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []warehouseJSON{}
	for _, wh := range s.warehouses {
		out = append(out, warehouseJSON{ID: wh.id, Name: wh.name, IsDefault: wh.isDefault, EffectStatus: "ENABLED",
			Type: "SALES_WAREHOUSE", SubType: "DOMESTIC_WAREHOUSE", Address: map[string]string{
				"contact_person": "Warehouse team", "full_address": "Unit 4, Riverside Park, Leeds LS10 1AB",
				"city": "Leeds", "postal_code": "LS10 1AB", "region": "United Kingdom", "region_code": s.shop.Region,
				"phone_number": "(+44)113****000",
			}})
	}
	return map[string]any{"warehouses": out}, nil
}
