package sapb1sim

import (
	"net/http"
	"testing"
)

// Freight: an order with additional expenses stores them (RDR3), adds them
// to DocTotal after the header discount, returns them on GET; an undefined
// ExpenseCode is -10; AdditionalExpenses creates definitions with the next
// code after the seeded 1 "Freight"; PATCH keeps the freight in DocTotal.
func TestOrderFreight(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	def := c.must(200, "GET", "AdditionalExpenses(1)", nil)
	if def.json["Name"] != "Freight" {
		t.Fatalf("seeded freight definition: %s", def)
	}
	r := c.must(201, "POST", "Orders", map[string]any{
		"CardCode": "C1", "DocDueDate": "2024-05-10", "DiscountPercent": 10,
		"DocumentLines":              []any{map[string]any{"ItemCode": "B", "Quantity": 2, "UnitPrice": 10, "WarehouseCode": "01"}},
		"DocumentAdditionalExpenses": []any{map[string]any{"ExpenseCode": 1, "LineTotal": "4.99", "Remarks": "TikTok shipping"}},
	})
	x, _ := r.json["DocumentAdditionalExpenses"].([]any)
	if len(x) != 1 {
		t.Fatalf("expenses: %s", r)
	}
	e := x[0].(map[string]any)
	if jnum(e["ExpenseCode"]) != 1 || jdec(e["LineTotal"]).String() != "4.99" || jdec(e["LineGross"]).String() != "4.99" || jnum(e["LineNum"]) != 0 ||
		e["Remarks"] != "TikTok shipping" {
		t.Fatalf("expense: %v", e)
	}
	if jdec(r.json["DocTotal"]).String() != "22.99" { // 20 − 10% + 4.99
		t.Fatalf("DocTotal %v, want 22.99", r.json["DocTotal"])
	}
	entry := jnum(r.json["DocEntry"])
	var n int
	if err := ts.srv.Pool().QueryRow(t.Context(), `SELECT count(*) FROM `+ts.srv.t("RDR3")+` WHERE "DocEntry" = $1 AND "ExpnsCode" = 1 AND "LineTotal" = 4.99`, entry).Scan(&n); err != nil || n != 1 {
		t.Fatalf("RDR3 rows %d (%v)", n, err)
	}
	c.must(204, "PATCH", "Orders(1)", map[string]any{"DocumentLines": []any{map[string]any{"LineNum": 0, "Quantity": 1}}})
	if g := c.must(200, "GET", "Orders(1)?$select=DocTotal,DocumentAdditionalExpenses", nil); jdec(g.json["DocTotal"]).String() != "13.99" {
		t.Fatalf("after patch: %s", g)
	}
	wantError(t, c.do("PATCH", "Orders(1)", map[string]any{"DocumentAdditionalExpenses": []any{map[string]any{"ExpenseCode": 1, "LineTotal": 1}}}),
		http.StatusBadRequest, -10, "additional expenses")

	bad := c.do("POST", "Orders", map[string]any{
		"CardCode": "C1", "DocDueDate": "2024-05-10",
		"DocumentLines":              []any{map[string]any{"ItemCode": "B", "Quantity": 1, "UnitPrice": 10, "WarehouseCode": "01"}},
		"DocumentAdditionalExpenses": []any{map[string]any{"ExpenseCode": 2, "LineTotal": 1}},
	})
	wantError(t, bad, http.StatusBadRequest, -10, "Freight code 2 is not defined")

	d := c.must(201, "POST", "AdditionalExpenses", map[string]any{"Name": "Insurance"})
	if jnum(d.json["ExpensCode"]) != 2 {
		t.Fatalf("new definition: %s", d)
	}
	c.must(201, "POST", "Orders", map[string]any{
		"CardCode": "C1", "DocDueDate": "2024-05-10",
		"DocumentLines":              []any{map[string]any{"ItemCode": "B", "Quantity": 1, "UnitPrice": 10, "WarehouseCode": "01"}},
		"DocumentAdditionalExpenses": []any{map[string]any{"ExpenseCode": 2, "LineTotal": 1}},
	})
}
