package orders_test

import (
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
)

func cents(n int) decimal.Decimal { return decimal.New(int64(n), -2) }

var fuzzCatalog = orders.Catalog{
	Items: map[string]string{"A": "ITEM-A", "A2": "ITEM-A", "G": "ITEM-G"},
	Bundles: map[string]orders.Bundle{
		"K": {Mode: orders.BundleKit, KitItemCode: "KIT"},
		"B": {Mode: orders.BundleComponents, Components: []orders.Component{
			{ItemCode: "X", Quantity: decimal.NewFromInt(2), PriceWeight: decimal.RequireFromString("3.3")},
			{ItemCode: "Y", Quantity: decimal.NewFromInt(1), PriceWeight: decimal.RequireFromString("1")},
			{ItemCode: "Z", Quantity: decimal.RequireFromString("0.25"), PriceWeight: decimal.RequireFromString("0.7")},
		}},
	},
}

// fuzzOrder makes an order from bytes the way TikTok builds one: unit
// amounts in cents, the payment from the units by TikTok's identities.
func fuzzOrder(data []byte) (orders.Order, []orders.Line, orders.ShopConfig) {
	at := func(i int) int {
		if i < len(data) {
			return int(data[i])
		}
		return 0
	}
	cfg := sandboxConfig("S")
	cfg.Shipping = []orders.ShippingMode{orders.ShippingServiceItem, orders.ShippingFreight, orders.ShippingNone}[at(2)%3]
	cfg.FreightExpenseCode = 1
	cfg.TikTokRemitsTax, cfg.ExemptTaxCode = at(3)%2 == 1, "EX"
	shipFee, shipPlatform, shipTax := at(0)*3, at(1)%2*at(1), at(3)/16
	skus := []string{"A", "B", "K", "A2", "G", "U"}
	var lines []orders.Line
	sub, tax := 0, shipTax
	for i := 4; i+7 <= len(data) && len(lines) < 200; i += 7 {
		orig := (at(i+1)<<8 | at(i+2)) % 5000
		seller := at(i+3) * orig / 255
		platform := at(i+4) * (orig - seller) / 255
		flags := at(i + 5)
		sale := orig - seller - platform
		l := orders.Line{
			ID: strconv.Itoa(i), SKUID: "k", SellerSKU: skus[at(i)%len(skus)],
			SalePrice: decimal.NewNullDecimal(cents(sale)), SellerDiscount: cents(seller), PlatformDiscount: cents(platform),
			Tax: cents(at(i + 6)), IsGift: flags&1 == 1, PackageID: "P" + strconv.Itoa(flags>>2&3),
		}
		if flags&16 == 0 {
			l.OriginalPrice = decimal.NewNullDecimal(cents(orig))
		}
		if flags&2 == 2 {
			l.DisplayStatus = orders.StatusCancelled
		}
		lines = append(lines, l)
		sub += sale
		tax += at(i + 6)
	}
	o := orders.Order{ShopID: "S", ID: "576", Status: orders.StatusAwaitingShipment, Currency: "GBP", Region: "GB",
		Payment: orders.Payment{
			SubTotal: cents(sub), ShippingFee: cents(shipFee), ShippingFeePlatformDiscount: cents(shipPlatform),
			OriginalShippingFee: cents(shipFee + shipPlatform), ShippingFeeTax: cents(shipTax), Tax: cents(tax),
			TotalAmount: cents(sub + shipFee + tax),
		}}
	return o, lines, cfg
}

// FuzzBuild: over random sets of units, Build never panics, its document
// always adds up (lines + freight + tax = expected), and when nothing
// blocks the order, TikTok's total is explained to the cent and the SAP
// lines hold exactly the active units at their price after the seller's
// discount.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 4, 0xd7, 0, 0, 0, 0})
	f.Add([]byte{100, 7, 1, 33, 1, 1, 44, 50, 20, 3, 0, 2, 3, 200, 9, 10, 0, 1, 2, 4, 2, 0, 0, 255, 255, 19, 5})
	f.Add([]byte{9, 9, 2, 17, 2, 0, 250, 128, 128, 3, 1, 1, 3, 255, 1, 128, 0, 2, 7, 5, 7, 7, 7, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		o, lines, cfg := fuzzOrder(data)
		p, probs := orders.Build(o, lines, cfg, fuzzCatalog, nil)
		checkConsistent(t, p)
		if len(probs) > 0 {
			for _, pr := range probs {
				if pr.Kind == "" || pr.Message == "" || pr.Owner == "" {
					t.Fatalf("incomplete problem %+v", pr)
				}
			}
			return
		}
		if !p.Totals.Unexplained.IsZero() {
			t.Fatalf("unexplained %s: %s", p.Totals.Unexplained, p.Totals.Explain())
		}
		want := decimal.Zero
		active := 0
		for _, l := range lines {
			if !l.IsCancelled() {
				active++
				want = want.Add(l.SalePrice.Decimal).Add(l.PlatformDiscount)
			}
		}
		if !p.Totals.Lines.Equal(want) {
			t.Fatalf("SAP lines %s, active units after the seller's discount %s", p.Totals.Lines, want)
		}
		ids := 0 // each active unit on exactly one item or kit line, or one set of component lines
		for _, l := range p.Lines {
			if l.Kind == orders.LineItem || l.Kind == orders.LineKit || (l.Kind == orders.LineComponent && l.ItemCode == "X") {
				ids += len(l.TikTokLineIDs)
			}
		}
		if ids != active {
			t.Fatalf("%d active units, %d on SAP lines", active, ids)
		}
	})
}
