package tsql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Value is a typed SQL Server value: a literal, a parameter or a session
// variable. The field used depends on Type.Kind.
type Value struct {
	Type Type
	Null bool
	I    int64           // bit, tinyint … bigint
	F    float64         // real, float
	D    decimal.Decimal // decimal, numeric, money
	S    string          // strings; a GUID as text
	T    time.Time       // date and time types (datetimeoffset keeps its zone)
	B    []byte          // binary
}

// NullOf is a NULL of type t.
func NullOf(t Type) Value { return Value{Type: t, Null: true} }

// Int, Str, … build values.
func IntValue(t TypeKind, i int64) Value { return Value{Type: Type{Kind: t}, I: i} }
func StrValue(s string, unicode bool) Value {
	n := len([]rune(s))
	if unicode {
		n = utf16Len(s)
	}
	t := Type{Kind: TVarChar, Len: max(1, n)}
	if unicode {
		t.Kind = TNVarChar
	}
	if (unicode && n > 4000) || (!unicode && n > 8000) {
		t.Len = MaxLen
	}
	return Value{Type: t, S: s}
}

// utf16Len is the length of s in UTF-16 code units, the unit of nvarchar
// lengths.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// String renders the value for messages and debugging.
func (v Value) String() string {
	if v.Null {
		return "NULL"
	}
	s, _ := v.text()
	return s
}

// PGText is the value as Postgres input text, for a bind parameter cast
// to the value's Postgres type. ok is false for NULL.
func (v Value) PGText() (string, bool) {
	if v.Null {
		return "", false
	}
	switch v.Type.Kind {
	case TBit:
		if v.I != 0 {
			return "true", true
		}
		return "false", true
	case TDate:
		return v.T.Format("2006-01-02"), true
	case TTime:
		return v.T.Format("15:04:05.999999"), true
	case TSmallDateTime, TDateTime, TDateTime2:
		return v.T.Format("2006-01-02 15:04:05.999999"), true
	case TDateTimeOffset:
		return v.T.Format("2006-01-02 15:04:05.999999-07:00"), true
	case TFloat, TReal:
		return strconv.FormatFloat(v.F, 'g', -1, 64), true
	case TBinary, TVarBinary:
		return `\x` + fmt.Sprintf("%x", v.B), true
	}
	s, _ := v.text()
	return s, true
}

// text is the value converted to a string as CAST(v AS nvarchar) does.
func (v Value) text() (string, *Error) {
	switch v.Type.Kind {
	case TChar, TVarChar, TNChar, TNVarChar, TGUID:
		return v.S, nil
	case TBit, TTinyInt, TSmallInt, TInt, TBigInt:
		return strconv.FormatInt(v.I, 10), nil
	case TDecimal, TSmallMoney, TMoney:
		scale := v.Type.Scale
		if v.Type.Kind != TDecimal {
			scale = 2 // money converts to text with two decimals (style 0)
		}
		return v.D.StringFixed(int32(scale)), nil
	case TFloat, TReal:
		return floatText(v.F), nil
	case TDate, TSmallDateTime, TDateTime, TDateTime2, TDateTimeOffset, TTime:
		return formatDateTime(v.T, v.Type, 0)
	case TBinary, TVarBinary:
		return string(v.B), nil
	}
	return "", errorf(ErrTypeClash, 0, "Operand type clash: %s is incompatible with nvarchar", v.Type)
}

// floatText is SQL Server's default float to string conversion: at most six
// significant digits, scientific notation with a three-digit exponent
// outside 1e-4…1e6 ("1.23457e+006").
func floatText(f float64) string {
	if f == 0 {
		return "0"
	}
	a := math.Abs(f)
	if a >= 1e-4 && a < 1e6 {
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	s := strconv.FormatFloat(f, 'e', 5, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	for len(digits) < 3 {
		digits = "0" + digits
	}
	return mant + "e" + string(sign) + digits
}

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// formatDateTime renders a date/time value in one of CONVERT's styles.
func formatDateTime(t time.Time, typ Type, style int) (string, *Error) {
	frac := func(digits int) string {
		if digits == 0 {
			return ""
		}
		ns := fmt.Sprintf("%09d", t.Nanosecond())
		return "." + ns[:digits]
	}
	zone := ""
	if typ.Kind == TDateTimeOffset {
		zone = " " + t.Format("-07:00")
	}
	fracDigits := 3
	switch typ.Kind {
	case TDateTime2, TDateTimeOffset, TTime:
		fracDigits = typ.Scale
	case TSmallDateTime:
		fracDigits = 0
	}
	date := t.Format("2006-01-02")
	clock := t.Format("15:04:05")
	switch style {
	case 0, 100:
		switch typ.Kind {
		case TDate:
			return date, nil
		case TTime:
			return clock + frac(fracDigits), nil
		case TDateTime2, TDateTimeOffset:
			return date + " " + clock + frac(fracDigits) + zone, nil
		}
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		ampm := "AM"
		if t.Hour() >= 12 {
			ampm = "PM"
		}
		return fmt.Sprintf("%s %2d %d %2d:%02d%s", months[t.Month()-1], t.Day(), t.Year(), h, t.Minute(), ampm), nil
	case 101:
		return t.Format("01/02/2006"), nil
	case 102:
		return t.Format("2006.01.02"), nil
	case 103:
		return t.Format("02/01/2006"), nil
	case 104:
		return t.Format("02.01.2006"), nil
	case 112:
		return t.Format("20060102"), nil
	case 23:
		return date, nil
	case 8, 108:
		return clock, nil
	case 20, 120:
		if typ.Kind == TDate {
			return date, nil
		}
		return date + " " + clock + zone, nil
	case 21, 121:
		if typ.Kind == TDate {
			return date, nil
		}
		if typ.Kind == TDateTime {
			fracDigits = 3
		}
		return date + " " + clock + frac(fracDigits) + zone, nil
	case 126:
		if typ.Kind == TDate {
			return date, nil
		}
		f := frac(fracDigits)
		if typ.Kind == TDateTime && t.Nanosecond() == 0 {
			f = ""
		}
		return date + "T" + clock + f, nil
	}
	return "", errorf(281, 0, "%d is not a valid style number when converting from %s to a character string.", style, typ.BaseName())
}

// dateStyles are the CONVERT styles the simulator renders.
var dateStyles = map[int]bool{0: true, 100: true, 101: true, 102: true, 103: true, 104: true, 112: true, 23: true, 8: true, 108: true, 20: true, 120: true, 21: true, 121: true, 126: true}

// ParseDateTime reads the character string formats SQL Server takes
// whatever the language setting: 'YYYYMMDD[ hh:mm[:ss[.fff]]]',
// 'YYYY-MM-DD[ |T]hh:mm[:ss[.fffffff]][Z|±hh:mm]', and the numeric
// 'MM/DD/YYYY' form of DATEFORMAT mdy. ydm is true under DATEFORMAT dmy
// or ydm, where SQL Server reads 'YYYY-MM-DD' as year-day-month for
// datetime and smalldatetime (not for date, datetime2, datetimeoffset).
func ParseDateTime(s string, to Type, ydm bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		// An empty string is 1900-01-01 for the old types.
		if to.Kind == TDateTime || to.Kind == TSmallDateTime {
			return time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	datePart, rest := s, ""
	if i := strings.IndexAny(s, " T"); i >= 0 {
		datePart, rest = s[:i], strings.TrimSpace(s[i+1:])
		if s[i] == 'T' && strings.ContainsRune(datePart, '/') {
			return time.Time{}, false
		}
	}
	var y, m, d int
	var err error
	switch {
	case len(datePart) == 8 && allDigits(datePart):
		y, _ = strconv.Atoi(datePart[:4])
		m, _ = strconv.Atoi(datePart[4:6])
		d, _ = strconv.Atoi(datePart[6:])
	case strings.Count(datePart, "-") == 2:
		f := strings.Split(datePart, "-")
		if len(f[0]) != 4 || !allDigits(f[0]) || !allDigits(f[1]) || !allDigits(f[2]) || len(f[1]) == 0 || len(f[2]) == 0 || len(f[1]) > 2 || len(f[2]) > 2 {
			return time.Time{}, false
		}
		y, _ = strconv.Atoi(f[0])
		m, _ = strconv.Atoi(f[1])
		d, _ = strconv.Atoi(f[2])
		if ydm && (to.Kind == TDateTime || to.Kind == TSmallDateTime) {
			m, d = d, m
		}
	case strings.Count(datePart, "/") == 2:
		f := strings.Split(datePart, "/")
		if !allDigits(f[0]) || !allDigits(f[1]) || !allDigits(f[2]) || len(f[0]) == 0 || len(f[1]) == 0 || len(f[2]) != 4 || len(f[0]) > 2 || len(f[1]) > 2 {
			return time.Time{}, false
		}
		m, _ = strconv.Atoi(f[0])
		d, _ = strconv.Atoi(f[1])
		y, _ = strconv.Atoi(f[2])
	case strings.Contains(datePart, ":") && rest == "" && (to.Kind == TDateTime || to.Kind == TSmallDateTime || to.Kind == TDateTime2 || to.Kind == TTime):
		// A time alone is that time on 1900-01-01.
		y, m, d, rest = 1900, 1, 1, datePart
	default:
		return time.Time{}, false
	}
	if y < 1 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	loc := time.UTC
	var hh, mm, ss, ns int
	if rest != "" {
		// Zone suffix: Z or ±hh:mm.
		if strings.HasSuffix(rest, "Z") {
			rest = strings.TrimSuffix(rest, "Z")
		} else if i := strings.LastIndexAny(rest, "+-"); i > 0 {
			z := strings.TrimSpace(rest[i+1:])
			zh, zm, ok := strings.Cut(z, ":")
			if !ok || len(zh) != 2 || len(zm) != 2 || !allDigits(zh) || !allDigits(zm) {
				return time.Time{}, false
			}
			h, _ := strconv.Atoi(zh)
			mi, _ := strconv.Atoi(zm)
			if h > 14 || mi > 59 {
				return time.Time{}, false
			}
			off := h*3600 + mi*60
			if rest[i] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
			rest = strings.TrimSpace(rest[:i])
		}
		clock, fraction, _ := strings.Cut(rest, ".")
		f := strings.Split(clock, ":")
		if len(f) < 2 || len(f) > 3 {
			return time.Time{}, false
		}
		for _, p := range f {
			if p == "" || len(p) > 2 || !allDigits(p) {
				return time.Time{}, false
			}
		}
		hh, _ = strconv.Atoi(f[0])
		mm, _ = strconv.Atoi(f[1])
		if len(f) == 3 {
			ss, _ = strconv.Atoi(f[2])
		}
		if fraction != "" {
			if !allDigits(fraction) || len(fraction) > 7 {
				return time.Time{}, false
			}
			digits := (fraction + "000000000")[:9]
			ns, err = strconv.Atoi(digits)
			if err != nil {
				return time.Time{}, false
			}
		}
		if hh > 23 || mm > 59 || ss > 59 {
			return time.Time{}, false
		}
	}
	t := time.Date(y, time.Month(m), d, hh, mm, ss, ns, loc)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false // 31 February
	}
	if to.Kind != TDateTimeOffset && loc != time.UTC {
		// Converting to a type without an offset keeps the local time.
		t = time.Date(y, time.Month(m), d, hh, mm, ss, ns, time.UTC)
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// RoundDateTime rounds t to what type to can hold: datetime to 1/300 s
// (.000, .003, .007), smalldatetime to the minute, datetime2 to its scale.
func RoundDateTime(t time.Time, to Type) time.Time {
	switch to.Kind {
	case TDate:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	case TDateTime:
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		ns := t.Sub(midnight).Nanoseconds()
		ticks := (ns*300 + 500_000_000) / 1_000_000_000
		return midnight.Add(time.Duration(ticks * 1_000_000_000 / 300))
	case TSmallDateTime:
		return t.Add(30 * time.Second).Truncate(time.Minute)
	case TDateTime2, TDateTimeOffset, TTime:
		unit := time.Duration(math.Pow10(9 - to.Scale))
		return t.Round(unit)
	}
	return t
}

// dateRange reports whether t fits type to (datetime starts in 1753,
// smalldatetime in 1900 and ends in 2079).
func dateRange(t time.Time, to Type) bool {
	switch to.Kind {
	case TDateTime:
		return t.Year() >= 1753 && t.Year() <= 9999
	case TSmallDateTime:
		return !t.Before(time.Date(1900, 1, 1, 0, 0, 0, 0, t.Location())) && t.Before(time.Date(2079, 6, 7, 0, 0, 0, 0, t.Location()))
	}
	return t.Year() >= 1 && t.Year() <= 9999
}

// Convert converts v to type to as CAST/CONVERT and implicit conversion do:
// truncation to integer, rounding to a decimal's scale, overflow and
// conversion errors with SQL Server's numbers. explicit is CAST/CONVERT
// (strings are silently truncated); style is CONVERT's style.
func Convert(v Value, to Type, explicit bool, style int, ydm bool) (Value, *Error) {
	if v.Null {
		return NullOf(to), nil
	}
	from := v.Type
	out := Value{Type: to}
	overflow := func(what string) *Error {
		return errorf(ErrOverflow, 0, "Arithmetic overflow error converting %s to data type %s.", what, to.BaseName())
	}
	switch {
	case to.IsString():
		s, err := v.text()
		if from.IsDateTime() && style != 0 {
			s, err = formatDateTime(v.T, from, style)
		}
		if err != nil {
			return Value{}, err
		}
		if to.Len != MaxLen {
			n := to.Len
			if to.IsUnicode() {
				if utf16Len(s) > n {
					if !explicit && !from.IsString() {
						return Value{}, errorf(ErrStringTruncated, 0, "String or binary data would be truncated.")
					}
					s = truncUTF16(s, n)
				}
			} else if len([]rune(s)) > n {
				if !explicit && !from.IsString() {
					return Value{}, errorf(ErrStringTruncated, 0, "String or binary data would be truncated.")
				}
				s = truncRunes(s, n)
			}
			if to.Kind == TChar || to.Kind == TNChar {
				for utf16Len(s) < n {
					s += " "
				}
			}
		}
		out.S = s
		return out, nil
	case to.Kind == TBit:
		switch {
		case from.IsString():
			s := strings.TrimSpace(v.S)
			switch strings.ToUpper(s) {
			case "TRUE":
				out.I = 1
			case "FALSE":
				out.I = 0
			default:
				d, err := decimal.NewFromString(s)
				if err != nil {
					return Value{}, errorf(ErrConversion, 0, "Conversion failed when converting the %s value '%s' to data type bit.", from.BaseName(), v.S)
				}
				if !d.IsZero() {
					out.I = 1
				}
			}
		case from.IsInteger() || from.Kind == TBit:
			if v.I != 0 {
				out.I = 1
			}
		case from.Kind == TDecimal || from.Kind == TMoney || from.Kind == TSmallMoney:
			if !v.D.IsZero() {
				out.I = 1
			}
		case from.Kind == TFloat || from.Kind == TReal:
			if v.F != 0 {
				out.I = 1
			}
		default:
			return Value{}, clash(from, to)
		}
		return out, nil
	case to.IsInteger():
		lo, hi := intRange(to.Kind)
		var i int64
		switch {
		case from.IsInteger() || from.Kind == TBit:
			i = v.I
		case from.Kind == TDecimal || from.Kind == TMoney || from.Kind == TSmallMoney:
			t := v.D.Truncate(0)
			if t.LessThan(decimal.NewFromInt(lo)) || t.GreaterThan(decimal.NewFromInt(hi)) {
				return Value{}, overflow("expression")
			}
			i = t.IntPart()
		case from.Kind == TFloat || from.Kind == TReal:
			f := math.Trunc(v.F)
			if math.IsNaN(f) || f < float64(lo) || f > float64(hi) {
				return Value{}, overflow("expression")
			}
			i = int64(f)
		case from.IsString():
			s := strings.TrimSpace(v.S)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return Value{}, errorf(248, 0, "The conversion of the %s value '%s' overflowed an int column.", from.BaseName(), v.S)
				}
				return Value{}, errorf(ErrConversion, 0, "Conversion failed when converting the %s value '%s' to data type %s.", from.BaseName(), v.S, to.BaseName())
			}
			if n < lo || n > hi {
				return Value{}, errorf(248, 0, "The conversion of the %s value '%s' overflowed an %s column.", from.BaseName(), v.S, to.BaseName())
			}
			i = n
		default:
			return Value{}, clash(from, to)
		}
		if i < lo || i > hi {
			return Value{}, overflow("expression")
		}
		out.I = i
		return out, nil
	case to.Kind == TDecimal || to.Kind == TMoney || to.Kind == TSmallMoney:
		var d decimal.Decimal
		switch {
		case from.IsInteger() || from.Kind == TBit:
			d = decimal.NewFromInt(v.I)
		case from.Kind == TDecimal || from.Kind == TMoney || from.Kind == TSmallMoney:
			d = v.D
		case from.Kind == TFloat || from.Kind == TReal:
			if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
				return Value{}, overflow("float")
			}
			d = decimal.NewFromFloat(v.F)
		case from.IsString():
			s := strings.TrimSpace(v.S)
			var err error
			d, err = decimal.NewFromString(s)
			if err != nil || strings.ContainsAny(s, "eE") && to.Kind == TDecimal {
				return Value{}, errorf(ErrConvertParam, 0, "Error converting data type %s to %s.", from.BaseName(), to.BaseName())
			}
		default:
			return Value{}, clash(from, to)
		}
		p, s := to.Precision, to.Scale
		switch to.Kind {
		case TMoney:
			p, s = 19, 4
		case TSmallMoney:
			p, s = 10, 4
		}
		d = d.Round(int32(s))
		limit := decimal.New(1, int32(p-s))
		if d.Abs().GreaterThanOrEqual(limit) {
			what := "expression"
			switch {
			case from.Kind == TDecimal:
				what = "numeric"
			case from.IsString():
				what = from.BaseName()
			case from.IsInteger():
				what = from.BaseName()
			}
			return Value{}, overflow(what)
		}
		out.D = d
		return out, nil
	case to.Kind == TFloat || to.Kind == TReal:
		switch {
		case from.IsInteger() || from.Kind == TBit:
			out.F = float64(v.I)
		case from.Kind == TDecimal || from.Kind == TMoney || from.Kind == TSmallMoney:
			out.F = v.D.InexactFloat64()
		case from.Kind == TFloat || from.Kind == TReal:
			out.F = v.F
		case from.IsString():
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return Value{}, errorf(ErrConvertParam, 0, "Error converting data type %s to %s.", from.BaseName(), to.BaseName())
			}
			out.F = f
		default:
			return Value{}, clash(from, to)
		}
		if to.Kind == TReal {
			out.F = float64(float32(out.F))
		}
		return out, nil
	case to.IsDateTime():
		var t time.Time
		switch {
		case from.IsString():
			var ok bool
			t, ok = ParseDateTime(v.S, to, ydm)
			if !ok {
				return Value{}, errorf(ErrDateConversion, 0, "Conversion failed when converting date and/or time from character string.")
			}
		case from.IsDateTime():
			t = v.T
			if from.Kind == TDateTimeOffset && to.Kind != TDateTimeOffset {
				// The local time is kept, the offset dropped.
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			}
			if from.Kind == TTime && to.Kind != TTime {
				t = time.Date(1900, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			}
		case (from.IsInteger() || from.Kind == TDecimal || from.Kind == TFloat) && (to.Kind == TDateTime || to.Kind == TSmallDateTime):
			// Days since 1900-01-01, as SQL Server reads a number.
			days := float64(v.I)
			if from.Kind == TDecimal {
				days = v.D.InexactFloat64()
			} else if from.Kind == TFloat {
				days = v.F
			}
			t = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(days * 24 * float64(time.Hour)))
		default:
			return Value{}, clash(from, to)
		}
		if to.Kind == TTime {
			t = time.Date(1900, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		}
		t = RoundDateTime(t, to)
		if !dateRange(t, to) {
			return Value{}, errorf(242, 0, "The conversion of a %s data type to a %s data type resulted in an out-of-range value.", from.BaseName(), to.BaseName())
		}
		out.T = t
		return out, nil
	case to.Kind == TGUID:
		if from.Kind == TGUID || from.IsString() {
			s := strings.TrimSpace(v.S)
			if !isGUID(s) {
				return Value{}, errorf(8169, 0, "Conversion failed when converting from a character string to uniqueidentifier.")
			}
			out.S = strings.ToUpper(s)
			return out, nil
		}
		return Value{}, clash(from, to)
	case to.IsBinary():
		switch {
		case from.IsBinary():
			out.B = v.B
		case from.IsString():
			out.B = []byte(v.S)
		default:
			return Value{}, clash(from, to)
		}
		if to.Len != MaxLen && len(out.B) > to.Len {
			out.B = out.B[:to.Len]
		}
		return out, nil
	}
	return Value{}, clash(from, to)
}

func clash(from, to Type) *Error {
	return errorf(ErrTypeClash, 0, "Operand type clash: %s is incompatible with %s", from.BaseName(), to.BaseName())
}

func intRange(k TypeKind) (int64, int64) {
	switch k {
	case TTinyInt:
		return 0, 255
	case TSmallInt:
		return math.MinInt16, math.MaxInt16
	case TInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func truncUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

func isGUID(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
			continue
		}
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// literalValue is the value of a literal as SQL Server types it: an integer
// that fits is int (else bigint-sized numbers are decimal(p,0)), 1.50 is
// decimal(3,2), 1e3 float, 'x' varchar(1), N'x' nvarchar(1), NULL an int
// NULL.
func literalValue(l *Literal) (Value, *Error) {
	switch l.Kind {
	case EOF:
		return NullOf(Type{Kind: TInt}), nil
	case String:
		return StrValue(l.Text, false), nil
	case NString:
		return StrValue(l.Text, true), nil
	case Int:
		n, err := strconv.ParseInt(l.Text, 10, 64)
		if err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
			return IntValue(TInt, n), nil
		}
		fallthrough
	case Decimal:
		d, err := decimal.NewFromString(l.Text)
		if err != nil {
			return Value{}, errorf(ErrSyntax, l.Line, "Incorrect syntax near '%s'.", l.Text)
		}
		digits := strings.TrimLeft(strings.TrimPrefix(strings.ReplaceAll(l.Text, ".", ""), "-"), "0")
		scale := 0
		if i := strings.IndexByte(l.Text, '.'); i >= 0 {
			scale = len(l.Text) - i - 1
		}
		p := max(len(digits), scale, 1)
		if p > 38 {
			return Value{}, errorf(1007, l.Line, "The number '%s' is out of the range for numeric representation (maximum precision 38).", l.Text)
		}
		return Value{Type: Type{Kind: TDecimal, Precision: p, Scale: scale, Numeric: true}, D: d}, nil
	case Float:
		f, err := strconv.ParseFloat(l.Text, 64)
		if err != nil {
			return Value{}, errorf(ErrOverflow, l.Line, "Arithmetic overflow error converting expression to data type float.")
		}
		return Value{Type: Type{Kind: TFloat}, F: f}, nil
	}
	return Value{}, unsupported(l.Line, "binary literal")
}
