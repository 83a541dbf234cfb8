package tds

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// TDS data type ids ([MS-TDS] 2.2.5.4).
const (
	typeNull           = 0x1F
	typeInt1           = 0x30
	typeBit            = 0x32
	typeInt2           = 0x34
	typeInt4           = 0x38
	typeDateTim4       = 0x3A
	typeFlt4           = 0x3B
	typeMoney          = 0x3C
	typeDateTime       = 0x3D
	typeFlt8           = 0x3E
	typeMoney4         = 0x7A
	typeInt8           = 0x7F
	typeGUID           = 0x24
	typeIntN           = 0x26
	typeDateN          = 0x28
	typeTimeN          = 0x29
	typeDateTime2N     = 0x2A
	typeDateTimeOffset = 0x2B
	typeBitN           = 0x68
	typeDecimalN       = 0x6A
	typeNumericN       = 0x6C
	typeFltN           = 0x6D
	typeMoneyN         = 0x6E
	typeDateTimeN      = 0x6F
	typeBigVarBin      = 0xA5
	typeBigVarChar     = 0xA7
	typeBigBinary      = 0xAD
	typeBigChar        = 0xAF
	typeNVarChar       = 0xE7
	typeNChar          = 0xEF
)

var (
	epoch1900 = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	epoch0001 = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	cp1252    = charmap.Windows1252
)

// ---- result columns ----

// decimalSize is the byte length of a decimal value of precision p.
func decimalSize(p int) int {
	switch {
	case p <= 9:
		return 5
	case p <= 19:
		return 9
	case p <= 28:
		return 13
	}
	return 17
}

// timeLen is the byte length of the time part at a fractional scale.
func timeLen(scale int) int {
	switch {
	case scale <= 2:
		return 3
	case scale <= 4:
		return 4
	}
	return 5
}

// typeInfo is a column's TYPE_INFO in COLMETADATA.
func typeInfo(t tsql.Type) []byte {
	strLen := func(units, mult int) []byte {
		if t.Len == tsql.MaxLen {
			return []byte{0xFF, 0xFF}
		}
		return binary.LittleEndian.AppendUint16(nil, uint16(units*mult))
	}
	switch t.Kind {
	case tsql.TBit:
		return []byte{typeBitN, 1}
	case tsql.TTinyInt:
		return []byte{typeIntN, 1}
	case tsql.TSmallInt:
		return []byte{typeIntN, 2}
	case tsql.TInt:
		return []byte{typeIntN, 4}
	case tsql.TBigInt:
		return []byte{typeIntN, 8}
	case tsql.TDecimal:
		id := byte(typeDecimalN)
		if t.Numeric {
			id = typeNumericN
		}
		return []byte{id, byte(decimalSize(t.Precision)), byte(t.Precision), byte(t.Scale)}
	case tsql.TMoney:
		return []byte{typeMoneyN, 8}
	case tsql.TSmallMoney:
		return []byte{typeMoneyN, 4}
	case tsql.TReal:
		return []byte{typeFltN, 4}
	case tsql.TFloat:
		return []byte{typeFltN, 8}
	case tsql.TNVarChar:
		return append(append([]byte{typeNVarChar}, strLen(t.Len, 2)...), collation...)
	case tsql.TNChar:
		return append(append([]byte{typeNChar}, strLen(t.Len, 2)...), collation...)
	case tsql.TVarChar:
		return append(append([]byte{typeBigVarChar}, strLen(t.Len, 1)...), collation...)
	case tsql.TChar:
		return append(append([]byte{typeBigChar}, strLen(t.Len, 1)...), collation...)
	case tsql.TDate:
		return []byte{typeDateN}
	case tsql.TDateTime:
		return []byte{typeDateTimeN, 8}
	case tsql.TSmallDateTime:
		return []byte{typeDateTimeN, 4}
	case tsql.TDateTime2:
		return []byte{typeDateTime2N, byte(t.Scale)}
	case tsql.TDateTimeOffset:
		return []byte{typeDateTimeOffset, byte(t.Scale)}
	case tsql.TTime:
		return []byte{typeTimeN, byte(t.Scale)}
	case tsql.TGUID:
		return []byte{typeGUID, 16}
	case tsql.TVarBinary:
		return append([]byte{typeBigVarBin}, strLen(t.Len, 1)...)
	case tsql.TBinary:
		return append([]byte{typeBigBinary}, strLen(t.Len, 1)...)
	}
	return append([]byte{typeNVarChar, 0xFF, 0xFF}, collation...)
}

// colMetadata is the COLMETADATA token of a result set.
func colMetadata(cols []tsql.ResultColumn) []byte {
	b := []byte{tokColMetadata}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(cols)))
	for _, c := range cols {
		b = binary.LittleEndian.AppendUint32(b, 0) // UserType
		// Flags: nullable, updatable unknown (as SQL Server 2022 sends).
		flags := uint16(0x0008)
		if c.Nullable {
			flags |= 0x0001
		}
		b = binary.LittleEndian.AppendUint16(b, flags)
		b = append(b, typeInfo(c.Type)...)
		b = bVarchar(b, c.Name)
	}
	return b
}

// colCodec scans one result column from Postgres and encodes it for TDS.
type colCodec struct {
	col    tsql.ResultColumn
	dest   any
	encode func(b []byte) ([]byte, error)
}

// newCodecs prepares scan destinations and encoders for a result set.
func newCodecs(cols []tsql.ResultColumn) []*colCodec {
	out := make([]*colCodec, len(cols))
	for i, c := range cols {
		out[i] = newCodec(c)
	}
	return out
}

func scanDests(cs []*colCodec) []any {
	d := make([]any, len(cs))
	for i, c := range cs {
		d[i] = c.dest
	}
	return d
}

func newCodec(c tsql.ResultColumn) *colCodec {
	cc := &colCodec{col: c}
	t := c.Type
	switch t.Kind {
	case tsql.TBit:
		v := new(pgtype.Bool)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if v.Bool {
				return append(b, 1, 1), nil
			}
			return append(b, 1, 0), nil
		}
	case tsql.TTinyInt, tsql.TSmallInt:
		v := new(pgtype.Int2)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if t.Kind == tsql.TTinyInt {
				if v.Int16 < 0 || v.Int16 > 255 {
					return nil, overflow("tinyint")
				}
				return append(b, 1, byte(v.Int16)), nil
			}
			return binary.LittleEndian.AppendUint16(append(b, 2), uint16(v.Int16)), nil
		}
	case tsql.TInt:
		v := new(pgtype.Int4)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			return binary.LittleEndian.AppendUint32(append(b, 4), uint32(v.Int32)), nil
		}
	case tsql.TBigInt:
		v := new(pgtype.Int8)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			return binary.LittleEndian.AppendUint64(append(b, 8), uint64(v.Int64)), nil
		}
	case tsql.TDecimal, tsql.TMoney, tsql.TSmallMoney:
		v := new(pgtype.Numeric)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if v.NaN || v.InfinityModifier != pgtype.Finite {
				return nil, overflow(t.BaseName())
			}
			switch t.Kind {
			case tsql.TMoney, tsql.TSmallMoney:
				u := unscaled(v, 4)
				if !u.IsInt64() {
					return nil, overflow(t.BaseName())
				}
				n := u.Int64()
				if t.Kind == tsql.TSmallMoney {
					if n < math.MinInt32 || n > math.MaxInt32 {
						return nil, overflow("smallmoney")
					}
					return binary.LittleEndian.AppendUint32(append(b, 4), uint32(int32(n))), nil
				}
				b = append(b, 8)
				b = binary.LittleEndian.AppendUint32(b, uint32(uint64(n)>>32))
				return binary.LittleEndian.AppendUint32(b, uint32(uint64(n))), nil
			}
			return appendDecimal(b, unscaled(v, t.Scale), t.Precision)
		}
	case tsql.TReal:
		v := new(pgtype.Float4)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			return binary.LittleEndian.AppendUint32(append(b, 4), math.Float32bits(v.Float32)), nil
		}
	case tsql.TFloat:
		v := new(pgtype.Float8)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			return binary.LittleEndian.AppendUint64(append(b, 8), math.Float64bits(v.Float64)), nil
		}
	case tsql.TNVarChar, tsql.TNChar, tsql.TVarChar, tsql.TChar:
		v := new(pgtype.Text)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) { return appendString(b, v, t, c.Name) }
	case tsql.TDate:
		v := new(pgtype.Date)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if v.InfinityModifier != pgtype.Finite {
				return nil, overflow("date")
			}
			return appendDate(append(b, 3), v.Time), nil
		}
	case tsql.TDateTime, tsql.TSmallDateTime, tsql.TDateTime2:
		v := new(pgtype.Timestamp)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if v.InfinityModifier != pgtype.Finite {
				return nil, overflow(t.BaseName())
			}
			return appendDateTime(b, v.Time, t)
		}
	case tsql.TDateTimeOffset:
		v := new(pgtype.Timestamptz)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			if v.InfinityModifier != pgtype.Finite {
				return nil, overflow(t.BaseName())
			}
			// Postgres keeps the instant, not the offset: send it in UTC.
			return appendDateTime(b, v.Time.UTC(), t)
		}
	case tsql.TTime:
		v := new(pgtype.Time)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			tm := epoch1900.Add(time.Duration(v.Microseconds) * time.Microsecond)
			return appendDateTime(b, tm, t)
		}
	case tsql.TGUID:
		v := new(pgtype.UUID)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if !v.Valid {
				return append(b, 0), nil
			}
			g := v.Bytes
			// The first three groups are little-endian on the wire.
			return append(b, 16, g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]), nil
		}
	default: // binary
		v := new([]byte)
		cc.dest = v
		cc.encode = func(b []byte) ([]byte, error) {
			if *v == nil {
				if t.Len == tsql.MaxLen {
					return binary.LittleEndian.AppendUint64(b, math.MaxUint64), nil
				}
				return append(b, 0xFF, 0xFF), nil
			}
			return appendBytes(b, *v, t), nil
		}
	}
	return cc
}

func overflow(typ string) error {
	return tsql.Errorf(tsql.ErrOverflow, 0, "Arithmetic overflow error converting expression to data type %s.", typ)
}

// unscaled is the numeric's value times 10^scale, rounded half away from
// zero.
func unscaled(v *pgtype.Numeric, scale int) *big.Int {
	n := new(big.Int).Set(v.Int)
	shift := int(v.Exp) + scale
	if shift >= 0 {
		return n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	}
	return decimal.NewFromBigInt(v.Int, v.Exp).Shift(int32(scale)).Round(0).BigInt()
}

// appendDecimal writes a DECIMALN/NUMERICN value: length, sign (1
// positive), then the magnitude little-endian in 4, 8, 12 or 16 bytes.
func appendDecimal(b []byte, u *big.Int, precision int) ([]byte, error) {
	size := decimalSize(precision)
	sign := byte(1)
	if u.Sign() < 0 {
		sign = 0
		u = new(big.Int).Neg(u)
	}
	mag := u.Bytes() // big-endian
	if len(mag) > size-1 {
		return nil, overflow("numeric")
	}
	b = append(b, byte(size), sign)
	for i := len(mag) - 1; i >= 0; i-- {
		b = append(b, mag[i])
	}
	for i := len(mag); i < size-1; i++ {
		b = append(b, 0)
	}
	return b, nil
}

// appendString writes a string column: UTF-16 for n-types, code page 1252
// for the others, PLP for (max). A value longer than the column's declared
// length cannot be sent (clients size buffers from it): that is an error,
// not a cut value.
func appendString(b []byte, v *pgtype.Text, t tsql.Type, col string) ([]byte, error) {
	if !v.Valid {
		if t.Len == tsql.MaxLen {
			return binary.LittleEndian.AppendUint64(b, math.MaxUint64), nil
		}
		return append(b, 0xFF, 0xFF), nil
	}
	s := v.String
	var data []byte
	unicode := t.Kind == tsql.TNVarChar || t.Kind == tsql.TNChar
	if unicode {
		if t.Kind == tsql.TNChar {
			for utf16Units(s) < t.Len {
				s += " "
			}
		}
		data = appendUTF16(nil, s)
	} else {
		if t.Kind == tsql.TChar {
			for len([]rune(s)) < t.Len {
				s += " "
			}
		}
		enc, err := cp1252.NewEncoder().String(encodable(s))
		if err != nil {
			return nil, fmt.Errorf("tds: encode varchar: %w", err)
		}
		data = []byte(enc)
	}
	if t.Len == tsql.MaxLen {
		return appendPLP(b, data), nil
	}
	limit := t.Len
	if unicode {
		limit *= 2
	}
	if len(data) > limit {
		return nil, tsql.Errorf(tsql.ErrStringTruncated, 0, "String or binary data would be truncated in column '%s': the value is longer than the column's %s type.", col, t)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...), nil
}

// encodable replaces the characters code page 1252 lacks with '?', as SQL
// Server does when it converts to varchar.
func encodable(s string) string {
	enc := cp1252.NewEncoder()
	var sb strings.Builder
	for _, r := range s {
		if _, err := enc.String(string(r)); err != nil {
			sb.WriteByte('?')
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func appendBytes(b []byte, data []byte, t tsql.Type) []byte {
	if t.Len == tsql.MaxLen {
		return appendPLP(b, data)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// appendPLP writes a partially length-prefixed value: the total length,
// chunks, and a zero terminator.
func appendPLP(b []byte, data []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	for len(data) > 0 {
		n := min(len(data), 8000)
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

// appendDate writes the three-byte day count since 0001-01-01.
func appendDate(b []byte, t time.Time) []byte {
	days := uint32(daysSince(t, epoch0001))
	return append(b, byte(days), byte(days>>8), byte(days>>16))
}

// daysSince counts whole days from epoch to t's date (Unix seconds: a
// time.Duration cannot span the 9999 years SQL Server dates do).
func daysSince(t, epoch time.Time) int64 {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return (d.Unix() - epoch.Unix()) / 86400
}

// appendTime writes the time of day in units of 10^-scale seconds.
func appendTime(b []byte, t time.Time, scale int) []byte {
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	ns := uint64(t.Sub(midnight).Nanoseconds())
	units := ns / uint64(math.Pow10(9-scale))
	n := timeLen(scale)
	for i := 0; i < n; i++ {
		b = append(b, byte(units>>(8*i)))
	}
	return b
}

// appendDateTime writes the date and time types.
func appendDateTime(b []byte, t time.Time, typ tsql.Type) ([]byte, error) {
	switch typ.Kind {
	case tsql.TDateTime:
		t = tsql.RoundDateTime(t.UTC(), typ)
		if t.Year() < 1753 || t.Year() > 9999 {
			return nil, tsql.Errorf(242, 0, "The conversion of a datetime2 data type to a datetime data type resulted in an out-of-range value.")
		}
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		days := int32(daysSince(d, epoch1900))
		ticks := uint32((t.Sub(d).Nanoseconds()*3 + 5_000_000) / 10_000_000)
		b = append(b, 8)
		b = binary.LittleEndian.AppendUint32(b, uint32(days))
		return binary.LittleEndian.AppendUint32(b, ticks), nil
	case tsql.TSmallDateTime:
		t = tsql.RoundDateTime(t.UTC(), typ)
		if t.Before(epoch1900) || t.Year() > 2079 {
			return nil, tsql.Errorf(242, 0, "The conversion of a datetime2 data type to a smalldatetime data type resulted in an out-of-range value.")
		}
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		days := uint16(daysSince(d, epoch1900))
		mins := uint16(t.Sub(d).Minutes())
		b = append(b, 4)
		b = binary.LittleEndian.AppendUint16(b, days)
		return binary.LittleEndian.AppendUint16(b, mins), nil
	case tsql.TDateTime2:
		if t.Year() < 1 || t.Year() > 9999 {
			return nil, overflow("datetime2")
		}
		b = append(b, byte(timeLen(typ.Scale)+3))
		b = appendTime(b, t, typ.Scale)
		return appendDate(b, t), nil
	case tsql.TDateTimeOffset:
		_, off := t.Zone()
		u := t.UTC()
		if u.Year() < 1 || u.Year() > 9999 {
			return nil, overflow("datetimeoffset")
		}
		b = append(b, byte(timeLen(typ.Scale)+5))
		b = appendTime(b, u, typ.Scale)
		b = appendDate(b, u)
		return binary.LittleEndian.AppendUint16(b, uint16(int16(off/60))), nil
	case tsql.TTime:
		b = append(b, byte(timeLen(typ.Scale)))
		return appendTime(b, t, typ.Scale), nil
	}
	return nil, fmt.Errorf("tds: %s is not a date or time type", typ)
}

// ---- incoming values (RPC parameters) ----

// reader reads little-endian values from a message, remembering the first
// overrun instead of panicking.
type reader struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("tds: message ends inside a value")

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = errShort
		return false
	}
	return true
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8() byte {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// bVarchar reads B_VARCHAR (length in UTF-16 units).
func (r *reader) bVarchar() string { return decodeUTF16(r.bytes(int(r.u8()) * 2)) }

// usVarchar reads US_VARCHAR.
func (r *reader) usVarchar() string { return decodeUTF16(r.bytes(int(r.u16()) * 2)) }

// paramType is an incoming TYPE_INFO.
type paramType struct {
	id        byte
	size      int // max length; 0xFFFF for PLP
	precision int
	scale     int
	collation []byte
}

func (r *reader) typeInfo() (paramType, error) {
	t := paramType{id: r.u8()}
	switch t.id {
	case typeNull, typeInt1, typeBit, typeInt2, typeInt4, typeInt8, typeFlt4, typeFlt8,
		typeDateTim4, typeDateTime, typeMoney, typeMoney4, typeDateN:
	case typeIntN, typeBitN, typeFltN, typeMoneyN, typeDateTimeN, typeGUID:
		t.size = int(r.u8())
	case typeDecimalN, typeNumericN:
		t.size = int(r.u8())
		t.precision = int(r.u8())
		t.scale = int(r.u8())
		if t.precision < 1 || t.precision > 38 || t.scale > t.precision {
			return t, fmt.Errorf("tds: decimal parameter with precision %d and scale %d", t.precision, t.scale)
		}
	case typeTimeN, typeDateTime2N, typeDateTimeOffset:
		t.scale = int(r.u8())
		if t.scale > 7 {
			return t, fmt.Errorf("tds: time scale %d", t.scale)
		}
	case typeBigVarBin, typeBigBinary:
		t.size = int(r.u16())
	case typeBigVarChar, typeBigChar, typeNVarChar, typeNChar:
		t.size = int(r.u16())
		t.collation = r.bytes(5)
	default:
		return t, tsql.Errorf(tsql.ErrUnsupported, 0, "Keyword or statement option 'parameter of TDS type 0x%02X' is not supported in this version of SQL Server.", t.id)
	}
	return t, r.err
}

// value reads a parameter value of type t as a typed value.
func (r *reader) value(t paramType) (tsql.Value, error) {
	fixed := func(n int) []byte { return r.bytes(n) }
	// Variable-length types: one length byte (0 = NULL).
	var data []byte
	isNull := false
	switch t.id {
	case typeNull:
		return tsql.NullOf(tsql.Type{Kind: tsql.TNVarChar, Len: 1}), nil
	case typeInt1:
		data = fixed(1)
	case typeBit:
		data = fixed(1)
	case typeInt2:
		data = fixed(2)
	case typeInt4, typeFlt4, typeDateTim4, typeMoney4:
		data = fixed(4)
	case typeInt8, typeFlt8, typeDateTime, typeMoney:
		data = fixed(8)
	case typeIntN, typeBitN, typeFltN, typeMoneyN, typeDateTimeN, typeGUID, typeDecimalN, typeNumericN,
		typeDateN, typeTimeN, typeDateTime2N, typeDateTimeOffset:
		n := int(r.u8())
		isNull = n == 0
		data = r.bytes(n)
	case typeBigVarBin, typeBigBinary, typeBigVarChar, typeBigChar, typeNVarChar, typeNChar:
		if t.size == 0xFFFF {
			d, null, err := r.plp()
			if err != nil {
				return tsql.Value{}, err
			}
			data, isNull = d, null
		} else {
			n := int(r.u16())
			if n == 0xFFFF {
				isNull = true
			} else {
				data = r.bytes(n)
			}
		}
	}
	if r.err != nil {
		return tsql.Value{}, r.err
	}
	typ, err := t.sqlType(len(data))
	if err != nil {
		return tsql.Value{}, err
	}
	if isNull {
		return tsql.NullOf(typ), nil
	}
	v := tsql.Value{Type: typ}
	le := binary.LittleEndian
	switch typ.Kind {
	case tsql.TBit:
		if len(data) != 1 {
			return v, errors.New("tds: bit value of wrong length")
		}
		if data[0] != 0 {
			v.I = 1
		}
	case tsql.TTinyInt, tsql.TSmallInt, tsql.TInt, tsql.TBigInt:
		switch len(data) {
		case 1:
			v.I = int64(data[0])
		case 2:
			v.I = int64(int16(le.Uint16(data)))
		case 4:
			v.I = int64(int32(le.Uint32(data)))
		case 8:
			v.I = int64(le.Uint64(data))
		default:
			return v, errors.New("tds: integer value of wrong length")
		}
	case tsql.TReal, tsql.TFloat:
		switch len(data) {
		case 4:
			v.F = float64(math.Float32frombits(le.Uint32(data)))
		case 8:
			v.F = math.Float64frombits(le.Uint64(data))
		default:
			return v, errors.New("tds: float value of wrong length")
		}
	case tsql.TMoney, tsql.TSmallMoney:
		var n int64
		switch len(data) {
		case 4:
			n = int64(int32(le.Uint32(data)))
		case 8:
			n = int64(le.Uint32(data))<<32 | int64(le.Uint32(data[4:]))
		default:
			return v, errors.New("tds: money value of wrong length")
		}
		v.D = decimal.New(n, -4)
	case tsql.TDecimal:
		if len(data) < 1 {
			return v, errors.New("tds: empty decimal value")
		}
		mag := make([]byte, len(data)-1)
		for i := range mag {
			mag[i] = data[len(data)-1-i] // to big-endian
		}
		n := new(big.Int).SetBytes(mag)
		if data[0] == 0 {
			n.Neg(n)
		}
		v.D = decimal.NewFromBigInt(n, -int32(t.scale))
	case tsql.TDateTime:
		if len(data) != 8 {
			return v, errors.New("tds: datetime value of wrong length")
		}
		days := int32(le.Uint32(data))
		ticks := le.Uint32(data[4:])
		v.T = epoch1900.AddDate(0, 0, int(days)).Add(time.Duration(int64(ticks) * int64(time.Second) / 300))
	case tsql.TSmallDateTime:
		if len(data) != 4 {
			return v, errors.New("tds: smalldatetime value of wrong length")
		}
		v.T = epoch1900.AddDate(0, 0, int(le.Uint16(data))).Add(time.Duration(le.Uint16(data[2:])) * time.Minute)
	case tsql.TDate:
		if len(data) != 3 {
			return v, errors.New("tds: date value of wrong length")
		}
		v.T = epoch0001.AddDate(0, 0, int(uint32(data[0])|uint32(data[1])<<8|uint32(data[2])<<16))
	case tsql.TTime, tsql.TDateTime2, tsql.TDateTimeOffset:
		tl := timeLen(t.scale)
		if len(data) < tl {
			return v, errors.New("tds: time value too short")
		}
		var units uint64
		for i := 0; i < tl; i++ {
			units |= uint64(data[i]) << (8 * i)
		}
		tod := time.Duration(units * uint64(math.Pow10(9-t.scale)))
		date := epoch1900
		if typ.Kind != tsql.TTime {
			if len(data) < tl+3 {
				return v, errors.New("tds: date part missing")
			}
			d := data[tl:]
			date = epoch0001.AddDate(0, 0, int(uint32(d[0])|uint32(d[1])<<8|uint32(d[2])<<16))
		}
		v.T = date.Add(tod)
		if typ.Kind == tsql.TDateTimeOffset {
			if len(data) < tl+5 {
				return v, errors.New("tds: offset missing")
			}
			off := int(int16(le.Uint16(data[tl+3:])))
			v.T = v.T.In(time.FixedZone("", off*60))
		}
	case tsql.TNVarChar, tsql.TNChar:
		v.S = decodeUTF16(data)
	case tsql.TVarChar, tsql.TChar:
		if len(t.collation) == 5 && t.collation[3]&0x40 != 0 {
			// A UTF-8 collation.
			v.S = string(data)
		} else {
			s, err := cp1252.NewDecoder().Bytes(data)
			if err != nil {
				return v, err
			}
			v.S = string(s)
		}
	case tsql.TGUID:
		if len(data) != 16 {
			return v, errors.New("tds: uniqueidentifier of wrong length")
		}
		g := data
		v.S = strings.ToUpper(fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8:10], g[10:16]))
	case tsql.TBinary, tsql.TVarBinary:
		v.B = append([]byte(nil), data...)
	}
	return v, nil
}

// plp reads a PLP value: total length (or unknown), chunks, terminator.
func (r *reader) plp() ([]byte, bool, error) {
	total := r.u64()
	if r.err != nil {
		return nil, false, r.err
	}
	if total == math.MaxUint64 {
		return nil, true, nil
	}
	var out []byte
	for {
		n := r.u32()
		if r.err != nil {
			return nil, false, r.err
		}
		if n == 0 {
			return out, false, nil
		}
		chunk := r.bytes(int(n))
		if r.err != nil {
			return nil, false, r.err
		}
		out = append(out, chunk...)
		if len(out) > maxMessage {
			return nil, false, errors.New("tds: parameter too large")
		}
	}
}

// sqlType is the SQL Server type of an incoming parameter.
func (t paramType) sqlType(valueLen int) (tsql.Type, error) {
	str := func(k tsql.TypeKind, unit int) tsql.Type {
		if t.size == 0xFFFF {
			return tsql.Type{Kind: k, Len: tsql.MaxLen}
		}
		return tsql.Type{Kind: k, Len: max(1, t.size/unit)}
	}
	size := t.size
	switch t.id {
	case typeInt1:
		return tsql.Type{Kind: tsql.TTinyInt}, nil
	case typeInt2:
		return tsql.Type{Kind: tsql.TSmallInt}, nil
	case typeInt4:
		return tsql.Type{Kind: tsql.TInt}, nil
	case typeInt8:
		return tsql.Type{Kind: tsql.TBigInt}, nil
	case typeIntN:
		switch size {
		case 1:
			return tsql.Type{Kind: tsql.TTinyInt}, nil
		case 2:
			return tsql.Type{Kind: tsql.TSmallInt}, nil
		case 4:
			return tsql.Type{Kind: tsql.TInt}, nil
		case 8:
			return tsql.Type{Kind: tsql.TBigInt}, nil
		}
	case typeBit, typeBitN:
		return tsql.Type{Kind: tsql.TBit}, nil
	case typeFlt4:
		return tsql.Type{Kind: tsql.TReal}, nil
	case typeFlt8:
		return tsql.Type{Kind: tsql.TFloat}, nil
	case typeFltN:
		if size == 4 {
			return tsql.Type{Kind: tsql.TReal}, nil
		}
		return tsql.Type{Kind: tsql.TFloat}, nil
	case typeMoney4:
		return tsql.Type{Kind: tsql.TSmallMoney}, nil
	case typeMoney:
		return tsql.Type{Kind: tsql.TMoney}, nil
	case typeMoneyN:
		if size == 4 {
			return tsql.Type{Kind: tsql.TSmallMoney}, nil
		}
		return tsql.Type{Kind: tsql.TMoney}, nil
	case typeDecimalN, typeNumericN:
		return tsql.Type{Kind: tsql.TDecimal, Precision: t.precision, Scale: t.scale, Numeric: t.id == typeNumericN}, nil
	case typeDateTime:
		return tsql.Type{Kind: tsql.TDateTime}, nil
	case typeDateTim4:
		return tsql.Type{Kind: tsql.TSmallDateTime}, nil
	case typeDateTimeN:
		if size == 4 {
			return tsql.Type{Kind: tsql.TSmallDateTime}, nil
		}
		return tsql.Type{Kind: tsql.TDateTime}, nil
	case typeDateN:
		return tsql.Type{Kind: tsql.TDate}, nil
	case typeTimeN:
		return tsql.Type{Kind: tsql.TTime, Scale: t.scale}, nil
	case typeDateTime2N:
		return tsql.Type{Kind: tsql.TDateTime2, Scale: t.scale}, nil
	case typeDateTimeOffset:
		return tsql.Type{Kind: tsql.TDateTimeOffset, Scale: t.scale}, nil
	case typeGUID:
		return tsql.Type{Kind: tsql.TGUID}, nil
	case typeNVarChar:
		return str(tsql.TNVarChar, 2), nil
	case typeNChar:
		return str(tsql.TNChar, 2), nil
	case typeBigVarChar:
		return str(tsql.TVarChar, 1), nil
	case typeBigChar:
		return str(tsql.TChar, 1), nil
	case typeBigVarBin:
		return str(tsql.TVarBinary, 1), nil
	case typeBigBinary:
		return str(tsql.TBinary, 1), nil
	}
	_ = valueLen
	return tsql.Type{}, fmt.Errorf("tds: parameter type %#x of size %d", t.id, size)
}
