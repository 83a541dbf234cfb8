package orders_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/orders"
)

func decs(ss ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ss))
	for i, s := range ss {
		out[i] = decimal.RequireFromString(s)
	}
	return out
}

func strs(ds []decimal.Decimal, places int32) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.StringFixed(places)
	}
	return out
}

func TestSplitLargestRemainder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		total   string
		weights []string
		places  int32
		want    []string
	}{
		{"10.00 over three units: the extra cent to the first", "10.00", []string{"1", "1", "1"}, 2, []string{"3.34", "3.33", "3.33"}},
		{"a refund splits as the mirror image", "-10.00", []string{"1", "1", "1"}, 2, []string{"-3.34", "-3.33", "-3.33"}},
		{"two cents over three", "0.02", []string{"1", "1", "1"}, 2, []string{"0.01", "0.01", "0.00"}},
		{"largest remainders win, ties by position", "0.10", []string{"1", "1", "1", "3"}, 2, []string{"0.02", "0.02", "0.01", "0.05"}},
		{"the largest remainder is last", "1.00", []string{"1", "1", "5"}, 2, []string{"0.14", "0.14", "0.72"}},
		{"exact shares need no rounding", "30.00", []string{"1", "2", "1"}, 2, []string{"7.50", "15.00", "7.50"}},
		{"decimal weights (list prices)", "20.00", []string{"8.50", "15", "2.49"}, 2, []string{"6.54", "11.54", "1.92"}},
		{"yen have no minor unit", "1000", []string{"1", "1", "1"}, 0, []string{"334", "333", "333"}},
		{"dinar have three decimals", "1.000", []string{"1", "1", "1"}, 3, []string{"0.334", "0.333", "0.333"}},
		{"zero", "0", []string{"2", "3"}, 2, []string{"0.00", "0.00"}},
		{"one part takes all", "12.34", []string{"0.001"}, 2, []string{"12.34"}},
		{"tiny and huge weights", "1.00", []string{"0.000001", "1000000"}, 2, []string{"0.00", "1.00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := orders.SplitLargestRemainder(decimal.RequireFromString(tc.total), decs(tc.weights...), tc.places)
			if err != nil {
				t.Fatal(err)
			}
			if s := strs(got, tc.places); !slices.Equal(s, tc.want) {
				t.Errorf("got %v, want %v", s, tc.want)
			}
		})
	}
}

func TestSplitLargestRemainderRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		total   string
		weights []string
		places  int32
	}{
		{"no weights", "1.00", nil, 2},
		{"a zero weight", "1.00", []string{"1", "0"}, 2},
		{"a negative weight", "1.00", []string{"2", "-1"}, 2},
		{"a total finer than the minor unit", "1.005", []string{"1", "1"}, 2},
		{"negative places", "1", []string{"1"}, -1},
		{"absurd places", "1", []string{"1"}, 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := orders.SplitLargestRemainder(decimal.RequireFromString(tc.total), decs(tc.weights...), tc.places); err == nil {
				t.Errorf("got %v, want an error", got)
			}
		})
	}
}

// randomDecimal is a positive decimal with up to 6 decimals.
func randomWeight(r *rand.Rand) decimal.Decimal {
	for {
		d := decimal.New(r.Int64N(10_000_000), -int32(r.IntN(7)))
		if d.IsPositive() {
			return d
		}
	}
}

// TestSplitLargestRemainderProperties: over random totals and weights, the
// parts add up to the total exactly, each is within one minor unit of its
// exact share (rounded down or up, never further), and the same input gives
// the same parts.
func TestSplitLargestRemainderProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		places := int32(r.IntN(4))
		total := decimal.New(r.Int64N(2_000_000_000)-1_000_000_000, -places)
		if i%10 == 0 {
			total = decimal.New(r.Int64N(7)-3, -places) // a few minor units over many parts
		}
		weights := make([]decimal.Decimal, 1+r.IntN(12))
		for j := range weights {
			weights[j] = randomWeight(r)
			if j > 0 && r.IntN(4) == 0 {
				weights[j] = weights[j-1] // ties
			}
		}
		parts, err := orders.SplitLargestRemainder(total, weights, places)
		if err != nil {
			t.Fatalf("split %s over %v: %v", total, weights, err)
		}
		again, _ := orders.SplitLargestRemainder(total, weights, places)
		if !slices.EqualFunc(parts, again, decimal.Decimal.Equal) {
			t.Fatalf("split %s over %v is not deterministic: %v then %v", total, weights, parts, again)
		}
		sumW, sum := decimal.Zero, decimal.Zero
		for _, w := range weights {
			sumW = sumW.Add(w)
		}
		unit := decimal.New(1, -places)
		for j, p := range parts {
			sum = sum.Add(p)
			if !p.Equal(p.Truncate(places)) {
				t.Fatalf("part %s is finer than %d decimals", p, places)
			}
			// |p − total·w/W| < unit  ⇔  |p·W − total·w| < unit·W (exact).
			if d := p.Mul(sumW).Sub(total.Mul(weights[j])).Abs(); !d.LessThan(unit.Mul(sumW)) {
				t.Fatalf("split %s over %v: part %d = %s is a minor unit or more from its share", total, weights, j, p)
			}
			if total.Sign() != 0 && p.Sign() == -total.Sign() {
				t.Fatalf("split %s: part %s has the wrong sign", total, p)
			}
			// Ties: an equal weight later never gets more.
			for k := j + 1; k < len(parts); k++ {
				if weights[k].Equal(weights[j]) && parts[k].Abs().GreaterThan(p.Abs()) {
					t.Fatalf("split %s over %v: tie broken against position (%d: %s, %d: %s)", total, weights, j, p, k, parts[k])
				}
			}
		}
		if !sum.Equal(total) {
			t.Fatalf("split %s over %v: parts %v add up to %s", total, weights, parts, sum)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	for cur, want := range map[string]int32{"GBP": 2, "USD": 2, "EUR": 2, "JPY": 0, "VND": 0, "KRW": 0, "KWD": 3, "idr": 2, "": 2} {
		if got := orders.MinorUnits(cur); got != want {
			t.Errorf("MinorUnits(%q) = %d, want %d", cur, got, want)
		}
	}
}
