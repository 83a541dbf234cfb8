package tiktok

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Order is one order as TikTok sent it: the few fields the client needs to
// page and window, and the raw object, which is what gets landed.
type Order struct {
	ID         string
	Status     string
	CreateTime int64
	UpdateTime int64
	Raw        json.RawMessage
}

func (o *Order) UnmarshalJSON(b []byte) error {
	var head struct {
		ID         FlexString `json:"id"`
		Status     string     `json:"status"`
		CreateTime FlexInt    `json:"create_time"`
		UpdateTime FlexInt    `json:"update_time"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	// An order without an id is kept with its raw bytes: landing stores it
	// and reports it, instead of one bad order failing the whole page.
	*o = Order{ID: string(head.ID), Status: head.Status, CreateTime: int64(head.CreateTime), UpdateTime: int64(head.UpdateTime), Raw: append(json.RawMessage(nil), b...)}
	return nil
}

// OrderFilter selects orders by time (unix seconds; _ge inclusive, _lt
// exclusive) and status.
type OrderFilter struct {
	UpdateTimeGE int64  `json:"update_time_ge,omitempty"`
	UpdateTimeLT int64  `json:"update_time_lt,omitempty"`
	CreateTimeGE int64  `json:"create_time_ge,omitempty"`
	CreateTimeLT int64  `json:"create_time_lt,omitempty"`
	OrderStatus  string `json:"order_status,omitempty"`
	ShippingType string `json:"shipping_type,omitempty"`
}

// MaxOrderPageSize is order search's largest page.
const MaxOrderPageSize = 100

// SearchOrders walks every page of orders matching f in ascending
// update_time, calling fn once per page.
func (c *Client) SearchOrders(ctx context.Context, shop Shop, f OrderFilter, pageSize int, fn func([]Order) error) error {
	if pageSize <= 0 || pageSize > MaxOrderPageSize {
		pageSize = MaxOrderPageSize
	}
	req := Request{
		Endpoint: SearchOrders, Shop: shop, Body: f,
		Query: url.Values{"sort_field": {"update_time"}, "sort_order": {"ASC"}},
	}
	return c.walk(ctx, req, pageSize, func(data json.RawMessage) (page, error) {
		var out struct {
			page
			Orders []Order `json:"orders"`
		}
		if err := unmarshalNumbers(data, &out); err != nil {
			return page{}, err
		}
		return out.page, fn(out.Orders)
	})
}

// OrderWindow is the update_time window a poll asks for: from the last
// watermark minus overlap (so orders updated in the same second, or landed
// late by TikTok, are read again) up to now minus lag (TikTok's search index
// trails its writes).
func OrderWindow(watermark, now time.Time, lag, overlap time.Duration) (ge, lt int64) {
	ge = watermark.Add(-overlap).Unix()
	lt = now.Add(-lag).Unix()
	if ge < 0 {
		ge = 0
	}
	return ge, lt
}

// MaxOrderDetailIDs is how many ids one order detail call takes.
const MaxOrderDetailIDs = 50

// OrderDetails fetches orders by id, in calls of at most 50 ids.
func (c *Client) OrderDetails(ctx context.Context, shop Shop, ids []string) ([]Order, error) {
	var all []Order
	for start := 0; start < len(ids); start += MaxOrderDetailIDs {
		end := min(start+MaxOrderDetailIDs, len(ids))
		var out struct {
			Orders []Order `json:"orders"`
		}
		req := Request{Endpoint: GetOrderDetail, Shop: shop, Query: url.Values{"ids": {strings.Join(ids[start:end], ",")}}}
		if err := c.Do(ctx, req, &out); err != nil {
			return all, err
		}
		all = append(all, out.Orders...)
	}
	return all, nil
}

// Cancellation is one cancellation request, raw for landing.
type Cancellation struct {
	CancelID     string
	OrderID      string
	CancelStatus string
	UpdateTime   int64
	Raw          json.RawMessage
}

func (x *Cancellation) UnmarshalJSON(b []byte) error {
	var head struct {
		CancelID     FlexString `json:"cancel_id"`
		OrderID      FlexString `json:"order_id"`
		CancelStatus string     `json:"cancel_status"`
		UpdateTime   FlexInt    `json:"update_time"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	*x = Cancellation{CancelID: string(head.CancelID), OrderID: string(head.OrderID), CancelStatus: head.CancelStatus, UpdateTime: int64(head.UpdateTime), Raw: append(json.RawMessage(nil), b...)}
	return nil
}

// CancellationFilter selects cancellations.
type CancellationFilter struct {
	OrderIDs     []string `json:"order_ids,omitempty"`
	CancelStatus []string `json:"cancel_status,omitempty"`
	UpdateTimeGE int64    `json:"update_time_ge,omitempty"`
	UpdateTimeLT int64    `json:"update_time_lt,omitempty"`
}

// MaxCancellationPageSize is cancellation search's largest page.
const MaxCancellationPageSize = 50

// SearchCancellations walks every page of cancellations matching f.
func (c *Client) SearchCancellations(ctx context.Context, shop Shop, f CancellationFilter, fn func([]Cancellation) error) error {
	req := Request{Endpoint: SearchCancellations, Shop: shop, Body: f}
	return c.walk(ctx, req, MaxCancellationPageSize, func(data json.RawMessage) (page, error) {
		var out struct {
			page
			Cancellations []Cancellation `json:"cancellations"`
		}
		if err := unmarshalNumbers(data, &out); err != nil {
			return page{}, err
		}
		return out.page, fn(out.Cancellations)
	})
}
