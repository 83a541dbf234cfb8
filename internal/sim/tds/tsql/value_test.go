package tsql

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// SQL Server's conversion rules, as a user of CAST or a parameter sees them.
func TestConvert(t *testing.T) {
	dec := func(p, s int) Type { return Type{Kind: TDecimal, Precision: p, Scale: s} }
	num := func(s string, p, sc int) Value {
		return Value{Type: dec(p, sc), D: decimal.RequireFromString(s)}
	}
	for _, tc := range []struct {
		v        Value
		to       Type
		explicit bool
		want     string
		errNum   int32
	}{
		{num("2.7", 2, 1), Type{Kind: TInt}, true, "2", 0},   // truncates, Postgres would round
		{num("-2.7", 2, 1), Type{Kind: TInt}, true, "-2", 0}, // toward zero
		{num("2.345", 4, 3), dec(3, 2), true, "2.35", 0},     // rounds half away from zero
		{num("-2.345", 4, 3), dec(3, 2), true, "-2.35", 0},
		{num("123.4", 4, 1), dec(3, 1), true, "", ErrOverflow},
		{StrValue(" 42 ", true), Type{Kind: TInt}, false, "42", 0},
		{StrValue("4.2", true), Type{Kind: TInt}, false, "", ErrConversion},
		{StrValue("4.25", true), dec(19, 6), false, "4.250000", 0},
		{StrValue("x", true), dec(19, 6), false, "", ErrConvertParam},
		{StrValue("3000000000", false), Type{Kind: TInt}, false, "", 248},
		{IntValue(TInt, 300), Type{Kind: TTinyInt}, false, "", ErrOverflow},
		{StrValue("TRUE", false), Type{Kind: TBit}, false, "1", 0},
		{IntValue(TInt, 12345), Type{Kind: TVarChar, Len: 3}, false, "", ErrStringTruncated},
		{StrValue("abcdef", true), Type{Kind: TNVarChar, Len: 3}, true, "abc", 0},
		{StrValue("ab", false), Type{Kind: TChar, Len: 4}, true, "ab  ", 0},
		{Value{Type: Type{Kind: TFloat}, F: 1234567}, Type{Kind: TVarChar, Len: 30}, true, "1.23457e+006", 0},
		{StrValue("20240131", false), Type{Kind: TDateTime}, false, "Jan 31 2024 12:00AM", 0},
		{StrValue("2024-01-31 13:05:09.997", false), Type{Kind: TDateTime}, false, "Jan 31 2024  1:05PM", 0},
		{StrValue("2024-02-30", false), Type{Kind: TDate}, false, "", ErrDateConversion},
		{StrValue("1700-01-01", false), Type{Kind: TDateTime}, false, "", 242},
		{StrValue("31/01/2024", false), Type{Kind: TDateTime}, false, "", ErrDateConversion},
	} {
		got, err := Convert(tc.v, tc.to, tc.explicit, 0, false)
		switch {
		case tc.errNum != 0:
			if err == nil || err.Number != tc.errNum {
				t.Errorf("%v → %s: %v, want error %d", tc.v, tc.to, err, tc.errNum)
			}
		case err != nil:
			t.Errorf("%v → %s: %v", tc.v, tc.to, err)
		case got.String() != tc.want:
			t.Errorf("%v → %s: %q, want %q", tc.v, tc.to, got.String(), tc.want)
		}
	}
	// datetime keeps 1/300 s.
	v, err := Convert(StrValue("2024-01-31 00:00:00.002", false), Type{Kind: TDateTime}, false, 0, false)
	if err != nil || v.T.Nanosecond() != 3333333 {
		t.Errorf("datetime rounding: %v %v", v.T, err)
	}
	// DATEFORMAT dmy reads 'YYYY-MM-DD' as year-day-month for datetime only.
	v, _ = Convert(StrValue("2024-05-04", false), Type{Kind: TDateTime}, false, 0, true)
	if v.T.Month() != time.April || v.T.Day() != 5 {
		t.Errorf("ydm: %v", v.T)
	}
}

func TestDecimalResultTypes(t *testing.T) {
	n196 := Type{Kind: TDecimal, Precision: 19, Scale: 6}
	for _, tc := range []struct {
		op   string
		a, b Type
		want string
	}{
		{"+", n196, n196, "decimal(20,6)"},
		{"*", n196, n196, "decimal(38,11)"},
		{"/", n196, Type{Kind: TInt}, "decimal(30,17)"},
		{"/", n196, n196, "decimal(38,19)"},
		{"%", n196, Type{Kind: TInt}, "decimal(16,6)"},
	} {
		if got := decimalResult(tc.op, tc.a, tc.b).String(); got != tc.want {
			t.Errorf("%s %s %s = %s, want %s", tc.a, tc.op, tc.b, got, tc.want)
		}
	}
}

func TestLikeRegex(t *testing.T) {
	for pattern, want := range map[string]string{
		"A%":     "^A.*$",
		"a_c":    "^a.c$",
		"[a-c]x": "^[a-c]x$",
		"[^0]":   "^[^0]$",
		"50[%]":  "^50[%]$",
		"1.5*":   `^1\.5\*$`,
		"[":      neverMatch,
	} {
		if got, _ := likeRegex(pattern, 0, false); got != want {
			t.Errorf("%q → %q, want %q", pattern, got, want)
		}
	}
	if got, _ := likeRegex("50!%%", '!', true); got != "^50%.*$" {
		t.Errorf("ESCAPE: %q", got)
	}
}
