package sapb1sim

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// A minimal tax model. Tax codes are OSTC rows (entity SalesTaxCodes: Code,
// Rate in percent); a line's or freight's TaxCode, else its VatGroup (looked
// up in the same table), gives its rate; neither = rate 0. An unknown or
// inactive code is -10. Per line (and freight):
//
//   - net price given (UnitPrice/Price/LineTotal): VatSum = LineTotal × rate,
//     rounded to the currency's 2 places; PriceAfterVAT = Price × (1 + rate)
//     to 6 places;
//   - PriceAfterVAT given (a gross price): Price = PriceAfterVAT / (1 + rate)
//     rounded to 6 places (SAP's price decimals); the line's gross total =
//     PriceAfterVAT × Quantity rounded to 2 places and kept exact: LineTotal
//     = gross total / (1 + rate) rounded to 2 places and VatSum = gross total
//     − LineTotal. So a gross line adds exactly its gross total to DocTotal;
//     the rounding is in the net/tax split only. Freight given as LineGross
//     is split the same way.
//
// VatSum = Σ line and freight tax; DocTotal = lines − header discount +
// freight + VatSum (the header discount does not reduce the tax here: the
// flows never send one). Withholding, tax on tax and jurisdictions are not
// modelled.

var hundred = decimal.NewFromInt(100)

// taxRate is the rate (percent) of a tax code, else of a VAT group.
func (s *Server) taxRate(ctx context.Context, tx pgx.Tx, taxCode, vatGroup any, loc string) (decimal.Decimal, error) {
	code, _ := taxCode.(string)
	if code == "" {
		code, _ = vatGroup.(string)
	}
	if code == "" {
		return decimal.Zero, nil
	}
	var rate decimal.Decimal
	var lock string
	err := tx.QueryRow(ctx, `SELECT "Rate", "Lock" FROM `+s.t("OSTC")+` WHERE "Code" = $1`, code).Scan(&rate, &lock)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && lock == "Y") {
		return decimal.Zero, errRule("Invalid tax code '%s'  %s", code, loc)
	}
	return rate, err
}

// applyTax sets a priced line's tax from its rate: from the net LineTotal,
// or, when the request gives PriceAfterVAT, by splitting the gross.
func applyTax(l *docLine, rate decimal.Decimal, v map[string]any) {
	l.vatPrcnt = rate
	if l.treeType == "I" {
		l.vatSum, l.gross = decimal.Zero, decimal.Zero
		return
	}
	if g, ok := v["PriceAfterVAT"].(decimal.Decimal); ok {
		l.gross = g
		l.price = g.Mul(hundred).Div(hundred.Add(rate)).Round(6)
		l.unit = l.price
		if factor := decimal.NewFromInt(1).Sub(l.disc.Div(hundred)); !factor.IsZero() {
			l.unit = l.price.Div(factor).Round(6)
		}
		if t, ok := v["LineTotal"].(decimal.Decimal); ok {
			l.lineTotal = t.Round(2)
			l.vatSum = taxOf(l.lineTotal, rate)
			return
		}
		l.lineTotal, l.vatSum = splitGross(g.Mul(l.qty).Round(2), rate)
		return
	}
	l.vatSum = taxOf(l.lineTotal, rate)
	l.gross = l.price.Mul(hundred.Add(rate)).Div(hundred).Round(6)
}

// taxOf is the tax on a net amount, rounded to the currency's 2 places.
func taxOf(net, rate decimal.Decimal) decimal.Decimal {
	return net.Mul(rate).Div(hundred).Round(2)
}

// splitGross splits a gross amount into net and tax, both to 2 places, so
// that net + tax = gross exactly.
func splitGross(gross, rate decimal.Decimal) (net, tax decimal.Decimal) {
	net = gross.Mul(hundred).Div(hundred.Add(rate)).Round(2)
	return net, gross.Sub(net)
}
