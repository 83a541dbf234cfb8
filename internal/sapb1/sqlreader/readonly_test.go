package sqlreader

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// Every query the reader sends is one SELECT (DESIGN invariant 1: SAP is
// written only through the Service Layer). The simulator's T-SQL parser
// reads them as SQL Server would: anything else, INSERT, UPDATE, DELETE,
// MERGE, EXEC, SELECT INTO or DDL, is a failure here.
func TestEveryQueryOnlyReads(t *testing.T) {
	names, err := fs.Glob(files, "sql/*.sql")
	if err != nil || len(names) < 10 {
		t.Fatalf("queries: %v, %v", names, err)
	}
	for _, name := range names {
		text := query(strings.TrimSuffix(strings.TrimPrefix(name, "sql/"), ".sql"))
		stmts, err := tsql.Parse(text, tsql.Options{QuotedIdentifier: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(stmts) != 1 {
			t.Errorf("%s: %d statements, want one SELECT", name, len(stmts))
			continue
		}
		if _, ok := stmts[0].(*tsql.Select); !ok {
			t.Errorf("%s: %T, want a SELECT", name, stmts[0])
		}
	}
}
