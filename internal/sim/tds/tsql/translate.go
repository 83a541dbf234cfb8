package tsql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Column is a column of a served table, as the catalog describes it.
type Column struct {
	Name     string // spelled as in the catalog ("ItemCode")
	Type     Type   // the SQL Server type it is served as
	Nullable bool
	// Cast is a Postgres type the column is read as, when its own type has
	// no SQL Server equivalent ("text" for a type served as nvarchar(max)).
	Cast string
}

// Table is a served table.
type Table struct {
	Name    string // spelled as in the catalog ("OITM")
	Columns []Column
}

// Catalog finds served tables.
type Catalog interface {
	// Table looks a table up by name, case-insensitively. ok is false for
	// a table that does not exist or is not served.
	Table(name string) (t *Table, ok bool)
}

// Env is what a translation needs besides the statement.
type Env struct {
	Catalog Catalog
	// Schema is the Postgres schema the tables live in.
	Schema string
	// Collation is the qualified name of the case-insensitive collation
	// (`"sbo_x"."ci"`) applied when two strings are compared and no column
	// lends its collation, so @a = @b is case-insensitive as in SQL Server.
	Collation string
	// MatchCollation is a deterministic collation for LIKE: Postgres cannot
	// match patterns under a nondeterministic one. Default "und-x-icu".
	MatchCollation string
	// Database is the current database: the only one a three-part name
	// may name.
	Database string
	// Params are the declared parameters (sp_executesql's @params).
	Params []ParamDecl
	// SysVar answers @@VERSION, @@SPID and the like ("@@SPID"); ok false
	// for a variable the server does not have.
	SysVar func(name string) (Value, bool)
	// Builtin answers the session functions without arguments or with a
	// string argument: DB_NAME(), SERVERPROPERTY('ProductVersion'), …
	// (name in upper case); ok false for an unknown one.
	Builtin func(name string, arg string) (Value, bool)
	// Now is GETDATE(): the server's local time.
	Now time.Time
	// AnsiNulls is SET ANSI_NULLS (on by default): when off, = NULL and
	// <> NULL test for NULL.
	AnsiNulls bool
	// YDM is set under DATEFORMAT dmy or ydm: 'YYYY-MM-DD' then reads as
	// year-day-month for datetime.
	YDM bool
}

// Query is a translated SELECT.
type Query struct {
	// SQL is Postgres SQL with $1… bind parameters, all of type text.
	SQL string
	// Args produce the bind values, in order.
	Args []Arg
	// Columns describe the result set.
	Columns []ResultColumn
	// ReadsTables is false for a SELECT without FROM.
	ReadsTables bool
}

// ResultColumn is one column of a result set.
type ResultColumn struct {
	Name     string
	Type     Type
	Nullable bool
}

// Arg computes one bind value from the parameter values (keyed by lower
// case name with its @).
type Arg func(params map[string]Value) (Value, error)

// Bind evaluates the arguments: text for Postgres, nil for NULL.
func (q *Query) Bind(params map[string]Value) ([]any, error) {
	out := make([]any, len(q.Args))
	for i, a := range q.Args {
		v, err := a(params)
		if err != nil {
			return nil, err
		}
		if s, ok := v.PGText(); ok {
			out[i] = s
		}
	}
	return out, nil
}

// TableNames are the table names a SELECT reads (the last part of each
// name), so a caller can load them from the catalog first.
func TableNames(s *Select) []string {
	var names []string
	for _, f := range s.From {
		names = append(names, f.Parts[len(f.Parts)-1])
	}
	return names
}

// Translate turns a SELECT into Postgres SQL over env.Schema.
func Translate(s *Select, env *Env) (*Query, error) {
	if env.MatchCollation == "" {
		env.MatchCollation = `"und-x-icu"`
	}
	t := &tr{env: env, lits: map[string]string{}, memo: map[Expr]texpr{}}
	q, err := t.selectStmt(s)
	if err != nil {
		if err.Line == 0 {
			err.Line = int32(s.StartLine)
		}
		return nil, err
	}
	return q, nil
}

// tr is the state of one translation.
type tr struct {
	env    *Env
	args   []Arg
	lits   map[string]string // literal key → placeholder, so one literal is one bind
	tables []*scope
	// visible is how many tables of tables an expression may reference
	// (ON sees the tables joined so far).
	visible int
	// clause names where an expression is, for aggregate errors: "WHERE",
	// "ON", "GROUP BY" (aggregates not allowed) or "" (allowed).
	clause  string
	inAgg   bool
	memo    map[Expr]texpr
	anyAggr bool
}

// scope is a table in FROM.
type scope struct {
	table    *Table
	exposed  string   // alias, or the table name
	written  []string // the name as written
	alias    bool
	sqlName  string // "t0", "t1", …
	nullable bool   // on the outer side of a join
}

// texpr is a translated value expression.
type texpr struct {
	sql      string
	typ      Type
	nullable bool
	// collated: a string whose collation comes from a column.
	collated bool
	// column is "T0.ItemCode" for a plain column reference (for messages).
	column string
	// konst: no column references (literals, parameters, variables).
	konst bool
	// arg: the value of a single literal, parameter or variable, so
	// conversions of it run in Go with SQL Server's rules.
	arg Arg
	// null: the NULL literal.
	null bool
	agg  bool
}

// ---- binds ----

// place adds a bind parameter of SQL Server type typ and returns its SQL.
// The placeholder is a marker (NUL, index, NUL: no identifier holds a NUL)
// that finish numbers: a bind made for a value that a conversion then
// replaced must not reach Postgres, which cannot type an unused $n.
func (t *tr) place(a Arg, typ Type) string {
	t.args = append(t.args, a)
	return t.cast(fmt.Sprintf("\x00%d\x00::text", len(t.args)-1), typ)
}

// finish numbers the placeholders used in sql in order of appearance and
// keeps only their arguments.
func (t *tr) finish(sql string) (string, []Arg) {
	var b strings.Builder
	var args []Arg
	number := map[int]int{}
	for {
		i := strings.IndexByte(sql, 0)
		if i < 0 {
			b.WriteString(sql)
			break
		}
		j := strings.IndexByte(sql[i+1:], 0)
		idx, _ := strconv.Atoi(sql[i+1 : i+1+j])
		n, ok := number[idx]
		if !ok {
			args = append(args, t.args[idx])
			n = len(args)
			number[idx] = n
		}
		b.WriteString(sql[:i])
		b.WriteString("$" + strconv.Itoa(n))
		sql = sql[i+1+j+1:]
	}
	return b.String(), args
}

// cast wraps sql (of type text) in a cast to typ's Postgres type.
func (t *tr) cast(sql string, typ Type) string {
	pg := pgType(typ)
	if pg == "text" {
		return sql
	}
	return "(" + sql + ")::" + pg
}

func constArg(v Value) Arg { return func(map[string]Value) (Value, error) { return v, nil } }

// pgType is the Postgres type values of a SQL Server type are held in.
func pgType(t Type) string {
	switch t.Kind {
	case TBit:
		return "boolean"
	case TTinyInt, TSmallInt:
		return "int2"
	case TInt:
		return "int4"
	case TBigInt:
		return "int8"
	case TDecimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case TMoney:
		return "numeric(19,4)"
	case TSmallMoney:
		return "numeric(10,4)"
	case TReal:
		return "float4"
	case TFloat:
		return "float8"
	case TDate:
		return "date"
	case TDateTime:
		return "timestamp(3)"
	case TSmallDateTime:
		return "timestamp(0)"
	case TDateTime2:
		return fmt.Sprintf("timestamp(%d)", min(t.Scale, 6))
	case TDateTimeOffset:
		return fmt.Sprintf("timestamptz(%d)", min(t.Scale, 6))
	case TTime:
		return fmt.Sprintf("time(%d)", min(t.Scale, 6))
	case TGUID:
		return "uuid"
	case TBinary, TVarBinary:
		return "bytea"
	}
	return "text"
}

// PGType is pgType for the executor.
func PGType(t Type) string { return pgType(t) }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ---- SELECT ----

func (t *tr) selectStmt(s *Select) (*Query, *Error) {
	if err := t.fromTables(s); err != nil {
		return nil, err
	}
	var from strings.Builder
	for i, f := range s.From {
		sc := t.tables[i]
		name := quoteIdent(t.env.Schema) + "." + quoteIdent(sc.table.Name) + " AS " + quoteIdent(sc.sqlName)
		if i == 0 {
			from.WriteString(name)
			continue
		}
		switch f.Join {
		case "CROSS":
			from.WriteString(" CROSS JOIN " + name)
			continue
		case "INNER":
			from.WriteString(" JOIN " + name)
		default:
			from.WriteString(" " + f.Join + " JOIN " + name)
		}
		t.visible, t.clause = i+1, "ON"
		on, err := t.cond(f.On)
		if err != nil {
			return nil, err
		}
		from.WriteString(" ON " + on)
	}
	t.visible = len(t.tables)

	// The select list.
	type item struct {
		te    texpr
		name  string
		alias bool
		expr  Expr // nil for a star column
	}
	var items []item
	t.clause = ""
	for _, it := range s.Items {
		if it.Star {
			cols, err := t.star(it)
			if err != nil {
				return nil, err
			}
			for _, c := range cols {
				items = append(items, item{te: c, name: c.column[strings.LastIndexByte(c.column, '.')+1:]})
			}
			continue
		}
		te, err := t.expr(it.Expr)
		if err != nil {
			return nil, err
		}
		name := ""
		if it.HasAlias {
			name = it.Alias
		} else if te.column != "" {
			name = te.column[strings.LastIndexByte(te.column, '.')+1:]
		}
		items = append(items, item{te: te, name: name, alias: it.HasAlias, expr: it.Expr})
	}

	var where string
	if s.Where != nil {
		t.clause = "WHERE"
		w, err := t.cond(s.Where)
		if err != nil {
			return nil, err
		}
		where = w
	}

	groupKeys := map[string]bool{}
	var groupSQL []string
	for _, g := range s.GroupBy {
		t.clause = "GROUP BY"
		te, err := t.expr(g)
		if err != nil {
			return nil, err
		}
		if te.konst {
			return nil, errorf(164, g.pos(), "Each GROUP BY expression must contain at least one column that is not an outer reference.")
		}
		groupKeys[te.sql] = true
		groupSQL = append(groupSQL, te.sql)
	}

	var having string
	if s.Having != nil {
		t.clause = ""
		h, err := t.cond(s.Having)
		if err != nil {
			return nil, err
		}
		having = h
	}

	// ORDER BY: an ordinal, a select-list alias, or an expression.
	type order struct {
		sql     string
		ordinal int // 1-based select item, or 0
		desc    bool
		expr    Expr
	}
	var orders []order
	t.clause = ""
	for pos, o := range s.OrderBy {
		ord := order{desc: o.Desc, expr: o.Expr}
		switch e := o.Expr.(type) {
		case *Literal:
			if e.Kind == Int {
				n, err := strconv.Atoi(e.Text)
				if err != nil || n < 1 || n > len(items) {
					return nil, errorf(ErrOrderByRange, e.Line, "The ORDER BY position number %s is out of range of the number of items in the select list.", e.Text)
				}
				ord.ordinal = n
				orders = append(orders, ord)
				continue
			}
			return nil, errorf(ErrOrderByConstant, e.Line, "A constant expression was encountered in the ORDER BY list, position %d.", pos+1)
		case *ColumnRef:
			if len(e.Parts) == 1 {
				match := 0
				for i, it := range items {
					if it.alias && strings.EqualFold(it.name, e.Parts[0]) {
						if match != 0 && items[match-1].te.sql != it.te.sql {
							return nil, errorf(ErrAmbiguousColumn, e.Line, "Ambiguous column name '%s'.", e.Parts[0])
						}
						if match == 0 {
							match = i + 1
						}
					}
				}
				if match != 0 {
					ord.ordinal = match
					orders = append(orders, ord)
					continue
				}
			}
		}
		te, err := t.expr(o.Expr)
		if err != nil {
			return nil, err
		}
		if te.konst {
			return nil, errorf(ErrOrderByConstant, o.Expr.pos(), "A constant expression was encountered in the ORDER BY list, position %d.", pos+1)
		}
		for i, it := range items {
			if it.te.sql == te.sql {
				ord.ordinal = i + 1
				break
			}
		}
		if ord.ordinal == 0 && s.Distinct {
			return nil, errorf(ErrDistinctOrderBy, o.Expr.pos(), "ORDER BY items must appear in the select list if SELECT DISTINCT is specified.")
		}
		ord.sql = te.sql
		orders = append(orders, ord)
	}

	// Grouping: with GROUP BY or an aggregate anywhere, every column
	// outside an aggregate must be grouped.
	if len(s.GroupBy) > 0 || t.anyAggr {
		for _, it := range items {
			if it.expr == nil {
				if !groupKeys[it.te.sql] {
					return nil, errorf(ErrNotInGroupBy, s.StartLine, "Column '%s' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.", it.te.column)
				}
				continue
			}
			if col := t.ungrouped(it.expr, groupKeys); col != "" {
				return nil, errorf(ErrNotInGroupBy, it.expr.pos(), "Column '%s' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.", col)
			}
		}
		if s.Having != nil {
			if col := t.ungrouped(s.Having, groupKeys); col != "" {
				return nil, errorf(8121, s.Having.pos(), "Column '%s' is invalid in the HAVING clause because it is not contained in either an aggregate function or the GROUP BY clause.", col)
			}
		}
		for _, o := range orders {
			if o.ordinal != 0 {
				continue
			}
			if col := t.ungrouped(o.expr, groupKeys); col != "" {
				return nil, errorf(ErrOrderNotInGroup, o.expr.pos(), "Column \"%s\" is invalid in the ORDER BY clause because it is not contained in either an aggregate function or the GROUP BY clause.", col)
			}
		}
	}

	var limit, offset string
	if s.Top != nil {
		l, err := t.rowCount(s.Top, "TOP")
		if err != nil {
			return nil, err
		}
		limit = l
	}
	if s.Offset != nil {
		o, err := t.rowCount(s.Offset, "OFFSET")
		if err != nil {
			return nil, err
		}
		offset = o
		if s.Fetch != nil {
			l, err := t.rowCount(s.Fetch, "FETCH")
			if err != nil {
				return nil, err
			}
			limit = l
		}
	}

	// Assemble.
	var b strings.Builder
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	q := &Query{ReadsTables: len(s.From) > 0}
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(outputSQL(it.te))
		b.WriteString(" AS " + quoteIdent("c"+strconv.Itoa(i+1)))
		typ := it.te.typ
		if it.te.null {
			typ = Type{Kind: TInt}
		}
		q.Columns = append(q.Columns, ResultColumn{Name: it.name, Type: typ, Nullable: it.te.nullable})
	}
	if len(s.From) > 0 {
		b.WriteString(" FROM " + from.String())
	}
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	if len(groupSQL) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(groupSQL, ", "))
	}
	if having != "" {
		b.WriteString(" HAVING " + having)
	}
	if len(orders) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range orders {
			if i > 0 {
				b.WriteString(", ")
			}
			if o.ordinal != 0 {
				b.WriteString(strconv.Itoa(o.ordinal))
			} else {
				b.WriteString(o.sql)
			}
			// SQL Server sorts NULLs first ascending and last descending.
			if o.desc {
				b.WriteString(" DESC NULLS LAST")
			} else {
				b.WriteString(" ASC NULLS FIRST")
			}
		}
	}
	if limit != "" {
		b.WriteString(" LIMIT " + limit)
	}
	if offset != "" {
		b.WriteString(" OFFSET " + offset)
	}
	q.SQL, q.Args = t.finish(b.String())
	return q, nil
}

// outputSQL is a select item as the executor scans it: computed values
// are cast to their type's Postgres type so the scan knows what comes;
// columns and strings are left alone (a cast would drop a column's
// collation, which ORDER BY by position uses).
func outputSQL(te texpr) string {
	if te.null {
		return "NULL::int4"
	}
	if te.column != "" || te.typ.IsString() {
		return te.sql
	}
	return "(" + te.sql + ")::" + pgType(te.typ)
}

// rowCount binds TOP, OFFSET or FETCH: a literal or a parameter, converted
// to bigint and checked as SQL Server does.
func (t *tr) rowCount(e Expr, what string) (string, *Error) {
	var src Arg
	line := e.pos()
	switch x := e.(type) {
	case *Literal:
		if x.Kind != Int {
			if what == "TOP" {
				return "", errorf(1060, line, "The number of rows in the TOP clause must be an integer.")
			}
			return "", errorf(10743, line, "The number of rows provided for a %s clause must be an integer.", what)
		}
		v, err := literalValue(x)
		if err != nil {
			return "", err
		}
		src = constArg(v)
	case *Param:
		d, ok := t.param(x.Name)
		if !ok {
			return "", errorf(ErrMustDeclare, line, "Must declare the scalar variable \"%s\".", x.Name)
		}
		if !d.Type.IsInteger() && d.Type.Kind != TBit && !(what == "TOP" && (d.Type.IsNumber() || d.Type.IsString())) {
			return "", errorf(1060, line, "The number of rows in the TOP clause must be an integer.")
		}
		key := strings.ToLower(x.Name)
		src = func(p map[string]Value) (Value, error) { return p[key], nil }
	default:
		return "", unsupported(line, what+" expression")
	}
	a := func(p map[string]Value) (Value, error) {
		v, err := src(p)
		if err != nil {
			return Value{}, err
		}
		if v.Null {
			return Value{}, errorf(1060, line, "The number of rows in the TOP clause must be an integer.")
		}
		n, cerr := Convert(v, Type{Kind: TBigInt}, false, 0, false)
		if cerr != nil {
			cerr.Line = int32(line)
			return Value{}, cerr
		}
		switch {
		case what == "TOP" && n.I < 0:
			return Value{}, errorf(ErrTopNegative, line, "A TOP N or FETCH rows count value may not be negative.")
		case what == "OFFSET" && n.I < 0:
			return Value{}, errorf(ErrOffsetNegative, line, "The offset specified in a OFFSET clause may not be negative.")
		case what == "FETCH" && n.I <= 0:
			return Value{}, errorf(ErrFetchZero, line, "The number of rows provided for a FETCH clause must be greater then zero.")
		}
		return n, nil
	}
	return t.place(a, Type{Kind: TBigInt}), nil
}

// fromTables resolves the FROM clause's tables.
func (t *tr) fromTables(s *Select) *Error {
	for i, f := range s.From {
		name := f.Parts[len(f.Parts)-1]
		written := strings.Join(f.Parts, ".")
		switch len(f.Parts) {
		case 4:
			return errorf(7202, f.Line, "Could not find server '%s' in sys.servers. Verify that the correct server name was specified. If necessary, execute the stored procedure sp_addlinkedserver to add the server to sys.servers.", f.Parts[0])
		case 3:
			if !strings.EqualFold(f.Parts[0], t.env.Database) {
				return errorf(ErrInvalidObject, f.Line, "Invalid object name '%s'.", written)
			}
			fallthrough
		case 2:
			schema := f.Parts[len(f.Parts)-2]
			if schema != "" && !strings.EqualFold(schema, "dbo") {
				return errorf(ErrInvalidObject, f.Line, "Invalid object name '%s'.", written)
			}
		}
		tab, ok := t.env.Catalog.Table(name)
		if !ok {
			return errorf(ErrInvalidObject, f.Line, "Invalid object name '%s'.", written)
		}
		sc := &scope{table: tab, exposed: tab.Name, written: f.Parts, sqlName: "t" + strconv.Itoa(i)}
		if f.Alias != "" {
			sc.exposed, sc.alias = f.Alias, true
		}
		for _, prev := range t.tables {
			if strings.EqualFold(prev.exposed, sc.exposed) {
				return errorf(ErrSameExposedNames, f.Line, "The objects \"%s\" and \"%s\" in the FROM clause have the same exposed names. Use correlation names to distinguish them.", prev.exposed, sc.exposed)
			}
		}
		t.tables = append(t.tables, sc)
	}
	// Outer joins make the other side's columns nullable.
	for i, f := range s.From {
		switch f.Join {
		case "LEFT":
			t.tables[i].nullable = true
		case "RIGHT":
			for j := 0; j < i; j++ {
				t.tables[j].nullable = true
			}
		case "FULL":
			for j := 0; j <= i; j++ {
				t.tables[j].nullable = true
			}
		}
	}
	t.visible = len(t.tables)
	return nil
}

func (t *tr) star(it SelectItem) ([]texpr, *Error) {
	if len(t.tables) == 0 {
		return nil, errorf(ErrNoStarTable, it.Line, "Must specify table to select from.")
	}
	var out []texpr
	for _, sc := range t.tables {
		if len(it.Qualifier) > 0 && !t.qualifies(sc, it.Qualifier) {
			continue
		}
		for i := range sc.table.Columns {
			out = append(out, t.columnExpr(sc, &sc.table.Columns[i]))
		}
	}
	if len(out) == 0 {
		return nil, errorf(107, it.Line, "The column prefix '%s' does not match with a table name or alias name used in the query.", strings.Join(it.Qualifier, "."))
	}
	return out, nil
}

// qualifies reports whether a qualifier (alias, table, schema.table or
// db.schema.table) names the table in scope sc.
func (t *tr) qualifies(sc *scope, q []string) bool {
	last := q[len(q)-1]
	if sc.alias {
		return len(q) == 1 && strings.EqualFold(last, sc.exposed)
	}
	if !strings.EqualFold(last, sc.table.Name) {
		return false
	}
	if len(q) >= 2 && q[len(q)-2] != "" && !strings.EqualFold(q[len(q)-2], "dbo") {
		return false
	}
	if len(q) == 3 && !strings.EqualFold(q[0], t.env.Database) {
		return false
	}
	return len(q) <= 3
}

func (t *tr) columnExpr(sc *scope, c *Column) texpr {
	sql := quoteIdent(sc.sqlName) + "." + quoteIdent(c.Name)
	if c.Cast != "" {
		sql = "(" + sql + ")::" + c.Cast
	}
	return texpr{
		sql:      sql,
		typ:      c.Type,
		nullable: c.Nullable || sc.nullable,
		collated: c.Type.IsString() && c.Cast == "",
		column:   sc.exposed + "." + c.Name,
	}
}

func (t *tr) column(e *ColumnRef) (texpr, *Error) {
	name := e.Parts[len(e.Parts)-1]
	written := strings.Join(e.Parts, ".")
	scopes := t.tables[:t.visible]
	if len(e.Parts) == 1 {
		var found texpr
		n := 0
		for _, sc := range scopes {
			for i := range sc.table.Columns {
				if strings.EqualFold(sc.table.Columns[i].Name, name) {
					found = t.columnExpr(sc, &sc.table.Columns[i])
					n++
				}
			}
		}
		switch n {
		case 0:
			return texpr{}, errorf(ErrInvalidColumn, e.Line, "Invalid column name '%s'.", name)
		case 1:
			return found, nil
		}
		return texpr{}, errorf(ErrAmbiguousColumn, e.Line, "Ambiguous column name '%s'.", name)
	}
	q := e.Parts[:len(e.Parts)-1]
	for _, sc := range scopes {
		if !t.qualifies(sc, q) {
			continue
		}
		for i := range sc.table.Columns {
			if strings.EqualFold(sc.table.Columns[i].Name, name) {
				return t.columnExpr(sc, &sc.table.Columns[i]), nil
			}
		}
		return texpr{}, errorf(ErrInvalidColumn, e.Line, "Invalid column name '%s'.", name)
	}
	return texpr{}, errorf(ErrMultiPart, e.Line, "The multi-part identifier \"%s\" could not be bound.", written)
}

func (t *tr) param(name string) (ParamDecl, bool) {
	for _, d := range t.env.Params {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return ParamDecl{}, false
}

// ungrouped returns the first column of e outside an aggregate and outside
// a GROUP BY expression ("" when there is none).
func (t *tr) ungrouped(e Expr, groupKeys map[string]bool) string {
	if te, ok := t.memo[e]; ok && groupKeys[te.sql] {
		return ""
	}
	switch x := e.(type) {
	case *ColumnRef:
		if te, ok := t.memo[e]; ok {
			return te.column
		}
		return strings.Join(x.Parts, ".")
	case *Func:
		if aggregates[x.Name] {
			return ""
		}
	}
	for _, c := range children(e) {
		if col := t.ungrouped(c, groupKeys); col != "" {
			return col
		}
	}
	return ""
}

func children(e Expr) []Expr {
	switch x := e.(type) {
	case *Unary:
		return []Expr{x.X}
	case *Binary:
		return []Expr{x.L, x.R}
	case *Compare:
		return []Expr{x.L, x.R}
	case *Logical:
		return []Expr{x.L, x.R}
	case *Not:
		return []Expr{x.X}
	case *Between:
		return []Expr{x.X, x.Lo, x.Hi}
	case *In:
		return append([]Expr{x.X}, x.List...)
	case *IsNull:
		return []Expr{x.X}
	case *Like:
		out := []Expr{x.X, x.Pattern}
		if x.Escape != nil {
			out = append(out, x.Escape)
		}
		return out
	case *Func:
		return x.Args
	case *Cast:
		out := []Expr{x.X}
		if x.Style != nil {
			out = append(out, x.Style)
		}
		return out
	case *Case:
		var out []Expr
		if x.Operand != nil {
			out = append(out, x.Operand)
		}
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Result)
		}
		if x.Else != nil {
			out = append(out, x.Else)
		}
		return out
	}
	return nil
}
