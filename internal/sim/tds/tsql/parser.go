package tsql

import (
	"strconv"
	"strings"
)

// Options are the session settings that change how a batch is read.
type Options struct {
	// QuotedIdentifier is SET QUOTED_IDENTIFIER (on by default in every
	// modern client): "x" is an identifier when on, a string when off.
	QuotedIdentifier bool
	// Database is the current database, for the messages of refused
	// statements ("CREATE TABLE permission denied in database 'X'.").
	Database string
}

// Parse reads a batch. It returns every statement, or the first error: a
// syntax error, or a construct outside the subset, which SQL Server would
// also report before running anything (a compile error). A statement the
// read-only endpoint refuses is returned as a Refused statement, so the
// statements before it still run.
func Parse(src string, opts Options) ([]Statement, error) {
	toks, err := Lex(src, LexOptions{QuotedIdentifier: opts.QuotedIdentifier})
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, opts: opts}
	stmts, perr := p.batch()
	if perr != nil {
		return nil, perr
	}
	return stmts, nil
}

// ParseParamDecls reads sp_executesql's @params text: "@p1 int, @p2
// nvarchar(50) OUTPUT".
func ParseParamDecls(src string) ([]ParamDecl, error) {
	toks, err := Lex(src, LexOptions{QuotedIdentifier: true})
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var decls []ParamDecl
	if p.peek().Kind == EOF {
		return nil, nil
	}
	for {
		t := p.next()
		if t.Kind != Variable {
			return nil, p.syntaxAt(t)
		}
		p.accept("AS")
		tn, perr := p.typeName()
		if perr != nil {
			return nil, perr
		}
		typ, perr := tn.Resolve(false)
		if perr != nil {
			perr.Message = strings.Replace(perr.Message, "#1", "#"+strconv.Itoa(len(decls)+1), 1)
			return nil, perr
		}
		d := ParamDecl{Name: t.Text, Type: typ}
		if p.accept("OUTPUT") || p.accept("OUT") {
			d.Output = true
		}
		for _, prev := range decls {
			if strings.EqualFold(prev.Name, d.Name) {
				return nil, errorf(134, t.Line, "The variable name '%s' has already been declared. Variable names must be unique within a query batch or stored procedure.", d.Name)
			}
		}
		decls = append(decls, d)
		if p.accept(",") {
			continue
		}
		if p.peek().Kind != EOF {
			return nil, p.syntaxAt(p.peek())
		}
		return decls, nil
	}
}

type parser struct {
	toks  []Token
	i     int
	opts  Options
	depth int
}

// maxDepth bounds nesting (parentheses, NOT, CASE, function calls), as
// SQL Server does with error 191, so deep input cannot exhaust the stack.
const maxDepth = 256

func (p *parser) enter() *Error {
	p.depth++
	if p.depth > maxDepth {
		return errorf(191, p.peek().Line, "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries.")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() Token { return p.toks[p.i] }
func (p *parser) peekAt(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.toks[p.i]
	if t.Kind != EOF {
		p.i++
	}
	return t
}

// accept consumes the keyword or operator s if it is next.
func (p *parser) accept(s string) bool {
	if p.peek().is(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(s string) *Error {
	if p.accept(s) {
		return nil
	}
	return p.syntaxAt(p.peek())
}

// syntaxAt is SQL Server's error for an unexpected token: 156 next to a
// keyword, 102 otherwise. At the end of the batch it names the last token,
// as SQL Server does.
func (p *parser) syntaxAt(t Token) *Error {
	if t.Kind == EOF {
		if p.i > 0 {
			last := p.toks[p.i-1]
			if last.Kind == EOF && p.i > 1 {
				last = p.toks[p.i-2]
			}
			if last.reserved() {
				return errorf(ErrSyntaxKeyword, last.Line, "Incorrect syntax near the keyword '%s'.", last.Text)
			}
			return errorf(ErrSyntax, last.Line, "Incorrect syntax near '%s'.", tokenText(last))
		}
		return errorf(ErrSyntax, t.Line, "Incorrect syntax near ''.")
	}
	if t.reserved() {
		return errorf(ErrSyntaxKeyword, t.Line, "Incorrect syntax near the keyword '%s'.", t.Text)
	}
	return errorf(ErrSyntax, t.Line, "Incorrect syntax near '%s'.", tokenText(t))
}

func tokenText(t Token) string { return t.Text }

// unsupported is the error for valid T-SQL outside the simulator's subset.
func unsupported(line int, what string) *Error {
	return errorf(ErrUnsupported, line, "Keyword or statement option '%s' is not supported in this version of SQL Server.", what)
}

// ---- statements ----

func (p *parser) batch() ([]Statement, *Error) {
	var stmts []Statement
	for {
		for p.accept(";") {
		}
		t := p.peek()
		if t.Kind == EOF {
			return stmts, nil
		}
		s, err := p.statement(len(stmts) == 0)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
		if _, refused := s.(*Refused); refused {
			// Nothing after a refused statement runs; its text is not
			// parsed further (its grammar is not the subset's).
			return stmts, nil
		}
		// Statements may follow each other without a semicolon, as in T-SQL.
		next := p.peek()
		if next.Kind != EOF && !next.is(";") && !p.startsStatement(next) {
			return nil, p.syntaxAt(next)
		}
	}
}

func (p *parser) startsStatement(t Token) bool {
	if t.Kind != Ident {
		return t.is("(")
	}
	switch strings.ToUpper(t.Text) {
	case "SELECT", "SET", "BEGIN", "COMMIT", "ROLLBACK", "SAVE", "USE", "EXEC", "EXECUTE", "WITH":
		return true
	}
	return refusedVerbs[strings.ToUpper(t.Text)]
}

func (p *parser) statement(first bool) (Statement, *Error) {
	t := p.peek()
	if t.is("(") {
		if p.peekAt(1).is("SELECT") {
			return nil, unsupported(t.Line, "(SELECT")
		}
		return nil, p.syntaxAt(t)
	}
	if t.Kind != Ident {
		return nil, p.syntaxAt(t)
	}
	word := strings.ToUpper(t.Text)
	switch word {
	case "SELECT":
		return p.selectStmt()
	case "SET":
		return p.setStmt()
	case "BEGIN", "COMMIT", "ROLLBACK", "SAVE":
		return p.tranStmt()
	case "USE":
		p.next()
		db := p.next()
		if db.Kind != Ident && db.Kind != QuotedIdent {
			return nil, p.syntaxAt(db)
		}
		if db.Kind == Ident && db.reserved() {
			return nil, p.syntaxAt(db)
		}
		return &Use{StartLine: t.Line, Database: db.Text}, nil
	case "EXEC", "EXECUTE":
		p.next()
		return p.execStmt(t.Line)
	case "WITH":
		return nil, unsupported(t.Line, "WITH")
	}
	if refusedVerbs[word] {
		return p.refuse()
	}
	if first && !t.reserved() {
		// A batch that starts with a name runs that procedure (EXEC is
		// optional for the first statement).
		return p.execStmt(t.Line)
	}
	return nil, p.syntaxAt(t)
}

func (p *parser) execStmt(line int) (Statement, *Error) {
	if p.peek().Kind == Variable {
		return nil, unsupported(line, "EXECUTE @variable")
	}
	if p.peek().is("(") {
		return nil, unsupported(line, "EXECUTE (string)")
	}
	parts, err := p.multipart()
	if err != nil {
		return nil, err
	}
	// The arguments are not parsed: no procedure exists to take them. They
	// run to the end of the statement.
	p.skipStatement()
	return &Exec{StartLine: line, Proc: strings.Join(parts, ".")}, nil
}

// skipStatement consumes tokens up to the next semicolon at depth zero or
// the end of the batch.
func (p *parser) skipStatement() {
	depth := 0
	for {
		t := p.peek()
		if t.Kind == EOF || (depth == 0 && t.is(";")) {
			return
		}
		if t.is("(") {
			depth++
		} else if t.is(")") && depth > 0 {
			depth--
		}
		p.next()
	}
}

// refuse answers a statement the read-only endpoint does not run as SQL
// Server answers a login that may only read (db_datareader): a permission
// error naming the object when there is one.
func (p *parser) refuse() (Statement, *Error) {
	t := p.next()
	word := strings.ToUpper(t.Text)
	db := p.opts.Database
	object := func() string {
		save := p.i
		parts, err := p.multipart()
		if err != nil || len(parts) == 0 {
			p.i = save
			return ""
		}
		return parts[len(parts)-1]
	}
	var e *Error
	switch word {
	case "INSERT", "MERGE":
		p.accept("INTO")
		obj := object()
		if obj == "" {
			return nil, p.syntaxAt(p.peek())
		}
		e = errorf(ErrPermission, t.Line, "The %s permission was denied on the object '%s', database '%s', schema 'dbo'.", "INSERT", obj, db)
	case "UPDATE", "DELETE":
		if word == "DELETE" {
			p.accept("FROM")
		}
		obj := object()
		if obj == "" {
			return nil, p.syntaxAt(p.peek())
		}
		e = errorf(ErrPermission, t.Line, "The %s permission was denied on the object '%s', database '%s', schema 'dbo'.", word, obj, db)
	case "TRUNCATE":
		if !p.accept("TABLE") {
			return nil, p.syntaxAt(p.peek())
		}
		obj := object()
		if obj == "" {
			return nil, p.syntaxAt(p.peek())
		}
		e = errorf(1088, t.Line, "Cannot find the object \"%s\" because it does not exist or you do not have permissions.", obj)
	case "DROP":
		kind := p.next()
		if kind.Kind != Ident {
			return nil, p.syntaxAt(kind)
		}
		if p.accept("IF") && !p.accept("EXISTS") {
			return nil, p.syntaxAt(p.peek())
		}
		obj := object()
		if obj == "" {
			return nil, p.syntaxAt(p.peek())
		}
		e = errorf(3701, t.Line, "Cannot drop the %s '%s', because it does not exist or you do not have permission.", strings.ToLower(kind.Text), obj)
	case "CREATE":
		kind := p.next()
		if kind.Kind != Ident {
			return nil, p.syntaxAt(kind)
		}
		e = errorf(262, t.Line, "CREATE %s permission denied in database '%s'.", strings.ToUpper(kind.Text), db)
	case "ALTER":
		kind := p.next()
		if kind.Kind != Ident {
			return nil, p.syntaxAt(kind)
		}
		obj := object()
		if obj == "" {
			return nil, p.syntaxAt(p.peek())
		}
		e = errorf(4902, t.Line, "Cannot find the object \"%s\" because it does not exist or you do not have permissions.", obj)
	case "GRANT", "REVOKE", "DENY":
		e = errorf(4613, t.Line, "Grantor does not have GRANT permission.")
	default:
		e = unsupported(t.Line, word)
	}
	p.skipStatement()
	return &Refused{StartLine: t.Line, Err: e}, nil
}

func (p *parser) tranStmt() (Statement, *Error) {
	t := p.next()
	verb := strings.ToUpper(t.Text)
	s := &Transaction{StartLine: t.Line, Verb: verb}
	switch verb {
	case "BEGIN":
		if p.peek().is("DISTRIBUTED") {
			return nil, unsupported(t.Line, "BEGIN DISTRIBUTED TRANSACTION")
		}
		if !p.accept("TRAN") && !p.accept("TRANSACTION") {
			// BEGIN … END blocks, BEGIN TRY: control flow, outside the subset.
			next := p.peek()
			if next.is("TRY") || next.is("ATOMIC") || next.is("CONVERSATION") || next.is("DIALOG") {
				return nil, unsupported(t.Line, "BEGIN "+strings.ToUpper(next.Text))
			}
			return nil, unsupported(t.Line, "BEGIN")
		}
	case "SAVE":
		if !p.accept("TRAN") && !p.accept("TRANSACTION") {
			return nil, p.syntaxAt(p.peek())
		}
	default: // COMMIT, ROLLBACK
		if !p.accept("TRAN") && !p.accept("TRANSACTION") {
			p.accept("WORK")
			return s, nil
		}
	}
	if n := p.peek(); n.Kind == QuotedIdent || (n.Kind == Ident && !n.reserved() && !p.startsStatement(n)) || n.Kind == Variable {
		if n.Kind == Variable {
			return nil, errorf(ErrMustDeclare, n.Line, "Must declare the scalar variable \"%s\".", n.Text)
		}
		p.next()
		s.Name = n.Text
		if verb == "BEGIN" && p.accept("WITH") {
			return nil, unsupported(t.Line, "WITH MARK")
		}
	} else if verb == "SAVE" {
		return nil, p.syntaxAt(n)
	}
	return s, nil
}

// setOnOff are the ON/OFF options SET accepts.
var setOnOff = map[string]bool{
	"ANSI_NULLS": true, "ANSI_NULL_DFLT_ON": true, "ANSI_NULL_DFLT_OFF": true, "ANSI_PADDING": true,
	"ANSI_WARNINGS": true, "ANSI_DEFAULTS": true, "ARITHABORT": true, "ARITHIGNORE": true,
	"CONCAT_NULL_YIELDS_NULL": true, "CURSOR_CLOSE_ON_COMMIT": true, "IMPLICIT_TRANSACTIONS": true,
	"NOCOUNT": true, "NUMERIC_ROUNDABORT": true, "QUOTED_IDENTIFIER": true, "XACT_ABORT": true,
	"NO_BROWSETABLE": true, "FMTONLY": true, "NOEXEC": true, "PARSEONLY": true, "FORCEPLAN": true,
	"REMOTE_PROC_TRANSACTIONS": true, "SHOWPLAN_ALL": true, "SHOWPLAN_TEXT": true, "SHOWPLAN_XML": true,
	"STATISTICS": true,
}

// setValued are the SET options that take a value.
var setValued = map[string]bool{
	"DATEFORMAT": true, "DATEFIRST": true, "LANGUAGE": true, "TEXTSIZE": true, "LOCK_TIMEOUT": true,
	"DEADLOCK_PRIORITY": true, "ROWCOUNT": true, "QUERY_GOVERNOR_COST_LIMIT": true,
}

func (p *parser) setStmt() (Statement, *Error) {
	t := p.next()
	name := p.peek()
	if name.Kind == Variable {
		return nil, errorf(ErrMustDeclare, name.Line, "Must declare the scalar variable \"%s\".", name.Text)
	}
	if name.Kind != Ident {
		return nil, p.syntaxAt(name)
	}
	upper := strings.ToUpper(name.Text)
	switch {
	case upper == "TRANSACTION":
		p.next()
		if err := p.expect("ISOLATION"); err != nil {
			return nil, err
		}
		if err := p.expect("LEVEL"); err != nil {
			return nil, err
		}
		var level string
		switch {
		case p.accept("READ"):
			switch {
			case p.accept("UNCOMMITTED"):
				level = "READ UNCOMMITTED"
			case p.accept("COMMITTED"):
				level = "READ COMMITTED"
			default:
				return nil, p.syntaxAt(p.peek())
			}
		case p.accept("REPEATABLE"):
			if err := p.expect("READ"); err != nil {
				return nil, err
			}
			level = "REPEATABLE READ"
		case p.accept("SNAPSHOT"):
			level = "SNAPSHOT"
		case p.accept("SERIALIZABLE"):
			level = "SERIALIZABLE"
		default:
			return nil, p.syntaxAt(p.peek())
		}
		return &SetIsolation{StartLine: t.Line, Level: level}, nil
	case setValued[upper]:
		p.next()
		v := p.next()
		neg := false
		if v.is("-") {
			neg = true
			v = p.next()
			if v.Kind != Int {
				return nil, p.syntaxAt(v)
			}
		}
		switch v.Kind {
		case Int, Ident, QuotedIdent, String, NString:
		default:
			if v.Kind == Variable {
				return nil, errorf(ErrMustDeclare, v.Line, "Must declare the scalar variable \"%s\".", v.Text)
			}
			return nil, p.syntaxAt(v)
		}
		return &SetValue{StartLine: t.Line, Name: upper, Value: v, Negative: neg}, nil
	case setOnOff[upper]:
		s := &SetOption{StartLine: t.Line}
		for {
			n := p.next()
			if n.Kind != Ident {
				return nil, p.syntaxAt(n)
			}
			up := strings.ToUpper(n.Text)
			if up == "STATISTICS" {
				kind := p.next()
				if !(kind.is("IO") || kind.is("TIME") || kind.is("XML") || kind.is("PROFILE")) {
					return nil, p.syntaxAt(kind)
				}
				up += " " + strings.ToUpper(kind.Text)
			} else if !setOnOff[up] {
				return nil, errorf(ErrUnknownSetOption, n.Line, "'%s' is not a recognized SET option.", n.Text)
			}
			s.Names = append(s.Names, up)
			if !p.accept(",") {
				break
			}
		}
		switch {
		case p.accept("ON"):
			s.On = true
		case p.accept("OFF"):
		default:
			return nil, p.syntaxAt(p.peek())
		}
		return s, nil
	case upper == "IDENTITY_INSERT" || upper == "CONTEXT_INFO" || upper == "OFFSETS":
		return nil, unsupported(name.Line, "SET "+upper)
	}
	if name.reserved() {
		return nil, p.syntaxAt(name)
	}
	return nil, errorf(ErrUnknownSetOption, name.Line, "'%s' is not a recognized SET option.", name.Text)
}

// ---- SELECT ----

func (p *parser) selectStmt() (Statement, *Error) {
	t := p.next() // SELECT
	s := &Select{StartLine: t.Line}
	if p.accept("DISTINCT") {
		s.Distinct = true
	} else {
		p.accept("ALL")
	}
	if p.peek().is("TOP") {
		top := p.next()
		if p.accept("(") {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			s.Top = e
		} else {
			n := p.next()
			if n.Kind != Int && n.Kind != Decimal && n.Kind != Float {
				return nil, p.syntaxAt(n)
			}
			s.Top = &Literal{Kind: n.Kind, Text: n.Text, Line: n.Line}
		}
		if p.peek().is("PERCENT") {
			return nil, unsupported(top.Line, "TOP PERCENT")
		}
		if p.peek().is("WITH") && p.peekAt(1).is("TIES") {
			return nil, unsupported(top.Line, "WITH TIES")
		}
	}
	for {
		item, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, item)
		if !p.accept(",") {
			break
		}
	}
	if p.peek().is("INTO") {
		return nil, unsupported(p.peek().Line, "SELECT INTO")
	}
	if p.accept("FROM") {
		if err := p.fromClause(s); err != nil {
			return nil, err
		}
	}
	if p.accept("WHERE") {
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		s.Where = c
	}
	if p.peek().is("GROUP") {
		p.next()
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		if p.peek().is("ALL") || p.peek().is("ROLLUP") || p.peek().is("CUBE") || p.peek().is("GROUPING") {
			return nil, unsupported(p.peek().Line, "GROUP BY "+strings.ToUpper(p.peek().Text))
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.GroupBy = append(s.GroupBy, e)
			if !p.accept(",") {
				break
			}
		}
		if p.peek().is("WITH") {
			return nil, unsupported(p.peek().Line, "WITH ROLLUP")
		}
	}
	if p.accept("HAVING") {
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		s.Having = c
	}
	if p.peek().is("ORDER") {
		p.next()
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			item := OrderItem{Expr: e}
			if p.accept("DESC") {
				item.Desc = true
			} else {
				p.accept("ASC")
			}
			s.OrderBy = append(s.OrderBy, item)
			if !p.accept(",") {
				break
			}
		}
		if p.accept("OFFSET") {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.Offset = e
			if !p.accept("ROWS") && !p.accept("ROW") {
				return nil, p.syntaxAt(p.peek())
			}
			if p.accept("FETCH") {
				if !p.accept("NEXT") && !p.accept("FIRST") {
					return nil, p.syntaxAt(p.peek())
				}
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				s.Fetch = e
				if !p.accept("ROWS") && !p.accept("ROW") {
					return nil, p.syntaxAt(p.peek())
				}
				if err := p.expect("ONLY"); err != nil {
					return nil, err
				}
			}
		}
	}
	if s.Top != nil && s.Offset != nil {
		return nil, errorf(ErrTopAndOffset, t.Line, "A TOP can not be used in the same query or sub-query as a OFFSET.")
	}
	switch n := p.peek(); {
	case n.is("UNION") || n.is("EXCEPT") || n.is("INTERSECT"):
		return nil, unsupported(n.Line, strings.ToUpper(n.Text))
	case n.is("FOR") || n.is("OPTION") || n.is("COMPUTE"):
		return nil, unsupported(n.Line, strings.ToUpper(n.Text))
	}
	return s, nil
}

func (p *parser) selectItem() (SelectItem, *Error) {
	t := p.peek()
	item := SelectItem{Line: t.Line}
	if t.is("*") {
		p.next()
		item.Star = true
		return item, nil
	}
	// t.*, schema.t.*
	if t.Kind == Ident || t.Kind == QuotedIdent {
		j := 0
		for {
			n := p.peekAt(j)
			if n.Kind != Ident && n.Kind != QuotedIdent {
				break
			}
			if !p.peekAt(j + 1).is(".") {
				break
			}
			if p.peekAt(j + 2).is("*") {
				for k := 0; k <= j; k += 2 {
					item.Qualifier = append(item.Qualifier, p.peekAt(k).Text)
				}
				p.i += j + 3
				item.Star = true
				return item, nil
			}
			j += 2
		}
	}
	// alias = expression
	if (t.Kind == QuotedIdent || (t.Kind == Ident && !t.reserved())) && p.peekAt(1).is("=") {
		p.i += 2
		e, err := p.expr()
		if err != nil {
			return item, err
		}
		item.Expr, item.Alias, item.HasAlias = e, t.Text, true
		return item, nil
	}
	if t.Kind == String && p.peekAt(1).is("=") {
		p.i += 2
		e, err := p.expr()
		if err != nil {
			return item, err
		}
		item.Expr, item.Alias, item.HasAlias = e, t.Text, true
		return item, nil
	}
	if t.Kind == Variable && p.peekAt(1).is("=") {
		return item, errorf(ErrMustDeclare, t.Line, "Must declare the scalar variable \"%s\".", t.Text)
	}
	e, err := p.expr()
	if err != nil {
		return item, err
	}
	item.Expr = e
	if p.accept("AS") {
		a := p.next()
		if a.Kind != Ident && a.Kind != QuotedIdent && a.Kind != String && a.Kind != NString {
			return item, p.syntaxAt(a)
		}
		if a.reserved() {
			return item, p.syntaxAt(a)
		}
		item.Alias, item.HasAlias = a.Text, true
		return item, nil
	}
	if a := p.peek(); a.Kind == QuotedIdent || a.Kind == String || (a.Kind == Ident && !a.reserved()) {
		p.next()
		item.Alias, item.HasAlias = a.Text, true
	}
	return item, nil
}

func (p *parser) fromClause(s *Select) *Error {
	first, err := p.tableRef()
	if err != nil {
		return err
	}
	s.From = append(s.From, first)
	for {
		t := p.peek()
		var kind string
		switch {
		case t.is(","):
			p.next()
			kind = "CROSS"
		case t.is("JOIN"):
			p.next()
			kind = "INNER"
		case t.is("INNER"):
			p.next()
			if err := p.expect("JOIN"); err != nil {
				return err
			}
			kind = "INNER"
		case t.is("LEFT") || t.is("RIGHT") || t.is("FULL"):
			p.next()
			p.accept("OUTER")
			if err := p.expect("JOIN"); err != nil {
				return err
			}
			kind = strings.ToUpper(t.Text)
		case t.is("CROSS"):
			p.next()
			if p.peek().is("APPLY") {
				return unsupported(t.Line, "CROSS APPLY")
			}
			if err := p.expect("JOIN"); err != nil {
				return err
			}
			kind = "CROSS"
		case t.is("OUTER") && p.peekAt(1).is("APPLY"):
			return unsupported(t.Line, "OUTER APPLY")
		case (t.is("LOOP") || t.is("HASH") || t.is("MERGE") || t.is("REMOTE")) && p.peekAt(1).is("JOIN"):
			return unsupported(t.Line, strings.ToUpper(t.Text)+" JOIN")
		default:
			return nil
		}
		ref, err := p.tableRef()
		if err != nil {
			return err
		}
		ref.Join = kind
		if kind != "CROSS" {
			if err := p.expect("ON"); err != nil {
				return err
			}
			c, err := p.condition()
			if err != nil {
				return err
			}
			ref.On = c
		}
		s.From = append(s.From, ref)
	}
}

// hints are the table hints accepted (and read as a plain read: Postgres
// never reads uncommitted rows, so NOLOCK is at least as strict here).
var hints = map[string]bool{
	"NOLOCK": true, "READUNCOMMITTED": true, "READCOMMITTED": true, "READCOMMITTEDLOCK": true,
	"REPEATABLEREAD": true, "SERIALIZABLE": true, "HOLDLOCK": true, "ROWLOCK": true, "PAGLOCK": true,
	"TABLOCK": true, "NOWAIT": true, "READPAST": true, "SNAPSHOT": true, "FORCESEEK": true,
	"FORCESCAN": true, "NOEXPAND": true, "UPDLOCK": true, "XLOCK": true, "TABLOCKX": true, "INDEX": true,
}

func (p *parser) tableRef() (*TableRef, *Error) {
	t := p.peek()
	if t.is("(") {
		if p.peekAt(1).is("SELECT") {
			return nil, unsupported(t.Line, "derived table")
		}
		return nil, p.syntaxAt(t)
	}
	if t.Kind == Variable {
		return nil, errorf(ErrMustDeclare, t.Line, "Must declare the table variable \"%s\".", t.Text)
	}
	if t.is("OPENQUERY") || t.is("OPENROWSET") || t.is("OPENDATASOURCE") || t.is("OPENXML") {
		return nil, unsupported(t.Line, strings.ToUpper(t.Text))
	}
	parts, err := p.multipart()
	if err != nil {
		return nil, err
	}
	ref := &TableRef{Parts: parts, Line: t.Line}
	if p.peek().is("(") && !p.hintsAhead() {
		return nil, unsupported(t.Line, "table-valued function")
	}
	if p.peek().is("TABLESAMPLE") || p.peek().is("PIVOT") || p.peek().is("UNPIVOT") || p.peek().is("FOR") {
		return nil, unsupported(p.peek().Line, strings.ToUpper(p.peek().Text))
	}
	if p.accept("AS") {
		a := p.next()
		if a.Kind != QuotedIdent && (a.Kind != Ident || a.reserved()) {
			return nil, p.syntaxAt(a)
		}
		ref.Alias = a.Text
	} else if a := p.peek(); a.Kind == QuotedIdent || (a.Kind == Ident && !a.reserved() && !isJoinWord(a)) {
		p.next()
		ref.Alias = a.Text
	}
	// WITH (hint, …) or the older form without WITH: (NOLOCK).
	if p.peek().is("WITH") && p.peekAt(1).is("(") {
		p.next()
		if err := p.tableHints(ref); err != nil {
			return nil, err
		}
	} else if p.peek().is("(") && p.hintsAhead() {
		if err := p.tableHints(ref); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// isJoinWord is true for the non-reserved words that may follow a table
// and must not be taken as its alias.
func isJoinWord(t Token) bool {
	return t.is("OFFSET") || t.is("APPLY") || t.is("LOOP") || t.is("HASH") || t.is("REMOTE")
}

// hintsAhead reports whether "(" starts a table hint list.
func (p *parser) hintsAhead() bool {
	n := p.peekAt(1)
	return n.Kind == Ident && hints[strings.ToUpper(n.Text)]
}

func (p *parser) tableHints(ref *TableRef) *Error {
	if err := p.expect("("); err != nil {
		return err
	}
	for {
		h := p.next()
		if h.Kind != Ident {
			return p.syntaxAt(h)
		}
		name := strings.ToUpper(h.Text)
		if !hints[name] {
			return errorf(ErrBadHint, h.Line, "\"%s\" is not a recognized table hints option. If it is intended as a parameter to a table-valued function or to the CHANGETABLE function, ensure that your database compatibility mode is set to 90.", h.Text)
		}
		if name == "INDEX" {
			// INDEX(name, …) or INDEX = name: plans only, nothing to check.
			if p.accept("=") {
				n := p.next()
				if n.Kind != Ident && n.Kind != QuotedIdent && n.Kind != Int {
					return p.syntaxAt(n)
				}
			} else {
				if err := p.expect("("); err != nil {
					return err
				}
				for {
					n := p.next()
					if n.Kind != Ident && n.Kind != QuotedIdent && n.Kind != Int {
						return p.syntaxAt(n)
					}
					if !p.accept(",") {
						break
					}
				}
				if err := p.expect(")"); err != nil {
					return err
				}
			}
		}
		ref.Hints = append(ref.Hints, name)
		if p.accept(")") {
			return nil
		}
		p.accept(",")
	}
}

// multipart reads a dotted name of up to four parts; empty middle parts
// (db..table) are allowed as in T-SQL.
func (p *parser) multipart() ([]string, *Error) {
	var parts []string
	for {
		t := p.peek()
		if t.is(".") && len(parts) > 0 {
			// db..table: the schema is omitted.
			parts = append(parts, "")
			p.next()
			continue
		}
		if t.Kind != QuotedIdent && (t.Kind != Ident || t.reserved()) {
			return nil, p.syntaxAt(t)
		}
		p.next()
		parts = append(parts, t.Text)
		if len(parts) > 4 {
			return nil, errorf(117, t.Line, "The object name '%s' contains more than the maximum number of prefixes. The maximum is 3.", strings.Join(parts, "."))
		}
		if !p.peek().is(".") {
			return parts, nil
		}
		p.next()
		if p.peek().is(".") {
			parts = append(parts, "")
			p.next()
		}
	}
}

// ---- conditions ----

func (p *parser) condition() (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.peek().is("OR") {
		t := p.next()
		r, err := p.andCond()
		if err != nil {
			return nil, err
		}
		l = &Logical{Op: "OR", L: l, R: r, Line: t.Line}
	}
	return l, nil
}

func (p *parser) andCond() (Expr, *Error) {
	l, err := p.notCond()
	if err != nil {
		return nil, err
	}
	for p.peek().is("AND") {
		t := p.next()
		r, err := p.notCond()
		if err != nil {
			return nil, err
		}
		l = &Logical{Op: "AND", L: l, R: r, Line: t.Line}
	}
	return l, nil
}

func (p *parser) notCond() (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.peek().is("NOT") {
		t := p.next()
		x, err := p.notCond()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Line: t.Line}, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (Expr, *Error) {
	t := p.peek()
	if t.is("EXISTS") {
		return nil, unsupported(t.Line, "EXISTS")
	}
	if t.is("(") && !p.peekAt(1).is("SELECT") {
		// A parenthesised condition, or a parenthesised value that a
		// comparison follows: try the condition first.
		save := p.i
		p.next()
		c, err := p.condition()
		if err == nil && p.peek().is(")") {
			p.next()
			if !isValueContinuation(p.peek()) {
				return c, nil
			}
		}
		p.i = save
	}
	l, err := p.expr()
	if err != nil {
		return nil, err
	}
	n := p.peek()
	not := false
	if n.is("NOT") {
		not = true
		p.next()
		n = p.peek()
		if !n.is("IN") && !n.is("LIKE") && !n.is("BETWEEN") {
			return nil, p.syntaxAt(n)
		}
	}
	switch {
	case n.Kind == Op && isCompareOp(n.Text) && !not:
		p.next()
		if q := p.peek(); q.is("ALL") || q.is("ANY") || q.is("SOME") {
			return nil, unsupported(q.Line, strings.ToUpper(q.Text))
		}
		r, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Compare{Op: n.Text, L: l, R: r, Line: n.Line}, nil
	case n.is("IN"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		if p.peek().is("SELECT") {
			return nil, unsupported(p.peek().Line, "subquery")
		}
		in := &In{X: l, Not: not, Line: n.Line}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, e)
			if !p.accept(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return in, nil
	case n.is("BETWEEN"):
		p.next()
		lo, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Between{X: l, Lo: lo, Hi: hi, Not: not, Line: n.Line}, nil
	case n.is("LIKE"):
		p.next()
		pat, err := p.expr()
		if err != nil {
			return nil, err
		}
		lk := &Like{X: l, Pattern: pat, Not: not, Line: n.Line}
		if p.accept("ESCAPE") {
			esc, err := p.expr()
			if err != nil {
				return nil, err
			}
			lk.Escape = esc
		}
		return lk, nil
	case n.is("IS"):
		p.next()
		isNot := p.accept("NOT")
		if err := p.expect("NULL"); err != nil {
			return nil, err
		}
		return &IsNull{X: l, Not: isNot, Line: n.Line}, nil
	}
	if n.Kind == EOF {
		last := p.toks[max(0, p.i-1)]
		return nil, errorf(ErrNonBoolean, last.Line, "An expression of non-boolean type specified in a context where a condition is expected, near '%s'.", last.Text)
	}
	return nil, errorf(ErrNonBoolean, n.Line, "An expression of non-boolean type specified in a context where a condition is expected, near '%s'.", n.Text)
}

func isCompareOp(s string) bool {
	switch s {
	case "=", "<>", "!=", "<", "<=", ">", ">=", "!<", "!>":
		return true
	}
	return false
}

// isValueContinuation is true when a token after ")" shows the
// parenthesised text was a value: (a + b) * 2 > 3.
func isValueContinuation(t Token) bool {
	if t.Kind == Op {
		switch t.Text {
		case "+", "-", "*", "/", "%", "&", "|", "^":
			return true
		}
		return isCompareOp(t.Text)
	}
	return t.is("IN") || t.is("LIKE") || t.is("BETWEEN") || t.is("IS")
}

// ---- value expressions ----

func (p *parser) expr() (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.Kind != Op {
			return l, nil
		}
		switch t.Text {
		case "+", "-":
		case "&", "|", "^":
			return nil, unsupported(t.Line, t.Text)
		default:
			return l, nil
		}
		p.next()
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: t.Text, L: l, R: r, Line: t.Line}
	}
}

func (p *parser) term() (Expr, *Error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !(t.is("*") || t.is("/") || t.is("%")) {
			return l, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: t.Text, L: l, R: r, Line: t.Line}
	}
}

func (p *parser) unary() (Expr, *Error) {
	t := p.peek()
	if t.is("-") || t.is("+") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		// Fold the sign into a numeric literal, so -2147483648 is an int
		// as in SQL Server.
		if lit, ok := x.(*Literal); ok && t.Text == "-" && (lit.Kind == Int || lit.Kind == Decimal || lit.Kind == Float) && !strings.HasPrefix(lit.Text, "-") {
			return &Literal{Kind: lit.Kind, Text: "-" + lit.Text, Line: lit.Line}, nil
		}
		return &Unary{Op: t.Text, X: x, Line: t.Line}, nil
	}
	if t.is("~") {
		return nil, unsupported(t.Line, "~")
	}
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.peek().is("COLLATE") {
		return nil, unsupported(p.peek().Line, "COLLATE")
	}
	return x, nil
}

func (p *parser) primary() (Expr, *Error) {
	t := p.peek()
	switch t.Kind {
	case Int, Decimal, Float, String, NString:
		p.next()
		return &Literal{Kind: t.Kind, Text: t.Text, Line: t.Line}, nil
	case BinaryLit:
		p.next()
		return &Literal{Kind: BinaryLit, Text: t.Text, Line: t.Line}, nil
	case Variable:
		p.next()
		return &Param{Name: t.Text, Line: t.Line}, nil
	case SysVar:
		p.next()
		return &SysVarRef{Name: t.Text, Line: t.Line}, nil
	case Op:
		if t.is("(") {
			if p.peekAt(1).is("SELECT") {
				return nil, unsupported(t.Line, "subquery")
			}
			p.next()
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		}
		return nil, p.syntaxAt(t)
	case QuotedIdent:
		return p.nameOrCall()
	case Ident:
		word := strings.ToUpper(t.Text)
		switch word {
		case "NULL":
			p.next()
			return &Literal{Kind: EOF, Text: "NULL", Line: t.Line}, nil
		case "CASE":
			return p.caseExpr()
		case "CAST":
			return p.castExpr()
		case "CONVERT":
			return p.convertExpr()
		case "TRY_CAST", "TRY_CONVERT", "PARSE", "TRY_PARSE":
			return nil, unsupported(t.Line, word)
		case "COALESCE", "NULLIF", "LEFT", "RIGHT":
			if p.peekAt(1).is("(") {
				return p.call(t)
			}
		case "CURRENT_TIMESTAMP":
			p.next()
			return &Func{Name: "GETDATE", Line: t.Line}, nil
		case "NEXT":
			if p.peekAt(1).is("VALUE") {
				return nil, unsupported(t.Line, "NEXT VALUE FOR")
			}
		case "EXISTS":
			return nil, unsupported(t.Line, "EXISTS")
		}
		if t.reserved() {
			return nil, p.syntaxAt(t)
		}
		return p.nameOrCall()
	}
	return nil, p.syntaxAt(t)
}

func (p *parser) nameOrCall() (Expr, *Error) {
	t := p.peek()
	if p.peekAt(1).is("(") {
		if t.Kind == QuotedIdent {
			return nil, errorf(ErrUnknownFunc, t.Line, "'%s' is not a recognized built-in function name.", t.Text)
		}
		return p.call(t)
	}
	parts, err := p.multipart()
	if err != nil {
		return nil, err
	}
	if p.peek().is("(") {
		// schema.function(…): user-defined functions do not exist here.
		return nil, errorf(4121, t.Line, "Cannot find either column \"%s\" or the user-defined function or aggregate \"%s\", or the name is ambiguous.", parts[0], strings.Join(parts, "."))
	}
	return &ColumnRef{Parts: parts, Line: t.Line}, nil
}

func (p *parser) call(name Token) (Expr, *Error) {
	p.next() // name
	p.next() // (
	f := &Func{Name: strings.ToUpper(name.Text), Line: name.Line}
	if p.accept(")") {
		return p.afterCall(f)
	}
	if p.peek().is("*") && p.peekAt(1).is(")") {
		p.i += 2
		f.Star = true
		return p.afterCall(f)
	}
	if p.accept("DISTINCT") {
		f.Distinct = true
	} else {
		p.accept("ALL")
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		f.Args = append(f.Args, e)
		if !p.accept(",") {
			break
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return p.afterCall(f)
}

func (p *parser) afterCall(f *Func) (Expr, *Error) {
	if p.peek().is("OVER") {
		return nil, unsupported(p.peek().Line, "OVER")
	}
	if p.peek().is("WITHIN") {
		return nil, unsupported(p.peek().Line, "WITHIN GROUP")
	}
	return f, nil
}

func (p *parser) caseExpr() (Expr, *Error) {
	t := p.next() // CASE
	c := &Case{Line: t.Line}
	if !p.peek().is("WHEN") {
		op, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for p.accept("WHEN") {
		var cond Expr
		var err *Error
		if c.Operand != nil {
			cond, err = p.expr()
		} else {
			cond, err = p.condition()
		}
		if err != nil {
			return nil, err
		}
		if err := p.expect("THEN"); err != nil {
			return nil, err
		}
		res, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Result: res})
	}
	if len(c.Whens) == 0 {
		return nil, p.syntaxAt(p.peek())
	}
	if p.accept("ELSE") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	if err := p.expect("END"); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) castExpr() (Expr, *Error) {
	t := p.next() // CAST
	if err := p.expect("("); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect("AS"); err != nil {
		return nil, err
	}
	tn, err := p.typeName()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return &Cast{X: x, Type: tn, Line: t.Line}, nil
}

func (p *parser) convertExpr() (Expr, *Error) {
	t := p.next() // CONVERT
	if err := p.expect("("); err != nil {
		return nil, err
	}
	tn, err := p.typeName()
	if err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	c := &Cast{X: x, Type: tn, Convert: true, Line: t.Line}
	if p.accept(",") {
		style, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Style = style
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return c, nil
}

// typeName reads a type: name [ ( n [, m] | max ) ], including the
// two-word spellings (double precision, national character varying …
// are not accepted: nobody sends them).
func (p *parser) typeName() (TypeName, *Error) {
	t := p.next()
	if t.Kind != Ident && t.Kind != QuotedIdent {
		return TypeName{}, p.syntaxAt(t)
	}
	tn := TypeName{Name: t.Text, Line: t.Line}
	if strings.EqualFold(t.Text, "sys") && p.peek().is(".") {
		p.next()
		n := p.next()
		if n.Kind != Ident && n.Kind != QuotedIdent {
			return TypeName{}, p.syntaxAt(n)
		}
		tn.Name = n.Text
	}
	if !p.accept("(") {
		return tn, nil
	}
	if p.accept("MAX") {
		tn.Max = true
	} else {
		for {
			n := p.next()
			if n.Kind != Int {
				return TypeName{}, p.syntaxAt(n)
			}
			v, err := strconv.Atoi(n.Text)
			if err != nil || v > 1<<30 {
				return TypeName{}, errorf(ErrSyntax, n.Line, "Incorrect syntax near '%s'.", n.Text)
			}
			tn.Args = append(tn.Args, v)
			if !p.accept(",") {
				break
			}
		}
	}
	if err := p.expect(")"); err != nil {
		return TypeName{}, err
	}
	return tn, nil
}
