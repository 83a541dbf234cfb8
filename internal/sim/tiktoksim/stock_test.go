package tiktoksim_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

func TestBuyingMoreThanAvailableChangesNothing(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	f.addProduct("S1", 3, "19.99")
	f.addProduct("S2", 10, "5")
	before, orders := f.sim.SKUs(), f.sim.Stats().Orders
	var e struct{ Error string }
	st := f.control("POST", "/_sim/orders", `{"lines":[{"seller_sku":"S2","quantity":2},{"seller_sku":"S1","quantity":4}]}`, &e)
	if st != 409 || !strings.Contains(e.Error, "S1 has 3 available") {
		t.Fatalf("HTTP %d %q, want 409 naming the short SKU", st, e.Error)
	}
	// Two lines of one SKU count together.
	_, err := f.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "S1", Quantity: 2}, {SellerSKU: "S1", Quantity: 2}}})
	if !errors.Is(err, tiktoksim.ErrConflict) {
		t.Fatalf("2+2 units of a SKU with 3: %v, want a conflict", err)
	}
	if after := f.sim.SKUs(); !reflect.DeepEqual(before, after) || f.sim.Stats().Orders != orders {
		t.Fatalf("a refused order changed the shop:\nbefore %+v\nafter  %+v", before, after)
	}
	// Exactly what is available can be bought.
	f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 3})
	if s := f.sku("S1"); s.Stock != 0 || s.Committed != 3 {
		t.Fatalf("after buying all: %+v", s)
	}
}

func TestStockMovesAsOnTikTok(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	created := f.addProduct("S1", 10, "19.99")
	want := func(what string, stock, committed int) {
		t.Helper()
		s := f.sku("S1")
		if s.Stock != stock || s.Committed != committed {
			t.Fatalf("%s: stock %d committed %d, want %d and %d", what, s.Stock, s.Committed, stock, committed)
		}
		// The API's inventory search tells the same.
		var inv struct {
			Inventory []struct {
				SKUs []struct {
					ID                     string `json:"id"`
					TotalAvailableQuantity int    `json:"total_available_quantity"`
					TotalCommittedQuantity int    `json:"total_committed_quantity"`
				} `json:"skus"`
			} `json:"inventory"`
		}
		f.ok("POST", "/product/202309/inventory/search", f.q(), `{"sku_ids":["`+created.SKUID+`"]}`, &inv)
		got := inv.Inventory[0].SKUs[0]
		if got.TotalAvailableQuantity != stock || got.TotalCommittedQuantity != committed {
			t.Fatalf("%s: inventory search says %+v", what, got)
		}
	}
	a := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 3})
	want("a sale of 3", 7, 3)
	b := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 2})
	want("another sale of 2", 5, 5)

	update := func(qty string) resp {
		return f.call("POST", "/product/202309/products/"+created.ProductID+"/inventory/update", f.q(),
			`{"skus":[{"id":"`+created.SKUID+`","inventory":[{"quantity":`+qty+`}]}]}`)
	}
	if r := update("20"); r.Code != 0 || string(r.Data) != "{}" {
		t.Fatalf("update: code %d data %s", r.Code, r.Data)
	}
	want("an update sets available, not on hand", 20, 5)
	if s := f.sku("S1"); s.InventoryUpdates != 1 || s.LastPushed == nil || *s.LastPushed != 20 {
		t.Fatalf("pushed inventory not recorded: %+v", s)
	}

	if _, err := f.sim.CancelOrder(a, tiktoksim.CancelRequest{}); err != nil {
		t.Fatal(err)
	}
	want("a cancellation before dispatch returns the units", 23, 2)

	if err := f.sim.SetOrderStatus(b, "IN_TRANSIT"); err != nil {
		t.Fatal(err)
	}
	want("dispatch removes the units from committed", 23, 0)
	if _, err := f.sim.CancelOrder(b, tiktoksim.CancelRequest{}); !errors.Is(err, tiktoksim.ErrConflict) {
		t.Fatalf("cancelling a shipped order: %v, want a conflict", err)
	}
	var e struct{ Error string }
	if st := f.control("POST", "/_sim/orders/"+b+"/cancel", nil, &e); st != 409 {
		t.Fatalf("control cancel of a shipped order: HTTP %d", st)
	}
	want("nothing moved", 23, 0)

	// A line-level cancellation returns only its units.
	c := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 3})
	want("a sale of 3", 20, 3)
	var out struct {
		CancelID string `json:"cancel_id"`
	}
	f.mustControl("POST", "/_sim/orders/"+c+"/cancel", `{"lines":[{"seller_sku":"S1","quantity":1}]}`, &out)
	want("one unit cancelled", 21, 2)
	var o apiOrder
	f.mustControl("GET", "/_sim/orders/"+c, nil, &o)
	cancelled := 0
	for _, l := range o.LineItems {
		if l.DisplayStatus == "CANCELLED" {
			cancelled++
			if l.CancelUser != "BUYER" {
				t.Errorf("cancelled line's cancel_user = %q", l.CancelUser)
			}
		}
	}
	if o.Status != "AWAITING_SHIPMENT" || cancelled != 1 || out.CancelID == "" {
		t.Fatalf("after a line cancellation: status %s, %d lines cancelled, cancel id %q", o.Status, cancelled, out.CancelID)
	}
}

func TestInventoryUpdateErrorsPerSKU(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	created, err := f.sim.AddProducts([]tiktoksim.NewProduct{
		{SellerSKU: "A", Stock: 5, Price: "1", Product: "P"},
		{SellerSKU: "B", Stock: 5, Price: "1", Product: "P"},
		{SellerSKU: "C", Stock: 5, Price: "1", Product: "P"},
	})
	if err != nil {
		t.Fatal(err)
	}
	other := f.addProduct("OTHER", 5, "1")
	if err := f.sim.LockSKU("C", 4); err != nil {
		t.Fatal(err)
	}
	path := "/product/202309/products/" + created[0].ProductID + "/inventory/update"
	type result struct {
		Errors []struct {
			Code   int `json:"code"`
			Detail struct {
				SKUID       string `json:"sku_id"`
				ExtraErrors []struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"extra_errors"`
			} `json:"detail"`
		} `json:"errors"`
	}
	body := fmt.Sprintf(`{"skus":[
		{"id":"%s","inventory":[{"quantity":7}]},
		{"id":"%s","inventory":[{"quantity":-1}]},
		{"id":"%s","inventory":[{"quantity":3}]},
		{"id":"%s","inventory":[{"quantity":99999}]},
		{"id":"%s","inventory":[{"quantity":1}]}]}`,
		created[0].SKUID, created[1].SKUID, created[2].SKUID, created[1].SKUID, other.SKUID)
	var res result
	f.ok("POST", path, f.q(), body, &res)
	got := map[string]int{}
	for _, e := range res.Errors {
		if e.Code != 12052990 || len(e.Detail.ExtraErrors) == 0 {
			t.Errorf("per-SKU error %+v, want code 12052990 with extra errors", e)
			continue
		}
		got[e.Detail.SKUID+fmt.Sprint(len(got))] = e.Detail.ExtraErrors[0].Code
	}
	want := map[string]int{
		created[1].SKUID + "0": 12019024, // negative
		created[2].SKUID + "1": 12052393, // below the campaign lock
		created[1].SKUID + "2": 12052553, // the same SKU twice
		other.SKUID + "3":      12052557, // a SKU of another product
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	if a, b, c := f.sku("A"), f.sku("B"), f.sku("C"); a.Stock != 7 || b.Stock != 5 || c.Stock != 5 {
		t.Errorf("stock after a partly failed batch: A %d, B %d, C %d; want 7, 5, 5", a.Stock, b.Stock, c.Stock)
	}
	if st := f.sim.Stats(); st.InventoryUpdates != 1 || st.InventoryUpdateErrors != 4 {
		t.Errorf("stats: %d updates, %d errors", st.InventoryUpdates, st.InventoryUpdateErrors)
	}
	// Too large is refused as well.
	res = result{}
	f.ok("POST", path, f.q(), `{"skus":[{"id":"`+created[1].SKUID+`","inventory":[{"quantity":99999}]}]}`, &res)
	if len(res.Errors) != 1 || res.Errors[0].Detail.ExtraErrors[0].Code != 12019024 {
		t.Errorf("99999 units: %+v", res)
	}
	// At the lock is fine.
	res = result{}
	f.ok("POST", path, f.q(), `{"skus":[{"id":"`+created[2].SKUID+`","inventory":[{"quantity":4}]}]}`, &res)
	if len(res.Errors) != 0 || f.sku("C").Stock != 4 {
		t.Errorf("update to the locked quantity: %+v, stock %d", res, f.sku("C").Stock)
	}

	// With two warehouses, warehouse_id is required.
	var wh struct {
		WarehouseID string `json:"warehouse_id"`
	}
	f.mustControl("POST", "/_sim/warehouses", `{"name":"Overflow"}`, &wh)
	res = result{}
	f.ok("POST", path, f.q(), `{"skus":[{"id":"`+created[0].SKUID+`","inventory":[{"quantity":2}]}]}`, &res)
	if len(res.Errors) != 1 || res.Errors[0].Detail.ExtraErrors[0].Code != 12019028 {
		t.Errorf("no warehouse_id with two warehouses: %+v", res)
	}
	res = result{}
	f.ok("POST", path, f.q(), `{"skus":[{"id":"`+created[0].SKUID+`","inventory":[{"warehouse_id":"`+wh.WarehouseID+`","quantity":2}]}]}`, &res)
	if a := f.sku("A"); len(res.Errors) != 0 || a.Stock != 9 {
		t.Errorf("update of the second warehouse: %+v, stock %d (want 7+2)", res, a.Stock)
	}

	wantCode(t, "unknown product", f.call("POST", "/product/202309/products/1799999999999999999/inventory/update", f.q(), `{"skus":[{"id":"1","inventory":[{"quantity":1}]}]}`), 200, 12019150, "does not exist")
	wantCode(t, "no skus", f.call("POST", path, f.q(), `{"skus":[]}`), 200, 36009004, "skus")
}

func TestProductSearchAndWarehouses(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{Demo: true})
	var res struct {
		Products []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			SKUs   []struct {
				ID        string `json:"id"`
				SellerSKU string `json:"seller_sku"`
				Price     struct {
					Currency  string `json:"currency"`
					SalePrice string `json:"sale_price"`
				} `json:"price"`
				Inventory []struct {
					WarehouseID string `json:"warehouse_id"`
					Quantity    int    `json:"quantity"`
				} `json:"inventory"`
			} `json:"skus"`
		} `json:"products"`
		NextPageToken string `json:"next_page_token"`
		TotalCount    int    `json:"total_count"`
	}
	f.ok("POST", "/product/202309/products/search", f.q("page_size", "20"), `{"seller_skus":["TEE-BLK-L"],"status":"ALL"}`, &res)
	if len(res.Products) != 1 || len(res.Products[0].SKUs) != 2 || res.TotalCount != 1 {
		t.Fatalf("search by seller SKU: %+v", res)
	}
	tee := f.sku("TEE-BLK-L")
	for _, k := range res.Products[0].SKUs {
		if k.SellerSKU == "TEE-BLK-L" && (k.ID != tee.SKUID || k.Inventory[0].Quantity != tee.Stock || k.Price.SalePrice != "12.99" || k.Price.Currency != "GBP") {
			t.Errorf("SKU %+v, want id %s stock %d price 12.99 GBP", k, tee.SKUID, tee.Stock)
		}
	}
	eleven := `{"seller_skus":["a","b","c","d","e","f","g","h","i","j","k"]}`
	wantCode(t, "11 seller SKUs", f.call("POST", "/product/202309/products/search", f.q("page_size", "20"), eleven), 200, 12019027, "10")
	f.ok("POST", "/product/202309/products/search", f.q("page_size", "20"), `{"status":"SELLER_DEACTIVATED"}`, &res)
	if len(res.Products) != 1 || res.Products[0].Status != "SELLER_DEACTIVATED" {
		t.Errorf("status filter: %+v", res.Products)
	}
	// Pages of 3 over the demo's products.
	seen := map[string]bool{}
	token := ""
	for {
		q := f.q("page_size", "3")
		if token != "" {
			q.Set("page_token", token)
		}
		res.NextPageToken = ""
		f.ok("POST", "/product/202309/products/search", q, `{}`, &res)
		for _, p := range res.Products {
			if seen[p.ID] {
				t.Fatalf("product %s twice", p.ID)
			}
			seen[p.ID] = true
		}
		if token = res.NextPageToken; token == "" {
			break
		}
	}
	if len(seen) != res.TotalCount {
		t.Errorf("paged %d products, total_count %d", len(seen), res.TotalCount)
	}

	var whs struct {
		Warehouses []struct {
			ID        string `json:"id"`
			IsDefault bool   `json:"is_default"`
			Type      string `json:"type"`
		} `json:"warehouses"`
	}
	f.ok("GET", "/logistics/202309/warehouses", f.q(), "", &whs)
	if len(whs.Warehouses) != 1 || !whs.Warehouses[0].IsDefault || whs.Warehouses[0].Type != "SALES_WAREHOUSE" {
		t.Errorf("warehouses %+v, want one default sales warehouse", whs)
	}
	wantCode(t, "inventory search without ids", f.call("POST", "/product/202309/inventory/search", f.q(), `{}`), 200, 36009004, "product_ids")
}

func TestFlashSaleNeverOversells(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	f.addProduct("HOT", 50, "9.99")
	f.addProduct("WARM", 20, "4.99")
	var started struct{ ID string }
	f.mustControl("POST", "/_sim/flash-sale", `{"orders":200,"per_second":0,"skus":["HOT","WARM"]}`, &started)
	var p tiktoksim.FlashSaleProgress
	for !p.Done {
		f.mustControl("GET", "/_sim/flash-sale?id="+started.ID, nil, &p)
	}
	hot, warm := f.sku("HOT"), f.sku("WARM")
	if p.Placed+p.SoldOutAttempts+p.Failed != 200 || p.SoldOutAttempts == 0 || p.Failed != 0 {
		t.Errorf("progress %+v: every buyer counted once, some sold out", p)
	}
	if hot.Stock+hot.Committed != 50 || warm.Stock+warm.Committed != 20 {
		t.Errorf("units appeared or vanished: HOT %+v, WARM %+v", hot, warm)
	}
	if hot.Stock < 0 || warm.Stock < 0 || p.UnitsSold != hot.Committed+warm.Committed {
		t.Errorf("oversold: %d units sold, committed %d", p.UnitsSold, hot.Committed+warm.Committed)
	}
	if hot.Stock > 1 || warm.Stock > 1 {
		t.Errorf("200 buyers left stock behind: HOT %d, WARM %d", hot.Stock, warm.Stock)
	}
	var e struct{ Error string }
	if st := f.control("POST", "/_sim/flash-sale", `{"orders":5,"skus":["NOPE"]}`, &e); st != 404 {
		t.Errorf("flash sale of an unknown SKU: HTTP %d", st)
	}
}

func TestControlOrderIsTheAPIOrder(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	f.addProduct("S1", 10, "3")
	var placed struct {
		OrderID string `json:"order_id"`
	}
	f.mustControl("POST", "/_sim/orders", `{"lines":[{"seller_sku":"S1","quantity":2}],"status":"UNPAID","shipping_type":"SELLER"}`, &placed)
	var control, api json.RawMessage
	f.mustControl("GET", "/_sim/orders/"+placed.OrderID, nil, &control)
	var res struct {
		Orders []json.RawMessage `json:"orders"`
	}
	f.ok("GET", "/order/202309/orders", f.q("ids", placed.OrderID), "", &res)
	api = res.Orders[0]
	if string(control) != string(api) {
		t.Fatalf("control order differs from the API's:\n%s\n%s", control, api)
	}
	var o apiOrder
	f.mustControl("POST", "/_sim/orders/"+placed.OrderID+"/status", `{"status":"AWAITING_SHIPMENT"}`, &o)
	if o.Status != "AWAITING_SHIPMENT" || o.RecipientAddress == nil || len(o.Packages) != 1 {
		t.Fatalf("paid order: %+v", o)
	}
	var e struct{ Error string }
	if st := f.control("POST", "/_sim/orders/"+placed.OrderID+"/status", `{"status":"UNPAID"}`, &e); st != 409 {
		t.Errorf("going back to UNPAID: HTTP %d", st)
	}
	if st := f.control("POST", "/_sim/orders/"+placed.OrderID+"/status", `{"status":"SHIPPED"}`, &e); st != 400 {
		t.Errorf("an unknown status: HTTP %d", st)
	}
}

func TestGetOrdersLimit(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{Demo: true})
	ids := f.sim.OrderIDs()
	var res struct {
		Orders []apiOrder `json:"orders"`
	}
	f.ok("GET", "/order/202309/orders", f.q("ids", ids[3]+","+ids[1]+",123456789012345678"), "", &res)
	if len(res.Orders) != 2 || res.Orders[0].ID != ids[3] || res.Orders[1].ID != ids[1] {
		t.Errorf("orders %v, want %s then %s (unknown ids left out)", res.Orders, ids[3], ids[1])
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = ids[i%len(ids)]
	}
	wantCode(t, "51 ids", f.call("GET", "/order/202309/orders", f.q("ids", strings.Join(many, ",")), ""), 200, 36009004, "at most 50")
	wantCode(t, "ids with a space", f.call("GET", "/order/202309/orders", f.q("ids", ids[0]+", "+ids[1]), ""), 200, 36009004, "not an order id")
}
