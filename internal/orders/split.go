package orders

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// SplitLargestRemainder divides total into len(weights) parts in proportion
// to weights, each a whole number of minor units (places decimals), that add
// up to total exactly (DESIGN.md invariant 7). It is the one way money is
// split in tiktokb1: bundle prices over components here, refunds and
// settlements later.
//
// Each part is its exact share rounded down to the minor unit; the minor
// units left over (fewer than len(weights)) go one each to the parts with
// the largest remainders, so every part is within one minor unit of its
// exact share. Equal remainders are broken by position: the earlier part
// gets the unit first, so the result depends only on the arguments.
// Arithmetic is exact (integers), never a float or a rounded quotient.
//
// A negative total is split as its absolute value and negated, so a refund
// splits as the mirror image of the sale. It is an error when weights is
// empty, a weight is zero or negative, places is negative or above 18, or
// total has more decimals than places (it cannot be split into whole minor
// units).
func SplitLargestRemainder(total decimal.Decimal, weights []decimal.Decimal, places int32) ([]decimal.Decimal, error) {
	switch {
	case len(weights) == 0:
		return nil, errors.New("orders: split: no weights")
	case places < 0 || places > 18:
		return nil, fmt.Errorf("orders: split: places must be 0 to 18, got %d", places)
	case !total.Equal(total.Truncate(places)):
		return nil, fmt.Errorf("orders: split: total %s has more than %d decimals", total, places)
	}
	// Scale the weights to integers by one common power of ten.
	scale := int32(0)
	for i, w := range weights {
		if !w.IsPositive() {
			return nil, fmt.Errorf("orders: split: weight %d is %s; weights must be positive", i, w)
		}
		scale = max(scale, -w.Exponent())
	}
	ws := make([]*big.Int, len(weights))
	sum := new(big.Int)
	for i, w := range weights {
		ws[i] = w.Shift(scale).BigInt()
		sum.Add(sum, ws[i])
	}

	negative := total.IsNegative()
	units := total.Abs().Shift(places).BigInt()
	quotients := make([]*big.Int, len(weights))
	remainders := make([]*big.Int, len(weights))
	left := new(big.Int).Set(units)
	for i, w := range ws {
		num := new(big.Int).Mul(units, w)
		quotients[i], remainders[i] = new(big.Int).QuoRem(num, sum, new(big.Int))
		left.Sub(left, quotients[i])
	}
	// left < len(weights): the units the floors left over.
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return remainders[b].Cmp(remainders[a]) })
	for _, i := range order[:left.Int64()] {
		quotients[i].Add(quotients[i], big.NewInt(1))
	}

	parts := make([]decimal.Decimal, len(weights))
	for i, q := range quotients {
		if negative {
			q.Neg(q)
		}
		parts[i] = decimal.NewFromBigInt(q, -places)
	}
	return parts, nil
}

// MinorUnits is the number of decimals of a currency's minor unit (ISO 4217):
// 0 for currencies without one (JPY, KRW, VND ...), 3 for BHD, KWD ...,
// 2 otherwise.
func MinorUnits(currency string) int32 {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}
