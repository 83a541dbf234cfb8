package orders_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

var bundleProducts = []tiktoksim.NewProduct{
	{SellerSKU: "GIFTSET", Price: "10", Stock: 50},
	{SellerSKU: "DUO", Price: "25", Stock: 50},
	{SellerSKU: "MUG-WHT-350", Price: "8.5", Stock: 50},
}

func bundleCatalog(mode orders.BundleMode) orders.Catalog {
	c := orders.Catalog{Items: map[string]string{"MUG-WHT-350": "MUG-WHT-350", "GIFTSET": "NOT-USED"}, Bundles: map[string]orders.Bundle{}}
	one := decimal.NewFromInt(1)
	switch mode {
	case orders.BundleKit:
		c.Bundles["GIFTSET"] = orders.Bundle{Mode: orders.BundleKit, KitItemCode: "KIT-GIFTSET"}
		c.Bundles["DUO"] = orders.Bundle{Mode: orders.BundleKit, KitItemCode: "KIT-DUO"}
	case orders.BundleComponents:
		// Three equal parts: 10.00 does not divide by three.
		c.Bundles["GIFTSET"] = orders.Bundle{Mode: orders.BundleComponents, Components: []orders.Component{
			{ItemCode: "SOAP", Quantity: one, PriceWeight: one},
			{ItemCode: "CANDLE", Quantity: one, PriceWeight: one},
			{ItemCode: "CARD", Quantity: one, PriceWeight: one},
		}}
		// Two mugs and a candle, weighted by list price: 2 × 8.50 : 15.00.
		c.Bundles["DUO"] = orders.Bundle{Mode: orders.BundleComponents, Components: []orders.Component{
			{ItemCode: "MUG-WHT-350", Quantity: decimal.NewFromInt(2), PriceWeight: decimal.RequireFromString("8.50")},
			{ItemCode: "CANDLE-VAN", Quantity: one, PriceWeight: decimal.RequireFromString("15")},
		}}
	}
	return c
}

type gotLine struct {
	kind            orders.LineKind
	sku, item       string
	qty, price, tot string
	platform        string
}

func lineSummary(p orders.Posting) []gotLine {
	var out []gotLine
	for _, l := range p.Lines {
		out = append(out, gotLine{l.Kind, l.SellerSKU, l.ItemCode, l.Quantity.String(), l.Price.String(), l.LineTotal.StringFixed(2), l.PlatformDiscount.StringFixed(2)})
	}
	return out
}

func TestBundles(t *testing.T) {
	// One unit of GIFTSET, three of DUO (TikTok's 1.00 discount on them is
	// 0.33/0.33/0.34 a unit: the buyer pays different prices, the seller
	// earns 25.00 on each, so the units are one line), and a mug.
	o := placeOrder(t, bundleProducts, tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{
		{SellerSKU: "GIFTSET", Quantity: 1},
		{SellerSKU: "DUO", Quantity: 3, PlatformDiscount: "1"},
		{SellerSKU: "MUG-WHT-350", Quantity: 1},
	}})
	cfg := sandboxConfig(o.order.ShopID)
	t.Run("kit", func(t *testing.T) {
		p, probs := orders.Build(o.order, o.lines, cfg, bundleCatalog(orders.BundleKit), nil)
		if len(probs) != 0 {
			t.Fatal(probs)
		}
		want := []gotLine{
			{orders.LineKit, "GIFTSET", "KIT-GIFTSET", "1", "10", "10.00", "0.00"},
			{orders.LineKit, "DUO", "KIT-DUO", "3", "25", "75.00", "1.00"},
			{orders.LineItem, "MUG-WHT-350", "MUG-WHT-350", "1", "8.5", "8.50", "0.00"},
		}
		if got := lineSummary(p); !slices.Equal(got, want) {
			t.Errorf("lines\n got %v\nwant %v", got, want)
		}
		eq(t, "expected total", p.Totals.Expected, "93.50")
		eq(t, "TikTok total", p.Totals.TikTokTotal, "92.50")
		checkConsistent(t, p)
	})
	t.Run("components", func(t *testing.T) {
		p, probs := orders.Build(o.order, o.lines, cfg, bundleCatalog(orders.BundleComponents), nil)
		if len(probs) != 0 {
			t.Fatal(probs)
		}
		// GIFTSET 10.00 → 3.34 + 3.33 + 3.33. DUO 3 × 25.00 = 75.00 over
		// 6 mugs and 3 candles by 17 : 15 → 39.84 + 35.16; TikTok's 1.00
		// the same way → 0.53 + 0.47.
		want := []gotLine{
			{orders.LineComponent, "GIFTSET", "SOAP", "1", "3.34", "3.34", "0.00"},
			{orders.LineComponent, "GIFTSET", "CANDLE", "1", "3.33", "3.33", "0.00"},
			{orders.LineComponent, "GIFTSET", "CARD", "1", "3.33", "3.33", "0.00"},
			{orders.LineComponent, "DUO", "MUG-WHT-350", "6", "6.64", "39.84", "0.53"},
			{orders.LineComponent, "DUO", "CANDLE-VAN", "3", "11.72", "35.16", "0.47"},
			{orders.LineItem, "MUG-WHT-350", "MUG-WHT-350", "1", "8.5", "8.50", "0.00"},
		}
		if got := lineSummary(p); !slices.Equal(got, want) {
			t.Errorf("lines\n got %v\nwant %v", got, want)
		}
		eq(t, "expected total", p.Totals.Expected, "93.50")
		eq(t, "unexplained", p.Totals.Unexplained, "0")
		checkConsistent(t, p)
		// The component lines of DUO carry the three TikTok units.
		if ids := p.Lines[3].TikTokLineIDs; len(ids) != 3 || !slices.Equal(ids, p.Lines[4].TikTokLineIDs) {
			t.Errorf("component lines' TikTok ids %v / %v", ids, p.Lines[4].TikTokLineIDs)
		}
	})
}

// TestBundleAllocationProperty: whatever the weights and quantities, the
// component lines of a bundle add up to the bundle's amount to the cent.
func TestBundleAllocationProperty(t *testing.T) {
	for units := 1; units <= 7; units++ {
		for _, price := range []string{"0.01", "0.99", "10", "33.33", "99.99"} {
			lines := make([]orders.Line, units)
			for i := range lines {
				lines[i] = orders.Line{ID: string(rune('a' + i)), SellerSKU: "B", OriginalPrice: decimal.NewNullDecimal(decimal.RequireFromString(price))}
			}
			amount := decimal.RequireFromString(price).Mul(decimal.NewFromInt(int64(units)))
			cat := orders.Catalog{Bundles: map[string]orders.Bundle{"B": {Mode: orders.BundleComponents, Components: []orders.Component{
				{ItemCode: "X", Quantity: decimal.NewFromInt(3), PriceWeight: decimal.RequireFromString("1.1")},
				{ItemCode: "Y", Quantity: decimal.RequireFromString("0.5"), PriceWeight: decimal.RequireFromString("7")},
				{ItemCode: "Z", Quantity: decimal.NewFromInt(1), PriceWeight: decimal.RequireFromString("0.3")},
			}}}}
			o := orders.Order{ID: "1", Currency: "GBP", Status: orders.StatusAwaitingShipment, Payment: orders.Payment{SubTotal: amount, TotalAmount: amount}}
			p, probs := orders.Build(o, lines, sandboxConfig("S"), cat, nil)
			if len(probs) != 0 {
				t.Fatal(probs)
			}
			checkConsistent(t, p)
			eq(t, "bundle lines", p.Totals.Lines, amount.String())
			eq(t, "unexplained", p.Totals.Unexplained, "0")
		}
	}
}

func TestProblems(t *testing.T) {
	price := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }
	unitOf := func(id, sku string) orders.Line {
		return orders.Line{ID: id, SKUID: "k-" + sku, SellerSKU: sku, OriginalPrice: price("5"), SalePrice: price("5"), PackageID: "P1"}
	}
	order := orders.Order{ShopID: "S", ID: "576", Currency: "GBP", Status: orders.StatusAwaitingShipment}
	cat := orders.Catalog{Items: map[string]string{"A": "ITEM-A"}, Bundles: map[string]orders.Bundle{
		"KIT-NOCODE":  {Mode: orders.BundleKit},
		"COMP-EMPTY":  {Mode: orders.BundleComponents},
		"ODD-MODE":    {Mode: "boxed"},
		"COMP-BADQTY": {Mode: orders.BundleComponents, Components: []orders.Component{{ItemCode: "X", Quantity: decimal.Zero, PriceWeight: decimal.NewFromInt(1)}}},
		"COMP-NOWGT":  {Mode: orders.BundleComponents, Components: []orders.Component{{ItemCode: "X", Quantity: decimal.NewFromInt(1)}}},
		"COMP-NOITEM": {Mode: orders.BundleComponents, Components: []orders.Component{{Quantity: decimal.NewFromInt(1), PriceWeight: decimal.NewFromInt(1)}}},
	}}
	for _, c := range []struct {
		name   string
		order  func(o *orders.Order)
		cfg    func(c *orders.ShopConfig)
		lines  []orders.Line
		kind   string
		sku    string
		ids    []string
		owner  string
		phrase string
	}{
		{name: "an unmapped SKU is one problem naming its units", lines: []orders.Line{unitOf("1", "NOPE"), unitOf("2", "A"), unitOf("3", "NOPE")},
			kind: orders.KindUnmappedSKU, sku: "NOPE", ids: []string{"1", "3"}, phrase: "integration.sku_map"},
		{name: "a SKU without a seller SKU", lines: []orders.Line{{ID: "1", SKUID: "1729", OriginalPrice: price("5")}},
			kind: orders.KindUnmappedSKU, phrase: "1729"},
		{name: "a kit without its item", lines: []orders.Line{unitOf("1", "KIT-NOCODE")}, kind: orders.KindBundleUndefined, sku: "KIT-NOCODE", ids: []string{"1"}, phrase: "kit_item_code"},
		{name: "components without components", lines: []orders.Line{unitOf("1", "COMP-EMPTY")}, kind: orders.KindBundleUndefined, sku: "COMP-EMPTY", phrase: "bundle_component"},
		{name: "an unknown bundle mode", lines: []orders.Line{unitOf("1", "ODD-MODE")}, kind: orders.KindBundleUndefined, sku: "ODD-MODE", phrase: "boxed"},
		{name: "a component of quantity 0", lines: []orders.Line{unitOf("1", "COMP-BADQTY")}, kind: orders.KindBundleBadComponent, sku: "COMP-BADQTY", phrase: "quantity 0"},
		{name: "a component of weight 0", lines: []orders.Line{unitOf("1", "COMP-NOWGT")}, kind: orders.KindBundleBadComponent, sku: "COMP-NOWGT", phrase: "weight 0"},
		{name: "a component without item", lines: []orders.Line{unitOf("1", "COMP-NOITEM")}, kind: orders.KindBundleBadComponent, sku: "COMP-NOITEM", phrase: `item ""`},
		{name: "an order in another currency", order: func(o *orders.Order) { o.Currency = "USD" }, lines: []orders.Line{unitOf("1", "A")},
			kind: orders.KindCurrencyMismatch, phrase: "USD"},
		{name: "a line in another currency", lines: []orders.Line{func() orders.Line { l := unitOf("1", "A"); l.Currency = "EUR"; return l }()},
			kind: orders.KindCurrencyMismatch, sku: "A", phrase: "EUR"},
		{name: "no price at all", lines: []orders.Line{{ID: "1", SellerSKU: "A"}}, kind: orders.KindMissingPrice, sku: "A", ids: []string{"1"}},
		{name: "TikTok's prices disagree", lines: []orders.Line{{ID: "1", SellerSKU: "A", OriginalPrice: price("5"), SellerDiscount: decimal.NewFromInt(1), SalePrice: price("4.5")}},
			kind: orders.KindPriceInconsistent, sku: "A", phrase: "4.5"},
		{name: "a discount above the price", lines: []orders.Line{{ID: "1", SellerSKU: "A", OriginalPrice: price("5"), SellerDiscount: decimal.NewFromInt(6)}},
			kind: orders.KindInvalidAmount, sku: "A"},
		{name: "a negative discount", lines: []orders.Line{{ID: "1", SellerSKU: "A", OriginalPrice: price("5"), PlatformDiscount: decimal.NewFromInt(-1)}},
			kind: orders.KindInvalidAmount, sku: "A"},
		{name: "every unit cancelled", lines: []orders.Line{func() orders.Line { l := unitOf("1", "A"); l.DisplayStatus = orders.StatusCancelled; return l }()},
			kind: orders.KindNoActiveLines},
		{name: "no tax code for the region", cfg: func(c *orders.ShopConfig) { c.TaxCodes = map[string]string{"US-CA": "CA"} },
			order: func(o *orders.Order) { o.Region = "GB" }, lines: []orders.Line{unitOf("1", "A")}, kind: orders.KindShopConfigIncomplete, owner: orders.OwnerIT, phrase: `"GB"`},
		{name: "TikTok remits without an exempt code", cfg: func(c *orders.ShopConfig) { c.TikTokRemitsTax = true },
			lines: []orders.Line{unitOf("1", "A")}, kind: orders.KindShopConfigIncomplete, owner: orders.OwnerIT, phrase: "exempt_tax_code"},
		{name: "a service item without its code", cfg: func(c *orders.ShopConfig) { c.ShippingItemCode = "" },
			lines: []orders.Line{unitOf("1", "A")}, kind: orders.KindShopConfigIncomplete, owner: orders.OwnerIT, phrase: "shipping_item_code"},
		{name: "freight without an expense code", cfg: func(c *orders.ShopConfig) { c.Shipping = orders.ShippingFreight },
			lines: []orders.Line{unitOf("1", "A")}, kind: orders.KindShopConfigIncomplete, owner: orders.OwnerIT, phrase: "freight_expense_code"},
		{name: "a negative shipping fee", order: func(o *orders.Order) { o.Payment.ShippingFee = decimal.NewFromInt(-1) },
			lines: []orders.Line{unitOf("1", "A")}, kind: orders.KindInvalidAmount, phrase: "shipping"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, cfg := order, sandboxConfig("S")
			if c.order != nil {
				c.order(&o)
			}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			p, probs := orders.Build(o, c.lines, cfg, cat, nil)
			if len(probs) != 1 {
				t.Fatalf("problems %v, want one %s", probs, c.kind)
			}
			pr := probs[0]
			owner := or(c.owner, orders.OwnerOperations)
			if pr.Kind != c.kind || pr.SellerSKU != c.sku || pr.Owner != owner || pr.Message == "" || !strings.Contains(pr.Message, c.phrase) ||
				(c.ids != nil && !slices.Equal(pr.LineIDs, c.ids)) {
				t.Errorf("got %+v, want %s about %q (lines %v, owner %s, saying %q)", pr, c.kind, c.sku, c.ids, owner, c.phrase)
			}
			if pr.Error() == "" {
				t.Error("no error text")
			}
			checkConsistent(t, p)
		})
	}
}

// TestPrices: the price on the SAP line is the price after the seller's
// discount, however TikTok's amounts arrive.
func TestPrices(t *testing.T) {
	price := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }
	d := decimal.RequireFromString
	cat := orders.Catalog{Items: map[string]string{"A": "A"}}
	for _, c := range []struct {
		name string
		line orders.Line
		want string
	}{
		{"original − seller discount", orders.Line{OriginalPrice: price("12.99"), SellerDiscount: d("2"), PlatformDiscount: d("1"), SalePrice: price("9.99")}, "10.99"},
		{"only a sale price: sale + platform discount", orders.Line{SalePrice: price("9.99"), SellerDiscount: d("2"), PlatformDiscount: d("1")}, "10.99"},
		{"only an original price", orders.Line{OriginalPrice: price("12.99"), SellerDiscount: d("2"), PlatformDiscount: d("1")}, "10.99"},
		{"a gift the seller gave away", orders.Line{OriginalPrice: price("2"), SellerDiscount: d("2"), SalePrice: price("0"), IsGift: true}, "0.00"},
		{"a gift TikTok paid for", orders.Line{OriginalPrice: price("2"), PlatformDiscount: d("2"), SalePrice: price("0"), IsGift: true}, "2.00"},
	} {
		l := c.line
		l.ID, l.SellerSKU = "1", "A"
		p, probs := orders.Build(orders.Order{ID: "1", Currency: "GBP", Status: orders.StatusAwaitingShipment}, []orders.Line{l}, sandboxConfig("S"), cat, nil)
		if len(probs) != 0 || len(p.Lines) != 1 {
			t.Fatalf("%s: %v %v", c.name, probs, p.Lines)
		}
		if got := p.Lines[0].Price.StringFixed(2); got != c.want || p.Lines[0].Gift != l.IsGift {
			t.Errorf("%s: price %s gift %v, want %s", c.name, got, p.Lines[0].Gift, c.want)
		}
	}
}

// TestGiftUDF: a configured gift UDF flags gift lines in SAP.
func TestGiftUDF(t *testing.T) {
	_, demo := demoOrders(t)
	cfg := sandboxConfig("S")
	cfg.UDF.Gift = "U_TikTokGift"
	p, _ := orders.Build(demo[3].order, demo[3].lines, cfg, identity(), nil)
	if p.Document.Lines[0].UDF.String("U_TikTokGift") != "" || p.Document.Lines[1].UDF.String("U_TikTokGift") != "Y" {
		t.Errorf("gift UDFs: %v / %v", p.Document.Lines[0].UDF, p.Document.Lines[1].UDF)
	}
}

// TestLineCancellationRebuild: a unit cancelled after posting leaves the
// rebuilt document one unit short, which is what the patch sends.
func TestLineCancellationRebuild(t *testing.T) {
	o := placeOrder(t, bundleProducts, tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 3}}})
	before, _ := orders.Build(o.order, o.lines, sandboxConfig("S"), identity(), nil)
	o.lines[2].DisplayStatus = orders.StatusCancelled
	after, _ := orders.Build(o.order, o.lines, sandboxConfig("S"), identity(), nil)
	eq(t, "quantity before", before.Lines[0].Quantity, "3")
	eq(t, "quantity after", after.Lines[0].Quantity, "2")
	eq(t, "total after", after.Totals.Expected, "17.00")
	eq(t, "cancelled unit in the bridge", after.Totals.Bridge[0].Amount, "-8.50")
}

func TestCompareTotals(t *testing.T) {
	d := decimal.RequireFromString
	base := orders.Totals{Currency: "GBP", Places: 2, Lines: d("19.99"), Shipping: d("4.99"), Tax: d("5"), Expected: d("29.98"), TikTokTotal: d("29.98"), SAPLines: 2}
	for _, c := range []struct {
		name   string
		t      func(t *orders.Totals)
		sap    sapb1.Document
		status string
		diff   string
		phrase string
	}{
		{name: "matched", sap: sapb1.Document{DocTotal: num("29.98"), VatSum: num("5")}, status: orders.TotalsMatched, diff: "0", phrase: "matches"},
		{name: "a cent of tax rounding over two lines", sap: sapb1.Document{DocTotal: num("29.99")}, status: orders.TotalsRounding, diff: "0.01", phrase: "rounding"},
		{name: "SAP's tax rate differs", sap: sapb1.Document{DocTotal: num("28.98"), VatSum: num("4")}, status: orders.TotalsVariance, diff: "-1", phrase: "SAP computed 4.00, TikTok charged 5.00"},
		{name: "SAP added no tax (no tax codes)", sap: sapb1.Document{DocTotal: num("24.98"), VatSum: num("0")}, status: orders.TotalsVariance, diff: "-5", phrase: "all of it tax"},
		{name: "no DocTotal", sap: sapb1.Document{}, status: orders.TotalsMissing, phrase: "no DocTotal"},
		{name: "a cent off without tax is a variance", t: func(t *orders.Totals) { t.Tax, t.Expected, t.TikTokTotal = decimal.Zero, d("24.98"), d("24.98") },
			sap: sapb1.Document{DocTotal: num("24.99")}, status: orders.TotalsVariance, diff: "0.01", phrase: "differs from the expected 24.98 by 0.01"},
		{name: "TikTok's side unexplained", t: func(t *orders.Totals) { t.Unexplained = d("0.10") },
			sap: sapb1.Document{DocTotal: num("29.98")}, status: orders.TotalsVariance, diff: "0", phrase: "0.10 unexplained"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tt := base
			if c.t != nil {
				c.t(&tt)
			}
			got := orders.CompareTotals(tt, c.sap)
			if got.Status != c.status || (c.diff != "" && !got.Difference.Equal(d(c.diff))) || !strings.Contains(got.Explanation, c.phrase) {
				t.Errorf("got %s diff %s: %s\nwant %s diff %s saying %q", got.Status, got.Difference, got.Explanation, c.status, c.diff, c.phrase)
			}
		})
	}
}

// A shop with gross prices posts them as PriceAfterVAT with the region's
// tax code (no UnitPrice or LineTotal, which SAP would tax again), the
// freight as LineGross, and expects SAP's DocTotal to be the gross amounts.
func TestGrossPricesPostPriceAfterVAT(t *testing.T) {
	price := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(decimal.RequireFromString(s)) }
	cfg := sandboxConfig("S")
	cfg.PricesIncludeTax, cfg.Shipping, cfg.FreightExpenseCode = true, orders.ShippingFreight, 1
	cfg.TaxCodes = map[string]string{"GB": "S20"}
	o := orders.Order{ShopID: "S", ID: "1", Status: orders.StatusAwaitingShipment, Currency: "GBP", Region: "GB",
		Payment: orders.Payment{SubTotal: decimal.RequireFromString("10"), ShippingFee: decimal.RequireFromString("2.99"), TotalAmount: decimal.RequireFromString("12.99")}}
	l := orders.Line{ID: "1", SellerSKU: "A", OriginalPrice: price("10"), SalePrice: price("10")}
	p, probs := orders.Build(o, []orders.Line{l}, cfg, orders.Catalog{Items: map[string]string{"A": "A"}}, nil)
	if len(probs) != 0 {
		t.Fatalf("problems %v", probs)
	}
	dl := p.Document.Lines[0]
	if dl.PriceAfterVAT == nil || dl.PriceAfterVAT.String() != "10" || dl.UnitPrice != nil || dl.LineTotal != nil || dl.TaxCode != "S20" {
		t.Fatalf("line %+v", dl)
	}
	x := p.Document.Expenses
	if len(x) != 1 || x[0].LineGross == nil || x[0].LineGross.String() != "2.99" || x[0].LineTotal != nil || x[0].TaxCode != "S20" {
		t.Fatalf("freight %+v", x)
	}
	if !p.Totals.Expected.Equal(decimal.RequireFromString("12.99")) || !p.Totals.Unexplained.IsZero() || !p.Totals.GrossPrices {
		t.Fatalf("totals %+v", p.Totals)
	}
}
