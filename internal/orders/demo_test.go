package orders_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

// demoSKUs are the simulator's demo listings; the sandbox maps them by
// identity (an SAP item of the same code).
var demoSKUs = []string{"TEE-BLK-M", "TEE-BLK-L", "MUG-WHT-350", "SOCK-3PK", "CANDLE-VAN", "KEYRING-GIFT", "SERUM-30ML", "BOTTLE-750", "LAMP-DESK"}

func identity() orders.Catalog {
	c := orders.Catalog{Items: map[string]string{}}
	for _, s := range demoSKUs {
		c.Items[s] = s
	}
	return c
}

func sandboxConfig(shopID string) orders.ShopConfig {
	return orders.ShopConfig{
		ShopID: shopID, CardCode: "C-TIKTOK", Currency: "GBP", DefaultWarehouse: "01",
		Shipping: orders.ShippingServiceItem, ShippingItemCode: "SHIPPING",
		FBT: orders.FBTSkip, AlreadyShipped: orders.ShippedException,
		CutOver: simNow.AddDate(0, -1, 0),
	}
}

// wantLine is one SAP line as a finance user checks it: item, quantity,
// price per unit, the package (1-based, in the order the order's line items
// name them; 0 = none yet) and the gift flag.
type wantLine struct {
	item  string
	qty   int64
	price string
	pkg   int
	gift  bool
}

func (w wantLine) String() string {
	s := fmt.Sprintf("%s %d@%s pkg%d", w.item, w.qty, w.price, w.pkg)
	if w.gift {
		s += " gift"
	}
	return s
}

// gotLines renders a Posting's item lines (shipping excluded) like wantLine.
func gotLines(p orders.Posting, lines []orders.Line) []string {
	pkgNo := map[string]int{}
	for _, l := range lines {
		if _, ok := pkgNo[l.PackageID]; !ok && l.PackageID != "" {
			pkgNo[l.PackageID] = len(pkgNo) + 1
		}
	}
	var out []string
	for _, l := range p.Lines {
		if l.Kind == orders.LineShipping {
			continue
		}
		out = append(out, wantLine{l.ItemCode, l.Quantity.IntPart(), l.Price.StringFixed(2), pkgNo[l.PackageID], l.Gift}.String())
	}
	return out
}

type demoWant struct {
	what     string
	verdict  orders.Verdict
	kind     string
	lines    []wantLine
	shipping string // shipping revenue posted
	tax      string // tax SAP should add
	expected string // SAP's DocTotal should be this
	tiktok   string // TikTok's total_amount
	bridge   map[string]string
	problems []string
}

// demoWants follow tiktoksim/demo.go order by order.
var demoWants = []demoWant{
	{what: "one unit, seller shipping, with a shipping fee", verdict: orders.Post,
		lines: []wantLine{{"TEE-BLK-M", 1, "12.99", 1, false}}, shipping: "2.99", expected: "15.98", tiktok: "15.98"},
	// Seller discount 1.00 over 3 units is 0.34/0.33/0.33; the platform's
	// 0.60 is 0.20 each. Unit prices after the seller's discount differ, so
	// two SAP lines: 1 × 12.65 and 2 × 12.66 = 37.97 = 3 × 12.99 − 1.00.
	{what: "three units of one SKU with unequal discounts", verdict: orders.Post,
		lines:    []wantLine{{"TEE-BLK-M", 1, "12.65", 1, false}, {"TEE-BLK-M", 2, "12.66", 1, false}},
		expected: "37.97", tiktok: "37.37", bridge: map[string]string{orders.AdjPlatformDiscount: "0.60"}},
	// 3 × 4.00 − 2.00 = 10.00 as 3.33, 3.33, 3.34: two lines.
	{what: "awkward price: 3 for 10.00", verdict: orders.Post,
		lines:    []wantLine{{"SOCK-3PK", 2, "3.33", 1, false}, {"SOCK-3PK", 1, "3.34", 1, false}},
		expected: "10.00", tiktok: "10.00"},
	{what: "a free gift with a mug", verdict: orders.Post,
		lines:    []wantLine{{"MUG-WHT-350", 1, "8.50", 1, false}, {"KEYRING-GIFT", 1, "0.00", 1, true}},
		expected: "8.50", tiktok: "8.50"},
	{what: "split into two packages", verdict: orders.Post,
		lines:    []wantLine{{"CANDLE-VAN", 1, "15.00", 1, false}, {"BOTTLE-750", 1, "19.99", 2, false}, {"MUG-WHT-350", 1, "8.50", 1, false}},
		expected: "43.49", tiktok: "43.49"},
	{what: "the buyer cancels one of two units", verdict: orders.Post,
		lines:    []wantLine{{"TEE-BLK-L", 1, "12.99", 1, false}, {"MUG-WHT-350", 1, "8.50", 1, false}},
		expected: "21.49", tiktok: "34.48", bridge: map[string]string{orders.AdjCancelledUnits: "-12.99"}},
	{what: "unpaid", verdict: orders.Wait, kind: orders.ReasonUnpaid,
		lines: []wantLine{{"BOTTLE-750", 1, "19.99", 0, false}}, expected: "19.99", tiktok: "19.99"},
	{what: "on hold", verdict: orders.Wait, kind: orders.ReasonOnHold,
		lines: []wantLine{{"CANDLE-VAN", 2, "15.00", 0, false}}, expected: "30.00", tiktok: "30.00"},
	{what: "fulfilled by TikTok", verdict: orders.Skip, kind: orders.ReasonFBTSkipped,
		lines: []wantLine{{"SERUM-30ML", 2, "24.99", 1, false}}, expected: "49.98", tiktok: "49.98",
		problems: []string{orders.KindShopConfigIncomplete}}, // Build refuses it too
	{what: "cancelled by the buyer after payment", verdict: orders.Skip, kind: orders.ReasonCancelled,
		shipping: "1.99", expected: "1.99", tiktok: "18.99", bridge: map[string]string{orders.AdjCancelledUnits: "-17.00"},
		problems: []string{orders.KindNoActiveLines}},
	{what: "in transit, seller shipping", verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped,
		lines:    []wantLine{{"TEE-BLK-M", 1, "12.99", 1, false}, {"SOCK-3PK", 1, "4.00", 1, false}},
		shipping: "3.49", expected: "20.48", tiktok: "20.48"},
	{what: "delivered", verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped,
		lines: []wantLine{{"BOTTLE-750", 1, "19.99", 1, false}}, expected: "19.99", tiktok: "19.99"},
	{what: "completed", verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped,
		lines: []wantLine{{"CANDLE-VAN", 1, "15.00", 1, false}, {"MUG-WHT-350", 1, "8.50", 1, false}}, expected: "23.50", tiktok: "23.50"},
	{what: "awaiting collection", verdict: orders.Post,
		lines: []wantLine{{"SERUM-30ML", 1, "24.99", 1, false}}, expected: "24.99", tiktok: "24.99"},
	{what: "partially shipping", verdict: orders.Exception, kind: orders.KindOrderAlreadyShipped,
		lines: []wantLine{{"TEE-BLK-L", 1, "12.99", 1, false}, {"CANDLE-VAN", 1, "15.00", 2, false}}, expected: "27.99", tiktok: "27.99"},
	// 2 × 8.50 with TikTok's 1.70 off: the buyer pays 15.30, the seller
	// earns 17.00. Shipping 3.99 − 1.00 (seller) − 2.99 (TikTok) = 0 paid by
	// the buyer; the seller's shipping revenue is TikTok's 2.99.
	{what: "platform discount and free shipping paid by seller and platform", verdict: orders.Post,
		lines:    []wantLine{{"MUG-WHT-350", 2, "8.50", 1, false}},
		shipping: "2.99", expected: "19.99", tiktok: "15.30",
		bridge: map[string]string{orders.AdjPlatformDiscount: "1.70", orders.AdjPlatformShippingDiscount: "2.99"}},
	{what: "with taxes on the item and the shipping", verdict: orders.Post,
		lines:    []wantLine{{"BOTTLE-750", 1, "19.99", 1, false}},
		shipping: "4.99", tax: "5.00", expected: "29.98", tiktok: "29.98"},
	{what: "the buyer asks to cancel; the seller has not answered", verdict: orders.Wait, kind: orders.ReasonCancelRequested,
		lines: []wantLine{{"TEE-BLK-M", 1, "12.99", 1, false}}, expected: "12.99", tiktok: "12.99"},
	{what: "several SKUs", verdict: orders.Post,
		lines: []wantLine{{"TEE-BLK-M", 1, "12.99", 1, false}, {"TEE-BLK-L", 1, "12.99", 1, false},
			{"SOCK-3PK", 2, "4.00", 1, false}, {"MUG-WHT-350", 1, "8.50", 1, false}},
		expected: "42.48", tiktok: "42.48"},
	{what: "never paid: cancelled by the system", verdict: orders.Skip, kind: orders.ReasonCancelled,
		expected: "0.00", tiktok: "15.00", bridge: map[string]string{orders.AdjCancelledUnits: "-15.00"},
		problems: []string{orders.KindNoActiveLines}},
	{what: "address changed by the buyer", verdict: orders.Post,
		lines: []wantLine{{"CANDLE-VAN", 1, "15.00", 1, false}}, expected: "15.00", tiktok: "15.00"},
	{what: "the seller cancels a unit out of stock", verdict: orders.Post,
		lines:    []wantLine{{"SERUM-30ML", 1, "24.99", 1, false}},
		expected: "24.99", tiktok: "49.98", bridge: map[string]string{orders.AdjCancelledUnits: "-24.99"}},
}

func TestDemoOrders(t *testing.T) {
	shop, demo := demoOrders(t)
	if len(demo) != len(demoWants) {
		t.Fatalf("the simulator seeds %d demo orders, the test knows %d: add the new shapes", len(demo), len(demoWants))
	}
	cfg := sandboxConfig(shop.ID)
	for i, w := range demoWants {
		d := demo[i]
		t.Run(fmt.Sprintf("%02d %s", i, w.what), func(t *testing.T) {
			dec := orders.Decide(d.order, cfg, simNow)
			if dec.Verdict != w.verdict || (w.kind != "" && dec.Kind != w.kind) || dec.Reason == "" {
				t.Errorf("Decide = %s/%s (%q), want %s/%s", dec.Verdict, dec.Kind, dec.Reason, w.verdict, w.kind)
			}
			p, probs := orders.Build(d.order, d.lines, cfg, identity(), time.UTC)
			var kinds []string
			for _, pr := range probs {
				kinds = append(kinds, pr.Kind)
			}
			if !slices.Equal(kinds, w.problems) {
				t.Errorf("problems = %v, want %v (%v)", kinds, w.problems, probs)
			}
			var want []string
			for _, l := range w.lines {
				want = append(want, l.String())
			}
			if got := gotLines(p, d.lines); !slices.Equal(got, want) {
				t.Errorf("SAP lines\n got %v\nwant %v", got, want)
			}
			tt := p.Totals
			eq(t, "TikTok total_amount", tt.TikTokTotal, w.tiktok)
			eq(t, "shipping posted", tt.Shipping, or(w.shipping, "0"))
			eq(t, "tax SAP adds", tt.Tax, or(w.tax, "0"))
			eq(t, "expected SAP total", tt.Expected, w.expected)
			checkConsistent(t, p)
			bridge := map[string]string{}
			for _, a := range tt.Bridge {
				bridge[a.Kind] = a.Amount.StringFixed(2)
			}
			wantBridge := map[string]string{}
			for k, v := range w.bridge {
				wantBridge[k] = decimal.RequireFromString(v).StringFixed(2)
			}
			if fmt.Sprint(bridge) != fmt.Sprint(wantBridge) {
				t.Errorf("bridge from TikTok's total = %v, want %v\n%s", bridge, wantBridge, tt.Explain())
			}
			if !tt.Unexplained.IsZero() {
				t.Errorf("unexplained %s: %s", tt.Unexplained, tt.Explain())
			}
		})
	}
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func eq(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(decimal.RequireFromString(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// checkConsistent asserts what holds for every Posting: the Document's
// lines are the PostedLines; each line's total is its price × quantity (a
// component's is its share); Σ line totals + freight + tax = the expected
// total; the expected total is TikTok's total plus the bridge plus what is
// unexplained.
func checkConsistent(t testing.TB, p orders.Posting) {
	t.Helper()
	if len(p.Document.Lines) != len(p.Lines) {
		t.Fatalf("document has %d lines, posting %d", len(p.Document.Lines), len(p.Lines))
	}
	sum := decimal.Zero
	for i, l := range p.Lines {
		dl := p.Document.Lines[i]
		if dl.ItemCode != l.ItemCode || !dl.Quantity.Equal(l.Quantity) {
			t.Errorf("line %d: document %s × %s, posting %s × %s", i, dl.ItemCode, dl.Quantity, l.ItemCode, l.Quantity)
		}
		if !p.Totals.GrossPrices && (dl.LineTotal == nil || !dl.LineTotal.Equal(l.LineTotal) || dl.UnitPrice == nil || !dl.UnitPrice.Equal(l.Price)) {
			t.Errorf("line %d: document prices %v/%v, posting %s/%s", i, dl.UnitPrice, dl.LineTotal, l.Price, l.LineTotal)
		}
		if dl.DiscountPercent == nil || !dl.DiscountPercent.IsZero() {
			t.Errorf("line %d: DiscountPercent %v, want 0 so SAP adds no discount of its own", i, dl.DiscountPercent)
		}
		if l.Kind != orders.LineComponent && !l.Price.Mul(l.Quantity).Equal(l.LineTotal) {
			t.Errorf("line %d: %s × %s ≠ %s", i, l.Price, l.Quantity, l.LineTotal)
		}
		if l.Quantity.Sign() <= 0 || l.LineTotal.IsNegative() {
			t.Errorf("line %d: quantity %s, total %s", i, l.Quantity, l.LineTotal)
		}
		if !l.LineTotal.Equal(l.LineTotal.Round(p.Totals.Places)) {
			t.Errorf("line %d: total %s is not in whole minor units", i, l.LineTotal)
		}
		sum = sum.Add(l.LineTotal)
	}
	for _, e := range p.Expenses {
		if e.LineTotal != nil {
			sum = sum.Add(e.LineTotal.Decimal)
		}
		if e.LineGross != nil {
			sum = sum.Add(e.LineGross.Decimal)
		}
	}
	tt := p.Totals
	if !sum.Add(tt.Tax).Equal(tt.Expected) || !tt.Lines.Add(tt.Shipping).Add(tt.Tax).Equal(tt.Expected) {
		t.Errorf("Σ lines %s + freight + tax %s ≠ expected %s (lines %s, shipping %s)", sum, tt.Tax, tt.Expected, tt.Lines, tt.Shipping)
	}
	bridged := tt.TikTokTotal.Add(tt.Unexplained)
	for _, a := range tt.Bridge {
		bridged = bridged.Add(a.Amount)
	}
	if !bridged.Equal(tt.Expected) {
		t.Errorf("TikTok %s + bridge + unexplained = %s ≠ expected %s", tt.TikTokTotal, bridged, tt.Expected)
	}
}

// TestDemoDocument checks the Sales Order of one demo order field by field.
func TestDemoDocument(t *testing.T) {
	shop, demo := demoOrders(t)
	d := demo[4] // split into two packages
	tokyo := time.FixedZone("JST", 9*3600)
	p, probs := orders.Build(d.order, d.lines, sandboxConfig(shop.ID), identity(), tokyo)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	doc := p.Document
	created := d.order.CreateTime.In(tokyo)
	if doc.CardCode != "C-TIKTOK" || doc.NumAtCard != d.order.ID || doc.DocCurrency != "GBP" ||
		doc.DocDate != created.Format("2006-01-02") || doc.DocDueDate != d.order.ShipBy.In(tokyo).Format("2006-01-02") {
		t.Errorf("header: %+v", doc)
	}
	if doc.UDF.String("U_TikTokOrderId") != d.order.ID || doc.UDF.String("U_TikTokShopId") != shop.ID {
		t.Errorf("header UDFs %v", doc.UDF)
	}
	if !strings.Contains(doc.Comments, d.order.ID) {
		t.Errorf("comments %q", doc.Comments)
	}
	for i, l := range doc.Lines {
		if l.WarehouseCode != "01" || l.UDF.String("U_TikTokPackageId") != p.Lines[i].PackageID || p.Lines[i].PackageID == "" {
			t.Errorf("line %d: warehouse %q, package UDF %v, posted package %q", i, l.WarehouseCode, l.UDF, p.Lines[i].PackageID)
		}
		if l.TaxCode != "" {
			t.Errorf("line %d: tax code %q with no tax codes configured", i, l.TaxCode)
		}
	}
	if doc.Lines[0].UDF.String("U_TikTokPackageId") != doc.Lines[2].UDF.String("U_TikTokPackageId") ||
		doc.Lines[0].UDF.String("U_TikTokPackageId") == doc.Lines[1].UDF.String("U_TikTokPackageId") {
		t.Error("candle and mug share a package, the bottle has its own")
	}
	// Every active TikTok line item is on exactly one SAP line.
	var ids []string
	for _, l := range p.Lines {
		ids = append(ids, l.TikTokLineIDs...)
	}
	var want []string
	for _, l := range d.lines {
		want = append(want, l.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("TikTok line ids on SAP lines %v, want %v", ids, want)
	}
	// The JSON the Service Layer gets carries exact amounts.
	b, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"UnitPrice":19.99`, `"LineTotal":19.99`, `"Quantity":1`, `"U_TikTokPackageId":"`, `"NumAtCard":"` + d.order.ID + `"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("JSON lacks %s: %s", s, b)
		}
	}
}

// TestDemoOrdersUnderEveryConfig builds every demo order under each shipping
// and tax setting: TikTok's total is always explained to the cent.
func TestDemoOrdersUnderEveryConfig(t *testing.T) {
	shop, demo := demoOrders(t)
	for _, ship := range []orders.ShippingMode{orders.ShippingServiceItem, orders.ShippingFreight, orders.ShippingNone} {
		for _, remits := range []bool{false, true} {
			cfg := sandboxConfig(shop.ID)
			cfg.Shipping, cfg.FreightExpenseCode = ship, 1
			cfg.TikTokRemitsTax, cfg.ExemptTaxCode = remits, "EX"
			cfg.TaxCodes = map[string]string{"GB": "S1", "": "S0"}
			for i, d := range demo {
				p, _ := orders.Build(d.order, d.lines, cfg, identity(), nil)
				checkConsistent(t, p)
				if !p.Totals.Unexplained.IsZero() {
					t.Errorf("%s remits=%v order %d: unexplained %s: %s", ship, remits, i, p.Totals.Unexplained, p.Totals.Explain())
				}
				// Before release (UNPAID, ON_HOLD) TikTok shows no address, so
				// no region: the default code.
				want := map[bool]string{true: "EX", false: "S1"}[remits]
				if !remits && d.order.Region != "GB" {
					want = "S0"
				}
				for _, l := range p.Lines {
					if l.TaxCode != want {
						t.Errorf("order %d: tax code %q, want %q", i, l.TaxCode, want)
					}
				}
			}
			// The order with taxes: 19.99 + shipping 4.99, tax 4.00 + 1.00.
			p, _ := orders.Build(demo[16].order, demo[16].lines, cfg, identity(), nil)
			want := map[string]string{
				"service_item false": "29.98", "freight false": "29.98", "none false": "23.99",
				"service_item true": "24.98", "freight true": "24.98", "none true": "19.99",
			}[fmt.Sprint(ship, " ", remits)]
			eq(t, fmt.Sprintf("%s remits=%v: expected total of the taxed order", ship, remits), p.Totals.Expected, want)
			if ship == orders.ShippingFreight {
				if len(p.Expenses) != 1 || p.Expenses[0].ExpenseCode != 1 || !p.Expenses[0].LineTotal.Equal(decimal.RequireFromString("4.99")) {
					t.Errorf("freight %+v, want 4.99 on expense 1", p.Expenses)
				}
			}
		}
	}
}

// TestFBTWarehouse: with an FBT warehouse the FBT order posts against it.
func TestFBTWarehouse(t *testing.T) {
	shop, demo := demoOrders(t)
	cfg := sandboxConfig(shop.ID)
	cfg.FBT, cfg.FBTWarehouse = orders.FBTWarehouse, "FBT"
	d := demo[8]
	dec := orders.Decide(d.order, cfg, simNow)
	if dec.Verdict != orders.Post || !dec.FBT {
		t.Fatalf("Decide = %+v", dec)
	}
	p, probs := orders.Build(d.order, d.lines, cfg, identity(), nil)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	for _, l := range p.Document.Lines {
		if l.WarehouseCode != "FBT" {
			t.Errorf("FBT order line in warehouse %q, want FBT", l.WarehouseCode)
		}
	}
	cfg.FBTWarehouse = ""
	if _, probs := orders.Build(d.order, d.lines, cfg, identity(), nil); len(probs) != 1 || probs[0].Kind != orders.KindShopConfigIncomplete || probs[0].Owner != orders.OwnerIT {
		t.Errorf("FBT without a warehouse: %v", probs)
	}
}

// TestAlreadyShippedRule: post_as_shipped posts the shipped demo orders.
func TestAlreadyShippedRule(t *testing.T) {
	shop, demo := demoOrders(t)
	cfg := sandboxConfig(shop.ID)
	cfg.AlreadyShipped = orders.ShippedPost
	for _, i := range []int{10, 11, 12, 14} {
		dec := orders.Decide(demo[i].order, cfg, simNow)
		if dec.Verdict != orders.Post || !dec.AsShipped {
			t.Errorf("order %d (%s): %+v", i, demo[i].order.Status, dec)
		}
		p, _ := orders.Build(demo[i].order, demo[i].lines, cfg, identity(), nil)
		if !strings.Contains(p.Document.Comments, demo[i].order.Status) {
			t.Errorf("comments %q do not say it was %s", p.Document.Comments, demo[i].order.Status)
		}
	}
}

// TestCompareDemoTotals compares every posted demo order with what SAP
// would read back.
func TestCompareDemoTotals(t *testing.T) {
	shop, demo := demoOrders(t)
	cfg := sandboxConfig(shop.ID)
	p, _ := orders.Build(demo[15].order, demo[15].lines, cfg, identity(), nil)
	c := orders.CompareTotals(p.Totals, sapb1.Document{DocTotal: num("19.99")})
	if c.Status != orders.TotalsMatched || !c.Difference.IsZero() {
		t.Errorf("%+v", c)
	}
	for _, s := range []string{"TikTok total 15.30", "+ 1.70", "+ 2.99", "expected SAP total 19.99 GBP", "matches"} {
		if !strings.Contains(c.Explanation, s) {
			t.Errorf("explanation lacks %q: %s", s, c.Explanation)
		}
	}
}

func num(s string) *sapb1.Num { n := sapb1.N(s); return &n }
