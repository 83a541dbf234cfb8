package tsql

import (
	"strings"
	"testing"
	"time"
)

func TestDeepInputsStayCheap(t *testing.T) {
	for name, src := range map[string]string{
		"parens":        "SELECT 1 FROM OITW WHERE " + strings.Repeat("(", 40) + "OnHand" + strings.Repeat(")", 40) + " = 1",
		"parens cond":   "SELECT 1 FROM OITW WHERE " + strings.Repeat("(", 40) + "OnHand = 1" + strings.Repeat(")", 40),
		"nullif":        "SELECT " + strings.Repeat("NULLIF(", 30) + "OnHand" + strings.Repeat(", 1)", 30) + " FROM OITW",
		"simple case":   "SELECT " + strings.Repeat("CASE ", 30) + "OnHand" + strings.Repeat(" WHEN 1 THEN 2 WHEN 3 THEN 4 END", 30) + " FROM OITW",
		"unclosed":      "SELECT 1 FROM OITW WHERE " + strings.Repeat("(", 60),
		"not":           "SELECT 1 FROM OITW WHERE " + strings.Repeat("NOT ", 500) + "OnHand = 1",
		"unclosed expr": "SELECT " + strings.Repeat("(", 60) + "1",
	} {
		start := time.Now()
		stmts, err := Parse(src, Options{QuotedIdentifier: true})
		if err == nil {
			if sel, ok := stmts[0].(*Select); ok {
				_, err = Translate(sel, testEnv())
			}
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("%s took %s (%v)", name, d, err)
		}
	}
}
