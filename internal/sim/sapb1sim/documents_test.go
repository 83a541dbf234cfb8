package sapb1sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// shop seeds a company with one customer, two warehouses and items A
// (stock 10 in 01) and B (stock 5 in 01, 5 in 02).
func shop(t *testing.T, tweak func(*Options)) *testSim {
	ts := newSim(t, tweak)
	ts.warehouse("01")
	ts.warehouse("02")
	ts.c.must(201, "POST", "PriceLists", map[string]any{"PriceListName": "Retail"})
	ts.item("A", map[string]any{"ItemPrices": []any{map[string]any{"PriceList": 1, "Price": "3.33"}}})
	ts.item("B", nil)
	ts.customer("C1")
	ts.receive("A", "01", "10")
	ts.receive("B", "01", "5")
	ts.receive("B", "02", "5")
	return ts
}

func (ts *testSim) oivlSum(item, whs string) decimal.Decimal {
	ts.t.Helper()
	var d decimal.Decimal
	if err := ts.srv.Pool().QueryRow(context.Background(), `SELECT coalesce(sum("InQty" - "OutQty"), 0) FROM `+ts.srv.t("OIVL")+` WHERE "ItemCode" = $1 AND "LocCode" = $2`, item, whs).Scan(&d); err != nil {
		ts.t.Fatal(err)
	}
	return d
}

func TestOrderCreateReadPatch(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	r := c.must(201, "POST", "Orders", map[string]any{
		"CardCode": "C1", "DocDate": "2024-05-02", "DocDueDate": "20240510", "NumAtCard": "577001", "Comments": "TikTok order",
		"DocumentLines": []any{
			map[string]any{"ItemCode": "A", "Quantity": "3", "WarehouseCode": "01"}, // price from the BP's price list
			map[string]any{"ItemCode": "B", "Quantity": 2, "UnitPrice": 10, "DiscountPercent": 15, "WarehouseCode": "02"},
		},
	})
	l := docLines(r)
	if r.json["DocDate"] != "2024-05-02" || r.json["DocDueDate"] != "2024-05-10" || r.json["DocumentStatus"] != "bost_Open" || r.json["Cancelled"] != "tNO" {
		t.Fatalf("order: %s", r)
	}
	if jdec(l[0]["Price"]).String() != "3.33" || jdec(l[0]["LineTotal"]).String() != "9.99" || jdec(l[1]["Price"]).String() != "8.5" || jdec(l[1]["LineTotal"]).String() != "17" {
		t.Fatalf("prices: %v", l)
	}
	if jdec(r.json["DocTotal"]).String() != "26.99" || jnum(r.json["DocNum"]) != 1 || jnum(l[1]["LineNum"]) != 1 {
		t.Fatalf("totals: %s", r)
	}
	if r.header.Get("ETag") != `W/"0"` || r.json["odata.etag"] != `W/"0"` {
		t.Errorf("etag: %q %v", r.header.Get("ETag"), r.json["odata.etag"])
	}
	ts.wantStock("A", "01", "10", "3")
	ts.wantStock("B", "02", "5", "2")
	if it := c.must(200, "GET", "Items('B')", nil); jnum(it.json["QuantityOrderedByCustomers"]) != 2 || jnum(it.json["QuantityOnStock"]) != 10 {
		t.Fatalf("OITM totals: %s", it)
	}

	// PATCH: header fields, a line's quantity, an appended line.
	c.must(204, "PATCH", "Orders(1)", map[string]any{"Comments": "changed", "DocumentLines": []any{
		map[string]any{"LineNum": 0, "Quantity": 5},
		map[string]any{"ItemCode": "B", "Quantity": 1, "WarehouseCode": "01", "Price": 7},
	}})
	g := c.must(200, "GET", "Orders(1)", nil)
	gl := docLines(g)
	if g.json["Comments"] != "changed" || len(gl) != 3 || jnum(gl[0]["Quantity"]) != 5 || jnum(gl[2]["LineNum"]) != 2 || jnum(g.json["DataVersion"]) != 1 {
		t.Fatalf("patched: %s", g)
	}
	if jdec(g.json["DocTotal"]).String() != "40.65" { // 16.65 + 17 + 7
		t.Fatalf("DocTotal after patch: %v", g.json["DocTotal"])
	}
	ts.wantStock("A", "01", "10", "5")
	ts.wantStock("B", "01", "5", "1")

	// Replacing the collection removes the lines not sent.
	c.must(204, "PATCH", "Orders(1)", map[string]any{"DocumentLines": []any{map[string]any{"LineNum": 0}, map[string]any{"LineNum": 2}}},
		"B1S-ReplaceCollectionsOnPatch", "true")
	if n := len(docLines(c.must(200, "GET", "Orders(1)", nil))); n != 2 {
		t.Fatalf("lines after replace: %d", n)
	}
	ts.wantStock("B", "02", "5", "0")
	// Closing one line releases its commitment.
	c.must(204, "PATCH", "Orders(1)", map[string]any{"DocumentLines": []any{map[string]any{"LineNum": 2, "LineStatus": "bost_Close"}}})
	ts.wantStock("B", "01", "5", "0")
	ts.wantStock("A", "01", "10", "5")

	// Fields fixed at adding cannot change.
	wantError(t, c.do("PATCH", "Orders(1)", map[string]any{"CardCode": "C2"}), 400, -1029, "Field cannot be updated")
	c.must(204, "PATCH", "Orders(1)", map[string]any{"CardCode": "C1"}) // unchanged is fine
	wantError(t, c.do("DELETE", "Orders(1)", nil), 400, -5006, "The requested action is not supported for this object")
	wantError(t, c.do("GET", "Orders(99)", nil), 404, -2028, "No matching records found")
	wantError(t, c.do("PATCH", "Orders(99)", map[string]any{"Comments": "x"}), 404, -2028, "No matching records found")
}

func TestOrderValidation(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	ts.item("NOSALE", map[string]any{"SalesItem": "tNO"})
	ts.item("OLD", map[string]any{"Frozen": "tYES"})
	ts.c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "V1", "CardType": "cSupplier"})
	post := func(card string, l map[string]any) *resp {
		return c.do("POST", "Orders", map[string]any{"CardCode": card, "DocDueDate": "2024-06-30", "DocumentLines": []any{l}})
	}
	wantError(t, post("NOPE", line("A", "01", 1)), 400, -10, "Invalid BP code [ORDR.CardCode] , 'NOPE'")
	wantError(t, post("V1", line("A", "01", 1)), 400, -10, "Invalid BP code")
	wantError(t, post("C1", line("ZZZ", "01", 1)), 400, -2028, "No matching records found")
	wantError(t, post("C1", line("A", "99", 1)), 400, -2028, "No matching records found")
	wantError(t, post("C1", map[string]any{"Quantity": 1}), 400, -10, "Item number is missing; specify an item number [DocumentLines.ItemCode][line: 1]")
	wantError(t, post("C1", line("NOSALE", "01", 1)), 400, -10, "sales item")
	wantError(t, post("C1", line("OLD", "01", 1)), 400, -10, "inactive")
	wantError(t, post("C1", line("A", "01", 0)), 400, -10, "Quantity must be greater than zero")
	wantError(t, post("C1", line("A", "01", "x")), 400, -1000, "Invalid value for property 'Quantity'")
	wantError(t, c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocumentLines": []any{line("A", "01", 1)}}), 400, -5002, "DocDueDate")
	wantError(t, c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30"}), 400, -5002, "without lines")
	wantError(t, c.do("POST", "Orders", `{"CardCode": "C1",`), 400, -1000, "Invalid request body")
	wantError(t, c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "Foo": 1}), 400, -1000, "Property 'Foo' of 'Document' is invalid")
	// Property names match without regard to case, as in SAP's own samples.
	c.must(201, "POST", "Orders", map[string]any{"cardcode": "C1", "docduedate": "2024-06-30", "documentlines": []any{map[string]any{"itemcode": "A", "quantity": "1"}}})
	// Nothing failed left a trace: one order, one commitment.
	if n := c.must(200, "GET", "Orders/$count", nil); string(n.raw) != "1" {
		t.Fatalf("orders: %s", n.raw)
	}
	ts.wantStock("A", "01", "10", "1")
}

func TestETagOnlyStaleIfMatchIs2039(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	n := ts.order("C1", line("A", "01", 1))
	path := fmt.Sprintf("Orders(%d)", n)
	tag := c.must(200, "GET", path, nil).header.Get("ETag")
	c.must(204, "PATCH", path, map[string]any{"Comments": "first"}, "If-Match", tag)
	wantError(t, c.do("PATCH", path, map[string]any{"Comments": "second"}, "If-Match", tag), 412, -2039, "Another user or another operation modified data")
	wantError(t, c.do("POST", path+"/Close", nil, "If-Match", tag), 412, -2039, "modified data")
	c.must(204, "PATCH", path, map[string]any{"Comments": "no tag"})
	fresh := c.must(200, "GET", path, nil).header.Get("ETag")
	c.must(204, "POST", path+"/Close", nil, "If-Match", fresh)
	it := c.must(200, "GET", "Items('A')", nil).header.Get("ETag")
	c.must(204, "PATCH", "Items('A')", map[string]any{"ItemName": "x"}, "If-Match", it)
	wantError(t, c.do("PATCH", "Items('A')", map[string]any{"ItemName": "y"}, "If-Match", it), 412, -2039, "modified data")
}

func TestBaseDocumentsCopyAndClose(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	n := ts.order("C1", line("A", "01", 4), line("B", "02", 2))
	ts.wantStock("A", "01", "10", "4")
	base := func(typ, entry, ln int, extra ...any) map[string]any {
		m := map[string]any{"BaseType": typ, "BaseEntry": entry, "BaseLine": ln}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	// A partial delivery of line 0.
	d1 := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n, 0, "Quantity", 1)}})
	dl := docLines(d1)
	if dl[0]["ItemCode"] != "A" || jdec(dl[0]["Price"]).String() != "10" || dl[0]["WarehouseCode"] != "01" || jnum(dl[0]["BaseEntry"]) != n {
		t.Fatalf("copied line: %v", dl[0])
	}
	ts.wantStock("A", "01", "9", "3")
	o := c.must(200, "GET", fmt.Sprintf("Orders(%d)", n), nil)
	if ol := docLines(o); jnum(ol[0]["RemainingOpenQuantity"]) != 3 || ol[0]["LineStatus"] != "bost_Open" || o.json["DocumentStatus"] != "bost_Open" {
		t.Fatalf("order after partial delivery: %s", o)
	}
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n, 0, "Quantity", 4)}}), 400, -10, "open quantity")
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n, 0, "ItemCode", "B")}}), 400, -10, "Target item number does not match base item number")
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(13, n, 0)}}), 400, -10, "Invalid base document type")
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, 999, 0)}}), 400, -2028, "No matching records")
	// The rest of both lines closes the order.
	d2 := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n, 0), base(17, n, 1)}})
	ts.wantStock("A", "01", "6", "0")
	ts.wantStock("B", "02", "3", "0")
	o = c.must(200, "GET", fmt.Sprintf("Orders(%d)", n), nil)
	if o.json["DocumentStatus"] != "bost_Close" || docLines(o)[1]["LineStatus"] != "bost_Close" {
		t.Fatalf("order after full delivery: %s", o)
	}
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n, 0, "Quantity", 1)}}),
		400, -10, "One of the base documents has already been closed  [DocumentLines.BaseEntry][line: 1]")

	// A delivery takes its tracking number after adding (the TikTok
	// shipping flow writes it back), but not other changes.
	d1n := jnum(d1.json["DocEntry"])
	c.must(204, "PATCH", fmt.Sprintf("DeliveryNotes(%d)", d1n), map[string]any{"TrackingNumber": "1Z999AA10123456784"})
	if g := c.must(200, "GET", "DeliveryNotes?$filter=TrackingNumber eq '1Z999AA10123456784'&$select=DocEntry", nil); !strings.Contains(string(g.raw), fmt.Sprintf(`"DocEntry":%d`, d1n)) {
		t.Fatalf("tracking number: %s", g.raw)
	}
	wantError(t, c.do("PATCH", fmt.Sprintf("DeliveryNotes(%d)", d1n), map[string]any{"DocumentLines": []any{map[string]any{"LineNum": 0, "Quantity": 9}}}), 400, -1029, "cannot be updated")

	// Invoicing deliveries moves no stock; an invoice straight from an
	// order does; a credit note for it returns the goods.
	d2n := jnum(d2.json["DocEntry"])
	inv := c.must(201, "POST", "Invoices", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(15, d2n, 0), base(15, d2n, 1)}})
	ts.wantStock("A", "01", "6", "0")
	if d := c.must(200, "GET", fmt.Sprintf("DeliveryNotes(%d)", d2n), nil); d.json["DocumentStatus"] != "bost_Close" {
		t.Fatalf("delivery after invoice: %v", d.json["DocumentStatus"])
	}
	n2 := ts.order("C1", line("A", "01", 2))
	inv2 := c.must(201, "POST", "Invoices", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(17, n2, 0)}})
	ts.wantStock("A", "01", "4", "0")
	c.must(201, "POST", "CreditNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(13, jnum(inv2.json["DocEntry"]), 0, "Quantity", 1)}})
	ts.wantStock("A", "01", "5", "0")
	// A refund without a return moves no stock.
	c.must(201, "POST", "CreditNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{base(13, jnum(inv.json["DocEntry"]), 0, "WithoutInventoryMovement", "tYES")}})
	ts.wantStock("A", "01", "5", "0")
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"ItemCode": "A", "WithoutInventoryMovement": "tYES"}}}),
		400, -10, "without inventory movement")
	if got := ts.oivlSum("A", "01"); !got.Equal(decimal.NewFromInt(5)) {
		t.Fatalf("OIVL sum %s, OnHand 5", got)
	}
	ts.c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "C2", "CardName": "Other"})
	n3 := ts.order("C1", line("A", "01", 1))
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C2", "DocumentLines": []any{base(17, n3, 0)}}), 400, -10, "Base document card and target document card do not match.")
}

func TestCancelCloseReopen(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	n := ts.order("C1", line("A", "01", 4))
	path := fmt.Sprintf("Orders(%d)", n)
	c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0, "Quantity": 1}}})
	ts.wantStock("A", "01", "9", "3")
	wantError(t, c.do("POST", path+"/Cancel", nil), 400, -5002, "copied to a target document")
	c.must(204, "POST", path+"/Close", nil)
	ts.wantStock("A", "01", "9", "0")
	wantError(t, c.do("POST", path+"/Close", nil), 400, -5002, "already closed")
	c.must(204, "POST", path+"/Reopen", nil)
	ts.wantStock("A", "01", "9", "3")
	if o := c.must(200, "GET", path, nil); o.json["DocumentStatus"] != "bost_Open" || jnum(docLines(o)[0]["RemainingOpenQuantity"]) != 3 {
		t.Fatalf("reopened: %s", o)
	}

	m := ts.order("C1", line("B", "01", 2))
	ts.wantStock("B", "01", "5", "2")
	c.must(204, "POST", fmt.Sprintf("Orders(%d)/Cancel", m), nil)
	ts.wantStock("B", "01", "5", "0")
	o := c.must(200, "GET", fmt.Sprintf("Orders(%d)", m), nil)
	if o.json["Cancelled"] != "tYES" || o.json["DocumentStatus"] != "bost_Close" {
		t.Fatalf("cancelled: %s", o)
	}
	wantError(t, c.do("POST", fmt.Sprintf("Orders(%d)/Cancel", m), nil), 400, -5002, "already cancelled")
	wantError(t, c.do("POST", fmt.Sprintf("Orders(%d)/Reopen", m), nil), 400, -5002, "cancelled")
	wantError(t, c.do("POST", fmt.Sprintf("Orders(%d)/Explode", m), nil), 404, -1, "Resource not found")
	wantError(t, c.do("POST", "Invoices(1)/Close", nil), 400, -5006, "not supported")

	// Cancelling a delivery returns its stock and reopens the order line.
	d := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0}}})
	ts.wantStock("A", "01", "6", "0")
	dn := jnum(d.json["DocEntry"])
	c.must(204, "POST", fmt.Sprintf("DeliveryNotes(%d)/Cancel", dn), nil)
	ts.wantStock("A", "01", "9", "3")
	if o := c.must(200, "GET", path, nil); o.json["DocumentStatus"] != "bost_Open" {
		t.Fatalf("order after delivery cancelled: %v", o.json["DocumentStatus"])
	}
	all := c.must(200, "GET", "DeliveryNotes?$filter=CancelStatus eq 'csCancellation'", nil).json["value"].([]any)
	if len(all) != 1 {
		t.Fatalf("cancellation documents: %v", all)
	}
	if got := ts.oivlSum("A", "01"); !got.Equal(decimal.NewFromInt(9)) {
		t.Fatalf("OIVL sum %s", got)
	}
}

func TestNegativeStockFailsAndChangesNothing(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	n := ts.order("C1", line("A", "01", 12))
	var seqBefore int
	_ = ts.srv.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+ts.srv.t("OIVL")).Scan(&seqBefore)
	r := c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{
		map[string]any{"ItemCode": "B", "Quantity": 1, "WarehouseCode": "01"},
		map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0},
	}})
	wantError(t, r, 400, -10, "Quantity falls into negative inventory  [DocumentLines.ItemCode][line: 2]")
	ts.wantStock("A", "01", "10", "12")
	ts.wantStock("B", "01", "5", "0")
	if o := c.must(200, "GET", fmt.Sprintf("Orders(%d)", n), nil); jnum(docLines(o)[0]["RemainingOpenQuantity"]) != 12 {
		t.Fatalf("order changed: %s", o)
	}
	var seqAfter int
	_ = ts.srv.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+ts.srv.t("OIVL")).Scan(&seqAfter)
	if seqAfter != seqBefore || string(c.must(200, "GET", "DeliveryNotes/$count", nil).raw) != "0" {
		t.Fatalf("journal rows %d -> %d, or a delivery was added", seqBefore, seqAfter)
	}
	// The numbering did not move either: the next delivery is number 1.
	d := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"ItemCode": "B", "Quantity": 5, "WarehouseCode": "01"}}})
	if jnum(d.json["DocNum"]) != 1 {
		t.Fatalf("DocNum %v", d.json["DocNum"])
	}
	if _, err := ts.srv.ReceiveStock(context.Background(), "B", "01", decimal.NewFromInt(-1)); err == nil {
		t.Fatal("issue below zero accepted")
	}
}

func TestSalesBOMComponentsCarryTheStock(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	ts.item("KIT", map[string]any{"InventoryItem": "tNO"})
	c.must(201, "POST", "ProductTrees", map[string]any{"TreeCode": "KIT", "TreeType": "iSalesTree",
		"ProductTreeLines": []any{map[string]any{"ItemCode": "A", "Quantity": 2}, map[string]any{"ItemCode": "B", "Quantity": 1, "Warehouse": "02"}}})
	o := c.must(201, "POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30",
		"DocumentLines": []any{map[string]any{"ItemCode": "KIT", "Quantity": 3, "UnitPrice": 25, "WarehouseCode": "01"}}})
	l := docLines(o)
	if len(l) != 3 || l[0]["TreeType"] != "iSalesTree" || l[1]["TreeType"] != "iIngredient" || jnum(l[1]["Quantity"]) != 6 || l[2]["WarehouseCode"] != "02" || jnum(l[2]["Price"]) != 0 {
		t.Fatalf("exploded order: %s", o)
	}
	if jdec(o.json["DocTotal"]).String() != "75" {
		t.Fatalf("DocTotal %v", o.json["DocTotal"])
	}
	ts.wantStock("A", "01", "10", "6")
	ts.wantStock("B", "02", "5", "3")
	n := jnum(o.json["DocEntry"])
	d := c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0, "Quantity": 1}}})
	if dl := docLines(d); len(dl) != 3 || jnum(dl[1]["Quantity"]) != 2 || jnum(dl[2]["BaseLine"]) != 2 {
		t.Fatalf("delivery of a kit: %s", d)
	}
	ts.wantStock("A", "01", "8", "4")
	ts.wantStock("B", "02", "4", "2")
	// Delivering more kits than the components allow fails on a component.
	ts.receive("A", "01", "-8")
	wantError(t, c.do("POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0}}}),
		400, -10, "Quantity falls into negative inventory")
}

// UpdateDate and UpdateTS are the change detector's watermarks: they are in
// the company's local time, move on ORDR whenever an order changes (a
// delivery against it included), and on OITM when item master data changes
// (not when stock moves: OIVL.TransSeq covers that).
func TestUpdateStampsInCompanyTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	var mu sync.Mutex
	now := time.Date(2024, 3, 1, 8, 15, 30, 0, time.UTC) // 09:15:30 in Berlin
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := shop(t, func(o *Options) { o.Now = clock; o.Location = berlin })
	c := ts.c
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock(); c.login() } // hours pass: the session times out
	stamp := func(table, keyCol string, key any) (string, int) {
		var d string
		var n int
		if err := ts.srv.Pool().QueryRow(context.Background(), `SELECT to_char("UpdateDate", 'YYYY-MM-DD'), "UpdateTS" FROM `+ts.srv.t(table)+` WHERE `+ident(keyCol)+` = $1`, key).Scan(&d, &n); err != nil {
			t.Fatal(err)
		}
		return d, n
	}
	n := ts.order("C1", line("A", "01", 2))
	if d, ts := stamp("ORDR", "DocEntry", n); d != "2024-03-01" || ts != 91530 {
		t.Fatalf("order stamped %s %d, want 2024-03-01 91530", d, ts)
	}
	if o := c.must(200, "GET", fmt.Sprintf("Orders(%d)", n), nil); o.json["UpdateTime"] != "09:15:30" || o.json["DocDate"] != "2024-03-01" {
		t.Fatalf("order: %v %v", o.json["UpdateTime"], o.json["DocDate"])
	}
	set(time.Date(2024, 3, 1, 23, 30, 0, 0, time.UTC)) // 00:30 the next day in Berlin
	c.must(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": n, "BaseLine": 0, "Quantity": 1}}})
	if d, ts := stamp("ORDR", "DocEntry", n); d != "2024-03-02" || ts != 3000 {
		t.Fatalf("order after a delivery stamped %s %d", d, ts)
	}
	_, before := stamp("OITM", "ItemCode", "A")
	set(time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC))
	ts.receive("A", "01", "1")
	if _, after := stamp("OITM", "ItemCode", "A"); after != before {
		t.Fatalf("a stock movement changed OITM.UpdateTS %d -> %d", before, after)
	}
	c.must(204, "PATCH", "Items('A')", map[string]any{"ItemName": "renamed"})
	if d, ts := stamp("OITM", "ItemCode", "A"); d != "2024-03-02" || ts != 110000 {
		t.Fatalf("item after a change stamped %s %d", d, ts)
	}
}
