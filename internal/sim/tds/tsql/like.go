package tsql

import "strings"

// likeRegex turns a T-SQL LIKE pattern into an anchored POSIX regular
// expression for Postgres' case-insensitive match (~*). T-SQL patterns have
// % (any string), _ (one character), [abc], [a-z] and [^abc], and no escape
// character unless ESCAPE names one; Postgres' own LIKE has no brackets and
// treats backslash as an escape, so a regular expression is the faithful
// translation.
func likeRegex(pattern string, escape rune, hasEscape bool) (string, *Error) {
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case hasEscape && r == escape:
			if i+1 >= len(rs) {
				// SQL Server: a trailing escape character matches nothing.
				return neverMatch, nil
			}
			i++
			b.WriteString(quoteRune(rs[i]))
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		case r == '[':
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if rs[j] == ']' && j > i+1 {
					end = j
					break
				}
			}
			if end < 0 {
				// An unclosed bracket matches nothing in SQL Server.
				return neverMatch, nil
			}
			set := rs[i+1 : end]
			b.WriteString("[")
			if set[0] == '^' {
				b.WriteString("^")
				set = set[1:]
			}
			for k, c := range set {
				switch {
				case c == '-' && k > 0 && k < len(set)-1:
					b.WriteRune('-')
				case c == '\\' || c == ']' || c == '[' || c == '^' || c == '-':
					b.WriteString(`\`)
					b.WriteRune(c)
				default:
					b.WriteRune(c)
				}
			}
			b.WriteString("]")
			i = end
		default:
			b.WriteString(quoteRune(r))
		}
	}
	b.WriteString("$")
	return b.String(), nil
}

func quoteRune(r rune) string {
	s := string(r)
	if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
		return `\` + s
	}
	return s
}

// neverMatch is a regular expression no string matches (a character after
// the end): SQL Server's answer to a malformed pattern is "no match".
const neverMatch = "^$."
