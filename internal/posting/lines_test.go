package posting

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

func num(s string) *sapb1.Num { n := sapb1.N(s); return &n }
func ln(n int) *int           { return &n }

// SAP adds a sales BOM's components after its parent line: the ledger's
// lines still find their own LineNum, in order.
func TestMatchLinesSkipsSAPsOwnLines(t *testing.T) {
	plan := []LedgerLine{
		{ItemCode: "KIT", Quantity: decimal.NewFromInt(1)},
		{ItemCode: "A", Quantity: decimal.NewFromInt(2)},
		{ItemCode: "A", Quantity: decimal.NewFromInt(1)},
	}
	sap := []sapb1.DocumentLine{
		{LineNum: ln(0), ItemCode: "KIT", Quantity: num("1")},
		{LineNum: ln(1), ItemCode: "A", Quantity: num("3")}, // the kit's component
		{LineNum: ln(2), ItemCode: "a", Quantity: num("2")}, // SAP's codes are case-insensitive
		{LineNum: ln(3), ItemCode: "A", Quantity: num("1")},
	}
	if n := matchLines(plan, sap); n != 0 {
		t.Fatalf("%d unmatched", n)
	}
	for i, want := range []int{0, 2, 3} {
		if plan[i].LineNum == nil || *plan[i].LineNum != want {
			t.Errorf("line %d → LineNum %v, want %d", i, plan[i].LineNum, want)
		}
	}
	if n := matchLines([]LedgerLine{{ItemCode: "B", Quantity: decimal.NewFromInt(1)}}, sap); n != 1 {
		t.Fatalf("a line SAP does not have matched: %d unmatched", n)
	}
}

func TestDeliveredOf(t *testing.T) {
	line := func(qty, open string) sapb1.DocumentLine {
		return sapb1.DocumentLine{Quantity: num(qty), RemainingOpenQuantity: num(open)}
	}
	for _, c := range []struct {
		lines             []sapb1.DocumentLine
		delivered, partly bool
	}{
		{[]sapb1.DocumentLine{line("2", "2"), line("1", "1")}, false, false},
		{[]sapb1.DocumentLine{line("2", "1"), line("1", "1")}, false, true},
		{[]sapb1.DocumentLine{line("2", "0"), line("1", "1")}, false, true},
		{[]sapb1.DocumentLine{line("2", "0"), line("1", "0")}, true, false},
	} {
		d, p := deliveredOf(sapb1.Document{Lines: c.lines})
		if d != c.delivered || p != c.partly {
			t.Errorf("%+v → delivered %t partly %t, want %t %t", c.lines, d, p, c.delivered, c.partly)
		}
	}
}

func TestSAPErrorOwner(t *testing.T) {
	for msg, want := range map[string]string{
		"Item 'A1' is inactive  [DocumentLines.ItemCode][line: 1]":         "operations",
		"Warehouse '02' is inactive":                                       "operations",
		"Invalid BP code [ORDR.CardCode] , 'C-NEW'":                        "it",
		"Property 'U_TikTokOrderId' of 'Document' is invalid":              "it",
		"Quantity falls into negative inventory  [DocumentLines.ItemCode]": "operations",
	} {
		if got := sapErrorOwner(&sapb1.Error{Message: msg}); got != want {
			t.Errorf("%q → %s, want %s", msg, got, want)
		}
	}
}
