package tiktoksim

import (
	"errors"
	"strconv"
	"strings"
)

// cents is an amount in the currency's minor unit. Money is never a float
// here: amounts are parsed from and written as decimal strings, like TikTok.
type cents int64

// parseMoney reads a non-negative decimal string with at most two decimals
// ("12", "12.5", "12.50"). Anything else is an error: a simulator that
// guessed would hide a client's formatting bug.
func parseMoney(s string) (cents, error) {
	if s == "" {
		return 0, errors.New("empty amount")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, errors.New("amount " + strconv.Quote(s) + " is not a decimal with at most 2 decimals")
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, errors.New("amount " + strconv.Quote(s) + " is not a non-negative decimal")
		}
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return cents(w*100 + f), nil
}

// String formats like TikTok's samples: trailing zeros dropped ("10", "10.5",
// "3.33", "0"), so a client that assumes two decimals finds out here.
func (c cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	whole, frac := int64(c)/100, int64(c)%100
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	f := strconv.FormatInt(100+frac, 10)[1:] // two digits
	f = strings.TrimRight(f, "0")
	return sign + strconv.FormatInt(whole, 10) + "." + f
}

// split divides total into n parts that differ by at most one cent and add up
// to total exactly (largest remainder). The extra cents go to the first parts,
// or to the last ones when fromEnd is set (so two splits of one line, e.g. the
// seller's and the platform's discount, do not pile their extra cents on the
// same unit).
func split(total cents, n int, fromEnd bool) []cents {
	parts := make([]cents, n)
	if n == 0 {
		return parts
	}
	base, rem := total/cents(n), int(total%cents(n))
	for i := range parts {
		parts[i] = base
		j := i
		if fromEnd {
			j = n - 1 - i
		}
		if j < rem {
			parts[i]++
		}
	}
	return parts
}
