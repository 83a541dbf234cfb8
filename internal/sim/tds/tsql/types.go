package tsql

import (
	"fmt"
	"strings"
)

// TypeKind is a SQL Server data type the simulator can carry. Kinds are
// ordered by SQL Server's data type precedence, lowest first, so the
// operand of lower precedence is the one converted.
type TypeKind int

const (
	TNone TypeKind = iota // no type (an untyped NULL literal is typed int, as in SQL Server)
	TBinary
	TVarBinary
	TChar
	TVarChar
	TNChar
	TNVarChar
	TGUID
	TBit
	TTinyInt
	TSmallInt
	TInt
	TBigInt
	TSmallMoney
	TMoney
	TDecimal // decimal and numeric are one type; Numeric records the spelling
	TReal
	TFloat
	TTime
	TDate
	TSmallDateTime
	TDateTime
	TDateTime2
	TDateTimeOffset
)

// MaxLen marks a (max) string type.
const MaxLen = -1

// Type is a SQL Server type with its facets.
type Type struct {
	Kind TypeKind
	// Len is the length of a string or binary type in characters (bytes
	// for binary and varchar), or MaxLen.
	Len int
	// Precision and Scale of decimal; Scale is also the fractional-second
	// precision of time, datetime2 and datetimeoffset.
	Precision, Scale int
	// Numeric: spelled numeric rather than decimal (the TDS type id differs).
	Numeric bool
}

func (t Type) IsString() bool {
	return t.Kind == TChar || t.Kind == TVarChar || t.Kind == TNChar || t.Kind == TNVarChar
}
func (t Type) IsUnicode() bool { return t.Kind == TNChar || t.Kind == TNVarChar }
func (t Type) IsInteger() bool { return t.Kind >= TTinyInt && t.Kind <= TBigInt }

// IsNumber is true for the exact and approximate numeric types and bit.
func (t Type) IsNumber() bool { return t.Kind >= TBit && t.Kind <= TFloat }
func (t Type) IsDateTime() bool {
	return t.Kind == TDate || t.Kind == TSmallDateTime || t.Kind == TDateTime || t.Kind == TDateTime2 || t.Kind == TDateTimeOffset || t.Kind == TTime
}
func (t Type) IsBinary() bool { return t.Kind == TBinary || t.Kind == TVarBinary }

// String spells the type as SQL Server does in messages.
func (t Type) String() string {
	length := func(name string) string {
		if t.Len == MaxLen {
			return name + "(max)"
		}
		return fmt.Sprintf("%s(%d)", name, t.Len)
	}
	switch t.Kind {
	case TBinary:
		return length("binary")
	case TVarBinary:
		return length("varbinary")
	case TChar:
		return length("char")
	case TVarChar:
		return length("varchar")
	case TNChar:
		return length("nchar")
	case TNVarChar:
		return length("nvarchar")
	case TGUID:
		return "uniqueidentifier"
	case TBit:
		return "bit"
	case TTinyInt:
		return "tinyint"
	case TSmallInt:
		return "smallint"
	case TInt:
		return "int"
	case TBigInt:
		return "bigint"
	case TSmallMoney:
		return "smallmoney"
	case TMoney:
		return "money"
	case TDecimal:
		name := "decimal"
		if t.Numeric {
			name = "numeric"
		}
		return fmt.Sprintf("%s(%d,%d)", name, t.Precision, t.Scale)
	case TReal:
		return "real"
	case TFloat:
		return "float"
	case TTime:
		return fmt.Sprintf("time(%d)", t.Scale)
	case TDate:
		return "date"
	case TSmallDateTime:
		return "smalldatetime"
	case TDateTime:
		return "datetime"
	case TDateTime2:
		return fmt.Sprintf("datetime2(%d)", t.Scale)
	case TDateTimeOffset:
		return fmt.Sprintf("datetimeoffset(%d)", t.Scale)
	}
	return "sql_variant"
}

// BaseName is the type's name without facets, as in "Error converting data
// type nvarchar to int."
func (t Type) BaseName() string {
	s := t.String()
	if i := strings.IndexByte(s, '('); i >= 0 {
		return s[:i]
	}
	return s
}

// decimalOf is the decimal type an exact numeric converts to in decimal
// arithmetic (SQL Server's rule: int is decimal(10,0), and so on).
func decimalOf(t Type) Type {
	switch t.Kind {
	case TBit:
		return Type{Kind: TDecimal, Precision: 1}
	case TTinyInt:
		return Type{Kind: TDecimal, Precision: 3}
	case TSmallInt:
		return Type{Kind: TDecimal, Precision: 5}
	case TInt:
		return Type{Kind: TDecimal, Precision: 10}
	case TBigInt:
		return Type{Kind: TDecimal, Precision: 19}
	case TSmallMoney:
		return Type{Kind: TDecimal, Precision: 10, Scale: 4}
	case TMoney:
		return Type{Kind: TDecimal, Precision: 19, Scale: 4}
	}
	return t
}

// decimalResult applies SQL Server's precision and scale rules for decimal
// arithmetic ("Precision, scale, and length"), including the reduction when
// the precision would exceed 38.
func decimalResult(op string, a, b Type) Type {
	a, b = decimalOf(a), decimalOf(b)
	p1, s1, p2, s2 := a.Precision, a.Scale, b.Precision, b.Scale
	var p, s int
	switch op {
	case "+", "-":
		s = max(s1, s2)
		p = s + max(p1-s1, p2-s2) + 1
		if p > 38 {
			integral := p - s
			p = 38
			s = max(0, min(s, 38-integral))
		}
		return Type{Kind: TDecimal, Precision: p, Scale: s, Numeric: a.Numeric || b.Numeric}
	case "*":
		p, s = p1+p2+1, s1+s2
	case "/":
		s = max(6, s1+p2+1)
		p = p1 - s1 + s2 + s
	case "%":
		s = max(s1, s2)
		p = min(p1-s1, p2-s2) + s
	}
	if p > 38 {
		integral := p - s
		if integral <= 32 {
			s = min(s, 38-integral)
		} else if s > 6 {
			s = 6
		}
		p = 38
	}
	return Type{Kind: TDecimal, Precision: p, Scale: s, Numeric: a.Numeric || b.Numeric}
}

// higher is the operand type of higher precedence: the type two operands
// of a comparison or arithmetic are converted to.
func higher(a, b Type) Type {
	if b.Kind > a.Kind {
		return b
	}
	if a.Kind == b.Kind {
		switch {
		case a.IsString():
			if a.Len == MaxLen || (b.Len != MaxLen && a.Len >= b.Len) {
				return a
			}
			return b
		case a.Kind == TDecimal:
			// The type that holds both: as many integer and fraction digits
			// as either.
			s := max(a.Scale, b.Scale)
			p := min(38, s+max(a.Precision-a.Scale, b.Precision-b.Scale))
			return Type{Kind: TDecimal, Precision: p, Scale: s, Numeric: a.Numeric}
		case a.Scale < b.Scale:
			return b
		}
	}
	return a
}

// TypeName is a type as written in T-SQL: CAST(x AS nvarchar(50)).
type TypeName struct {
	Name string
	Args []int
	Max  bool
	Line int
}

// Resolve turns a written type into a Type, with SQL Server's defaults for
// omitted facets. castDefault is true in CAST/CONVERT, where a string type
// without a length is 30 long rather than 1.
func (tn TypeName) Resolve(castDefault bool) (Type, *Error) {
	name := strings.ToLower(tn.Name)
	bad := func() (Type, *Error) {
		return Type{}, errorf(ErrUnknownType, tn.Line, "Column, parameter, or variable #1: Cannot find data type %s.", tn.Name)
	}
	nargs := len(tn.Args)
	if tn.Max {
		nargs = 1
	}
	noArgs := func(t Type) (Type, *Error) {
		if nargs > 0 {
			return Type{}, errorf(2716, tn.Line, "Column, parameter, or variable #1: Cannot specify a column width on data type %s.", name)
		}
		return t, nil
	}
	switch name {
	case "bit":
		return noArgs(Type{Kind: TBit})
	case "tinyint":
		return noArgs(Type{Kind: TTinyInt})
	case "smallint":
		return noArgs(Type{Kind: TSmallInt})
	case "int", "integer":
		return noArgs(Type{Kind: TInt})
	case "bigint":
		return noArgs(Type{Kind: TBigInt})
	case "smallmoney":
		return noArgs(Type{Kind: TSmallMoney})
	case "money":
		return noArgs(Type{Kind: TMoney})
	case "real":
		return noArgs(Type{Kind: TReal})
	case "float":
		if nargs == 1 && !tn.Max && tn.Args[0] >= 1 && tn.Args[0] <= 24 {
			return Type{Kind: TReal}, nil
		}
		if nargs == 1 && !tn.Max && tn.Args[0] >= 25 && tn.Args[0] <= 53 {
			return Type{Kind: TFloat}, nil
		}
		return noArgs(Type{Kind: TFloat})
	case "date":
		return noArgs(Type{Kind: TDate})
	case "smalldatetime":
		return noArgs(Type{Kind: TSmallDateTime})
	case "datetime":
		return noArgs(Type{Kind: TDateTime})
	case "uniqueidentifier":
		return noArgs(Type{Kind: TGUID})
	case "datetime2", "datetimeoffset", "time":
		kind := map[string]TypeKind{"datetime2": TDateTime2, "datetimeoffset": TDateTimeOffset, "time": TTime}[name]
		scale := 7
		if nargs > 1 || tn.Max {
			return bad()
		}
		if nargs == 1 {
			scale = tn.Args[0]
			if scale < 0 || scale > 7 {
				return Type{}, errorf(1002, tn.Line, "Line %d: Specified scale %d is invalid.", tn.Line, scale)
			}
		}
		return Type{Kind: kind, Scale: scale}, nil
	case "decimal", "numeric", "dec":
		if tn.Max || nargs > 2 {
			return bad()
		}
		t := Type{Kind: TDecimal, Precision: 18, Numeric: name == "numeric"}
		if nargs >= 1 {
			t.Precision = tn.Args[0]
		}
		if nargs == 2 {
			t.Scale = tn.Args[1]
		}
		if t.Precision < 1 || t.Precision > 38 {
			return Type{}, errorf(2750, tn.Line, "Column or parameter #1: Specified column precision %d is greater than the maximum precision of 38.", t.Precision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return Type{}, errorf(2751, tn.Line, "Column or parameter #1: Specified column scale %d is greater than the specified precision of %d.", t.Scale, t.Precision)
		}
		return t, nil
	case "char", "varchar", "nchar", "nvarchar", "binary", "varbinary", "character", "national":
		kind := map[string]TypeKind{"char": TChar, "character": TChar, "varchar": TVarChar, "nchar": TNChar, "national": TNChar, "nvarchar": TNVarChar, "binary": TBinary, "varbinary": TVarBinary}[name]
		t := Type{Kind: kind, Len: 1}
		if castDefault {
			t.Len = 30
		}
		if nargs > 1 {
			return bad()
		}
		limit := 8000
		if kind == TNChar || kind == TNVarChar {
			limit = 4000
		}
		if tn.Max {
			if kind == TChar || kind == TNChar || kind == TBinary {
				return Type{}, errorf(ErrSyntaxKeyword, tn.Line, "Incorrect syntax near the keyword 'max'.")
			}
			t.Len = MaxLen
		} else if nargs == 1 {
			t.Len = tn.Args[0]
			if t.Len < 1 || t.Len > limit {
				return Type{}, errorf(131, tn.Line, "The size (%d) given to the type '%s' exceeds the maximum allowed for any data type (%d).", t.Len, name, limit)
			}
		}
		return t, nil
	}
	return bad()
}
