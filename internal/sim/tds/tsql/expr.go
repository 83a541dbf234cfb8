package tsql

import (
	"strconv"
	"strings"
	"time"
)

// aggregates are the aggregate functions served.
var aggregates = map[string]bool{"COUNT": true, "COUNT_BIG": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

// implemented are the scalar functions translated here.
var implemented = map[string]bool{"ISNULL": true, "COALESCE": true, "NULLIF": true, "UPPER": true, "LOWER": true,
	"LTRIM": true, "RTRIM": true, "LEN": true, "ABS": true, "ROUND": true, "GETDATE": true, "GETUTCDATE": true,
	"SYSDATETIME": true, "SYSUTCDATETIME": true}

// sessionFuncs are answered by Env.Builtin.
var sessionFuncs = map[string]bool{"DB_NAME": true, "SCHEMA_NAME": true, "USER_NAME": true, "SUSER_NAME": true,
	"SUSER_SNAME": true, "ORIGINAL_LOGIN": true, "APP_NAME": true, "HOST_NAME": true, "SERVERPROPERTY": true}

// knownBuiltins are SQL Server built-in functions the simulator does not
// implement: calling one is "not supported", not "not a function".
var knownBuiltins = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`DATEADD DATEDIFF DATEDIFF_BIG DATEPART DATENAME YEAR MONTH DAY EOMONTH
		DATEFROMPARTS DATETIMEFROMPARTS SUBSTRING CHARINDEX PATINDEX REPLACE REPLICATE STUFF REVERSE
		CONCAT CONCAT_WS FORMAT STR SPACE CEILING FLOOR POWER SQRT SQUARE SIGN EXP LOG LOG10 PI RAND IIF
		CHOOSE NEWID NEWSEQUENTIALID ROW_NUMBER RANK DENSE_RANK NTILE LAG LEAD FIRST_VALUE LAST_VALUE
		STRING_AGG STDEV STDEVP VAR VARP CHECKSUM BINARY_CHECKSUM CHECKSUM_AGG HASHBYTES ISNUMERIC ISDATE
		TRIM QUOTENAME OBJECT_ID OBJECT_NAME DB_ID USER_ID SUSER_ID HOST_ID
		SYSDATETIMEOFFSET SWITCHOFFSET TODATETIMEOFFSET COL_LENGTH COL_NAME DATALENGTH ASCII CHAR NCHAR
		UNICODE SOUNDEX DIFFERENCE TRANSLATE STRING_SPLIT OPENJSON JSON_VALUE JSON_QUERY JSON_MODIFY ISJSON
		COMPRESS DECOMPRESS ERROR_MESSAGE ERROR_NUMBER SCOPE_IDENTITY IDENT_CURRENT GROUPING GROUPING_ID
		APPROX_COUNT_DISTINCT CUME_DIST PERCENT_RANK PERCENTILE_CONT PERCENTILE_DISC SIN COS TAN ATAN ASIN
		ACOS ATN2 DEGREES RADIANS COT CURSOR_STATUS FORMATMESSAGE GREATEST LEAST DATETRUNC DATE_BUCKET`) {
		knownBuiltins[f] = true
	}
}

// expr translates a value expression.
func (t *tr) expr(e Expr) (texpr, *Error) {
	te, err := t.expr1(e)
	if err == nil && len(te.sql) > maxSQL {
		err = tooDeep(e.pos())
	}
	if err != nil {
		if err.Line == 0 {
			err.Line = int32(e.pos())
		}
		return texpr{}, err
	}
	t.memo[e] = te
	return te, nil
}

// maxSQL bounds the Postgres text of one expression: CASE x WHEN … and
// NULLIF repeat their operand, so nesting them doubles the text.
const maxSQL = 256 << 10

func tooDeep(line int) *Error {
	return errorf(191, line, "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries.")
}

func (t *tr) expr1(e Expr) (texpr, *Error) {
	switch x := e.(type) {
	case *ColumnRef:
		return t.column(x)
	case *Literal:
		return t.literal(x)
	case *Param:
		d, ok := t.param(x.Name)
		if !ok {
			return texpr{}, errorf(ErrMustDeclare, x.Line, "Must declare the scalar variable \"%s\".", x.Name)
		}
		key := strings.ToLower(d.Name)
		ph, seen := t.lits["@"+key]
		a := Arg(func(p map[string]Value) (Value, error) {
			v, ok := p[key]
			if !ok {
				return NullOf(d.Type), nil
			}
			return v, nil
		})
		if !seen {
			ph = t.place(a, d.Type)
			t.lits["@"+key] = ph
		}
		return texpr{sql: ph, typ: d.Type, nullable: true, konst: true, arg: a}, nil
	case *SysVarRef:
		name := strings.ToUpper(x.Name)
		if t.env.SysVar == nil {
			return texpr{}, errorf(ErrMustDeclare, x.Line, "Must declare the scalar variable \"%s\".", x.Name)
		}
		v, ok := t.env.SysVar(name)
		if !ok {
			return texpr{}, errorf(ErrMustDeclare, x.Line, "Must declare the scalar variable \"%s\".", x.Name)
		}
		return t.constValue(v, "sys:"+name), nil
	case *Unary:
		v, err := t.expr(x.X)
		if err != nil {
			return texpr{}, err
		}
		if v.null {
			return v, nil
		}
		if !v.typ.IsNumber() || v.typ.Kind == TBit {
			return texpr{}, errorf(ErrOperandInvalid, x.Line, "Operand data type %s is invalid for minus operator.", v.typ.BaseName())
		}
		if x.Op == "+" {
			return v, nil
		}
		v.sql = "(-" + v.sql + ")"
		v.column, v.arg = "", nil
		return v, nil
	case *Binary:
		return t.binary(x)
	case *Func:
		return t.call(x)
	case *Cast:
		return t.castExpr(x)
	case *Case:
		return t.caseExpr(x)
	}
	return texpr{}, errorf(ErrSyntax, e.pos(), "Incorrect syntax near '%s'.", exprWord(e))
}

func exprWord(e Expr) string {
	switch e.(type) {
	case *Compare:
		return "="
	case *Logical:
		return "AND"
	case *Not:
		return "NOT"
	case *In:
		return "IN"
	case *Between:
		return "BETWEEN"
	case *Like:
		return "LIKE"
	case *IsNull:
		return "IS"
	}
	return ""
}

// constValue places a constant value, one bind per distinct key.
func (t *tr) constValue(v Value, key string) texpr {
	a := constArg(v)
	ph, ok := t.lits[key]
	if !ok {
		ph = t.place(a, v.Type)
		t.lits[key] = ph
	}
	return texpr{sql: ph, typ: v.Type, nullable: v.Null, konst: true, arg: a}
}

func (t *tr) literal(l *Literal) (texpr, *Error) {
	v, err := literalValue(l)
	if err != nil {
		return texpr{}, err
	}
	if l.Kind == EOF {
		return texpr{sql: "NULL", typ: v.Type, nullable: true, konst: true, null: true, arg: constArg(v)}, nil
	}
	return t.constValue(v, "lit:"+strconv.Itoa(int(l.Kind))+":"+l.Text), nil
}

// ---- conversions ----

// conv converts te to type to. A constant converts in Go (SQL Server's
// rules, errors with its numbers, at bind time); anything else converts in
// SQL. explicit is CAST/CONVERT; style is CONVERT's style.
func (t *tr) conv(te texpr, to Type, explicit bool, style int) (texpr, *Error) {
	if te.null {
		return texpr{sql: "NULL::" + pgType(to), typ: to, nullable: true, konst: true, arg: constArg(NullOf(to))}, nil
	}
	if sameType(te.typ, to) && !(explicit && to.IsString()) {
		return te, nil
	}
	if te.arg != nil {
		src := te.arg
		ydm := t.env.YDM
		a := Arg(func(p map[string]Value) (Value, error) {
			v, err := src(p)
			if err != nil {
				return Value{}, err
			}
			out, cerr := Convert(v, to, explicit, style, ydm)
			if cerr != nil {
				return Value{}, cerr
			}
			return out, nil
		})
		if !explicit && to.IsString() && te.typ.IsString() {
			// Implicit string conversions change nothing in Postgres.
			return te, nil
		}
		return texpr{sql: t.place(a, to), typ: to, nullable: te.nullable, konst: true, arg: a, agg: te.agg}, nil
	}
	sql, err := t.sqlConv(te, to, explicit, style)
	if err != nil {
		return texpr{}, err
	}
	out := texpr{sql: sql, typ: to, nullable: te.nullable, konst: te.konst, agg: te.agg}
	if to.IsString() && te.typ.IsString() && !explicit {
		out.collated = te.collated
	}
	return out, nil
}

func sameType(a, b Type) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case TDecimal:
		return a.Precision == b.Precision && a.Scale == b.Scale
	case TDateTime2, TDateTimeOffset, TTime:
		return a.Scale == b.Scale
	case TChar, TVarChar, TNChar, TNVarChar, TBinary, TVarBinary:
		return a.Len == b.Len
	}
	return true
}

// sqlConv is the Postgres expression for converting a non-constant value.
func (t *tr) sqlConv(te texpr, to Type, explicit bool, style int) (string, *Error) {
	from := te.typ
	x := te.sql
	pg := pgType(to)
	notAllowed := func() (string, *Error) {
		if explicit {
			return "", errorf(529, 0, "Explicit conversion from data type %s to %s is not allowed.", from.BaseName(), to.BaseName())
		}
		return "", errorf(257, 0, "Implicit conversion from data type %s to %s is not allowed. Use the CONVERT function to run this query.", from.BaseName(), to.BaseName())
	}
	switch {
	case to.IsString():
		var s string
		switch {
		case from.IsString():
			s = x
		case from.Kind == TBit:
			s = "(CASE WHEN " + x + " THEN '1' WHEN NOT " + x + " THEN '0' END)"
		case from.IsInteger(), from.Kind == TDecimal, from.Kind == TReal, from.Kind == TFloat:
			s = "(" + x + ")::text"
		case from.Kind == TMoney || from.Kind == TSmallMoney:
			s = "round(" + x + ", 2)::text"
		case from.IsDateTime():
			f, err := dateFormatSQL(x, from, style)
			if err != nil {
				return "", err
			}
			s = f
		default:
			return notAllowed()
		}
		if to.Len != MaxLen {
			if !from.IsString() && !explicit {
				return s, nil
			}
			if from.IsInteger() && to.Len < 11 {
				// SQL Server writes '*' when an integer does not fit.
				return "(CASE WHEN char_length(" + s + ") > " + strconv.Itoa(to.Len) + " THEN '*' ELSE " + s + " END)", nil
			}
			return "(" + s + ")::varchar(" + strconv.Itoa(to.Len) + ")", nil
		}
		return s, nil
	case to.Kind == TBit:
		switch {
		case from.IsNumber():
			return "((" + x + ") <> 0)", nil
		case from.IsString():
			return "(CASE upper(btrim(" + x + ")) WHEN 'TRUE' THEN true WHEN 'FALSE' THEN false ELSE (" + x + ")::numeric <> 0 END)", nil
		}
		return notAllowed()
	case to.IsInteger():
		switch {
		case from.Kind == TBit:
			return "(" + x + ")::int4::" + pg, nil
		case from.IsInteger(), from.IsString():
			return "(" + x + ")::" + pg, nil
		case from.IsNumber():
			// SQL Server truncates toward zero; Postgres would round.
			return "trunc(" + x + ")::" + pg, nil
		}
		return notAllowed()
	case to.IsNumber(): // decimal, money, real, float
		switch {
		case from.Kind == TBit:
			return "(" + x + ")::int4::" + pg, nil
		case from.IsNumber(), from.IsString():
			return "(" + x + ")::" + pg, nil
		}
		return notAllowed()
	case to.IsDateTime():
		switch {
		case from.IsString():
			if style != 0 && !inputDateStyles[style] {
				return "", unsupported(0, "CONVERT style "+strconv.Itoa(style))
			}
			return "(" + x + ")::" + pg, nil
		case from.IsDateTime():
			if to.Kind == TTime || from.Kind == TTime {
				if to.Kind != from.Kind && to.Kind != TTime {
					return "('1900-01-01'::date + (" + x + "))::" + pg, nil
				}
			}
			return "(" + x + ")::" + pg, nil
		case from.IsNumber() && from.Kind != TBit && (to.Kind == TDateTime || to.Kind == TSmallDateTime):
			return "('1900-01-01'::timestamp + (" + x + ") * interval '1 day')::" + pg, nil
		}
		return notAllowed()
	}
	return notAllowed()
}

// inputDateStyles are the CONVERT styles whose input Postgres reads as is
// (ISO forms and the default).
var inputDateStyles = map[int]bool{0: true, 100: true, 112: true, 23: true, 20: true, 120: true, 21: true, 121: true, 126: true, 127: true}

// dateFormatSQL renders a date/time column as CONVERT(varchar, x, style)
// would, with to_char.
func dateFormatSQL(x string, from Type, style int) (string, *Error) {
	frac := ""
	switch from.Kind {
	case TDateTime:
		frac = ".MS"
	case TDateTime2, TDateTimeOffset, TTime:
		if from.Scale > 0 {
			frac = ".US"
		}
	}
	ch := func(f string) string { return "to_char(" + x + ", '" + f + "')" }
	switch style {
	case 0, 100:
		switch from.Kind {
		case TDate:
			return ch("YYYY-MM-DD"), nil
		case TTime:
			return ch("HH24:MI:SS" + frac), nil
		case TDateTime2, TDateTimeOffset:
			return ch("YYYY-MM-DD HH24:MI:SS" + frac), nil
		}
		// 'Jan  1 2024 12:00AM': day and hour padded with a space.
		return "(" + ch("Mon ") + " || lpad(" + ch("FMDD") + ", 2) || " + ch(" YYYY ") + " || lpad(" + ch("FMHH12:MI") + ", 5) || " + ch("AM") + ")", nil
	case 101:
		return ch("MM/DD/YYYY"), nil
	case 102:
		return ch("YYYY.MM.DD"), nil
	case 103:
		return ch("DD/MM/YYYY"), nil
	case 104:
		return ch("DD.MM.YYYY"), nil
	case 112:
		return ch("YYYYMMDD"), nil
	case 23:
		return ch("YYYY-MM-DD"), nil
	case 8, 108:
		return ch("HH24:MI:SS"), nil
	case 20, 120:
		if from.Kind == TDate {
			return ch("YYYY-MM-DD"), nil
		}
		return ch("YYYY-MM-DD HH24:MI:SS"), nil
	case 21, 121:
		if from.Kind == TDate {
			return ch("YYYY-MM-DD"), nil
		}
		return ch("YYYY-MM-DD HH24:MI:SS" + frac), nil
	case 126:
		if from.Kind == TDate {
			return ch("YYYY-MM-DD"), nil
		}
		return ch(`YYYY-MM-DD"T"HH24:MI:SS` + frac), nil
	}
	return "", errorf(281, 0, "%d is not a valid style number when converting from %s to a character string.", style, from.BaseName())
}

// ---- operators ----

var opNames = map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo"}

func (t *tr) binary(x *Binary) (texpr, *Error) {
	l, err := t.expr(x.L)
	if err != nil {
		return texpr{}, err
	}
	r, err := t.expr(x.R)
	if err != nil {
		return texpr{}, err
	}
	agg := l.agg || r.agg
	if l.null || r.null {
		// NULL in arithmetic is NULL of the other operand's type.
		typ := l.typ
		if l.null {
			typ = r.typ
		}
		return texpr{sql: "NULL::" + pgType(typ), typ: typ, nullable: true, konst: l.konst && r.konst, null: true, agg: agg}, nil
	}
	konst := l.konst && r.konst
	nullable := l.nullable || r.nullable
	lt, rt := l.typ, r.typ
	invalid := func(typ Type) *Error {
		return errorf(ErrOperandInvalid, x.Line, "Operand data type %s is invalid for %s operator.", typ.BaseName(), opNames[x.Op])
	}
	// String concatenation.
	if lt.IsString() && rt.IsString() {
		if x.Op != "+" {
			return texpr{}, invalid(lt)
		}
		typ := Type{Kind: TVarChar}
		if lt.IsUnicode() || rt.IsUnicode() {
			typ.Kind = TNVarChar
		}
		limit := 8000
		if typ.Kind == TNVarChar {
			limit = 4000
		}
		if lt.Len == MaxLen || rt.Len == MaxLen || lt.Len+rt.Len > limit {
			typ.Len = MaxLen
		} else {
			typ.Len = lt.Len + rt.Len
		}
		return texpr{sql: "(" + l.sql + " || " + r.sql + ")", typ: typ, nullable: nullable, konst: konst, agg: agg, collated: l.collated || r.collated}, nil
	}
	// Date arithmetic: datetime ± days.
	if (lt.Kind == TDateTime || lt.Kind == TSmallDateTime) && rt.IsNumber() && rt.Kind != TBit && (x.Op == "+" || x.Op == "-") {
		return texpr{sql: "(" + l.sql + " " + x.Op + " (" + r.sql + ") * interval '1 day')::" + pgType(lt), typ: lt, nullable: nullable, konst: konst, agg: agg}, nil
	}
	if (rt.Kind == TDateTime || rt.Kind == TSmallDateTime) && lt.IsNumber() && lt.Kind != TBit && x.Op == "+" {
		return texpr{sql: "(" + r.sql + " + (" + l.sql + ") * interval '1 day')::" + pgType(rt), typ: rt, nullable: nullable, konst: konst, agg: agg}, nil
	}
	// A string operand converts to the other operand's numeric type.
	if lt.IsString() && rt.IsNumber() {
		if l, err = t.conv(l, rt, false, 0); err != nil {
			return texpr{}, err
		}
		lt = rt
	} else if rt.IsString() && lt.IsNumber() {
		if r, err = t.conv(r, lt, false, 0); err != nil {
			return texpr{}, err
		}
		rt = lt
	}
	if !lt.IsNumber() || lt.Kind == TBit {
		return texpr{}, invalid(lt)
	}
	if !rt.IsNumber() || rt.Kind == TBit {
		return texpr{}, invalid(rt)
	}
	var typ Type
	var sql string
	switch {
	case lt.Kind == TFloat || rt.Kind == TFloat || lt.Kind == TReal || rt.Kind == TReal:
		typ = Type{Kind: TFloat}
		if lt.Kind == TReal && rt.Kind == TReal {
			typ.Kind = TReal
		}
		op := x.Op
		if op == "%" {
			return texpr{}, invalid(Type{Kind: TFloat})
		}
		sql = "((" + l.sql + ")::" + pgType(typ) + " " + op + " (" + r.sql + ")::" + pgType(typ) + ")"
	case lt.Kind == TDecimal || rt.Kind == TDecimal || lt.Kind == TMoney || rt.Kind == TMoney || lt.Kind == TSmallMoney || rt.Kind == TSmallMoney:
		typ = decimalResult(x.Op, lt, rt)
		// Both sides as numeric, so / is never integer division here. For
		// a quotient, the dividend gets one digit more than the result's
		// scale: Postgres sizes a quotient's scale from its operands (16
		// digits at least), and the cast then rounds as SQL Server does.
		left := "(" + l.sql + ")::numeric"
		if x.Op == "/" {
			left = "round(" + left + ", " + strconv.Itoa(typ.Scale+1) + ")"
		}
		sql = "(" + left + " " + x.Op + " (" + r.sql + ")::numeric)::" + pgType(typ)
	default:
		typ = higher(lt, rt)
		pg := pgType(typ)
		sql = "((" + l.sql + ")::" + pg + " " + x.Op + " (" + r.sql + ")::" + pg + ")"
	}
	return texpr{sql: sql, typ: typ, nullable: nullable, konst: konst, agg: agg}, nil
}

// ---- conditions ----

// cond translates a search condition to a Postgres boolean expression.
func (t *tr) cond(e Expr) (string, *Error) {
	s, err := t.cond1(e)
	if err == nil && len(s) > maxSQL {
		err = tooDeep(e.pos())
	}
	if err != nil && err.Line == 0 {
		err.Line = int32(e.pos())
	}
	return s, err
}

func (t *tr) cond1(e Expr) (string, *Error) {
	switch x := e.(type) {
	case *Logical:
		l, err := t.cond(x.L)
		if err != nil {
			return "", err
		}
		r, err := t.cond(x.R)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + x.Op + " " + r + ")", nil
	case *Not:
		c, err := t.cond(x.X)
		if err != nil {
			return "", err
		}
		return "(NOT " + c + ")", nil
	case *Compare:
		l, err := t.expr(x.L)
		if err != nil {
			return "", err
		}
		r, err := t.expr(x.R)
		if err != nil {
			return "", err
		}
		return t.compare(x.Op, l, r)
	case *Between:
		v, err := t.expr(x.X)
		if err != nil {
			return "", err
		}
		lo, err := t.expr(x.Lo)
		if err != nil {
			return "", err
		}
		hi, err := t.expr(x.Hi)
		if err != nil {
			return "", err
		}
		a, err := t.compare(">=", v, lo)
		if err != nil {
			return "", err
		}
		b, err := t.compare("<=", v, hi)
		if err != nil {
			return "", err
		}
		s := "(" + a + " AND " + b + ")"
		if x.Not {
			s = "(NOT " + s + ")"
		}
		return s, nil
	case *In:
		v, err := t.expr(x.X)
		if err != nil {
			return "", err
		}
		var parts []string
		for _, item := range x.List {
			it, err := t.expr(item)
			if err != nil {
				return "", err
			}
			c, err := t.compare("=", v, it)
			if err != nil {
				return "", err
			}
			parts = append(parts, c)
		}
		s := "(" + strings.Join(parts, " OR ") + ")"
		if x.Not {
			s = "(NOT " + s + ")"
		}
		return s, nil
	case *IsNull:
		v, err := t.expr(x.X)
		if err != nil {
			return "", err
		}
		if x.Not {
			return "(" + v.sql + " IS NOT NULL)", nil
		}
		return "(" + v.sql + " IS NULL)", nil
	case *Like:
		return t.like(x)
	}
	return "", errorf(ErrNonBoolean, e.pos(), "An expression of non-boolean type specified in a context where a condition is expected, near '%s'.", exprWord(e))
}

// compare translates l op r with SQL Server's conversions: the operand of
// lower type precedence converts to the other's type; two strings compare
// case-insensitively (the column's collation, or the database's when no
// column is involved).
func (t *tr) compare(op string, l, r texpr) (string, *Error) {
	switch op {
	case "!=":
		op = "<>"
	case "!<":
		op = ">="
	case "!>":
		op = "<="
	}
	if l.null || r.null {
		if !t.env.AnsiNulls && (op == "=" || op == "<>") {
			other := l
			if l.null {
				other = r
			}
			if other.null {
				if op == "=" {
					return "true", nil
				}
				return "false", nil
			}
			if op == "=" {
				return "(" + other.sql + " IS NULL)", nil
			}
			return "(" + other.sql + " IS NOT NULL)", nil
		}
		return "(NULL::boolean)", nil
	}
	lt, rt := l.typ, r.typ
	var err *Error
	switch {
	case lt.IsString() && rt.IsString():
		if !l.collated && !r.collated {
			l.sql = "(" + l.sql + " COLLATE " + t.env.Collation + ")"
		}
	case lt.IsNumber() && rt.IsNumber():
		// Postgres promotes between its numeric types as SQL Server does;
		// only bit (boolean) needs converting.
		if lt.Kind == TBit && rt.Kind != TBit {
			l, err = t.conv(l, rt, false, 0)
		} else if rt.Kind == TBit && lt.Kind != TBit {
			r, err = t.conv(r, lt, false, 0)
		}
	case lt.IsDateTime() && rt.IsDateTime() && lt.Kind != TTime && rt.Kind != TTime:
		// Postgres compares date, timestamp and timestamptz (in the UTC
		// session) as SQL Server does.
	default:
		target := higher(lt, rt)
		if target.Kind == lt.Kind {
			r, err = t.conv(r, lt, false, 0)
		} else {
			l, err = t.conv(l, rt, false, 0)
		}
	}
	if err != nil {
		return "", err
	}
	s := "(" + l.sql + " " + op + " " + r.sql + ")"
	if !t.env.AnsiNulls && (op == "=" || op == "<>") && (l.konst || r.konst) {
		// ANSI_NULLS OFF: a NULL variable equals a NULL column.
		both := "(" + l.sql + " IS NULL AND " + r.sql + " IS NULL)"
		if op == "=" {
			return "(" + s + " OR " + both + ")", nil
		}
		return "((" + s + " OR (" + l.sql + " IS NULL) <> (" + r.sql + " IS NULL)) AND NOT " + both + ")", nil
	}
	return s, nil
}

// like translates LIKE to a case-insensitive regular expression match: the
// pattern (a literal or parameter) is turned into a regular expression at
// bind time.
func (t *tr) like(x *Like) (string, *Error) {
	v, err := t.expr(x.X)
	if err != nil {
		return "", err
	}
	p, err := t.expr(x.Pattern)
	if err != nil {
		return "", err
	}
	if v.null || p.null {
		return "(NULL::boolean)", nil
	}
	if !v.typ.IsString() {
		if v, err = t.conv(v, Type{Kind: TVarChar, Len: MaxLen}, false, 0); err != nil {
			return "", err
		}
	}
	if p.arg == nil {
		return "", unsupported(x.Line, "LIKE with a pattern that is not a constant or parameter")
	}
	src := p.arg
	var escArg Arg
	if x.Escape != nil {
		esc, err := t.expr(x.Escape)
		if err != nil {
			return "", err
		}
		if esc.arg == nil {
			return "", unsupported(x.Line, "ESCAPE that is not a constant or parameter")
		}
		escArg = esc.arg
	}
	line := x.Line
	a := Arg(func(params map[string]Value) (Value, error) {
		pv, err := src(params)
		if err != nil {
			return Value{}, err
		}
		if pv.Null {
			return NullOf(Type{Kind: TNVarChar, Len: MaxLen}), nil
		}
		ps, cerr := Convert(pv, Type{Kind: TNVarChar, Len: MaxLen}, false, 0, false)
		if cerr != nil {
			return Value{}, cerr
		}
		var esc rune
		hasEsc := false
		if escArg != nil {
			ev, err := escArg(params)
			if err != nil {
				return Value{}, err
			}
			if ev.Null {
				return NullOf(Type{Kind: TNVarChar, Len: MaxLen}), nil
			}
			es, cerr := Convert(ev, Type{Kind: TNVarChar, Len: MaxLen}, false, 0, false)
			if cerr != nil {
				return Value{}, cerr
			}
			rs := []rune(es.S)
			if len(rs) != 1 {
				return Value{}, errorf(506, line, "The invalid escape character \"%s\" was specified in a LIKE predicate.", es.S)
			}
			esc, hasEsc = rs[0], true
		}
		re, lerr := likeRegex(ps.S, esc, hasEsc)
		if lerr != nil {
			return Value{}, lerr
		}
		return StrValue(re, true), nil
	})
	ph := t.place(a, Type{Kind: TNVarChar, Len: MaxLen})
	s := "((" + v.sql + ") COLLATE " + t.env.MatchCollation + " ~* " + ph + ")"
	if x.Not {
		s = "(NOT " + s + ")"
	}
	return s, nil
}

// ---- CAST, CASE, functions ----

func (t *tr) castExpr(x *Cast) (texpr, *Error) {
	to, err := x.Type.Resolve(true)
	if err != nil {
		return texpr{}, err
	}
	v, err := t.expr(x.X)
	if err != nil {
		return texpr{}, err
	}
	style := 0
	if x.Style != nil {
		lit, ok := x.Style.(*Literal)
		if !ok || lit.Kind != Int {
			return texpr{}, unsupported(x.Line, "CONVERT style that is not a number")
		}
		style, _ = strconv.Atoi(lit.Text)
		if v.typ.IsDateTime() && to.IsString() && !dateStyles[style] {
			return texpr{}, errorf(281, x.Line, "%d is not a valid style number when converting from %s to a character string.", style, v.typ.BaseName())
		}
	}
	out, err := t.conv(v, to, true, style)
	if err != nil {
		return texpr{}, err
	}
	out.column = ""
	out.collated = false
	return out, nil
}

func (t *tr) caseExpr(x *Case) (texpr, *Error) {
	var operand texpr
	var err *Error
	if x.Operand != nil {
		if operand, err = t.expr(x.Operand); err != nil {
			return texpr{}, err
		}
	}
	var conds []string
	var results []texpr
	for _, w := range x.Whens {
		var c string
		if x.Operand != nil {
			v, err := t.expr(w.Cond)
			if err != nil {
				return texpr{}, err
			}
			if c, err = t.compare("=", operand, v); err != nil {
				return texpr{}, err
			}
		} else if c, err = t.cond(w.Cond); err != nil {
			return texpr{}, err
		}
		r, err := t.expr(w.Result)
		if err != nil {
			return texpr{}, err
		}
		conds = append(conds, c)
		results = append(results, r)
	}
	if x.Else != nil {
		r, err := t.expr(x.Else)
		if err != nil {
			return texpr{}, err
		}
		results = append(results, r)
	}
	typ, err := t.common(results, x.Line)
	if err != nil {
		return texpr{}, err
	}
	out := texpr{typ: typ, nullable: x.Else == nil, konst: operand.konst || x.Operand == nil}
	var b strings.Builder
	b.WriteString("(CASE")
	for i, r := range results {
		c, err := t.conv(r, typ, false, 0)
		if err != nil {
			return texpr{}, err
		}
		if c.nullable {
			out.nullable = true
		}
		if !c.konst {
			out.konst = false
		}
		out.agg = out.agg || c.agg
		if i < len(conds) {
			b.WriteString(" WHEN " + conds[i] + " THEN " + c.sql)
		} else {
			b.WriteString(" ELSE " + c.sql)
		}
	}
	b.WriteString(" END)")
	out.sql = b.String()
	// A CASE over columns is not constant even when its results are.
	if x.Operand == nil || !operand.konst {
		out.konst = false
	}
	return out, nil
}

// common is the result type of several expressions (CASE, COALESCE): the
// highest precedence type; NULL literals take no part.
func (t *tr) common(list []texpr, line int) (Type, *Error) {
	var typ Type
	seen := false
	for _, r := range list {
		if r.null {
			continue
		}
		if !seen {
			typ, seen = r.typ, true
			continue
		}
		if (typ.IsString() != r.typ.IsString()) && (typ.IsDateTime() || r.typ.IsDateTime()) && !(typ.IsString() || r.typ.IsString()) {
			return Type{}, errorf(ErrTypeClash, line, "Operand type clash: %s is incompatible with %s", typ.BaseName(), r.typ.BaseName())
		}
		if typ.Kind == TDecimal && r.typ.IsInteger() {
			typ = higher(typ, decimalOf(r.typ))
			continue
		}
		if r.typ.Kind == TDecimal && typ.IsInteger() {
			typ = higher(decimalOf(typ), r.typ)
			continue
		}
		typ = higher(typ, r.typ)
	}
	if !seen {
		return Type{Kind: TInt}, nil
	}
	return typ, nil
}

func (t *tr) call(f *Func) (texpr, *Error) {
	if aggregates[f.Name] {
		return t.aggregate(f)
	}
	if f.Distinct || f.Star {
		return texpr{}, errorf(ErrSyntax, f.Line, "Incorrect syntax near '%s'.", map[bool]string{true: "*", false: "DISTINCT"}[f.Star])
	}
	if !implemented[f.Name] && (t.env.Builtin == nil || !sessionFuncs[f.Name]) {
		// Not one of ours: say so before looking at the arguments.
		if knownBuiltins[f.Name] || sessionFuncs[f.Name] {
			return texpr{}, unsupported(f.Line, f.Name)
		}
		return texpr{}, errorf(ErrUnknownFunc, f.Line, "'%s' is not a recognized built-in function name.", strings.ToLower(f.Name))
	}
	nargs := func(n int) *Error {
		if len(f.Args) != n {
			return errorf(ErrArgCount, f.Line, "The %s function requires %d argument(s).", strings.ToLower(f.Name), n)
		}
		return nil
	}
	var args []texpr
	for _, a := range f.Args {
		te, err := t.expr(a)
		if err != nil {
			return texpr{}, err
		}
		args = append(args, te)
	}
	konst, agg := true, false
	for _, a := range args {
		konst = konst && a.konst
		agg = agg || a.agg
	}
	str := func(te texpr) (texpr, *Error) {
		if te.null || te.typ.IsString() {
			return te, nil
		}
		return t.conv(te, Type{Kind: TVarChar, Len: 30}, false, 0)
	}
	switch f.Name {
	case "ISNULL":
		if err := nargs(2); err != nil {
			return texpr{}, err
		}
		a, b := args[0], args[1]
		typ := a.typ
		if a.null {
			typ = b.typ
			if b.null {
				typ = Type{Kind: TInt}
			}
		}
		ac, err := t.conv(a, typ, false, 0)
		if err != nil {
			return texpr{}, err
		}
		// ISNULL truncates the replacement to the first argument's type.
		bc, err := t.conv(b, typ, !b.typ.IsString() || typ.Len != b.typ.Len, 0)
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: "COALESCE(" + ac.sql + ", " + bc.sql + ")", typ: typ, nullable: a.nullable && b.nullable, konst: konst, agg: agg, collated: a.collated}, nil
	case "COALESCE":
		if len(args) < 2 {
			return texpr{}, errorf(ErrArgCount, f.Line, "The coalesce function requires 2 argument(s).")
		}
		typ, err := t.common(args, f.Line)
		if err != nil {
			return texpr{}, err
		}
		out := texpr{typ: typ, nullable: true, konst: konst, agg: agg}
		var parts []string
		for _, a := range args {
			c, err := t.conv(a, typ, false, 0)
			if err != nil {
				return texpr{}, err
			}
			if !c.nullable {
				out.nullable = false
			}
			out.collated = out.collated || a.collated
			parts = append(parts, c.sql)
		}
		out.sql = "COALESCE(" + strings.Join(parts, ", ") + ")"
		return out, nil
	case "NULLIF":
		if err := nargs(2); err != nil {
			return texpr{}, err
		}
		if args[0].null {
			return texpr{}, errorf(4127, f.Line, "At least one of the arguments to COALESCE must be an expression that is not the NULL constant.")
		}
		c, err := t.compare("=", args[0], args[1])
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: "(CASE WHEN " + c + " THEN NULL ELSE " + args[0].sql + " END)", typ: args[0].typ, nullable: true, konst: konst, agg: agg, collated: args[0].collated}, nil
	case "UPPER", "LOWER", "LTRIM", "RTRIM":
		if err := nargs(1); err != nil {
			return texpr{}, err
		}
		a, err := str(args[0])
		if err != nil {
			return texpr{}, err
		}
		fn := strings.ToLower(f.Name)
		return texpr{sql: fn + "(" + a.sql + ")", typ: a.typ, nullable: a.nullable, konst: konst, agg: agg, collated: a.collated, null: a.null}, nil
	case "LEN":
		if err := nargs(1); err != nil {
			return texpr{}, err
		}
		a, err := str(args[0])
		if err != nil {
			return texpr{}, err
		}
		return texpr{sql: "char_length(rtrim(" + a.sql + ", ' '))::int4", typ: Type{Kind: TInt}, nullable: a.nullable, konst: konst, agg: agg}, nil
	case "ABS":
		if err := nargs(1); err != nil {
			return texpr{}, err
		}
		a := args[0]
		if a.null {
			return a, nil
		}
		if !a.typ.IsNumber() || a.typ.Kind == TBit {
			return texpr{}, errorf(ErrArgumentInvalid, f.Line, "Argument data type %s is invalid for argument 1 of abs function.", a.typ.BaseName())
		}
		return texpr{sql: "abs(" + a.sql + ")", typ: a.typ, nullable: a.nullable, konst: konst, agg: agg}, nil
	case "ROUND":
		if len(args) != 2 && len(args) != 3 {
			return texpr{}, errorf(ErrArgCount, f.Line, "The round function requires 2 to 3 arguments.")
		}
		a := args[0]
		if a.null {
			return a, nil
		}
		if !a.typ.IsNumber() || a.typ.Kind == TBit {
			return texpr{}, errorf(ErrArgumentInvalid, f.Line, "Argument data type %s is invalid for argument 1 of round function.", a.typ.BaseName())
		}
		n, err := t.conv(args[1], Type{Kind: TInt}, false, 0)
		if err != nil {
			return texpr{}, err
		}
		fn := "round"
		if len(args) == 3 {
			lit, ok := f.Args[2].(*Literal)
			if !ok || lit.Kind != Int {
				return texpr{}, unsupported(f.Line, "ROUND function argument that is not a number")
			}
			if lit.Text != "0" {
				fn = "trunc"
			}
		}
		return texpr{sql: "(" + fn + "((" + a.sql + ")::numeric, " + n.sql + "))::" + pgType(a.typ), typ: a.typ, nullable: a.nullable || n.nullable, konst: konst, agg: agg}, nil
	case "GETDATE", "GETUTCDATE", "SYSDATETIME", "SYSUTCDATETIME":
		if err := nargs(0); err != nil {
			return texpr{}, err
		}
		now := t.env.Now
		if now.IsZero() {
			now = time.Now()
		}
		if strings.Contains(f.Name, "UTC") {
			now = now.UTC()
		}
		now = time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
		typ := Type{Kind: TDateTime}
		if strings.HasPrefix(f.Name, "SYS") {
			typ = Type{Kind: TDateTime2, Scale: 7}
		}
		return t.constValue(Value{Type: typ, T: RoundDateTime(now, typ)}, "fn:"+f.Name), nil
	}
	// Session functions: DB_NAME(), SERVERPROPERTY('…'), SCHEMA_NAME(), …
	if t.env.Builtin != nil {
		arg := ""
		ok := len(f.Args) == 0
		if len(f.Args) == 1 {
			if lit, isLit := f.Args[0].(*Literal); isLit && (lit.Kind == String || lit.Kind == NString) {
				arg, ok = lit.Text, true
			}
		}
		if ok {
			if v, found := t.env.Builtin(f.Name, arg); found {
				return t.constValue(v, "fn:"+f.Name+"("+arg+")"), nil
			}
		}
	}
	if knownBuiltins[f.Name] || sessionFuncs[f.Name] {
		return texpr{}, unsupported(f.Line, f.Name)
	}
	return texpr{}, errorf(ErrUnknownFunc, f.Line, "'%s' is not a recognized built-in function name.", strings.ToLower(f.Name))
}

func (t *tr) aggregate(f *Func) (texpr, *Error) {
	switch {
	case t.clause == "WHERE" || t.clause == "ON":
		return texpr{}, errorf(ErrAggregateInWhere, f.Line, "An aggregate may not appear in the %s clause unless it is in a subquery contained in a HAVING clause or a select list, and the column being aggregated is an outer reference.", t.clause)
	case t.clause == "GROUP BY":
		return texpr{}, errorf(ErrGroupAggregate, f.Line, "Cannot use an aggregate or a subquery in an expression used for the group by list of a GROUP BY clause.")
	case t.inAgg:
		return texpr{}, errorf(ErrNestedAggregate, f.Line, "Cannot perform an aggregate function on an expression containing an aggregate or a subquery.")
	}
	t.anyAggr = true
	name := strings.ToLower(f.Name)
	if f.Star {
		switch f.Name {
		case "COUNT":
			return texpr{sql: "count(*)::int4", typ: Type{Kind: TInt}, agg: true}, nil
		case "COUNT_BIG":
			return texpr{sql: "count(*)", typ: Type{Kind: TBigInt}, agg: true}, nil
		}
		return texpr{}, errorf(ErrSyntax, f.Line, "Incorrect syntax near '*'.")
	}
	if len(f.Args) != 1 {
		return texpr{}, errorf(ErrArgCount, f.Line, "The %s function requires 1 argument(s).", name)
	}
	t.inAgg = true
	a, err := t.expr(f.Args[0])
	t.inAgg = false
	if err != nil {
		return texpr{}, err
	}
	distinct := ""
	if f.Distinct {
		distinct = "DISTINCT "
	}
	in := distinct + a.sql
	invalid := func() (texpr, *Error) {
		return texpr{}, errorf(ErrOperandInvalid, f.Line, "Operand data type %s is invalid for %s operator.", a.typ.BaseName(), name)
	}
	switch f.Name {
	case "COUNT":
		return texpr{sql: "count(" + in + ")::int4", typ: Type{Kind: TInt}, agg: true}, nil
	case "COUNT_BIG":
		return texpr{sql: "count(" + in + ")", typ: Type{Kind: TBigInt}, agg: true}, nil
	case "MIN", "MAX":
		if a.typ.Kind == TBit || a.typ.IsBinary() || a.typ.Kind == TGUID {
			return invalid()
		}
		typ := a.typ
		if a.null {
			typ = Type{Kind: TInt}
		}
		return texpr{sql: name + "(" + in + ")", typ: typ, nullable: true, agg: true, collated: a.collated}, nil
	case "SUM", "AVG":
		if !a.typ.IsNumber() || a.typ.Kind == TBit {
			if a.null {
				return texpr{}, errorf(8117, f.Line, "Operand data type NULL is invalid for %s operator.", name)
			}
			return invalid()
		}
		var typ Type
		switch a.typ.Kind {
		case TTinyInt, TSmallInt, TInt:
			typ = Type{Kind: TInt}
		case TBigInt:
			typ = Type{Kind: TBigInt}
		case TDecimal:
			typ = Type{Kind: TDecimal, Precision: 38, Scale: a.typ.Scale, Numeric: a.typ.Numeric}
			if f.Name == "AVG" {
				typ.Scale = max(6, a.typ.Scale)
			}
		case TMoney, TSmallMoney:
			typ = Type{Kind: TMoney}
		default:
			typ = Type{Kind: TFloat}
		}
		sql := name + "(" + in + ")"
		if f.Name == "AVG" && typ.IsInteger() {
			// The average of integers is an integer, truncated.
			sql = "trunc(" + sql + ")"
		}
		return texpr{sql: "(" + sql + ")::" + pgType(typ), typ: typ, nullable: true, agg: true}, nil
	}
	return texpr{}, errorf(ErrUnknownFunc, f.Line, "'%s' is not a recognized built-in function name.", name)
}
