package posting_test

import (
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

// A shop posting shipping as freight: the Sales Order has the item lines
// only, and the shipping revenue (the buyer's fee plus TikTok's subsidy) as
// an additional expense of SAP's freight code; DocTotal = lines + freight,
// and the totals match TikTok's.
func TestFreightShopPostsShippingAsAnAdditionalExpense(t *testing.T) {
	e := newEnv(t, envOptions{shop: shopRow{shippingMode: "freight"}})
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 2}},
		ShippingFee: "4.99", ShippingFeePlatformDiscount: "1.00"})
	e.waitFor("the freight order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	docs := e.salesOrders(id)
	if len(docs) != 1 {
		t.Fatalf("%d Sales Orders, want 1", len(docs))
	}
	d := docs[0]
	if len(d.Lines) != 1 || d.Lines[0].ItemCode != "TEE-BLK-M" || d.Lines[0].LineTotal.StringFixed(2) != "20.00" {
		t.Fatalf("lines %+v, want TEE-BLK-M 2 × 10.00 only", d.Lines)
	}
	if len(d.Expenses) != 1 || d.Expenses[0].ExpenseCode != 1 || d.Expenses[0].LineTotal == nil || d.Expenses[0].LineTotal.StringFixed(2) != "4.99" {
		t.Fatalf("freight %+v, want 4.99 on expense code 1", d.Expenses)
	}
	if d.DocTotal == nil || d.DocTotal.StringFixed(2) != "24.99" {
		t.Fatalf("DocTotal %v, want 24.99 (20.00 + freight 4.99)", d.DocTotal)
	}
	l := e.ledger(id)
	if l.TotalCheck == nil || *l.TotalCheck != "matched" || len(l.Lines) != 1 || l.Lines[0].LineNum == nil || *l.Lines[0].LineNum != 0 {
		t.Fatalf("ledger: check %v, lines %+v\n%s", deref(l.TotalCheck), l.Lines, e.ledgerDump())
	}
	if ex := e.exceptions(id); len(ex) != 0 {
		t.Fatalf("live exceptions %v, want none", ex)
	}
}

// A shop whose prices include tax (UK VAT, 20%): lines go as PriceAfterVAT
// with the region's tax code, the freight as LineGross; SAP splits out the
// tax per line, and its DocTotal is TikTok's total_amount to the cent.
func TestGrossPriceShopPostsPricesAfterVAT(t *testing.T) {
	e := newEnv(t, envOptions{shop: shopRow{shippingMode: "freight", grossPrices: true, taxCodes: map[string]string{"": "S20"}}})
	if status, body := e.sap.Call(e.ctx, "POST", "SalesTaxCodes", []byte(`{"Code":"S20","Name":"UK standard","Rate":20}`)); status != 201 {
		t.Fatalf("tax code: %d %s", status, body)
	}
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 3, UnitPrice: "9.99"}, {SellerSKU: "MUG-WHT-350", Quantity: 1}},
		ShippingFee: "3.99"})
	e.waitFor("the gross-price order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	d := e.salesOrders(id)[0]
	// 3 × 9.99 = 29.97 → 24.98 + 4.99; 10.00 → 8.33 + 1.67; freight 3.99 → 3.33 + 0.66.
	if len(d.Lines) != 2 || d.Lines[0].LineTotal.StringFixed(2) != "24.98" || d.Lines[1].LineTotal.StringFixed(2) != "8.33" ||
		d.Lines[0].TaxCode != "S20" || d.Lines[0].PriceAfterVAT.StringFixed(2) != "9.99" {
		t.Fatalf("lines %+v", d.Lines)
	}
	if len(d.Expenses) != 1 || d.Expenses[0].LineTotal.StringFixed(2) != "3.33" || d.Expenses[0].TaxSum.StringFixed(2) != "0.66" {
		t.Fatalf("freight %+v", d.Expenses)
	}
	if d.VatSum.StringFixed(2) != "7.32" || d.DocTotal.StringFixed(2) != "43.96" { // TikTok: 29.97 + 10.00 + 3.99
		t.Fatalf("VatSum %v DocTotal %v, want 7.32 and 43.96", d.VatSum, d.DocTotal)
	}
	l := e.ledger(id)
	if l.TotalCheck == nil || *l.TotalCheck != "matched" {
		t.Fatalf("total check %v\n%s", deref(l.TotalCheck), e.ledgerDump())
	}
	if ex := e.exceptions(id); len(ex) != 0 {
		t.Fatalf("live exceptions %v, want none", ex)
	}
}
