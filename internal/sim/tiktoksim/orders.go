package tiktoksim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Order statuses (reference §5) and their place in the life of an order.
var statusRank = map[string]int{
	"UNPAID": 0, "ON_HOLD": 1, "AWAITING_SHIPMENT": 2, "PARTIALLY_SHIPPING": 3,
	"AWAITING_COLLECTION": 4, "IN_TRANSIT": 5, "DELIVERED": 6, "COMPLETED": 7,
}

var statusChain = []string{"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"}

const (
	fulfilledBySeller = "FULFILLMENT_BY_SELLER"
	fulfilledByTikTok = "FULFILLMENT_BY_TIKTOK"
)

type order struct {
	id                 string
	seq                int64
	status             string
	createTime         int64
	updateTime         int64
	paidTime           int64
	rtsTime            int64
	collectionTime     int64
	deliveryTime       int64
	cancelTime         int64
	requestCancelTime  int64
	userID             string
	buyerEmail         string
	buyerMessage       string
	shippingType       string // TIKTOK or SELLER
	fulfillmentType    string
	warehouseID        string
	paid               bool // reached ON_HOLD or later
	released           bool // reached AWAITING_SHIPMENT: packages and the address are shown from then on
	cancelReason       string
	cancelInitiator    string
	buyerRequestCancel bool
	addressUpdated     bool
	addr               address
	lines              []*line
	packages           []*pkg
	shipFee            cents // original shipping fee
	shipSellerDisc     cents
	shipPlatformDisc   cents
	shipTax            cents
}

type pkg struct {
	id       string
	tracking string
}

// line is one unit: TikTok sends one line item per unit (reference §5).
type line struct {
	id           string
	sku          *sku
	warehouseID  string
	original     cents
	sellerDisc   cents
	platformDisc cents
	tax          cents
	gift         bool
	pkg          int    // index into order.packages
	status       string // display_status
	pkgStatus    string // package_status
	reserved     bool   // holds a committed unit (false once dispatched or cancelled, and for FBT)
	shipped      bool
	cancelUser   string
	cancelReason string
}

func (l *line) sale() cents     { return l.original - l.sellerDisc - l.platformDisc }
func (l *line) cancelled() bool { return l.status == "CANCELLED" }

// NewOrder is an order a buyer places through the control API.
type NewOrder struct {
	Lines []NewOrderLine `json:"lines"`
	// Status to bring the order to at once. Default AWAITING_SHIPMENT (the
	// buyer pays at once); UNPAID and ON_HOLD keep it before that, later
	// statuses move it on as the control API's status call would.
	Status string `json:"status,omitempty"`
	// ShippingType TIKTOK (default) or SELLER.
	ShippingType string `json:"shipping_type,omitempty"`
	// FulfillmentType FULFILLMENT_BY_SELLER (default) or FULFILLMENT_BY_TIKTOK.
	// FBT orders ship from TikTok's own stock, which the simulator does not
	// model: they neither need nor move the listing's stock.
	FulfillmentType string `json:"fulfillment_type,omitempty"`
	// Shipping as decimal strings: the original fee, the seller's and the
	// platform's discounts on it, and the tax on it. Default "0" each.
	ShippingFee                 string `json:"shipping_fee,omitempty"`
	ShippingFeeSellerDiscount   string `json:"shipping_fee_seller_discount,omitempty"`
	ShippingFeePlatformDiscount string `json:"shipping_fee_platform_discount,omitempty"`
	ShippingFeeTax              string `json:"shipping_fee_tax,omitempty"`
	BuyerMessage                string `json:"buyer_message,omitempty"`
	// CreateTime backdates the order (unix seconds). Default: now.
	CreateTime int64 `json:"create_time,omitempty"`
}

// NewOrderLine is quantity units of one listing. Amounts are decimal
// strings; the discounts and tax are totals over the line's units, split to
// the cent with largest remainder, so units of one line can differ by a cent
// (10.00 over 3 units: 3.33, 3.33, 3.34).
type NewOrderLine struct {
	SellerSKU string `json:"seller_sku"`
	Quantity  int    `json:"quantity"`
	// UnitPrice is the original price of one unit. Default: the listing's.
	UnitPrice        string `json:"unit_price,omitempty"`
	SellerDiscount   string `json:"seller_discount,omitempty"`
	PlatformDiscount string `json:"platform_discount,omitempty"`
	Tax              string `json:"tax,omitempty"`
	// IsGift makes the units free gifts: sale price 0, the seller's discount
	// covering the whole original price.
	IsGift bool `json:"is_gift,omitempty"`
	// Package puts the units in the order's n-th package (1-based; default 1).
	Package int `json:"package,omitempty"`
}

// PlaceOrder places an order as a buyer would: it is refused (ErrConflict,
// nothing changes) when a listing lacks available stock or is not live.
func (s *Server) PlaceOrder(no NewOrder) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.placeOrderLocked(no, s.now().Unix())
	if err != nil {
		return "", err
	}
	return o.id, nil
}

// placeOrderLocked creates the order UNPAID at time at (or no.CreateTime)
// and moves it to the asked status.
func (s *Server) placeOrderLocked(no NewOrder, at int64) (*order, error) {
	target := no.Status
	if target == "" {
		target = "AWAITING_SHIPMENT"
	}
	if _, ok := statusRank[target]; !ok && target != "CANCELLED" {
		return nil, fmt.Errorf("%w: status must be one of %s or CANCELLED, got %q", ErrInvalid, strings.Join(statusChain, ", "), target)
	}
	shipping, fulfil := no.ShippingType, no.FulfillmentType
	if shipping == "" {
		shipping = "TIKTOK"
	}
	if fulfil == "" {
		fulfil = fulfilledBySeller
	}
	switch {
	case shipping != "TIKTOK" && shipping != "SELLER":
		return nil, fmt.Errorf("%w: shipping_type must be TIKTOK or SELLER, got %q", ErrInvalid, shipping)
	case fulfil != fulfilledBySeller && fulfil != fulfilledByTikTok:
		return nil, fmt.Errorf("%w: fulfillment_type must be %s or %s, got %q", ErrInvalid, fulfilledBySeller, fulfilledByTikTok, fulfil)
	case fulfil == fulfilledByTikTok && shipping != "TIKTOK":
		return nil, fmt.Errorf("%w: an order fulfilled by TikTok ships with TikTok (shipping_type TIKTOK)", ErrInvalid)
	case len(no.Lines) == 0:
		return nil, fmt.Errorf("%w: lines must not be empty", ErrInvalid)
	}
	var ship [4]cents
	for i, v := range []string{no.ShippingFee, no.ShippingFeeSellerDiscount, no.ShippingFeePlatformDiscount, no.ShippingFeeTax} {
		if v == "" {
			continue
		}
		c, err := parseMoney(v)
		if err != nil {
			return nil, fmt.Errorf("%w: shipping: %v", ErrInvalid, err)
		}
		ship[i] = c
	}
	if ship[1]+ship[2] > ship[0] {
		return nil, fmt.Errorf("%w: shipping discounts exceed the shipping fee", ErrInvalid)
	}

	// Validate every line and the stock before changing anything.
	type unitPlan struct {
		k                               *sku
		original, seller, platform, tax cents
		gift                            bool
		pkg                             int
	}
	var units []unitPlan
	want := map[*sku]int{}
	for i, nl := range no.Lines {
		k := s.skuBySeller[nl.SellerSKU]
		switch {
		case k == nil:
			return nil, fmt.Errorf("%w: lines[%d]: no listing has seller_sku %q", ErrNotFound, i, nl.SellerSKU)
		case nl.Quantity < 1 || nl.Quantity > 1000:
			return nil, fmt.Errorf("%w: lines[%d].quantity must be 1 to 1000, got %d", ErrInvalid, i, nl.Quantity)
		case nl.Package < 0 || nl.Package > 20:
			return nil, fmt.Errorf("%w: lines[%d].package must be 1 to 20", ErrInvalid, i)
		case k.prod.status != "ACTIVATE":
			return nil, fmt.Errorf("%w: %s is not on sale (product status %s)", ErrConflict, k.sellerSKU, k.prod.status)
		}
		amounts := [4]cents{k.price}
		for j, v := range []string{nl.UnitPrice, nl.SellerDiscount, nl.PlatformDiscount, nl.Tax} {
			if v == "" {
				continue
			}
			c, err := parseMoney(v)
			if err != nil {
				return nil, fmt.Errorf("%w: lines[%d]: %v", ErrInvalid, i, err)
			}
			amounts[j] = c
		}
		n := nl.Quantity
		unit, seller, platform := amounts[0], amounts[1], amounts[2]
		if nl.IsGift {
			seller, platform = unit*cents(n), 0
		}
		if seller+platform > unit*cents(n) {
			return nil, fmt.Errorf("%w: lines[%d]: discounts %s exceed the line's price %s", ErrInvalid, i, seller+platform, unit*cents(n))
		}
		ss, ps, ts := split(seller, n, false), split(platform, n, true), split(amounts[3], n, false)
		pkgNo := max(nl.Package, 1)
		for u := range n {
			units = append(units, unitPlan{k, unit, ss[u], ps[u], ts[u], nl.IsGift, pkgNo})
		}
		want[k] += n
	}
	if fulfil == fulfilledBySeller {
		// Sorted by seller SKU so the message names the same SKU every time.
		ks := make([]*sku, 0, len(want))
		for k := range want {
			ks = append(ks, k)
		}
		slices.SortFunc(ks, func(a, b *sku) int { return strings.Compare(a.sellerSKU, b.sellerSKU) })
		for _, k := range ks {
			if avail, _ := s.totals(k); avail < want[k] {
				return nil, fmt.Errorf("%w: %s has %d available, the order wants %d", ErrConflict, k.sellerSKU, avail, want[k])
			}
		}
	}

	if no.CreateTime > at {
		return nil, fmt.Errorf("%w: create_time %d is in the future", ErrInvalid, no.CreateTime)
	}
	if no.CreateTime > 0 {
		at = no.CreateTime
	}
	s.seq++
	o := &order{
		id: s.newID("57", 18), seq: s.seq, status: "UNPAID", createTime: at, updateTime: at,
		userID: s.newID("70", 19), buyerMessage: no.BuyerMessage,
		shippingType: shipping, fulfillmentType: fulfil,
		shipFee: ship[0], shipSellerDisc: ship[1], shipPlatformDisc: ship[2], shipTax: ship[3],
	}
	o.buyerEmail = strings.ToLower(s.randString(s.rng, alnum, 6)) + "@scs.tiktokw.eu"
	o.addr = s.newAddress()
	pkgIndex := map[int]int{}
	for _, u := range units {
		idx, ok := pkgIndex[u.pkg]
		if !ok {
			idx = len(o.packages)
			pkgIndex[u.pkg] = idx
			o.packages = append(o.packages, &pkg{id: s.newID("11", 19)})
		}
		l := &line{id: s.newID("57", 18), sku: u.k, original: u.original, sellerDisc: u.seller, platformDisc: u.platform,
			tax: u.tax, gift: u.gift, pkg: idx, status: "UNPAID"}
		if fulfil == fulfilledBySeller {
			// A sale moves the unit from available to committed, taken from
			// the first warehouse (default first) that has one.
			for _, wh := range s.warehouses {
				if st := u.k.whStock(wh.id); st.available > 0 {
					st.available--
					st.committed++
					l.warehouseID, l.reserved = wh.id, true
					break
				}
			}
		}
		o.lines = append(o.lines, l)
	}
	o.warehouseID = o.lines[0].warehouseID
	if o.warehouseID == "" {
		o.warehouseID = s.warehouses[0].id
	}
	s.orders = append(s.orders, o)
	s.orderByID[o.id] = o
	s.emitOrderStatus(o)
	if target == "CANCELLED" {
		_, err := s.cancelLocked(o, CancelRequest{Role: "SYSTEM", Reason: "Order was not paid in time"}, at)
		return o, err
	}
	return o, s.advanceLocked(o, target, at)
}

// SetOrderStatus moves an order forward to status (through the statuses in
// between, each with its webhook), as the buyer, the seller and the carrier
// would. CANCELLED cancels it as the system would. Going back is a conflict.
func (s *Server) SetOrderStatus(orderID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderByID[orderID]
	if o == nil {
		return fmt.Errorf("%w: no order %q", ErrNotFound, orderID)
	}
	at := max(s.now().Unix(), o.updateTime)
	if status == "CANCELLED" {
		_, err := s.cancelLocked(o, CancelRequest{Role: "SYSTEM", Reason: "Cancelled by the platform"}, at)
		return err
	}
	if _, ok := statusRank[status]; !ok {
		return fmt.Errorf("%w: status must be one of %s or CANCELLED, got %q", ErrInvalid, strings.Join(statusChain, ", "), status)
	}
	return s.advanceLocked(o, status, at)
}

// advanceLocked walks o from its status to target. ON_HOLD and
// PARTIALLY_SHIPPING are only visited when they are the target.
func (s *Server) advanceLocked(o *order, target string, at int64) error {
	if o.status == target {
		return nil
	}
	from, to := statusRank[o.status], statusRank[target]
	if o.status == "CANCELLED" || to < from {
		return fmt.Errorf("%w: order %s is %s; it cannot go back to %s", ErrConflict, o.id, o.status, target)
	}
	if o.status == "PARTIALLY_SHIPPING" && target == "AWAITING_COLLECTION" {
		return fmt.Errorf("%w: order %s is partly in transit already", ErrConflict, o.id)
	}
	if target == "PARTIALLY_SHIPPING" && len(s.activePackages(o)) < 2 {
		return fmt.Errorf("%w: order %s has fewer than two packages to ship", ErrConflict, o.id)
	}
	for _, st := range statusChain[from+1 : to+1] {
		skip := (st == "ON_HOLD" || st == "PARTIALLY_SHIPPING") && st != target ||
			st == "AWAITING_COLLECTION" && o.status == "PARTIALLY_SHIPPING"
		if !skip {
			s.applyStatus(o, st, at)
		}
	}
	return nil
}

// activePackages are the package indexes that hold uncancelled units.
func (s *Server) activePackages(o *order) []int {
	var out []int
	for _, l := range o.lines {
		if !l.cancelled() && !slices.Contains(out, l.pkg) {
			out = append(out, l.pkg)
		}
	}
	return out
}

func (s *Server) applyStatus(o *order, st string, at int64) {
	active := func(f func(l *line)) {
		for _, l := range o.lines {
			if !l.cancelled() {
				f(l)
			}
		}
	}
	switch st {
	case "ON_HOLD":
		// Paid, but the buyer may still cancel and the seller cannot ship:
		// no packages and no address yet (reference §5).
		o.paid, o.paidTime = true, at
		active(func(l *line) { l.status = "AWAITING_SHIPMENT" })
	case "AWAITING_SHIPMENT":
		if !o.paid {
			o.paid, o.paidTime = true, at
		}
		o.released = true
		active(func(l *line) { l.status, l.pkgStatus = "AWAITING_SHIPMENT", "TO_FULFILL" })
	case "PARTIALLY_SHIPPING":
		first := s.activePackages(o)[0]
		s.ensureTracking(o)
		active(func(l *line) {
			if l.pkg == first {
				s.dispatch(l)
			}
		})
	case "AWAITING_COLLECTION":
		o.rtsTime = at
		s.ensureTracking(o)
		active(func(l *line) { l.status, l.pkgStatus = "AWAITING_COLLECTION", "PROCESSING" })
	case "IN_TRANSIT":
		o.collectionTime = at
		s.ensureTracking(o)
		if o.rtsTime == 0 {
			o.rtsTime = at
		}
		active(func(l *line) {
			if !l.shipped {
				s.dispatch(l)
			}
		})
	case "DELIVERED":
		o.deliveryTime = at
		active(func(l *line) { l.status, l.pkgStatus = "DELIVERED", "COMPLETED" })
	case "COMPLETED":
		active(func(l *line) { l.status = "COMPLETED" })
	}
	o.status, o.updateTime = st, max(at, o.updateTime)
	s.emitOrderStatus(o)
}

// dispatch: the unit leaves the warehouse, so it leaves committed stock.
func (s *Server) dispatch(l *line) {
	if l.reserved {
		l.sku.whStock(l.warehouseID).committed--
		l.reserved = false
	}
	l.shipped, l.status, l.pkgStatus = true, "IN_TRANSIT", "FULFILLING"
}

func (s *Server) ensureTracking(o *order) {
	for _, p := range o.packages {
		if p.tracking == "" {
			p.tracking = "TT" + s.randString(s.rng, upperDigits, 12)
		}
	}
}

// UpdateAddress gives the order a new recipient address, as a buyer who
// edits it before dispatch: has_updated_recipient_address becomes true and a
// type-3 webhook goes out. After dispatch it is a conflict.
func (s *Server) UpdateAddress(orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderByID[orderID]
	if o == nil {
		return fmt.Errorf("%w: no order %q", ErrNotFound, orderID)
	}
	if r := statusRank[o.status]; o.status == "CANCELLED" || r >= statusRank["PARTIALLY_SHIPPING"] {
		return fmt.Errorf("%w: order %s is %s; its address can no longer change", ErrConflict, o.id, o.status)
	}
	s.updateAddressLocked(o, max(s.now().Unix(), o.updateTime))
	return nil
}

func (s *Server) updateAddressLocked(o *order, at int64) {
	o.addr = s.newAddress()
	o.addressUpdated = true
	o.updateTime = at
	s.emit(3, "RECIPIENT_ADDRESS_UPDATE", map[string]any{"order_id": o.id, "update_time": at})
}

// Order returns the order exactly as the API returns it.
func (s *Server) Order(orderID string) (json.RawMessage, error) {
	s.mu.Lock()
	o := s.orderByID[orderID]
	if o == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: no order %q", ErrNotFound, orderID)
	}
	j := s.renderOrder(o)
	s.mu.Unlock()
	return json.Marshal(j)
}

// OrderIDs lists every order id in creation order.
func (s *Server) OrderIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.orders))
	for i, o := range s.orders {
		ids[i] = o.id
	}
	return ids
}

func (s *Server) emitOrderStatus(o *order) {
	s.emit(1, "ORDER_STATUS_CHANGE", map[string]any{
		"order_id": o.id, "order_status": o.status, "is_on_hold_order": o.status == "ON_HOLD", "update_time": o.updateTime,
	})
}
