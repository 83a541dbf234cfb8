package sapb1sim

import (
	"net/http"
	"testing"
)

// Tax: a net line taxed at its code's rate (rounded per line), a gross
// line (PriceAfterVAT) split into net and tax with its gross total kept
// exact, gross freight likewise; DocTotal = net + VatSum; unknown code -10.
func TestOrderTax(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	c.must(201, "POST", "SalesTaxCodes", map[string]any{"Code": "S20", "Name": "Standard", "Rate": 20})
	r := c.must(201, "POST", "Orders", map[string]any{
		"CardCode": "C1", "DocDueDate": "2024-05-10",
		"DocumentLines": []any{
			map[string]any{"ItemCode": "A", "Quantity": 3, "UnitPrice": "3.33", "TaxCode": "S20", "WarehouseCode": "01"},     // 9.99 + 2.00
			map[string]any{"ItemCode": "B", "Quantity": 3, "PriceAfterVAT": "9.99", "TaxCode": "S20", "WarehouseCode": "01"}, // gross 29.97 = 24.98 + 4.99
		},
		"DocumentAdditionalExpenses": []any{map[string]any{"ExpenseCode": 1, "LineGross": "4.99", "TaxCode": "S20"}}, // 4.16 + 0.83
	})
	l := docLines(r)
	if jdec(l[0]["TaxTotal"]).String() != "2" || jdec(l[1]["LineTotal"]).String() != "24.98" || jdec(l[1]["TaxTotal"]).String() != "4.99" ||
		jdec(l[1]["Price"]).String() != "8.325" || jdec(l[1]["PriceAfterVAT"]).String() != "9.99" {
		t.Fatalf("lines: %v", l)
	}
	x := r.json["DocumentAdditionalExpenses"].([]any)[0].(map[string]any)
	if jdec(x["LineTotal"]).String() != "4.16" || jdec(x["TaxSum"]).String() != "0.83" || jdec(x["TaxPercent"]).String() != "20" {
		t.Fatalf("freight: %v", x)
	}
	if jdec(r.json["VatSum"]).String() != "7.82" || jdec(r.json["DocTotal"]).String() != "46.95" { // 9.99+24.98+4.16 + 7.82
		t.Fatalf("totals: VatSum %v DocTotal %v", r.json["VatSum"], r.json["DocTotal"])
	}
	bad := c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-05-10",
		"DocumentLines": []any{map[string]any{"ItemCode": "A", "Quantity": 1, "UnitPrice": 1, "TaxCode": "X9", "WarehouseCode": "01"}}})
	wantError(t, bad, http.StatusBadRequest, -10, "Invalid tax code 'X9'")
}
