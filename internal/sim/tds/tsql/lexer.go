package tsql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the lexical class of a token.
type Kind int

const (
	EOF Kind = iota
	Ident
	QuotedIdent // [name] or "name" (QUOTED_IDENTIFIER ON): never a keyword
	Variable    // @name
	SysVar      // @@name
	String      // 'text'
	NString     // N'text'
	Int         // 123
	Decimal     // 1.5
	Float       // 1e5
	BinaryLit   // 0x1F (recognised so it can be refused by name)
	Op          // punctuation and operators
)

// Token is one lexeme. Text is the decoded value for strings and quoted
// identifiers and the source text otherwise.
type Token struct {
	Kind Kind
	Text string
	Line int
	Pos  int // byte offset in the source
}

// is reports whether t is the unquoted keyword or operator s (keywords
// compare case-insensitively, as T-SQL does).
func (t Token) is(s string) bool {
	switch t.Kind {
	case Ident:
		return strings.EqualFold(t.Text, s)
	case Op:
		return t.Text == s
	}
	return false
}

// LexOptions are the session settings that change how text is tokenised.
type LexOptions struct {
	// QuotedIdentifier is SET QUOTED_IDENTIFIER: when on (the default of
	// every modern client) "x" is an identifier, when off a string.
	QuotedIdentifier bool
}

const maxIdentLen = 128

// Lex splits T-SQL text into tokens, dropping whitespace and comments. The
// last token is EOF.
func Lex(src string, opts LexOptions) ([]Token, error) {
	var toks []Token
	line := 1
	i := 0
	for i < len(src) {
		r, w := utf8.DecodeRuneInString(src[i:])
		start := i
		switch {
		case r == '\n':
			line++
			i += w
		case unicode.IsSpace(r) || r == 0:
			// Some clients end a batch with a NUL character (sqlcmd).
			i += w
		case r == '-' && strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case r == '/' && strings.HasPrefix(src[i:], "/*"):
			// T-SQL block comments nest.
			depth := 0
			for {
				if i >= len(src) {
					return nil, errorf(ErrMissingEndComm, line, "Missing end comment mark '*/'.")
				}
				switch {
				case strings.HasPrefix(src[i:], "/*"):
					depth++
					i += 2
				case strings.HasPrefix(src[i:], "*/"):
					depth--
					i += 2
				default:
					if src[i] == '\n' {
						line++
					}
					i++
				}
				if depth == 0 {
					break
				}
			}
		case r == '\'' || ((r == 'N' || r == 'n') && strings.HasPrefix(src[i+1:], "'")):
			kind := String
			if r != '\'' {
				kind = NString
				i++
			}
			text, n, lines, ok := quoted(src[i:], '\'')
			if !ok {
				return nil, errorf(ErrUnclosedQuote, line, "Unclosed quotation mark after the character string '%s'.", text)
			}
			toks = append(toks, Token{Kind: kind, Text: text, Line: line, Pos: start})
			line += lines
			i += n
		case r == '[':
			text, n, lines, ok := quoted(src[i:], ']')
			if !ok {
				return nil, errorf(ErrUnclosedQuote, line, "Unclosed quotation mark after the character string '%s'.", text)
			}
			if err := checkIdentLen(text, line); err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: QuotedIdent, Text: text, Line: line, Pos: start})
			line += lines
			i += n
		case r == '"':
			text, n, lines, ok := quoted(src[i:], '"')
			if !ok {
				return nil, errorf(ErrUnclosedQuote, line, "Unclosed quotation mark after the character string '%s'.", text)
			}
			kind := String
			if opts.QuotedIdentifier {
				kind = QuotedIdent
				if err := checkIdentLen(text, line); err != nil {
					return nil, err
				}
			}
			toks = append(toks, Token{Kind: kind, Text: text, Line: line, Pos: start})
			line += lines
			i += n
		case r == '@':
			kind := Variable
			j := i + 1
			if strings.HasPrefix(src[j:], "@") {
				kind = SysVar
				j++
			}
			for j < len(src) {
				c, cw := utf8.DecodeRuneInString(src[j:])
				if !identPart(c) {
					break
				}
				j += cw
			}
			if j == i+1 && kind == Variable {
				// A lone @ is not a variable; report it as SQL Server does.
				return nil, errorf(ErrSyntax, line, "Incorrect syntax near '@'.")
			}
			if err := checkIdentLen(src[i:j], line); err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: kind, Text: src[i:j], Line: line, Pos: start})
			i = j
		case r >= '0' && r <= '9' || (r == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'):
			tok, n := number(src[i:])
			tok.Line, tok.Pos = line, start
			toks = append(toks, tok)
			i += n
		case identStart(r):
			j := i + w
			for j < len(src) {
				c, cw := utf8.DecodeRuneInString(src[j:])
				if !identPart(c) {
					break
				}
				j += cw
			}
			if err := checkIdentLen(src[i:j], line); err != nil {
				return nil, err
			}
			toks = append(toks, Token{Kind: Ident, Text: src[i:j], Line: line, Pos: start})
			i = j
		default:
			op := ""
			for _, o := range []string{"<>", "!=", "<=", ">=", "!<", "!>"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" && strings.ContainsRune("=<>+-*/%(),.;&|^~", r) {
				op = string(r)
			}
			if op == "" {
				if r == utf8.RuneError && w == 1 {
					return nil, errorf(ErrSyntax, line, "Incorrect syntax near '%s'.", "?")
				}
				return nil, errorf(ErrSyntax, line, "Incorrect syntax near '%s'.", string(r))
			}
			toks = append(toks, Token{Kind: Op, Text: op, Line: line, Pos: start})
			i += len(op)
		}
	}
	toks = append(toks, Token{Kind: EOF, Line: line, Pos: len(src)})
	return toks, nil
}

// quoted reads a quoted string or identifier from its opening character
// s[0] to close; a doubled close is an escaped one. It returns the decoded
// text, the bytes consumed, the newlines inside and whether it was closed.
func quoted(s string, close byte) (string, int, int, bool) {
	var b strings.Builder
	lines := 0
	i := 1
	for i < len(s) {
		c := s[i]
		if c == close {
			if i+1 < len(s) && s[i+1] == close {
				b.WriteByte(close)
				i += 2
				continue
			}
			return b.String(), i + 1, lines, true
		}
		if c == '\n' {
			lines++
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), i, lines, false
}

// number reads a numeric literal: digits with an optional fraction (a
// decimal) and exponent (a float), or 0x… (binary).
func number(s string) (Token, int) {
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		j := 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		return Token{Kind: BinaryLit, Text: s[:j]}, j
	}
	kind := Int
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' {
		kind = Decimal
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			kind = Float
			j = k
		}
	}
	return Token{Kind: kind, Text: s[:j]}, j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func identStart(r rune) bool { return unicode.IsLetter(r) || r == '_' || r == '#' }
func identPart(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == '$' || r == '#'
}

func checkIdentLen(s string, line int) *Error {
	if utf8.RuneCountInString(s) > maxIdentLen {
		return errorf(103, line, "The identifier that starts with '%s' is too long. Maximum length is %d.", truncRunes(s, maxIdentLen), maxIdentLen)
	}
	return nil
}

func truncRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
