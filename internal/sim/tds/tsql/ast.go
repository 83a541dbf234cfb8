package tsql

// The syntax tree of the accepted T-SQL subset. Value expressions (Expr)
// and search conditions (also Expr, but built from Compare, Logical, In, …)
// are kept apart by the parser, as in T-SQL's grammar: a comparison is not
// a value, and a column is not a condition.

// Statement is one statement of a batch.
type Statement interface{ Line() int }

// Select is a SELECT statement.
type Select struct {
	StartLine int
	Distinct  bool
	Top       Expr // nil when absent
	Items     []SelectItem
	From      []*TableRef // the first table, then joined ones
	Where     Expr
	GroupBy   []Expr
	Having    Expr
	OrderBy   []OrderItem
	Offset    Expr // nil when absent
	Fetch     Expr // nil when absent
}

// SelectItem is one item of the select list: an expression with an
// optional alias, or a star (Star true, Qualifier the table for t.*).
type SelectItem struct {
	Expr      Expr
	Alias     string
	HasAlias  bool
	Star      bool
	Qualifier []string
	Line      int
}

// TableRef is a table in FROM or JOIN: [db.][schema.]name [alias]
// [WITH (hints)], and for joins the kind and ON condition.
type TableRef struct {
	Parts []string
	Alias string
	Hints []string
	Join  string // "" for the first table, "INNER" or "LEFT"
	On    Expr
	Line  int
}

// OrderItem is one ORDER BY item.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// SetOption is SET NAME[, NAME…] ON|OFF.
type SetOption struct {
	StartLine int
	Names     []string
	On        bool
}

// SetValue is SET NAME value: DATEFORMAT, DATEFIRST, LANGUAGE, TEXTSIZE,
// LOCK_TIMEOUT, DEADLOCK_PRIORITY.
type SetValue struct {
	StartLine int
	Name      string
	Value     Token
	Negative  bool
}

// SetIsolation is SET TRANSACTION ISOLATION LEVEL.
type SetIsolation struct {
	StartLine int
	Level     string // READ UNCOMMITTED, READ COMMITTED, REPEATABLE READ, SNAPSHOT, SERIALIZABLE
}

// Transaction is BEGIN TRAN, COMMIT, ROLLBACK or SAVE TRAN.
type Transaction struct {
	StartLine int
	Verb      string // BEGIN, COMMIT, ROLLBACK, SAVE
	Name      string
}

// Use is USE database.
type Use struct {
	StartLine int
	Database  string
}

// Exec is EXEC[UTE] procedure …: the simulator has no procedures, so it
// only needs the name for the error.
type Exec struct {
	StartLine int
	Proc      string
}

// Refused is a statement the read-only endpoint refuses (INSERT, UPDATE,
// DELETE, DDL, …). It is kept in the batch so the statements before it run
// and the error comes where SQL Server would raise it.
type Refused struct {
	StartLine int
	Err       *Error
}

func (s *Select) Line() int       { return s.StartLine }
func (s *SetOption) Line() int    { return s.StartLine }
func (s *SetValue) Line() int     { return s.StartLine }
func (s *SetIsolation) Line() int { return s.StartLine }
func (s *Transaction) Line() int  { return s.StartLine }
func (s *Use) Line() int          { return s.StartLine }
func (s *Exec) Line() int         { return s.StartLine }
func (s *Refused) Line() int      { return s.StartLine }

// Expr is an expression or search condition.
type Expr interface{ pos() int }

// ColumnRef is a column, possibly qualified: [schema.]table.column.
type ColumnRef struct {
	Parts []string
	Line  int
}

// Literal is a constant as written.
type Literal struct {
	Kind Kind // Int, Decimal, Float, String, NString, Binary; EOF for NULL
	Text string
	Line int
}

// Param is @name.
type Param struct {
	Name string
	Line int
}

// SysVarRef is @@name.
type SysVarRef struct {
	Name string
	Line int
}

// Unary is -x, +x or ~x.
type Unary struct {
	Op   string
	X    Expr
	Line int
}

// Binary is arithmetic or concatenation: + - * / %.
type Binary struct {
	Op   string
	L, R Expr
	Line int
}

// Compare is a comparison: = <> != < <= > >= !< !>.
type Compare struct {
	Op   string
	L, R Expr
	Line int
}

// Logical is AND or OR.
type Logical struct {
	Op   string
	L, R Expr
	Line int
}

// Not is NOT condition.
type Not struct {
	X    Expr
	Line int
}

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	X, Lo, Hi Expr
	Not       bool
	Line      int
}

// In is x [NOT] IN (list).
type In struct {
	X    Expr
	List []Expr
	Not  bool
	Line int
}

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	X    Expr
	Not  bool
	Line int
}

// Like is x [NOT] LIKE pattern [ESCAPE e].
type Like struct {
	X, Pattern, Escape Expr
	Not                bool
	Line               int
}

// Func is a function call: name(args), COUNT(*), COUNT(DISTINCT x).
type Func struct {
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
	Line     int
}

// Cast is CAST(x AS type) or CONVERT(type, x[, style]).
type Cast struct {
	X       Expr
	Type    TypeName
	Style   Expr // CONVERT's style, or nil
	Convert bool
	Line    int
}

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr
	Line    int
}

// When is one WHEN … THEN … arm.
type When struct {
	Cond, Result Expr
}

func (e *ColumnRef) pos() int { return e.Line }
func (e *Literal) pos() int   { return e.Line }
func (e *Param) pos() int     { return e.Line }
func (e *SysVarRef) pos() int { return e.Line }
func (e *Unary) pos() int     { return e.Line }
func (e *Binary) pos() int    { return e.Line }
func (e *Compare) pos() int   { return e.Line }
func (e *Logical) pos() int   { return e.Line }
func (e *Not) pos() int       { return e.Line }
func (e *Between) pos() int   { return e.Line }
func (e *In) pos() int        { return e.Line }
func (e *IsNull) pos() int    { return e.Line }
func (e *Like) pos() int      { return e.Line }
func (e *Func) pos() int      { return e.Line }
func (e *Cast) pos() int      { return e.Line }
func (e *Case) pos() int      { return e.Line }

// ParamDecl is one declaration of sp_executesql's @params: @name type
// [OUTPUT].
type ParamDecl struct {
	Name   string
	Type   Type
	Output bool
}
