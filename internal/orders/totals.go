package orders

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

// Totals is the money of a Posting: the total SAP's DocTotal should show,
// and how it follows from TikTok's total_amount.
//
//	Expected = Lines + Shipping + Tax
//	Expected = TikTokTotal + Σ Bridge + Unexplained
type Totals struct {
	Currency string
	Places   int32 // decimals of the currency's minor unit

	// Lines is Σ LineTotal of the item, kit and component lines: units at
	// their price after the seller's discount.
	Lines decimal.Decimal
	// Shipping is the shipping revenue posted (service line or freight):
	// shipping_fee + shipping_fee_platform_discount; 0 when not posted.
	Shipping decimal.Decimal
	// Tax is the tax SAP is expected to add on top: TikTok's tax on the
	// posted units (and on the shipping, when posted), when the shop's
	// prices are net and the seller remits the tax; otherwise 0.
	Tax decimal.Decimal
	// Expected is what SAP's DocTotal should be.
	Expected decimal.Decimal

	// TikTokTotal is TikTok's payment.total_amount.
	TikTokTotal decimal.Decimal
	// Bridge are the named amounts that lead from TikTokTotal to Expected.
	Bridge []Adjustment
	// Unexplained is what the Bridge does not explain; 0 when TikTok's
	// amounts follow its own identities.
	Unexplained decimal.Decimal

	// GrossPrices: the prices include tax, which SAP works out per line.
	GrossPrices bool
	// SAPLines is the number of document lines and expenses SAP rounds tax
	// on: the rounding CompareTotals tolerates is one minor unit each.
	SAPLines int
}

// Adjustment kinds (Adjustment.Kind).
const (
	AdjPlatformDiscount         = "platform_discount"          // + TikTok's discount on the posted units: TikTok pays it to the seller
	AdjPlatformShippingDiscount = "platform_shipping_discount" // + TikTok's shipping subsidy, posted as shipping revenue
	AdjCancelledUnits           = "cancelled_units"            // − units cancelled after payment that TikTok's total still holds
	AdjShippingNotPosted        = "shipping_not_posted"        // − shipping the shop does not post (shipping mode none)
	AdjTaxRemittedByTikTok      = "tax_remitted_by_tiktok"     // − tax TikTok collects and remits (marketplace facilitator)
	AdjOtherFees                = "other_fees"                 // − the buyer's other fees, not the seller's revenue
)

// Adjustment is one step from TikTok's total to SAP's.
type Adjustment struct {
	Kind   string
	Amount decimal.Decimal // signed: added to TikTok's total
	Note   string
}

// totals works out a Posting's Totals. units are every line item, cancelled
// ones included, with their prices.
func totals(o Order, units []unit, p Posting, postShipping bool, shipRevenue decimal.Decimal, cfg ShopConfig, places int32) Totals {
	pay := o.Payment
	t := Totals{Currency: o.Currency, Places: places, TikTokTotal: pay.TotalAmount, GrossPrices: cfg.PricesIncludeTax,
		SAPLines: len(p.Lines) + len(p.Expenses)}
	if t.Currency == "" {
		t.Currency = cfg.Currency
	}
	for _, l := range p.Lines {
		if l.Kind == LineShipping {
			t.Shipping = t.Shipping.Add(l.LineTotal)
		} else {
			t.Lines = t.Lines.Add(l.LineTotal)
		}
	}
	for _, e := range p.Expenses {
		if e.LineTotal != nil {
			t.Shipping = t.Shipping.Add(e.LineTotal.Decimal)
		}
		if e.LineGross != nil {
			t.Shipping = t.Shipping.Add(e.LineGross.Decimal)
		}
	}

	// What TikTok's total holds, from the line items.
	var allSale, activeSale, cancelledSale, activePlatform decimal.Decimal
	saleOf := func(u unit) decimal.Decimal {
		switch {
		case u.ok:
			return u.sale
		case u.line.SalePrice.Valid:
			return u.line.SalePrice.Decimal
		}
		return decimal.Zero
	}
	for _, u := range units {
		s := saleOf(u)
		allSale = allSale.Add(s)
		if u.line.IsCancelled() {
			cancelledSale = cancelledSale.Add(s)
		} else {
			activeSale = activeSale.Add(s)
			activePlatform = activePlatform.Add(u.line.PlatformDiscount)
		}
	}
	activeTax, cancelledTax := unitTaxes(units, pay.Tax.Sub(pay.ShippingFeeTax), saleOf, places)
	// Does TikTok's payment still hold the cancelled units? The simulator's
	// (and, as far as is known, TikTok's) payment keeps what was paid and
	// refunds through the cancellation record; a payment that dropped them
	// shows as sub_total = Σ active sale prices.
	cancelledIncluded := !(cancelledSale.IsPositive() || cancelledTax.IsPositive()) ||
		pay.SubTotal.Equal(allSale) || !pay.SubTotal.Equal(activeSale)

	shipTax := pay.ShippingFeeTax
	net, remits := !cfg.PricesIncludeTax, cfg.TikTokRemitsTax
	if net && !remits {
		t.Tax = activeTax
		if postShipping {
			t.Tax = t.Tax.Add(shipTax)
		}
	}
	t.Expected = t.Lines.Add(t.Shipping).Add(t.Tax)

	add := func(kind string, amount decimal.Decimal, note string, args ...any) {
		if !amount.IsZero() {
			t.Bridge = append(t.Bridge, Adjustment{Kind: kind, Amount: amount, Note: fmt.Sprintf(note, args...)})
		}
	}
	add(AdjPlatformDiscount, activePlatform, "TikTok's discount on the units posted: TikTok pays it to the seller")
	if postShipping {
		add(AdjPlatformShippingDiscount, pay.ShippingFeePlatformDiscount, "TikTok's shipping subsidy, posted with the shipping revenue")
	}
	if cancelledIncluded {
		c := cancelledSale
		if net {
			c = c.Add(cancelledTax)
		}
		add(AdjCancelledUnits, c.Neg(), "units cancelled after payment, still in TikTok's total (refunded through the cancellation)")
	}
	if !postShipping {
		s := pay.ShippingFee
		if net && !remits {
			s = s.Add(shipTax)
		}
		add(AdjShippingNotPosted, s.Neg(), "shipping the buyer paid, not posted (the shop posts no shipping, or there was none)")
	}
	if remits {
		add(AdjTaxRemittedByTikTok, activeTax.Add(shipTax).Neg(), "tax TikTok collects and remits; the lines carry the exempt code")
	}
	add(AdjOtherFees, pay.OtherFees.Neg(), "the buyer's other fees, not the seller's revenue")

	t.Unexplained = t.Expected.Sub(t.TikTokTotal)
	for _, a := range t.Bridge {
		t.Unexplained = t.Unexplained.Sub(a.Amount)
	}
	return t
}

// unitTaxes splits the product tax into the active and the cancelled
// units' part: from the line items' own tax when they add up to the
// order's product tax, otherwise by allocating the product tax over the
// units by sale price (largest remainder).
func unitTaxes(units []unit, productTax decimal.Decimal, saleOf func(unit) decimal.Decimal, places int32) (active, cancelled decimal.Decimal) {
	var sum decimal.Decimal
	for _, u := range units {
		sum = sum.Add(u.line.Tax)
	}
	taxes := make([]decimal.Decimal, len(units))
	if sum.Equal(productTax) || len(units) == 0 {
		for i, u := range units {
			taxes[i] = u.line.Tax
		}
	} else {
		var idx []int
		var weights []decimal.Decimal
		for i, u := range units {
			if s := saleOf(u); s.IsPositive() {
				idx, weights = append(idx, i), append(weights, s)
			}
		}
		if len(idx) == 0 {
			for i := range units {
				idx, weights = append(idx, i), append(weights, decimal.NewFromInt(1))
			}
		}
		parts, err := SplitLargestRemainder(productTax, weights, max(places, -productTax.Exponent()))
		if err == nil {
			for j, i := range idx {
				taxes[i] = parts[j]
			}
		}
	}
	for i, u := range units {
		if u.line.IsCancelled() {
			cancelled = cancelled.Add(taxes[i])
		} else {
			active = active.Add(taxes[i])
		}
	}
	return active, cancelled
}

// Explain is the Bridge in one line a finance user reads:
// "TikTok total 27.98 + TikTok's discount … 1.70 = expected 29.68".
func (t Totals) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TikTok total %s", t.TikTokTotal.StringFixed(t.Places))
	for _, a := range t.Bridge {
		sign, amt := "+", a.Amount
		if amt.IsNegative() {
			sign, amt = "−", amt.Neg()
		}
		fmt.Fprintf(&b, " %s %s (%s)", sign, amt.StringFixed(t.Places), a.Note)
	}
	if !t.Unexplained.IsZero() {
		fmt.Fprintf(&b, " %s %s unexplained", map[bool]string{true: "−", false: "+"}[t.Unexplained.IsNegative()], t.Unexplained.Abs().StringFixed(t.Places))
	}
	fmt.Fprintf(&b, " = expected SAP total %s %s", t.Expected.StringFixed(t.Places), t.Currency)
	return b.String()
}

// Comparison statuses.
const (
	TotalsMatched  = "matched"  // SAP's DocTotal is the expected total and TikTok's total is explained
	TotalsRounding = "rounding" // SAP differs by no more than its per-line tax rounding
	TotalsVariance = "variance" // a difference finance must look at
	TotalsMissing  = "missing"  // SAP's answer has no DocTotal
)

// TotalCheck is CompareTotals' answer.
type TotalCheck struct {
	Status      string
	TikTokTotal decimal.Decimal
	Expected    decimal.Decimal
	SAPTotal    decimal.Decimal
	Difference  decimal.Decimal // SAPTotal − Expected
	Unexplained decimal.Decimal // Totals.Unexplained: TikTok's side
	Explanation string
}

// CompareTotals compares the total a Posting expects with the Sales Order
// SAP read back (its DocTotal and VatSum), and explains the difference to
// TikTok's total_amount and to SAP's: the bridge from TikTok's total, a tax
// SAP computed differently from TikTok's, and SAP's rounding of tax per line
// (tolerated up to one minor unit per line when tax or gross prices are
// involved). Anything else is a variance.
func CompareTotals(t Totals, sap sapb1.Document) TotalCheck {
	c := TotalCheck{TikTokTotal: t.TikTokTotal, Expected: t.Expected, Unexplained: t.Unexplained}
	var why []string
	why = append(why, t.Explain()+".")
	if !t.Unexplained.IsZero() {
		why = append(why, fmt.Sprintf("TikTok's amounts leave %s unexplained (its total is not sub_total + shipping_fee + tax + fees over the line items): check the order on TikTok.",
			t.Unexplained.StringFixed(t.Places)))
	}
	if sap.DocTotal == nil {
		c.Status = TotalsMissing
		why = append(why, "SAP returned no DocTotal: read the Sales Order back with DocTotal.")
		c.Explanation = strings.Join(why, " ")
		return c
	}
	c.SAPTotal = sap.DocTotal.Decimal
	c.Difference = c.SAPTotal.Sub(t.Expected)
	unit := decimal.New(1, -t.Places)
	tolerance := unit.Mul(decimal.NewFromInt(int64(max(t.SAPLines, 1))))
	taxed := t.GrossPrices || !t.Tax.IsZero() || (sap.VatSum != nil && !sap.VatSum.IsZero())
	switch {
	case c.Difference.IsZero():
		c.Status = TotalsMatched
		why = append(why, fmt.Sprintf("SAP's DocTotal %s matches.", c.SAPTotal.StringFixed(t.Places)))
	case sap.VatSum != nil && !t.GrossPrices && c.Difference.Equal(sap.VatSum.Sub(t.Tax)):
		c.Status = TotalsVariance
		why = append(why, fmt.Sprintf("SAP's DocTotal %s differs by %s, all of it tax: SAP computed %s, TikTok charged %s. Check the tax code's rate (or whether TikTok remits the tax).",
			c.SAPTotal.StringFixed(t.Places), c.Difference.StringFixed(t.Places), sap.VatSum.StringFixed(t.Places), t.Tax.StringFixed(t.Places)))
		if c.Difference.Abs().LessThanOrEqual(tolerance) {
			c.Status = TotalsRounding
		}
	case taxed && c.Difference.Abs().LessThanOrEqual(tolerance):
		c.Status = TotalsRounding
		why = append(why, fmt.Sprintf("SAP's DocTotal %s differs by %s, within its rounding of tax on %d lines.",
			c.SAPTotal.StringFixed(t.Places), c.Difference.StringFixed(t.Places), t.SAPLines))
	default:
		c.Status = TotalsVariance
		why = append(why, fmt.Sprintf("SAP's DocTotal %s differs from the expected %s by %s: compare the Sales Order's lines, freight and tax with the order.",
			c.SAPTotal.StringFixed(t.Places), t.Expected.StringFixed(t.Places), c.Difference.StringFixed(t.Places)))
	}
	if !t.Unexplained.IsZero() {
		c.Status = TotalsVariance
	}
	c.Explanation = strings.Join(why, " ")
	return c
}
