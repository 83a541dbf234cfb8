// Package odata parses the OData v3 query options the SAP Business One
// Service Layer accepts on collections: $filter, $orderby and $select. It
// knows the grammar only; what a name means (which column, which type) is the
// caller's business, so the simulator can check every field against its own
// metadata and translate the tree into parameterised SQL.
//
// The grammar is the subset SAP documents (SLG §3.7): the comparison
// operators eq, ne, gt, ge, lt, le; and, or, not; parentheses; the functions
// startswith, endswith, contains and substringof; string literals in single
// quotes with ” as the escape for a quote; numbers; datetime'…'; null, true
// and false. No arithmetic, no other functions. A parser that cannot consume
// its whole input returns an error: a filter is never silently truncated,
// because a truncated filter matches more than the caller asked for.
package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is a node of a $filter tree.
type Expr interface {
	String() string // canonical text; parsing it gives the same tree
	node()
}

// Logical is "L and R" or "L or R".
type Logical struct {
	Op   string // "and" or "or"
	L, R Expr
}

// Not is "not X".
type Not struct{ X Expr }

// Compare is "L op R" with op one of eq, ne, gt, ge, lt, le.
type Compare struct {
	Op   string
	L, R Expr
}

// Call is a function call, e.g. startswith(CardCode,'C1').
type Call struct {
	Func string
	Args []Expr
}

// Field names a property; Path has more than one element for "A/B".
type Field struct{ Path []string }

// LitKind is the kind of a literal.
type LitKind int

// The literal kinds.
const (
	LitString   LitKind = iota // 'text' (Value is the unquoted text)
	LitNumber                  // 12, -3.5, 1e3 (Value is the text as written)
	LitDateTime                // datetime'2024-01-31' (Value is the text inside the quotes)
	LitNull                    // null
	LitBool                    // true, false (Value is "true" or "false")
)

// Literal is a constant.
type Literal struct {
	Kind  LitKind
	Value string
}

func (Logical) node() {}
func (Not) node()     {}
func (Compare) node() {}
func (Call) node()    {}
func (Field) node()   {}
func (Literal) node() {}

func (e Logical) String() string { return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")" }
func (e Not) String() string     { return "not (" + e.X.String() + ")" }
func (e Compare) String() string { return e.L.String() + " " + e.Op + " " + e.R.String() }
func (e Field) String() string   { return strings.Join(e.Path, "/") }

func (e Call) String() string {
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = a.String()
	}
	return e.Func + "(" + strings.Join(args, ",") + ")"
}

func (e Literal) String() string {
	switch e.Kind {
	case LitString:
		return quote(e.Value)
	case LitDateTime:
		return "datetime" + quote(e.Value)
	case LitNull:
		return "null"
	default:
		return e.Value
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Error is a syntax error at a byte offset of the option's text.
type Error struct {
	Option string // "$filter", "$orderby", "$select"
	Pos    int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s at position %d", e.Option, e.Msg, e.Pos)
}

// Functions lists the functions a $filter may call, with their arity. All
// of them return a boolean.
var Functions = map[string]int{"startswith": 2, "endswith": 2, "contains": 2, "substringof": 2}

// maxDepth bounds nesting, so a hostile filter cannot exhaust the stack.
const maxDepth = 100

// ParseFilter parses a $filter expression. The result is always a boolean
// expression (a comparison, a function call, or and/or/not of those).
func ParseFilter(s string) (Expr, error) {
	p, err := newParser("$filter", s)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errorf("empty expression")
	}
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf("unexpected %s", t)
	}
	return e, nil
}

// OrderItem is one key of $orderby.
type OrderItem struct {
	Field Field
	Desc  bool
}

// ParseOrderBy parses "A asc, B desc, C".
func ParseOrderBy(s string) ([]OrderItem, error) {
	p, err := newParser("$orderby", s)
	if err != nil {
		return nil, err
	}
	var items []OrderItem
	for {
		f, err := p.parseField()
		if err != nil {
			return nil, err
		}
		item := OrderItem{Field: f}
		if t := p.peek(); t.kind == tIdent && (t.text == "asc" || t.text == "desc") {
			p.next()
			item.Desc = t.text == "desc"
		}
		items = append(items, item)
		switch t := p.next(); t.kind {
		case tEOF:
			return items, nil
		case tComma:
		default:
			return nil, p.errorAt(t.pos, "unexpected %s", t)
		}
	}
}

// ParseSelect parses "A,B,C" or "*". A nil result with no error means "*".
func ParseSelect(s string) ([]Field, error) {
	p, err := newParser("$select", s)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tStar {
		p.next()
		if t := p.peek(); t.kind != tEOF {
			return nil, p.errorf("unexpected %s", t)
		}
		return nil, nil
	}
	var fields []Field
	for {
		f, err := p.parseField()
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
		switch t := p.next(); t.kind {
		case tEOF:
			return fields, nil
		case tComma:
		default:
			return nil, p.errorAt(t.pos, "unexpected %s", t)
		}
	}
}

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDateTime
	tLParen
	tRParen
	tComma
	tSlash
	tStar
)

type token struct {
	kind tokKind
	text string // identifier, number text, or unquoted string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string " + quote(t.text)
	case tDateTime:
		return "datetime" + quote(t.text)
	case tNumber:
		return "number " + t.text
	case tIdent:
		return "'" + t.text + "'"
	default:
		return "'" + t.text + "'"
	}
}

func lex(option, s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == '/':
			toks = append(toks, token{tSlash, "/", i})
			i++
		case c == '*':
			toks = append(toks, token{tStar, "*", i})
			i++
		case c == '\'':
			text, n, err := lexString(option, s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, text, i})
			i += n
		case c == '-' || c == '.' || (c >= '0' && c <= '9'):
			n := lexNumber(s[i:])
			if n == 0 {
				return nil, &Error{option, i, fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{tNumber, s[i : i+n], i})
			i += n
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			if word == "datetime" && j < len(s) && s[j] == '\'' {
				text, n, err := lexString(option, s, j)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tDateTime, text, i})
				i = j + n
				continue
			}
			toks = append(toks, token{tIdent, word, i})
			i = j
		default:
			return nil, &Error{option, i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

// lexString reads a quoted string at s[i] and returns its text and length.
func lexString(option, s string, i int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for {
		if j >= len(s) {
			return "", 0, &Error{option, i, "unterminated string"}
		}
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j += 2
				continue
			}
			return b.String(), j + 1 - i, nil
		}
		b.WriteByte(s[j])
		j++
	}
}

// lexNumber returns the length of the number at the start of s, 0 if none:
// an optional minus, digits, an optional fraction and exponent. A number
// must be followed by a delimiter, so "12abc" is an error, not 12 and abc.
func lexNumber(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := i - start
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracDigits = i - f
	}
	if intDigits == 0 || (i > start+intDigits && fracDigits == 0) {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		e := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == e {
			return 0
		}
		i = j
	}
	if i < len(s) && (isIdentPart(s[i]) || s[i] == '.' || s[i] == '\'') {
		return 0
	}
	return i
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// ---- parser ----

type parser struct {
	option string
	toks   []token
	i      int
}

func newParser(option, s string) (*parser, error) {
	toks, err := lex(option, s)
	if err != nil {
		return nil, err
	}
	return &parser{option: option, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	return p.errorAt(p.peek().pos, format, args...)
}

func (p *parser) errorAt(pos int, format string, args ...any) error {
	return &Error{p.option, pos, fmt.Sprintf(format, args...)}
}

func (p *parser) keyword(word string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == word
}

func (p *parser) parseOr(depth int) (Expr, error) {
	l, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.next()
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		l = Logical{"or", l, r}
	}
	return l, nil
}

func (p *parser) parseAnd(depth int) (Expr, error) {
	l, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.next()
		r, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		l = Logical{"and", l, r}
	}
	return l, nil
}

// parseUnary parses "not X" or a comparison. "not A eq B" reads as
// "not (A eq B)": the only reading that type-checks.
func (p *parser) parseUnary(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, p.errorf("expression nested too deeply")
	}
	if p.keyword("not") {
		p.next()
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	}
	return p.parseComparison(depth)
}

var compareOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) parseComparison(depth int) (Expr, error) {
	start := p.peek().pos
	l, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tIdent && compareOps[t.text] {
		p.next()
		r, err := p.parsePrimary(depth)
		if err != nil {
			return nil, err
		}
		if isBoolean(l) || isBoolean(r) {
			return boolCompare(p, start, t.text, l, r)
		}
		return Compare{t.text, l, r}, nil
	}
	if !isBoolean(l) {
		return nil, p.errorAt(start, "expected a condition, found %s", l)
	}
	return l, nil
}

// boolCompare accepts OData's canonical "startswith(A,'x') eq true" and
// rewrites it to the call (or its negation).
func boolCompare(p *parser, pos int, op string, l, r Expr) (Expr, error) {
	if _, ok := l.(Literal); ok {
		l, r = r, l
	}
	lit, ok := r.(Literal)
	if !ok || lit.Kind != LitBool || !isBoolean(l) || (op != "eq" && op != "ne") {
		return nil, p.errorAt(pos, "a condition can only be compared with eq or ne to true or false")
	}
	if (lit.Value == "true") == (op == "eq") {
		return l, nil
	}
	return Not{l}, nil
}

// isBoolean reports whether e yields true/false rather than a value.
func isBoolean(e Expr) bool {
	switch e.(type) {
	case Logical, Not, Compare, Call:
		return true
	}
	return false
}

func (p *parser) parsePrimary(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, p.errorf("expression nested too deeply")
	}
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorAt(c.pos, "expected ')', found %s", c)
		}
		return e, nil
	case tString:
		p.next()
		return Literal{LitString, t.text}, nil
	case tDateTime:
		p.next()
		return Literal{LitDateTime, t.text}, nil
	case tNumber:
		p.next()
		if _, err := strconv.ParseFloat(t.text, 64); err != nil {
			return nil, p.errorAt(t.pos, "invalid number %s", t.text)
		}
		return Literal{LitNumber, t.text}, nil
	case tIdent:
		switch t.text {
		case "null":
			p.next()
			return Literal{LitNull, "null"}, nil
		case "true", "false":
			p.next()
			return Literal{LitBool, t.text}, nil
		case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le":
			return nil, p.errorf("unexpected operator '%s'", t.text)
		}
		if p.toks[p.i+1].kind == tLParen {
			return p.parseCall(depth)
		}
		return p.parseField()
	}
	return nil, p.errorf("unexpected %s", t)
}

func (p *parser) parseCall(depth int) (Expr, error) {
	name := p.next()
	arity, ok := Functions[name.text]
	if !ok {
		return nil, p.errorAt(name.pos, "unknown function '%s'", name.text)
	}
	p.next() // (
	var args []Expr
	for {
		a, err := p.parsePrimary(depth + 1)
		if err != nil {
			return nil, err
		}
		if isBoolean(a) {
			return nil, p.errorAt(name.pos, "function '%s' takes values, not conditions", name.text)
		}
		args = append(args, a)
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return nil, p.errorAt(t.pos, "expected ',' or ')', found %s", t)
		}
	}
	if len(args) != arity {
		return nil, p.errorAt(name.pos, "function '%s' takes %d arguments, not %d", name.text, arity, len(args))
	}
	return Call{name.text, args}, nil
}

func (p *parser) parseField() (Field, error) {
	t := p.next()
	if t.kind != tIdent {
		return Field{}, p.errorAt(t.pos, "expected a property name, found %s", t)
	}
	path := []string{t.text}
	for p.peek().kind == tSlash {
		p.next()
		t := p.next()
		if t.kind != tIdent {
			return Field{}, p.errorAt(t.pos, "expected a property name after '/', found %s", t)
		}
		path = append(path, t.text)
	}
	return Field{path}, nil
}
