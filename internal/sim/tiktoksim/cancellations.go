package tiktoksim

import (
	"fmt"
	"slices"
	"strings"
)

// Cancellation statuses. The reference has two spellings for a withdrawn or
// rejected request (…_CANCEL in the request filter, …_CANCELLED in the
// response description, C1); the simulator writes the filter's spelling and
// accepts both in filters.
const (
	cancelPending  = "CANCELLATION_REQUEST_PENDING"
	cancelSuccess  = "CANCELLATION_REQUEST_SUCCESS"
	cancelRejected = "CANCELLATION_REQUEST_CANCEL"
	cancelComplete = "CANCELLATION_REQUEST_COMPLETE"
)

var cancelStatuses = []string{cancelPending, cancelSuccess, cancelRejected, "CANCELLATION_REQUEST_CANCELLED", cancelComplete}

type cancellation struct {
	id          string
	order       *order
	role        string // BUYER, SELLER or SYSTEM
	status      string
	reason      string
	createTime  int64
	updateTime  int64
	deadline    int64 // for a pending request: when the seller must answer
	lines       []*line
	refundSub   cents
	refundShip  cents
	refundTax   cents
	idempotency map[string]string // idempotency_key → what was done with it
}

func (c *cancellation) cancelType() string {
	if c.role == "BUYER" {
		return "BUYER_CANCEL"
	}
	return "CANCEL"
}

// CancelRequest is a cancellation through the control API.
type CancelRequest struct {
	// Role is who cancels: BUYER (default), SELLER or SYSTEM.
	Role string `json:"role,omitempty"`
	// Reason is a human reason. Default by role.
	Reason string `json:"reason,omitempty"`
	// Lines cancels only these units (line-level cancellation); empty
	// cancels the whole order.
	Lines []CancelLine `json:"lines,omitempty"`
	// Request makes it a buyer's request the seller must answer (approve or
	// reject through the API) instead of an immediate cancellation; the order
	// shows is_buyer_request_cancel meanwhile.
	Request bool `json:"request,omitempty"`
}

// CancelLine is quantity units of one listing in the order.
type CancelLine struct {
	SellerSKU string `json:"seller_sku"`
	Quantity  int    `json:"quantity"`
}

var defaultReasons = map[string]string{
	"BUYER":  "No longer needed",
	"SELLER": "Out of stock",
	"SYSTEM": "Cancelled by the platform",
}

// CancelOrder cancels an order, or some of its units, before dispatch: the
// units go back to available stock, lines show CANCELLED with cancel_user,
// and webhooks 11 (and 1 when the whole order ends CANCELLED) go out. A
// dispatched order is a conflict. It returns the cancellation id ("" for an
// unpaid order, which has nothing to refund and so no cancellation record).
func (s *Server) CancelOrder(orderID string, req CancelRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderByID[orderID]
	if o == nil {
		return "", fmt.Errorf("%w: no order %q", ErrNotFound, orderID)
	}
	return s.cancelLocked(o, req, max(s.now().Unix(), o.updateTime))
}

func (s *Server) cancelLocked(o *order, req CancelRequest, at int64) (string, error) {
	role := req.Role
	if role == "" {
		role = "BUYER"
	}
	if _, ok := defaultReasons[role]; !ok {
		return "", fmt.Errorf("%w: role must be BUYER, SELLER or SYSTEM, got %q", ErrInvalid, role)
	}
	reason := req.Reason
	if reason == "" {
		reason = defaultReasons[role]
	}
	switch o.status {
	case "CANCELLED":
		return "", fmt.Errorf("%w: order %s is cancelled already", ErrConflict, o.id)
	case "IN_TRANSIT", "DELIVERED", "COMPLETED":
		return "", fmt.Errorf("%w: order %s is %s: it has been shipped", ErrConflict, o.id, o.status)
	}
	var lines []*line
	if len(req.Lines) == 0 {
		for _, l := range o.lines {
			if l.shipped {
				return "", fmt.Errorf("%w: order %s is partly shipped; cancel its unshipped units by line", ErrConflict, o.id)
			}
			if !l.cancelled() {
				lines = append(lines, l)
			}
		}
	} else {
		for i, cl := range req.Lines {
			if cl.Quantity < 1 {
				return "", fmt.Errorf("%w: lines[%d].quantity must be at least 1", ErrInvalid, i)
			}
			// The last units of the SKU go first, so the earlier ones keep
			// their place in the order.
			n := 0
			for j := len(o.lines) - 1; j >= 0 && n < cl.Quantity; j-- {
				l := o.lines[j]
				if l.sku.sellerSKU == cl.SellerSKU && !l.cancelled() && !l.shipped && !slices.Contains(lines, l) {
					lines = append(lines, l)
					n++
				}
			}
			if n < cl.Quantity {
				return "", fmt.Errorf("%w: order %s has %d unshipped, uncancelled units of %q, not %d", ErrConflict, o.id, n, cl.SellerSKU, cl.Quantity)
			}
		}
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("%w: order %s has nothing left to cancel", ErrConflict, o.id)
	}
	if req.Request {
		if role != "BUYER" || !o.paid {
			return "", fmt.Errorf("%w: only a buyer asks to cancel, and only a paid order", ErrInvalid)
		}
		for _, c := range s.cancels {
			if c.order == o && c.status == cancelPending {
				return "", fmt.Errorf("%w: order %s has a pending cancellation request already (%s)", ErrConflict, o.id, c.id)
			}
		}
		c := s.newCancellation(o, role, reason, lines, at)
		c.status, c.deadline = cancelPending, at+2*day
		o.buyerRequestCancel, o.requestCancelTime, o.updateTime = true, at, max(at, o.updateTime)
		s.emitCancellation(c)
		return c.id, nil
	}
	c := s.executeCancel(o, lines, role, reason, at, nil)
	if c == nil {
		return "", nil
	}
	return c.id, nil
}

func (s *Server) newCancellation(o *order, role, reason string, lines []*line, at int64) *cancellation {
	c := &cancellation{id: s.newID("40", 19), order: o, role: role, reason: reason, createTime: at, updateTime: at, lines: lines}
	for _, l := range lines {
		c.refundSub += l.sale()
		c.refundTax += l.tax
	}
	s.cancels = append(s.cancels, c)
	s.cancelByID[c.id] = c
	return c
}

// executeCancel cancels lines and returns their units to available stock.
// c is the pending request being granted, or nil.
func (s *Server) executeCancel(o *order, lines []*line, role, reason string, at int64, c *cancellation) *cancellation {
	for _, l := range lines {
		if l.reserved {
			st := l.sku.whStock(l.warehouseID)
			st.committed--
			st.available++
			l.reserved = false
		}
		l.status, l.cancelUser, l.cancelReason = "CANCELLED", role, reason
		if o.released {
			l.pkgStatus = "CANCELLED"
		}
	}
	o.buyerRequestCancel = false
	o.updateTime = max(at, o.updateTime)
	whole := !slices.ContainsFunc(o.lines, func(l *line) bool { return !l.cancelled() })
	if o.paid {
		if c == nil {
			c = s.newCancellation(o, role, reason, lines, at)
		}
		if whole {
			c.refundShip = o.shipFee - o.shipSellerDisc - o.shipPlatformDisc
			c.refundTax += o.shipTax
		}
		c.status, c.updateTime = cancelComplete, at
	}
	if whole {
		o.status, o.cancelTime, o.cancelReason, o.cancelInitiator = "CANCELLED", at, reason, role
		s.emitOrderStatus(o)
	}
	if c != nil {
		s.emitCancellation(c)
	}
	return c
}

func (s *Server) emitCancellation(c *cancellation) {
	s.emit(11, "CANCELLATION_STATUS_CHANGE", map[string]any{
		"order_id": c.order.id, "cancel_id": c.id, "cancellations_role": c.role,
		"cancel_status": c.status, "create_time": c.createTime,
	})
}

// --- API ---

type cancellationSearch struct {
	CancelIDs    []string `json:"cancel_ids,omitempty"`
	OrderIDs     []string `json:"order_ids,omitempty"`
	BuyerUserIDs []string `json:"buyer_user_ids,omitempty"`
	CancelTypes  []string `json:"cancel_types,omitempty"`
	CancelStatus []string `json:"cancel_status,omitempty"`
	CreateTimeGE *int64   `json:"create_time_ge,omitempty"`
	CreateTimeLT *int64   `json:"create_time_lt,omitempty"`
	UpdateTimeGE *int64   `json:"update_time_ge,omitempty"`
	UpdateTimeLT *int64   `json:"update_time_lt,omitempty"`
	Locale       string   `json:"locale,omitempty"`
}

func (f *cancellationSearch) match(c *cancellation) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	status := in(f.CancelStatus, c.status) || c.status == cancelRejected && slices.Contains(f.CancelStatus, "CANCELLATION_REQUEST_CANCELLED")
	return in(f.CancelIDs, c.id) && in(f.OrderIDs, c.order.id) && in(f.BuyerUserIDs, c.order.userID) &&
		in(f.CancelTypes, c.cancelType()) && status &&
		inRangeLT(c.createTime, f.CreateTimeGE, f.CreateTimeLT) && inRangeLT(c.updateTime, f.UpdateTimeGE, f.UpdateTimeLT)
}

type refundJSON struct {
	Currency          string `json:"currency"`
	RefundTotal       string `json:"refund_total"`
	RefundSubtotal    string `json:"refund_subtotal"`
	RefundShippingFee string `json:"refund_shipping_fee"`
	RefundTax         string `json:"refund_tax"`
}

type cancelLineJSON struct {
	CancelLineItemID string     `json:"cancel_line_item_id"`
	OrderLineItemID  string     `json:"order_line_item_id"`
	SKUID            string     `json:"sku_id"`
	SellerSKU        string     `json:"seller_sku"`
	ProductName      string     `json:"product_name"`
	SKUName          string     `json:"sku_name"`
	RefundAmount     refundJSON `json:"refund_amount"`
}

type nextActionJSON struct {
	Action   string `json:"action"`
	Deadline int64  `json:"deadline"`
}

type cancellationJSON struct {
	CancelID                 string           `json:"cancel_id"`
	OrderID                  string           `json:"order_id"`
	CancelType               string           `json:"cancel_type"`
	CancelStatus             string           `json:"cancel_status"`
	Role                     string           `json:"role"`
	CancelReason             string           `json:"cancel_reason"`
	CancelReasonText         string           `json:"cancel_reason_text"`
	CreateTime               int64            `json:"create_time"`
	UpdateTime               int64            `json:"update_time"`
	RefundAmount             refundJSON       `json:"refund_amount"`
	SellerNextActionResponse []nextActionJSON `json:"seller_next_action_response"`
	CancelLineItems          []cancelLineJSON `json:"cancel_line_items"`
	ShouldReplenishStock     bool             `json:"should_replenish_stock"`
}

func (s *Server) renderCancellation(c *cancellation) cancellationJSON {
	cur := s.opts.Currency
	j := cancellationJSON{
		CancelID: c.id, OrderID: c.order.id, CancelType: c.cancelType(), CancelStatus: c.status, Role: c.role,
		CancelReason:     "ecom_order_canceled_reason_" + strings.ToLower(strings.ReplaceAll(c.reason, " ", "_")),
		CancelReasonText: c.reason, CreateTime: c.createTime, UpdateTime: c.updateTime,
		RefundAmount:             refundJSON{cur, (c.refundSub + c.refundShip + c.refundTax).String(), c.refundSub.String(), c.refundShip.String(), c.refundTax.String()},
		SellerNextActionResponse: []nextActionJSON{}, CancelLineItems: []cancelLineJSON{},
		ShouldReplenishStock: c.status == cancelComplete,
	}
	if c.status == cancelPending {
		j.SellerNextActionResponse = append(j.SellerNextActionResponse, nextActionJSON{"SELLER_RESPOND_CANCEL", c.deadline})
	}
	for _, l := range c.lines {
		j.CancelLineItems = append(j.CancelLineItems, cancelLineJSON{
			CancelLineItemID: "40" + l.id[2:], OrderLineItemID: l.id, SKUID: l.sku.id, SellerSKU: l.sku.sellerSKU,
			ProductName: l.sku.prod.title, SKUName: l.sku.name,
			RefundAmount: refundJSON{cur, (l.sale() + l.tax).String(), l.sale().String(), "0", l.tax.String()},
		})
	}
	return j
}

// apiSearchCancellations is POST /return_refund/202309/cancellations/search:
// page_size default 10, max 50; create_time ASC by default (reference §4).
func (s *Server) apiSearchCancellations(rq *apiRequest) (any, *apiError) {
	pp, e := readPageParams(rq.query, 10, 50, []string{"create_time", "update_time"}, false)
	if e != nil {
		return nil, e
	}
	var f cancellationSearch
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &f); e != nil {
		return nil, e
	}
	for _, st := range f.CancelStatus {
		if !slices.Contains(cancelStatuses, st) {
			return nil, invalidParam("cancel_status must be among %s, got %q.", strings.Join(cancelStatuses, ", "), st)
		}
	}
	for _, t := range f.CancelTypes {
		if t != "CANCEL" && t != "BUYER_CANCEL" {
			return nil, invalidParam("cancel_types must be among CANCEL, BUYER_CANCEL, got %q.", t)
		}
	}
	want := cursor{kind: 'c', sort: pp.sort[0], desc: pp.desc, filter: filterHash(f)}
	c, e := s.cursorFor(pp, want)
	if e != nil {
		return nil, e
	}
	key := func(c *cancellation) int64 { return c.createTime }
	if pp.sort == "update_time" {
		key = func(c *cancellation) int64 { return c.updateTime }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*cancellation
	for _, c := range s.cancels {
		if f.match(c) {
			match = append(match, c)
		}
	}
	page, more := keysetPage(match, key, func(c *cancellation) string { return c.id }, pp.desc, c, pp.size)
	out := make([]cancellationJSON, len(page))
	for i, c := range page {
		out[i] = s.renderCancellation(c)
	}
	next := ""
	if more {
		last := page[len(page)-1]
		want.key, want.id = key(last), last.id
		next = s.encodeCursor(want)
	}
	return map[string]any{"cancellations": out, "next_page_token": next, "total_count": len(match)}, nil
}

// pendingCancellation finds the request of an approve or reject call. A
// repeated call with the same idempotency_key answers as the first did.
func (s *Server) pendingCancellation(rq *apiRequest, action string) (*cancellation, bool, *apiError) {
	key := rq.query.Get("idempotency_key")
	if len(key) > 255 {
		return nil, false, invalidParam("idempotency_key is longer than 255 characters.")
	}
	c := s.cancelByID[rq.params["cancel_id"]]
	if c == nil {
		return nil, false, invalidParam("cancel_id %q is not a cancellation of this shop.", rq.params["cancel_id"])
	}
	if key != "" && c.idempotency[key] == action {
		return c, true, nil
	}
	if c.status != cancelPending {
		return nil, false, invalidParam("cancellation %s is not pending (its status is %s).", c.id, c.status)
	}
	if key != "" {
		if c.idempotency == nil {
			c.idempotency = map[string]string{}
		}
		c.idempotency[key] = action
	}
	return c, false, nil
}

// apiApproveCancellation is POST /return_refund/202309/cancellations/{cancel_id}/approve.
func (s *Server) apiApproveCancellation(rq *apiRequest) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, done, e := s.pendingCancellation(rq, "approve")
	if e != nil || done {
		return struct{}{}, e
	}
	if c.order.status == "CANCELLED" || slices.ContainsFunc(c.lines, func(l *line) bool { return l.shipped }) {
		return nil, invalidParam("order %s has shipped or is cancelled since the request; it can no longer be approved.", c.order.id)
	}
	at := max(rq.now.Unix(), c.order.updateTime)
	s.executeCancel(c.order, c.lines, c.role, c.reason, at, c)
	return struct{}{}, nil
}

type rejectBody struct {
	RejectReason string `json:"reject_reason"`
	Comment      string `json:"comment,omitempty"`
	Images       []struct {
		ImageID  string `json:"image_id"`
		MimeType string `json:"mime_type"`
		Height   int    `json:"height"`
		Width    int    `json:"width"`
	} `json:"images,omitempty"`
}

// apiRejectCancellation is POST /return_refund/202309/cancellations/{cancel_id}/reject.
func (s *Server) apiRejectCancellation(rq *apiRequest) (any, *apiError) {
	var b rejectBody
	if e := decodeBody(rq.body, rq.r.Header.Get("Content-Type"), &b); e != nil {
		return nil, e
	}
	if b.RejectReason == "" {
		return nil, invalidParam("reject_reason is required.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, done, e := s.pendingCancellation(rq, "reject")
	if e != nil || done {
		return struct{}{}, e
	}
	at := max(rq.now.Unix(), c.order.updateTime)
	c.status, c.updateTime = cancelRejected, at
	c.order.buyerRequestCancel = false
	c.order.updateTime = at
	s.emitCancellation(c)
	return struct{}{}, nil
}
