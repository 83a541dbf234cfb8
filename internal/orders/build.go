package orders

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
)

// LineKind is what a Sales Order line stands for.
type LineKind string

// Line kinds.
const (
	LineItem      LineKind = "item"      // units of one mapped SKU
	LineKit       LineKind = "kit"       // units of a bundle posted as an SAP sales-BOM item
	LineComponent LineKind = "component" // one component of a bundle posted as components
	LineShipping  LineKind = "shipping"  // the shipping service item
)

// PostedLine describes one line of the Sales Order, in the Document's line
// order: what it came from on TikTok (for the posting ledger, which maps SAP
// lines to TikTok packages and line items) and the money on it.
type PostedLine struct {
	Kind      LineKind
	SellerSKU string // the TikTok SKU (the bundle's, for kit and component lines); "" for shipping
	ItemCode  string
	PackageID string
	Gift      bool
	Quantity  decimal.Decimal
	// Price is the price of one unit after the seller's discount: TikTok's
	// original price − seller discount (= sale price + platform discount).
	// Net, or gross when the shop's prices include tax. For component lines
	// it is LineTotal / Quantity, rounded to 6 decimals.
	Price decimal.Decimal
	// LineTotal is the line's amount, exact: Price × Quantity, or for a
	// component its largest-remainder share of the bundle's amount.
	LineTotal decimal.Decimal
	// PlatformDiscount is TikTok's discount inside LineTotal: money TikTok
	// pays the seller, not a discount the seller gave.
	PlatformDiscount decimal.Decimal
	Warehouse        string
	TaxCode          string
	TikTokLineIDs    []string // the one-unit TikTok line items on this line (every component line of a bundle lists the bundle's)
}

// AdditionalExpense is a document freight line, the Service Layer's
// DocumentAdditionalExpenses entry: the net LineTotal, or LineGross when the
// shop's prices include tax, with the line's tax code.
type AdditionalExpense = sapb1.AdditionalExpense

// Posting is the Sales Order an order becomes.
//
// Document is ready to POST except for Series ("Series", when not 0), which
// the caller adds. Expenses are Document.Expenses (the freight), kept here
// too for the totals.
type Posting struct {
	Document sapb1.Document
	Series   int
	Expenses []AdditionalExpense
	Lines    []PostedLine // one per Document line, same order
	Totals   Totals
}

// group is the units of one SAP line: same SKU, package, unit price and
// gift flag.
type group struct {
	sellerSKU, skuID, pkg string
	gift                  bool
	price                 decimal.Decimal // per unit after the seller's discount
	platform              decimal.Decimal // Σ platform discount
	ids                   []string
}

// unit is a line item with its prices worked out.
type unit struct {
	line  Line
	price decimal.Decimal // after the seller's discount
	sale  decimal.Decimal // what the buyer paid
	ok    bool            // prices usable
}

// Build maps a TikTok order and its line items to the SAP Sales Order
// (DESIGN.md, "Orders"). loc is the SAP company's time zone, in which
// DocDate and DocDueDate are dated (nil = UTC).
//
// Problems block the order: the Posting is returned for inspection but must
// not be posted while any problem remains. Build is deterministic: the same
// input always gives the same document, lines in the order TikTok listed
// their first unit.
//
// The rules:
//   - cancelled units are left out; the others are grouped into one line
//     per (seller SKU, package, unit price, gift flag);
//   - unit price = original_price − seller_discount (the platform discount
//     is TikTok's money, kept in the seller's revenue); a gift is priced the
//     same way, which is 0 when the seller gave it away;
//   - a bundle in kit mode is one line of the kit item; in component mode,
//     one line per component with quantity × units, and the bundle line's
//     amount split over the components by PriceWeight × Quantity with
//     SplitLargestRemainder, so the parts add up to it to the cent;
//   - shipping revenue = shipping_fee + shipping_fee_platform_discount (the
//     buyer's payment plus TikTok's subsidy), as a service-item line or a
//     freight expense, or not at all;
//   - every line carries the tax code of the buyer's region (or the exempt
//     code when TikTok remits the tax); prices go net (UnitPrice, LineTotal)
//     and SAP computes the tax, or, when the shop's prices include tax,
//     gross (PriceAfterVAT, and the freight's LineGross) and SAP splits out
//     the tax.
func Build(o Order, lines []Line, cfg ShopConfig, r Resolver, loc *time.Location) (Posting, []Problem) {
	if loc == nil {
		loc = time.UTC
	}
	var ps problems
	udf := cfg.UDF.withDefaults()
	fbt := o.FulfillmentType == FulfilledByTikTok

	currency := o.Currency
	if currency == "" {
		currency = cfg.Currency
	}
	if cfg.Currency != "" && o.Currency != cfg.Currency {
		ps.add(Problem{Kind: KindCurrencyMismatch, Message: fmt.Sprintf(
			"The order is in %q but the shop posts in %s: correct the shop's currency, or post the order by hand.", o.Currency, cfg.Currency)})
	}
	places := MinorUnits(currency)

	// The shop's configuration, as far as this order needs it.
	var missing []string
	if cfg.CardCode == "" {
		missing = append(missing, "the generic customer (card_code)")
	}
	warehouse := cfg.DefaultWarehouse
	switch {
	case fbt && cfg.FBT != FBTWarehouse:
		// Decide skips it; Build refuses too, so an FBT order can never
		// commit the stock the seller ships from.
		missing = append(missing, "an FBT warehouse: the order is fulfilled by TikTok and the shop skips such orders, so it must not be posted (set fbt_mode warehouse and fbt_warehouse to post them)")
	case fbt:
		warehouse = cfg.FBTWarehouse
		if warehouse == "" {
			missing = append(missing, "the FBT warehouse (fbt_warehouse)")
		}
	case warehouse == "":
		missing = append(missing, "the default warehouse (default_warehouse)")
	}
	shipping := cfg.Shipping
	if shipping == "" {
		shipping = ShippingFreight
	}
	switch shipping {
	case ShippingFreight:
		if cfg.FreightExpenseCode == 0 {
			missing = append(missing, "the freight expense code (freight_expense_code)")
		}
	case ShippingServiceItem:
		if cfg.ShippingItemCode == "" {
			missing = append(missing, "the shipping service item (shipping_item_code)")
		}
	case ShippingNone:
	default:
		missing = append(missing, fmt.Sprintf("a known shipping mode (not %q)", shipping))
	}
	taxCode := ""
	switch {
	case cfg.TikTokRemitsTax:
		taxCode = cfg.ExemptTaxCode
		if taxCode == "" {
			missing = append(missing, "the exempt tax code used where TikTok remits the tax (exempt_tax_code)")
		}
	case len(cfg.TaxCodes) > 0:
		code, ok := cfg.TaxCodes[o.Region]
		if !ok {
			code, ok = cfg.TaxCodes[""]
		}
		if ok {
			taxCode = code
		} else {
			missing = append(missing, fmt.Sprintf("a tax code for region %q or a default one (integration.tax_code)", o.Region))
		}
	}
	if len(missing) > 0 {
		ps.add(Problem{Kind: KindShopConfigIncomplete, Owner: OwnerIT, Message: fmt.Sprintf(
			"Shop %s cannot post this order: its configuration lacks %s. Complete integration.shop_config.", cfg.ShopID, strings.Join(missing, "; "))})
	}

	// Price every unit; group the active ones.
	units := make([]unit, len(lines))
	var groups []*group
	index := map[string]*group{}
	for i, l := range lines {
		u := priceUnit(l, o.Currency, &ps)
		units[i] = u
		if l.IsCancelled() || !u.ok {
			continue
		}
		key := strings.Join([]string{l.SellerSKU, l.SKUID, l.PackageID, u.price.String(), fmt.Sprint(l.IsGift)}, "\x00")
		g := index[key]
		if g == nil {
			g = &group{sellerSKU: l.SellerSKU, skuID: l.SKUID, pkg: l.PackageID, gift: l.IsGift, price: u.price}
			index[key] = g
			groups = append(groups, g)
		}
		g.platform = g.platform.Add(l.PlatformDiscount)
		g.ids = append(g.ids, l.ID)
	}
	active := 0
	for _, l := range lines {
		if !l.IsCancelled() {
			active++
		}
	}
	if active == 0 {
		ps.add(Problem{Kind: KindNoActiveLines, Message: "Every unit of the order is cancelled, yet the order is not: nothing to post. Check the order on TikTok."})
	}

	p := Posting{Series: cfg.Series}
	for _, g := range groups {
		p.Lines = append(p.Lines, mapGroup(g, r, warehouse, taxCode, places, &ps)...)
	}

	// Shipping revenue: what the buyer paid plus TikTok's subsidy.
	pay := o.Payment
	shipRevenue := pay.ShippingFee.Add(pay.ShippingFeePlatformDiscount)
	if pay.ShippingFee.IsNegative() || pay.ShippingFeePlatformDiscount.IsNegative() {
		ps.add(Problem{Kind: KindInvalidAmount, Message: fmt.Sprintf(
			"TikTok sent a negative shipping amount (shipping_fee %s, platform shipping discount %s): check the order on TikTok.", pay.ShippingFee, pay.ShippingFeePlatformDiscount)})
	}
	postShipping := shipping != ShippingNone && shipRevenue.IsPositive()
	if postShipping {
		switch shipping {
		case ShippingServiceItem:
			p.Lines = append(p.Lines, PostedLine{Kind: LineShipping, ItemCode: cfg.ShippingItemCode, Quantity: decimal.NewFromInt(1),
				Price: shipRevenue, LineTotal: shipRevenue, PlatformDiscount: pay.ShippingFeePlatformDiscount,
				Warehouse: warehouse, TaxCode: taxCode})
		case ShippingFreight:
			amount := sapb1.Num{Decimal: shipRevenue}
			e := AdditionalExpense{ExpenseCode: cfg.FreightExpenseCode, TaxCode: taxCode}
			if cfg.PricesIncludeTax {
				e.LineGross = &amount
			} else {
				e.LineTotal = &amount
			}
			p.Expenses = append(p.Expenses, e)
		}
	}

	// The document.
	doc := sapb1.Document{
		CardCode:    cfg.CardCode,
		DocDate:     o.CreateTime.In(loc).Format(time.DateOnly),
		DocDueDate:  dueDate(o, loc),
		NumAtCard:   o.ID,
		Comments:    comments(o),
		DocCurrency: currency,
		UDF:         sapb1.UDFs{udf.OrderID: o.ID, udf.ShopID: o.ShopID, udf.Release: ReleaseHeld},
	}
	for _, pl := range p.Lines {
		doc.Lines = append(doc.Lines, documentLine(pl, cfg.PricesIncludeTax, udf))
	}
	doc.Expenses = p.Expenses
	p.Document = doc
	p.Totals = totals(o, units, p, postShipping, shipRevenue, cfg, places)
	return p, ps.list
}

// priceUnit works out a unit's SAP price (after the seller's discount) and
// sale price, raising problems for active units only: a cancelled unit's
// data never blocks an order.
func priceUnit(l Line, orderCurrency string, ps *problems) unit {
	u := unit{line: l}
	report := func(p Problem) {
		if !l.IsCancelled() {
			p.SellerSKU, p.LineIDs = l.SellerSKU, []string{l.ID}
			ps.add(p)
		}
	}
	orig, sale := l.OriginalPrice, l.SalePrice
	switch {
	case orig.Valid:
		u.price = orig.Decimal.Sub(l.SellerDiscount)
		u.sale = u.price.Sub(l.PlatformDiscount)
		u.ok = true
	case sale.Valid:
		u.sale = sale.Decimal
		u.price = sale.Decimal.Add(l.PlatformDiscount)
		u.ok = true
	default:
		report(Problem{Kind: KindMissingPrice, Message: fmt.Sprintf(
			"TikTok sent neither an original nor a sale price for %s (line %s): reload the order from TikTok; if it persists, IT must check the landing.", l.SellerSKU, l.ID)})
	}
	if orig.Valid && sale.Valid && !u.sale.Equal(sale.Decimal) {
		report(Problem{Kind: KindPriceInconsistent, Message: fmt.Sprintf(
			"For %s (line %s) the original price %s less the seller's discount %s and TikTok's discount %s is %s, but TikTok says the buyer paid %s: the order waits until TikTok's amounts agree; check it on TikTok.",
			l.SellerSKU, l.ID, orig.Decimal, l.SellerDiscount, l.PlatformDiscount, u.sale, sale.Decimal)})
		u.ok = false
	}
	if (orig.Valid && orig.Decimal.IsNegative()) || (sale.Valid && sale.Decimal.IsNegative()) || l.SellerDiscount.IsNegative() ||
		l.PlatformDiscount.IsNegative() || l.Tax.IsNegative() || (u.ok && u.price.IsNegative()) {
		report(Problem{Kind: KindInvalidAmount, Message: fmt.Sprintf(
			"%s (line %s) has a negative amount (original %s, sale %s, seller discount %s, platform discount %s, tax %s): check the order on TikTok.",
			l.SellerSKU, l.ID, nullString(orig), nullString(sale), l.SellerDiscount, l.PlatformDiscount, l.Tax)})
		u.ok = false
	}
	if l.Currency != "" && orderCurrency != "" && l.Currency != orderCurrency {
		report(Problem{Kind: KindCurrencyMismatch, Message: fmt.Sprintf(
			"Line %s of %s is in %s but the order is in %s: post the order by hand.", l.ID, l.SellerSKU, l.Currency, orderCurrency)})
		u.ok = false
	}
	return u
}

func nullString(d decimal.NullDecimal) string {
	if !d.Valid {
		return "none"
	}
	return d.Decimal.String()
}

// mapGroup turns a group of units into its SAP line(s).
func mapGroup(g *group, r Resolver, warehouse, taxCode string, places int32, ps *problems) []PostedLine {
	qty := decimal.NewFromInt(int64(len(g.ids)))
	amount := g.price.Mul(qty)
	base := PostedLine{SellerSKU: g.sellerSKU, PackageID: g.pkg, Gift: g.gift, Quantity: qty, Price: g.price,
		LineTotal: amount, PlatformDiscount: g.platform, Warehouse: warehouse, TaxCode: taxCode, TikTokLineIDs: g.ids}
	fail := func(kind, item, msg string) []PostedLine {
		ps.add(Problem{Kind: kind, SellerSKU: g.sellerSKU, ItemCode: item, LineIDs: g.ids, Message: msg})
		return nil
	}
	if g.sellerSKU == "" {
		return fail(KindUnmappedSKU, "", fmt.Sprintf(
			"TikTok SKU %s has no seller SKU, so it cannot be mapped: give it a seller SKU on TikTok, or map it in integration.sku_map.", g.skuID))
	}
	if b, ok := r.Bundle(g.sellerSKU); ok {
		switch b.Mode {
		case BundleKit:
			if b.KitItemCode == "" {
				return fail(KindBundleUndefined, "", fmt.Sprintf(
					"Bundle %s is in kit mode without a kit item: set its kit_item_code (an SAP sales BOM) in integration.bundle.", g.sellerSKU))
			}
			base.Kind, base.ItemCode = LineKit, b.KitItemCode
			return []PostedLine{base}
		case BundleComponents:
			return mapComponents(base, b.Components, amount, places, ps)
		default:
			return fail(KindBundleUndefined, "", fmt.Sprintf(
				"Bundle %s has mode %q: set it to kit or components in integration.bundle.", g.sellerSKU, b.Mode))
		}
	}
	item, ok := r.Item(g.sellerSKU)
	if !ok {
		return fail(KindUnmappedSKU, "", fmt.Sprintf(
			"Seller SKU %s maps to no SAP item: create the item in SAP with that code, add a row to integration.sku_map, or define it as a bundle. The order posts by itself once it maps.", g.sellerSKU))
	}
	base.Kind, base.ItemCode = LineItem, item
	return []PostedLine{base}
}

// mapComponents translates units of a bundle into component lines, the
// bundle line's amount split by PriceWeight × Quantity to the minor unit.
func mapComponents(base PostedLine, comps []Component, amount decimal.Decimal, places int32, ps *problems) []PostedLine {
	sku := base.SellerSKU
	if len(comps) == 0 {
		ps.add(Problem{Kind: KindBundleUndefined, SellerSKU: sku, LineIDs: base.TikTokLineIDs, Message: fmt.Sprintf(
			"Bundle %s is in component mode without components: add them to integration.bundle_component.", sku)})
		return nil
	}
	weights := make([]decimal.Decimal, len(comps))
	bad := false
	for i, c := range comps {
		if c.ItemCode == "" || !c.Quantity.IsPositive() || !c.PriceWeight.IsPositive() {
			ps.add(Problem{Kind: KindBundleBadComponent, SellerSKU: sku, ItemCode: c.ItemCode, LineIDs: base.TikTokLineIDs, Message: fmt.Sprintf(
				"Bundle %s has a component with item %q, quantity %s and price weight %s: every component needs an SAP item, a quantity above 0 and a weight above 0 (integration.bundle_component).",
				sku, c.ItemCode, c.Quantity, c.PriceWeight)})
			bad = true
			continue
		}
		weights[i] = c.PriceWeight.Mul(c.Quantity)
	}
	if bad {
		return nil
	}
	// TikTok amounts have the currency's decimals; should one have more, the
	// split keeps them rather than lose a fraction of a cent.
	parts, err := SplitLargestRemainder(amount, weights, max(places, -amount.Exponent()))
	if err != nil { // unreachable: weights are positive and places fit the amount
		ps.add(Problem{Kind: KindBundleBadComponent, SellerSKU: sku, LineIDs: base.TikTokLineIDs, Message: fmt.Sprintf(
			"Bundle %s: its amount %s cannot be split over its components (%v): IT must look.", sku, amount, err)})
		return nil
	}
	platform, err := SplitLargestRemainder(base.PlatformDiscount, weights, max(places, -base.PlatformDiscount.Exponent()))
	if err != nil {
		platform = make([]decimal.Decimal, len(comps))
	}
	out := make([]PostedLine, len(comps))
	for i, c := range comps {
		l := base
		l.Kind, l.ItemCode = LineComponent, c.ItemCode
		l.Quantity = c.Quantity.Mul(base.Quantity)
		l.LineTotal = parts[i]
		l.Price = parts[i].DivRound(l.Quantity, 6)
		l.PlatformDiscount = platform[i]
		out[i] = l
	}
	return out
}

// documentLine is the Service Layer line of a PostedLine. Prices go as
// UnitPrice with DiscountPercent 0 (so no customer or period discount of
// SAP's applies on top) and the exact LineTotal (so a component's total
// survives SAP rounding its price).
func documentLine(pl PostedLine, gross bool, udf UDFNames) sapb1.DocumentLine {
	n := func(d decimal.Decimal) *sapb1.Num { return &sapb1.Num{Decimal: d} }
	dl := sapb1.DocumentLine{ItemCode: pl.ItemCode, Quantity: n(pl.Quantity), WarehouseCode: pl.Warehouse, TaxCode: pl.TaxCode,
		DiscountPercent: n(decimal.Zero)}
	if gross {
		// SAP derives the net price from the gross one and the tax code's
		// rate, and keeps the line's gross total (PriceAfterVAT × Quantity).
		dl.PriceAfterVAT = n(pl.Price)
	} else {
		dl.UnitPrice, dl.LineTotal = n(pl.Price), n(pl.LineTotal)
	}
	u := sapb1.UDFs{}
	if pl.PackageID != "" {
		u[udf.PackageID] = pl.PackageID
	}
	if pl.Gift && udf.Gift != "" {
		u[udf.Gift] = "Y"
	}
	if len(u) > 0 {
		dl.UDF = u
	}
	return dl
}

// dueDate is the Sales Order's delivery date: TikTok's ship-by time, else
// the payment, else the order's creation; never before DocDate.
func dueDate(o Order, loc *time.Location) string {
	due := o.ShipBy
	if due.IsZero() {
		due = o.PaidTime
	}
	if due.IsZero() || due.Before(o.CreateTime) {
		due = o.CreateTime
	}
	return due.In(loc).Format(time.DateOnly)
}

// comments is the header's Comments: where the order comes from and how it
// ships. No personal data (the buyer's message may hold some).
func comments(o Order) string {
	var b strings.Builder
	fmt.Fprintf(&b, "TikTok Shop order %s (shop %s)", o.ID, o.ShopID)
	switch {
	case o.FulfillmentType == FulfilledByTikTok:
		b.WriteString(", fulfilled by TikTok")
	case o.ShippingType == ShippingTikTok:
		b.WriteString(", TikTok shipping")
	case o.ShippingType == ShippingSeller:
		b.WriteString(", seller shipping")
	}
	if shipped[o.Status] {
		fmt.Fprintf(&b, "; TikTok showed it %s when posted", o.Status)
	}
	r := []rune(b.String())
	if len(r) > 254 { // SAP's Comments holds 254 characters
		r = r[:254]
	}
	return string(r)
}
