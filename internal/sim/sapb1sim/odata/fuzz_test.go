package odata

import (
	"reflect"
	"testing"
)

// FuzzParseFilter checks that the parser never panics and never accepts
// input it did not fully consume: whatever it accepts prints back to a text
// that parses to the same tree, and the same input followed by a stray token
// is refused (so no suffix was ever ignored).
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"DocTotal gt 3000",
		"DocEntry lt 8 and ((DocEntry lt 8 or DocEntry gt 116) and startswith(CardCode,'c1'))",
		"not (startswith(ItemName, 'item') and ForeignName eq null)",
		"DocDate eq datetime'2014-04-23'",
		"Name eq 'O''Brien' or x ne -1.5e3",
		"startswith(CardCode,'c1') eq false",
		"DocumentLines/ItemCode eq 'x'",
		"a eq 1)", "(((", "'", "a eq 12abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			if e != nil {
				t.Fatalf("%q: error %v with a tree %v", s, err, e)
			}
			return
		}
		if !isBoolean(e) {
			t.Fatalf("%q: accepted a non-condition %s", s, e)
		}
		again, err := ParseFilter(e.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, e.String(), err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("%q: %s reparsed as %s", s, e, again)
		}
		for _, junk := range []string{")", " x", " and", ",", "'"} {
			if _, err := ParseFilter(s + junk); err == nil {
				// "a eq 'x" + "'" can form a valid string only when s ends
				// inside a string, which it cannot (s parsed); so any accept
				// here means a suffix was ignored.
				t.Fatalf("%q accepted with trailing %q", s, junk)
			}
		}
	})
}
