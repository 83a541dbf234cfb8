package tiktoksim

import (
	"slices"
	"strings"
)

// orderSearch is the body of POST /order/202309/orders/search. Time filters
// are unix seconds, _ge inclusive and _lt exclusive (reference §5).
type orderSearch struct {
	OrderStatus          string   `json:"order_status,omitempty"`
	CreateTimeGE         *int64   `json:"create_time_ge,omitempty"`
	CreateTimeLT         *int64   `json:"create_time_lt,omitempty"`
	UpdateTimeGE         *int64   `json:"update_time_ge,omitempty"`
	UpdateTimeLT         *int64   `json:"update_time_lt,omitempty"`
	ShippingType         string   `json:"shipping_type,omitempty"`
	BuyerUserID          string   `json:"buyer_user_id,omitempty"`
	IsBuyerRequestCancel *bool    `json:"is_buyer_request_cancel,omitempty"`
	WarehouseIDs         []string `json:"warehouse_ids,omitempty"`
}

// parseOrderSearch reads and checks the body of an order search: the
// request-parsing path the fuzz test drives.
func parseOrderSearch(body []byte, contentType string) (orderSearch, *apiError) {
	var f orderSearch
	if e := decodeBody(body, contentType, &f); e != nil {
		return f, e
	}
	if _, ok := statusRank[f.OrderStatus]; f.OrderStatus != "" && !ok && f.OrderStatus != "CANCELLED" {
		return f, invalidParam("order_status must be one of %s, CANCELLED, got %q.", strings.Join(statusChain, ", "), f.OrderStatus)
	}
	if f.ShippingType != "" && f.ShippingType != "TIKTOK" && f.ShippingType != "SELLER" {
		return f, invalidParam("shipping_type must be TIKTOK or SELLER, got %q.", f.ShippingType)
	}
	for name, v := range map[string]*int64{"create_time_ge": f.CreateTimeGE, "create_time_lt": f.CreateTimeLT, "update_time_ge": f.UpdateTimeGE, "update_time_lt": f.UpdateTimeLT} {
		if v != nil && *v < 0 {
			return f, invalidParam("%s must be a unix time in seconds, got %d.", name, *v)
		}
	}
	return f, nil
}

func (f *orderSearch) match(o *order) bool {
	return (f.OrderStatus == "" || o.status == f.OrderStatus) &&
		inRangeLT(o.createTime, f.CreateTimeGE, f.CreateTimeLT) &&
		inRangeLT(o.updateTime, f.UpdateTimeGE, f.UpdateTimeLT) &&
		(f.ShippingType == "" || o.shippingType == f.ShippingType) &&
		(f.BuyerUserID == "" || o.userID == f.BuyerUserID) &&
		(f.IsBuyerRequestCancel == nil || o.buyerRequestCancel == *f.IsBuyerRequestCancel) &&
		(len(f.WarehouseIDs) == 0 || slices.Contains(f.WarehouseIDs, o.warehouseID))
}

func inRangeLT(v int64, ge, lt *int64) bool {
	return (ge == nil || v >= *ge) && (lt == nil || v < *lt)
}

// apiSearchOrders is POST /order/202309/orders/search.
func (s *Server) apiSearchOrders(rq *apiRequest) (any, *apiError) {
	pp, e := readPageParams(rq.query, 0, 100, []string{"create_time", "update_time"}, true)
	if e != nil {
		return nil, e
	}
	f, e := parseOrderSearch(rq.body, rq.r.Header.Get("Content-Type"))
	if e != nil {
		return nil, e
	}
	want := cursor{kind: 'o', sort: pp.sort[0], desc: pp.desc, filter: filterHash(f)}
	c, e := s.cursorFor(pp, want)
	if e != nil {
		return nil, e
	}
	key := func(o *order) int64 { return o.createTime }
	if pp.sort == "update_time" {
		key = func(o *order) int64 { return o.updateTime }
	}
	s.mu.Lock()
	var match []*order
	for _, o := range s.orders {
		if f.match(o) {
			match = append(match, o)
		}
	}
	page, more := keysetPage(match, key, func(o *order) string { return o.id }, pp.desc, c, pp.size)
	out := make([]orderJSON, len(page))
	for i, o := range page {
		out[i] = s.renderOrder(o)
	}
	next := ""
	if more {
		last := page[len(page)-1]
		want.key, want.id = key(last), last.id
		next = s.encodeCursor(want)
	}
	s.mu.Unlock()
	return map[string]any{"orders": out, "next_page_token": next, "total_count": len(match)}, nil
}

// maxOrderIDs is the most ids one order detail call takes (reference §5, C2).
const maxOrderIDs = 50

// apiGetOrders is GET /order/202309/orders?ids=a,b. Ids that are no order of
// the shop are left out of the answer.
func (s *Server) apiGetOrders(rq *apiRequest) (any, *apiError) {
	raw := rq.query.Get("ids")
	if raw == "" {
		return nil, invalidParam("ids is required: a comma-separated list of order ids.")
	}
	ids := strings.Split(raw, ",")
	if len(ids) > maxOrderIDs {
		return nil, invalidParam("ids: at most %d order ids per request, got %d.", maxOrderIDs, len(ids))
	}
	for _, id := range ids {
		if !isNumericID(id) {
			return nil, invalidParam("ids: %q is not an order id (digits, comma-separated, no spaces).", id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []orderJSON{}
	seen := map[string]bool{}
	for _, id := range ids {
		if o := s.orderByID[id]; o != nil && !seen[id] {
			seen[id] = true
			out = append(out, s.renderOrder(o))
		}
	}
	return map[string]any{"orders": out}, nil
}
