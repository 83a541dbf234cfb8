package tiktoksim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

var idPattern = regexp.MustCompile(`^[1-9][0-9]{17,18}$`)

// Every seeded order: one line item per unit, and TikTok's payment
// identities exact to the cent; and the demo covers every case real shops
// send.
func TestSeededOrdersAreRealistic(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{Demo: true, Seed: 42})
	orders := f.allOrders(f.q("page_size", "7"), `{}`)
	if len(orders) < 20 {
		t.Fatalf("%d demo orders, want about twenty", len(orders))
	}
	seen := map[string]bool{}
	for _, o := range orders {
		if !idPattern.MatchString(o.ID) {
			t.Errorf("order id %q is not an 18-19 digit string", o.ID)
		}
		p := o.Payment
		var sale, original, seller, platform, tax int64
		for _, l := range o.LineItems {
			for _, id := range []string{l.ID, l.SKUID} {
				if !idPattern.MatchString(id) {
					t.Errorf("order %s: id %q is not an 18-19 digit string", o.ID, id)
				}
			}
			ls, lo, lsd, lpd := cents(t, l.SalePrice), cents(t, l.OriginalPrice), cents(t, l.SellerDiscount), cents(t, l.PlatformDiscount)
			if ls != lo-lsd-lpd || ls < 0 {
				t.Errorf("order %s line %s: sale %s != original %s - seller %s - platform %s", o.ID, l.ID, l.SalePrice, l.OriginalPrice, l.SellerDiscount, l.PlatformDiscount)
			}
			if l.IsGift && ls != 0 {
				t.Errorf("order %s: a gift sells for %s", o.ID, l.SalePrice)
			}
			sale, original, seller, platform = sale+ls, original+lo, seller+lsd, platform+lpd
			for _, tx := range l.ItemTax {
				tax += cents(t, tx.TaxAmount)
			}
		}
		sub := cents(t, p["sub_total"])
		if sale != sub || original-seller-platform != sub {
			t.Errorf("order %s: Σ sale %d, Σ original−discounts %d, sub_total %d", o.ID, sale, original-seller-platform, sub)
		}
		if original != cents(t, p["original_total_product_price"]) || seller != cents(t, p["seller_discount"]) || platform != cents(t, p["platform_discount"]) {
			t.Errorf("order %s: line sums differ from the payment %v", o.ID, p)
		}
		ship := cents(t, p["original_shipping_fee"]) - cents(t, p["shipping_fee_seller_discount"]) - cents(t, p["shipping_fee_platform_discount"])
		if ship != cents(t, p["shipping_fee"]) {
			t.Errorf("order %s: shipping identity fails: %v", o.ID, p)
		}
		if tax != cents(t, p["product_tax"]) || cents(t, p["tax"]) != cents(t, p["product_tax"])+cents(t, p["shipping_fee_tax"]) {
			t.Errorf("order %s: taxes: item taxes %d, payment %v", o.ID, tax, p)
		}
		if cents(t, p["total_amount"]) != sub+ship+cents(t, p["tax"]) {
			t.Errorf("order %s: total_amount %s != sub_total + shipping_fee + tax", o.ID, p["total_amount"])
		}
		hidden := o.Status == "UNPAID" || o.Status == "ON_HOLD"
		if hidden && (o.RecipientAddress != nil || len(o.Packages) != 0) {
			t.Errorf("order %s is %s but shows an address or packages", o.ID, o.Status)
		}
		if !hidden && o.Status != "CANCELLED" && (o.RecipientAddress == nil || len(o.Packages) == 0) {
			t.Errorf("order %s is %s but has no address or package", o.ID, o.Status)
		}
		if o.IsOnHoldOrder != (o.Status == "ON_HOLD") {
			t.Errorf("order %s: is_on_hold_order %v in %s", o.ID, o.IsOnHoldOrder, o.Status)
		}

		// What the order shows, for the coverage check below.
		seen["status "+o.Status] = true
		seen["shipping "+o.ShippingType] = true
		seen[o.FulfillmentType] = true
		if p["shipping_fee_tax"] != "0" || tax > 0 {
			seen["taxes"] = true
		}
		if platform > 0 {
			seen["platform discount"] = true
		}
		pkgs, units, prices := map[string]bool{}, map[string]int{}, map[string]map[string]bool{}
		cancelledLines := 0
		for _, l := range o.LineItems {
			pkgs[l.PackageID] = true
			units[l.SKUID]++
			if prices[l.SKUID] == nil {
				prices[l.SKUID] = map[string]bool{}
			}
			prices[l.SKUID][l.SalePrice] = true
			if l.IsGift {
				seen["gift"] = true
			}
			if l.DisplayStatus == "CANCELLED" {
				cancelledLines++
			}
			if l.SalePrice == "3.34" {
				seen["10.00 over three units"] = true
			}
		}
		if len(pkgs) > 1 {
			seen["split packages"] = true
		}
		for sku, n := range units {
			if n > 1 {
				seen["several units of one SKU"] = true
			}
			if len(prices[sku]) > 1 {
				seen["unequal unit prices of one SKU"] = true
			}
		}
		if cancelledLines > 0 && o.Status != "CANCELLED" {
			seen["line-level cancellation"] = true
		}
		if o.IsBuyerReqCancel {
			seen["pending cancellation request"] = true
		}
	}
	for _, want := range []string{
		"status UNPAID", "status ON_HOLD", "status AWAITING_SHIPMENT", "status PARTIALLY_SHIPPING", "status AWAITING_COLLECTION",
		"status IN_TRANSIT", "status DELIVERED", "status COMPLETED", "status CANCELLED",
		"shipping SELLER", "shipping TIKTOK", "FULFILLMENT_BY_TIKTOK", "FULFILLMENT_BY_SELLER",
		"gift", "split packages", "several units of one SKU", "unequal unit prices of one SKU", "10.00 over three units",
		"line-level cancellation", "pending cancellation request", "taxes", "platform discount",
	} {
		if !seen[want] {
			t.Errorf("the demo orders lack: %s", want)
		}
	}
}

// Orders placed while a client walks the pages never make it skip or repeat
// an order that existed when it started, in any sort.
func TestPagingIsStableWhileOrdersArrive(t *testing.T) {
	for _, sort := range []struct{ field, order string }{{"create_time", "DESC"}, {"create_time", "ASC"}, {"update_time", "DESC"}, {"update_time", "ASC"}} {
		t.Run(sort.field+"_"+sort.order, func(t *testing.T) {
			f := newFixture(t, tiktoksim.Options{Seed: 7})
			f.addProduct("S1", 5000, "1.5")
			existing := map[string]bool{}
			for i := range 130 {
				if i%4 == 0 {
					f.clock.Add(time.Second) // several orders share a second: ties on the sort key
				}
				existing[f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 1})] = true
			}
			seen := map[string]int{}
			token, pages := "", 0
			for {
				q := f.q("page_size", "9", "sort_field", sort.field, "sort_order", sort.order)
				if token != "" {
					q.Set("page_token", token)
				}
				var page searchPage
				f.ok("POST", "/order/202309/orders/search", q, `{"order_status":"AWAITING_SHIPMENT"}`, &page)
				for _, o := range page.Orders {
					seen[o.ID]++
				}
				pages++
				// New orders arrive between pages, some in the same second.
				for range 3 {
					f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 1})
				}
				f.clock.Add(time.Second)
				if token = page.NextPageToken; token == "" {
					break
				}
			}
			for id := range existing {
				if seen[id] != 1 {
					t.Errorf("pre-existing order %s seen %d times over %d pages", id, seen[id], pages)
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("order %s seen %d times", id, n)
				}
			}
		})
	}
}

func TestPageTokensSurviveTheWire(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{Demo: true})
	var page searchPage
	f.ok("POST", "/order/202309/orders/search", f.q("page_size", "2"), `{}`, &page)
	tok := page.NextPageToken
	if !strings.ContainsAny(tok, "+") || !strings.Contains(tok, "/") || !strings.HasSuffix(tok, "=") {
		t.Fatalf("page token %q should carry '+', '/' and '=' padding to catch encoding bugs", tok)
	}
	if n, _ := page.TotalCount.Int64(); n != int64(len(f.sim.OrderIDs())) {
		t.Errorf("total_count %s, want %d", page.TotalCount, len(f.sim.OrderIDs()))
	}
	// Correctly URL-encoded and signed decoded: the next page.
	var next searchPage
	f.ok("POST", "/order/202309/orders/search", f.q("page_size", "2", "page_token", tok), `{}`, &next)
	if len(next.Orders) != 2 || next.Orders[0].ID == page.Orders[0].ID {
		t.Fatalf("second page: %+v", next.Orders)
	}
	// Sent raw, '+' arrives as a space: the signature over the decoded
	// value no longer matches.
	req := f.newRequest("POST", "/order/202309/orders/search", f.q("page_size", "2", "page_token", tok), `{}`)
	req.URL.RawQuery = strings.Replace(req.URL.RawQuery, url.QueryEscape(tok), tok, 1)
	if r := f.do(req); r.Code == 0 {
		t.Error("an unencoded page token was accepted")
	}
	// Signed over the encoded value instead of the decoded one.
	q := f.q("page_size", "2", "page_token", tok, "app_key", testKey, "timestamp", strconv.FormatInt(f.clock.Now().Unix(), 10))
	signQ := cloneValues(q)
	signQ.Set("page_token", url.QueryEscape(tok))
	q.Set("sign", tiktok.Sign(testSecret, "/order/202309/orders/search", signQ, []byte(`{}`), "application/json"))
	req, _ = http.NewRequest("POST", f.srv.URL+"/order/202309/orders/search?"+q.Encode(), strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-tts-access-token", f.token)
	wantCode(t, "signed over the encoded token", f.do(req), 200, 106001, "sign")
	// A token is only good for the query it came from.
	wantCode(t, "token with another sort", f.call("POST", "/order/202309/orders/search", f.q("page_size", "2", "page_token", tok, "sort_order", "ASC"), `{}`), 200, 36009004, "page_token")
	wantCode(t, "token with other filters", f.call("POST", "/order/202309/orders/search", f.q("page_size", "2", "page_token", tok), `{"order_status":"UNPAID"}`), 200, 36009004, "page_token")
	tampered := []byte(tok)
	tampered[5] ^= 1
	wantCode(t, "tampered token", f.call("POST", "/order/202309/orders/search", f.q("page_size", "2", "page_token", string(tampered)), `{}`), 200, 36009004, "page_token")
}

func TestSearchFilters(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	f.addProduct("S1", 100, "2")
	t0 := f.clock.Now().Unix()
	a := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 1})
	f.clock.Add(10 * time.Second)
	b, _ := f.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "S1", Quantity: 1}}, ShippingType: "SELLER", Status: "UNPAID"})
	f.clock.Add(10 * time.Second)
	if err := f.sim.SetOrderStatus(a, "IN_TRANSIT"); err != nil {
		t.Fatal(err)
	}
	ids := func(body string) []string {
		var out []string
		for _, o := range f.allOrders(f.q("page_size", "50", "sort_order", "ASC"), body) {
			out = append(out, o.ID)
		}
		return out
	}
	for _, c := range []struct {
		body string
		want []string
	}{
		{`{}`, []string{a, b}},
		{fmt.Sprintf(`{"create_time_ge":%d,"create_time_lt":%d}`, t0, t0+10), []string{a}}, // lt is exclusive
		{fmt.Sprintf(`{"create_time_ge":%d}`, t0+10), []string{b}},                         // ge is inclusive
		{fmt.Sprintf(`{"update_time_ge":%d}`, t0+20), []string{a}},                         // a moved at t0+20
		{`{"order_status":"UNPAID"}`, []string{b}},
		{`{"shipping_type":"SELLER"}`, []string{b}},
		{`{"order_status":"CANCELLED"}`, nil},
	} {
		if got := ids(c.body); !reflect.DeepEqual(got, c.want) {
			t.Errorf("filter %s: %v, want %v", c.body, got, c.want)
		}
	}
}

// Two servers with the same seed and demo data hold the same orders (ids,
// lines, amounts), whatever the clock says.
func TestSameSeedSameOrders(t *testing.T) {
	dump := func(seed uint64, at time.Time) string {
		sim := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: seed, Demo: true, Now: func() time.Time { return at }})
		defer sim.Close()
		var all []any
		for _, id := range sim.OrderIDs() {
			raw, err := sim.Order(id)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			all = append(all, stripTimes(v))
		}
		out, _ := json.Marshal(map[string]any{"orders": all, "skus": sim.SKUs(), "shop": sim.Shop()})
		return string(out)
	}
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := dump(99, t1), dump(99, t1.Add(37*time.Hour+11*time.Second))
	if a != b {
		t.Fatalf("same seed, different data:\n%s\n%s", a, b)
	}
	if c := dump(100, t1); c == a {
		t.Fatal("another seed gives the same data")
	}
}

// stripTimes drops every unix time stamp: the only thing the clock decides.
func stripTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasSuffix(k, "_time") || k == "timestamp" {
				delete(x, k)
				continue
			}
			x[k] = stripTimes(val)
		}
	case []any:
		for i := range x {
			x[i] = stripTimes(x[i])
		}
	}
	return v
}

func TestCancellations(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{Demo: true})
	type cancellation struct {
		CancelID     string `json:"cancel_id"`
		OrderID      string `json:"order_id"`
		CancelStatus string `json:"cancel_status"`
		Role         string `json:"role"`
		RefundAmount struct {
			RefundTotal string `json:"refund_total"`
		} `json:"refund_amount"`
		CancelLineItems []struct {
			OrderLineItemID string `json:"order_line_item_id"`
		} `json:"cancel_line_items"`
	}
	var res struct {
		Cancellations []cancellation `json:"cancellations"`
		NextPageToken string         `json:"next_page_token"`
		TotalCount    int            `json:"total_count"`
	}
	f.ok("POST", "/return_refund/202309/cancellations/search", f.q(), `{}`, &res)
	if res.TotalCount != 4 || len(res.Cancellations) != 4 {
		t.Fatalf("demo cancellations: %d (%d), want 4 (an unpaid order has none)", res.TotalCount, len(res.Cancellations))
	}
	var pending cancellation
	for _, c := range res.Cancellations {
		if c.CancelStatus == "CANCELLATION_REQUEST_PENDING" {
			pending = c
		}
		if len(c.CancelLineItems) == 0 || cents(t, c.RefundAmount.RefundTotal) <= 0 {
			t.Errorf("cancellation %+v has no lines or no refund", c)
		}
	}
	if pending.CancelID == "" {
		t.Fatal("no pending request in the demo")
	}
	wantCode(t, "page_size 51", f.call("POST", "/return_refund/202309/cancellations/search", f.q("page_size", "51"), `{}`), 200, 36009004, "page_size")

	// The seller approves the pending request: the order is cancelled, its
	// stock returns.
	var o apiOrder
	f.mustControl("GET", "/_sim/orders/"+pending.OrderID, nil, &o)
	before := f.sku(o.LineItems[0].SellerSKU)
	path := "/return_refund/202309/cancellations/" + pending.CancelID + "/approve"
	f.ok("POST", path, f.q("idempotency_key", "k1"), "", nil)
	f.ok("POST", path, f.q("idempotency_key", "k1"), "", nil) // a retry of the same call
	wantCode(t, "approve twice with another key", f.call("POST", path, f.q("idempotency_key", "k2"), ""), 200, 36009004, "not pending")
	f.mustControl("GET", "/_sim/orders/"+pending.OrderID, nil, &o)
	after := f.sku(o.LineItems[0].SellerSKU)
	if o.Status != "CANCELLED" || o.IsBuyerReqCancel || after.Stock != before.Stock+1 || after.Committed != before.Committed-1 {
		t.Errorf("after approval: order %s (request %v), stock %d→%d", o.Status, o.IsBuyerReqCancel, before.Stock, after.Stock)
	}

	// A buyer's request the seller rejects leaves the order as it was.
	id := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "MUG-WHT-350", Quantity: 1})
	var req struct {
		CancelID string `json:"cancel_id"`
	}
	f.mustControl("POST", "/_sim/orders/"+id+"/cancel", `{"request":true}`, &req)
	f.mustControl("GET", "/_sim/orders/"+id, nil, &o)
	if !o.IsBuyerReqCancel {
		t.Fatal("a buyer's request does not show on the order")
	}
	wantCode(t, "reject without a reason", f.call("POST", "/return_refund/202309/cancellations/"+req.CancelID+"/reject", f.q(), `{}`), 200, 36009004, "reject_reason")
	f.ok("POST", "/return_refund/202309/cancellations/"+req.CancelID+"/reject", f.q(), `{"reject_reason":"seller_reject_apply_product_has_been_packed"}`, nil)
	f.mustControl("GET", "/_sim/orders/"+id, nil, &o)
	if o.Status != "AWAITING_SHIPMENT" || o.IsBuyerReqCancel {
		t.Errorf("after rejection: %s, request %v", o.Status, o.IsBuyerReqCancel)
	}
	f.ok("POST", "/return_refund/202309/cancellations/search", f.q(), `{"order_ids":["`+id+`"],"cancel_status":["CANCELLATION_REQUEST_CANCEL"]}`, &res)
	if len(res.Cancellations) != 1 {
		t.Errorf("the rejected request is not found by status: %+v", res)
	}
}

// A quantity-3 line arrives as three line items, each with its own price to
// the cent; a gift is a line of its own at 0; packages split as asked.
func TestOneLineItemPerUnit(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	f.addProduct("SOCK", 10, "4")
	f.addProduct("PIN", 10, "1.5")
	var placed struct {
		OrderID string `json:"order_id"`
	}
	f.mustControl("POST", "/_sim/orders", `{"lines":[
		{"seller_sku":"SOCK","quantity":3,"seller_discount":"2"},
		{"seller_sku":"PIN","quantity":1,"is_gift":true,"package":2}]}`, &placed)
	var res struct {
		Orders []map[string]json.RawMessage `json:"orders"`
	}
	f.ok("GET", "/order/202309/orders", f.q("ids", placed.OrderID), "", &res)
	var lines []map[string]any
	if err := json.Unmarshal(res.Orders[0]["line_items"], &lines); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("%d line items, want 4 (one per unit)", len(lines))
	}
	var sales []string
	for _, l := range lines {
		if _, ok := l["quantity"]; ok {
			t.Error("a line item has a quantity field; TikTok sends one line item per unit")
		}
		sales = append(sales, l["sale_price"].(string))
	}
	if want := []string{"3.33", "3.33", "3.34", "0"}; !reflect.DeepEqual(sales, want) {
		t.Errorf("sale prices %v, want %v", sales, want)
	}
	if lines[0]["sku_id"] != lines[2]["sku_id"] || lines[0]["package_id"] == lines[3]["package_id"] || lines[3]["is_gift"] != true {
		t.Errorf("line items %v", lines)
	}
	var payment map[string]string
	json.Unmarshal(res.Orders[0]["payment"], &payment)
	if payment["sub_total"] != "10" || payment["original_total_product_price"] != "13.5" || payment["seller_discount"] != "3.5" {
		t.Errorf("payment %v: 3×4 − 2 = 10, the gift's 1.5 given away by the seller", payment)
	}
	if f.sku("PIN").Committed != 1 {
		t.Error("a gift takes a unit of stock too")
	}
}
