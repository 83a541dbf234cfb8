package tiktoksim

import (
	"fmt"
	"slices"
	"strings"
)

type warehouse struct {
	id        string
	name      string
	isDefault bool
}

type product struct {
	id         string
	seq        int64
	title      string
	status     string
	createTime int64
	updateTime int64
	skus       []*sku
}

// sku keeps stock as TikTok does: per warehouse, available (what a buyer can
// buy) and committed (sold, not yet dispatched) apart. A sale moves units
// from available to committed, a cancellation before dispatch moves them
// back, dispatch removes them from committed, and an inventory update sets
// available.
type sku struct {
	id        string
	sellerSKU string
	name      string
	prod      *product
	price     cents
	stock     map[string]*whStock // by warehouse id
	locked    int                 // campaign-locked units: updates below this fail
	updates   int                 // inventory updates that set this SKU
	prices    int                 // price updates that set this SKU
	lastPush  *int                // the last quantity an update set (per SKU total)
	lastAt    int64
}

type whStock struct{ available, committed int }

func (k *sku) whStock(whID string) *whStock {
	st := k.stock[whID]
	if st == nil {
		st = &whStock{}
		k.stock[whID] = st
	}
	return st
}

func (s *Server) totals(k *sku) (available, committed int) {
	for _, wh := range s.warehouses {
		st := k.whStock(wh.id)
		available += st.available
		committed += st.committed
	}
	return available, committed
}

// productStatuses are TikTok's product statuses (reference §6, C1).
var productStatuses = []string{"DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED", "PLATFORM_DEACTIVATED", "FREEZE", "DELETED"}

// NewProduct is one listing to create: a SKU, with its product.
type NewProduct struct {
	SellerSKU string `json:"seller_sku"`
	// Stock is the available quantity in the default warehouse.
	Stock int `json:"stock"`
	// Price is the SKU's sale price, a decimal string.
	Price string `json:"price"`
	// Product groups SKUs: entries with the same non-empty Product share one
	// product, titled Product. Default: a product of its own per SKU.
	Product string `json:"product,omitempty"`
	// Name is the SKU's variation name. Default: the seller SKU.
	Name string `json:"name,omitempty"`
	// Status is the product's status. Default ACTIVATE (live).
	Status string `json:"status,omitempty"`
}

// CreatedSKU tells the ids TikTok gave a new listing.
type CreatedSKU struct {
	ProductID string `json:"product_id"`
	SKUID     string `json:"sku_id"`
	SellerSKU string `json:"seller_sku"`
}

// AddProducts creates listings. A seller SKU that exists already is a
// conflict (nothing is created then).
func (s *Server) AddProducts(list []NewProduct) ([]CreatedSKU, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addProductsLocked(list)
}

func (s *Server) addProductsLocked(list []NewProduct) ([]CreatedSKU, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: products must not be empty", ErrInvalid)
	}
	seen := map[string]bool{}
	prices := make([]cents, len(list))
	for i, p := range list {
		switch {
		case p.SellerSKU == "":
			return nil, fmt.Errorf("%w: products[%d].seller_sku is required", ErrInvalid, i)
		case s.skuBySeller[p.SellerSKU] != nil || seen[p.SellerSKU]:
			return nil, fmt.Errorf("%w: seller_sku %q exists already", ErrConflict, p.SellerSKU)
		case p.Stock < 0 || p.Stock > 99998:
			return nil, fmt.Errorf("%w: products[%d].stock must be 0 to 99998, got %d", ErrInvalid, i, p.Stock)
		case p.Status != "" && !slices.Contains(productStatuses, p.Status):
			return nil, fmt.Errorf("%w: products[%d].status must be one of %s", ErrInvalid, i, strings.Join(productStatuses, ", "))
		}
		price, err := parseMoney(p.Price)
		if err != nil {
			return nil, fmt.Errorf("%w: products[%d].price: %v", ErrInvalid, i, err)
		}
		prices[i], seen[p.SellerSKU] = price, true
	}
	at := s.now().Unix()
	grouped := map[string]*product{}
	out := make([]CreatedSKU, 0, len(list))
	for i, p := range list {
		prod := grouped[p.Product]
		if prod == nil || p.Product == "" {
			s.seq++
			prod = &product{id: s.newID("17", 19), seq: s.seq, title: p.Product, status: p.Status, createTime: at, updateTime: at}
			if prod.title == "" {
				prod.title = p.SellerSKU
			}
			if prod.status == "" {
				prod.status = "ACTIVATE"
			}
			s.products = append(s.products, prod)
			s.productByID[prod.id] = prod
			grouped[p.Product] = prod
		}
		k := &sku{id: s.newID("17", 19), sellerSKU: p.SellerSKU, name: p.Name, prod: prod, price: prices[i], stock: map[string]*whStock{}}
		if k.name == "" {
			k.name = p.SellerSKU
		}
		k.whStock(s.warehouses[0].id).available = p.Stock
		prod.skus = append(prod.skus, k)
		s.skuByID[k.id] = k
		s.skuBySeller[k.sellerSKU] = k
		out = append(out, CreatedSKU{ProductID: prod.id, SKUID: k.id, SellerSKU: k.sellerSKU})
	}
	return out, nil
}

// SKUState is a listing's stock as the control API reports it.
type SKUState struct {
	SellerSKU string `json:"seller_sku"`
	SKUID     string `json:"sku_id"`
	ProductID string `json:"product_id"`
	Status    string `json:"status"`
	// Stock is what a buyer can buy now (available, all warehouses).
	Stock int `json:"stock"`
	// Committed is sold and not yet dispatched.
	Committed int `json:"committed"`
	// Price is the sale price; PriceUpdates counts price updates that set it.
	Price        string `json:"price"`
	PriceUpdates int    `json:"price_updates"`
	// Locked is the campaign-locked quantity (updates below it fail).
	Locked int `json:"locked"`
	// InventoryUpdates counts the inventory updates that set this SKU;
	// LastPushed is the quantity the last one set, LastPushedAt its time.
	InventoryUpdates int              `json:"inventory_updates"`
	LastPushed       *int             `json:"last_pushed"`
	LastPushedAt     int64            `json:"last_pushed_at,omitempty"`
	Warehouses       []WarehouseStock `json:"warehouses"`
}

// WarehouseStock is one warehouse's part of a SKU's stock.
type WarehouseStock struct {
	WarehouseID string `json:"warehouse_id"`
	Available   int    `json:"available"`
	Committed   int    `json:"committed"`
}

// SKU reports a listing's stock by seller SKU.
func (s *Server) SKU(sellerSKU string) (SKUState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.skuBySeller[sellerSKU]
	if k == nil {
		return SKUState{}, fmt.Errorf("%w: no listing has seller_sku %q", ErrNotFound, sellerSKU)
	}
	return s.skuState(k), nil
}

// SKUs reports every listing, in creation order.
func (s *Server) SKUs() []SKUState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SKUState
	for _, p := range s.products {
		for _, k := range p.skus {
			out = append(out, s.skuState(k))
		}
	}
	return out
}

func (s *Server) skuState(k *sku) SKUState {
	st := SKUState{SellerSKU: k.sellerSKU, SKUID: k.id, ProductID: k.prod.id, Status: k.prod.status, Locked: k.locked,
		Price: k.price.String(), PriceUpdates: k.prices,
		InventoryUpdates: k.updates, LastPushedAt: k.lastAt, Warehouses: []WarehouseStock{}}
	if k.lastPush != nil {
		v := *k.lastPush
		st.LastPushed = &v
	}
	for _, wh := range s.warehouses {
		ws := k.whStock(wh.id)
		st.Stock += ws.available
		st.Committed += ws.committed
		st.Warehouses = append(st.Warehouses, WarehouseStock{WarehouseID: wh.id, Available: ws.available, Committed: ws.committed})
	}
	return st
}

// LockSKU campaign-locks quantity units of a listing, as a flash deal does:
// from now on an inventory update that would set it below quantity fails
// for that SKU (12052393). Zero unlocks.
func (s *Server) LockSKU(sellerSKU string, quantity int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.skuBySeller[sellerSKU]
	if k == nil {
		return fmt.Errorf("%w: no listing has seller_sku %q", ErrNotFound, sellerSKU)
	}
	if quantity < 0 {
		return fmt.Errorf("%w: quantity must not be negative", ErrInvalid)
	}
	k.locked = quantity
	return nil
}

// AddWarehouse adds a sales warehouse (no stock in it yet) and returns its
// id. With two or more, inventory updates must name the warehouse.
func (s *Server) AddWarehouse(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		return "", fmt.Errorf("%w: name is required", ErrInvalid)
	}
	wh := &warehouse{id: s.newID("70", 19), name: name}
	s.warehouses = append(s.warehouses, wh)
	return wh.id, nil
}

// --- API ---

type priceJSON struct {
	Currency  string `json:"currency"`
	SalePrice string `json:"sale_price"`
}

type skuInventoryJSON struct {
	WarehouseID string `json:"warehouse_id"`
	Quantity    int    `json:"quantity"`
}

type productSKUJSON struct {
	ID        string             `json:"id"`
	SellerSKU string             `json:"seller_sku"`
	Price     priceJSON          `json:"price"`
	Inventory []skuInventoryJSON `json:"inventory"`
}

type productJSON struct {
	ID         string           `json:"id"`
	Title      string           `json:"title"`
	Status     string           `json:"status"`
	CreateTime int64            `json:"create_time"`
	UpdateTime int64            `json:"update_time"`
	SKUs       []productSKUJSON `json:"skus"`
}

type productSearch struct {
	SellerSKUs   []string `json:"seller_skus,omitempty"`
	Status       string   `json:"status,omitempty"`
	CreateTimeGE *int64   `json:"create_time_ge,omitempty"`
	CreateTimeLE *int64   `json:"create_time_le,omitempty"`
	UpdateTimeGE *int64   `json:"update_time_ge,omitempty"`
	UpdateTimeLE *int64   `json:"update_time_le,omitempty"`
	// Accepted because the official request sample sends them; only the
	// values that select everything are understood.
	CategoryVersion  string   `json:"category_version,omitempty"`
	ListingPlatforms []string `json:"listing_platforms,omitempty"`
	// Not modelled: a request that filters on it is refused, not ignored.
	ListingQualityTier string `json:"listing_quality_tier,omitempty"`
}

// apiSearchProducts is POST /product/202309/products/search. Time filters
// are _ge/_le here (inclusive both ends), unlike orders (reference §6).
func (s *Server) apiSearchProducts(rq *apiRequest) (any, *apiError) {
	pp, e := readPageParams(rq.query, 0, 100, nil, false)
	if e != nil {
		return nil, e
	}
	var f productSearch
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &f); e != nil {
		return nil, e
	}
	switch {
	case len(f.SellerSKUs) > 10:
		return nil, bizError(12019027, "The maximum count of “seller_skus” in the search filter is 10.")
	case f.Status != "" && f.Status != "ALL" && !slices.Contains(productStatuses, f.Status):
		return nil, invalidParam("status must be ALL or one of %s, got %q.", strings.Join(productStatuses, ", "), f.Status)
	case f.ListingQualityTier != "":
		return nil, invalidParam("listing_quality_tier is not supported by the simulator.")
	case f.CategoryVersion != "" && f.CategoryVersion != "v1" && f.CategoryVersion != "v2":
		return nil, invalidParam("category_version must be v1 or v2, got %q.", f.CategoryVersion)
	}
	for _, p := range f.ListingPlatforms {
		if p != "TIKTOK_SHOP" {
			return nil, invalidParam("listing_platforms: the simulator only lists on TIKTOK_SHOP, got %q.", p)
		}
	}
	c, e := s.cursorFor(pp, cursor{kind: 'p', sort: 's', filter: filterHash(f)})
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*product
	for _, p := range s.products {
		if f.Status != "" && f.Status != "ALL" && p.status != f.Status {
			continue
		}
		if !inRangeLE(p.createTime, f.CreateTimeGE, f.CreateTimeLE) || !inRangeLE(p.updateTime, f.UpdateTimeGE, f.UpdateTimeLE) {
			continue
		}
		if len(f.SellerSKUs) > 0 && !slices.ContainsFunc(p.skus, func(k *sku) bool { return slices.Contains(f.SellerSKUs, k.sellerSKU) }) {
			continue
		}
		match = append(match, p)
	}
	page, more := keysetPage(match, func(p *product) int64 { return p.seq }, func(p *product) string { return p.id }, false, c, pp.size)
	out := make([]productJSON, 0, len(page))
	for _, p := range page {
		pj := productJSON{ID: p.id, Title: p.title, Status: p.status, CreateTime: p.createTime, UpdateTime: p.updateTime, SKUs: []productSKUJSON{}}
		for _, k := range p.skus {
			sj := productSKUJSON{ID: k.id, SellerSKU: k.sellerSKU, Price: priceJSON{s.opts.Currency, k.price.String()}, Inventory: []skuInventoryJSON{}}
			for _, wh := range s.warehouses {
				sj.Inventory = append(sj.Inventory, skuInventoryJSON{wh.id, k.whStock(wh.id).available})
			}
			pj.SKUs = append(pj.SKUs, sj)
		}
		out = append(out, pj)
	}
	next := ""
	if more {
		last := page[len(page)-1]
		next = s.encodeCursor(cursor{kind: 'p', sort: 's', filter: filterHash(f), key: last.seq, id: last.id})
	}
	return map[string]any{"products": out, "next_page_token": next, "total_count": len(match)}, nil
}

func inRangeLE(v int64, ge, le *int64) bool {
	return (ge == nil || v >= *ge) && (le == nil || v <= *le)
}

// DefaultWarehouseID is the id of the shop's default warehouse.
func (s *Server) DefaultWarehouseID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.warehouses {
		if w.isDefault {
			return w.id
		}
	}
	return s.warehouses[0].id
}
