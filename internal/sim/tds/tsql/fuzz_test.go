package tsql

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fakeCatalog serves two tables shaped like SAP's.
type fakeCatalog map[string]*Table

func (m fakeCatalog) Table(name string) (*Table, bool) {
	t, ok := m[strings.ToUpper(name)]
	return t, ok
}

var testCatalog = fakeCatalog{
	"OITW": {Name: "OITW", Columns: []Column{
		{Name: "ItemCode", Type: Type{Kind: TNVarChar, Len: 50}},
		{Name: "WhsCode", Type: Type{Kind: TNVarChar, Len: 8}},
		{Name: "OnHand", Type: Type{Kind: TDecimal, Precision: 19, Scale: 6, Numeric: true}},
		{Name: "IsCommited", Type: Type{Kind: TDecimal, Precision: 19, Scale: 6, Numeric: true}},
		{Name: "updateDate", Type: Type{Kind: TDateTime}, Nullable: true},
	}},
	"ORDR": {Name: "ORDR", Columns: []Column{
		{Name: "DocEntry", Type: Type{Kind: TInt}},
		{Name: "CardCode", Type: Type{Kind: TNVarChar, Len: 15}},
		{Name: "UpdateDate", Type: Type{Kind: TDateTime}},
		{Name: "UpdateTS", Type: Type{Kind: TInt}},
		{Name: "Comments", Type: Type{Kind: TNVarChar, Len: 254}, Nullable: true},
	}},
}

func testEnv() *Env {
	return &Env{Catalog: testCatalog, Schema: "sbo_x", Collation: `"sbo_x"."ci"`, Database: "SBODemo", AnsiNulls: true,
		Params: []ParamDecl{{Name: "@p1", Type: Type{Kind: TNVarChar, Len: 50}}, {Name: "@n", Type: Type{Kind: TBigInt}}, {Name: "@d", Type: Type{Kind: TDateTimeOffset, Scale: 7}}},
		SysVar: func(n string) (Value, bool) { return IntValue(TInt, 1), n == "@@SPID" },
	}
}

var fuzzSeeds = []string{
	"SELECT TOP (@n) ItemCode, WhsCode, OnHand FROM OITW WITH (NOLOCK) WHERE ItemCode > @p1 OR (ItemCode = @p1 AND WhsCode > N'01') ORDER BY ItemCode, WhsCode",
	"SELECT MAX(DocEntry) FROM ORDR",
	"SELECT o.DocEntry FROM ORDR o JOIN OITW w ON w.ItemCode = o.CardCode WHERE o.UpdateDate > @d OR (o.UpdateDate = @d AND o.UpdateTS >= 120000)",
	"SET NOCOUNT ON; SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRAN; SELECT @@SPID; COMMIT",
	"SELECT CAST(OnHand AS int), CONVERT(varchar(8), updateDate, 112), ISNULL(updateDate, '20240101') FROM OITW",
	"SELECT ItemCode FROM OITW WHERE ItemCode LIKE '[a-c]%' ESCAPE '!' AND OnHand BETWEEN 1 AND 2.5 AND WhsCode NOT IN ('01', '02')",
	"SELECT CASE WHEN OnHand > 0 THEN 'y' ELSE 'n' END FROM OITW GROUP BY OnHand HAVING COUNT(*) > 1 ORDER BY 1 DESC OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY",
	"UPDATE OITW SET OnHand = 0 -- comment\n/* nested /* comment */ */",
	"SELECT [a]]b] FROM [OITW] t WHERE t.[ItemCode] = 'it''s'",
	"SELECT 1.5e3, 0x1F, -2147483648, N''",
}

// FuzzParse: the parser never panics, and what it accepts it parsed to the
// end; accepted SELECTs translate without panicking, with placeholders
// numbered densely.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			return
		}
		toks, lexErr := Lex(src, LexOptions{QuotedIdentifier: true})
		p := &parser{toks: toks, opts: Options{QuotedIdentifier: true, Database: "SBODemo"}}
		var stmts []Statement
		var err error
		if lexErr == nil {
			var perr *Error
			stmts, perr = p.batch()
			if perr != nil {
				err = perr
			}
		} else {
			err = lexErr
		}
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Number == 0 || se.Message == "" {
				t.Fatalf("%q: error without a SQL Server number: %v", src, err)
			}
			return
		}
		refused := false
		for _, s := range stmts {
			if _, ok := s.(*Refused); ok {
				refused = true
			}
		}
		if !refused && p.peek().Kind != EOF {
			t.Fatalf("%q accepted with tokens left at %d: %+v", src, p.i, p.peek())
		}
		for _, s := range stmts {
			sel, ok := s.(*Select)
			if !ok {
				continue
			}
			q, err := Translate(sel, testEnv())
			if err != nil {
				var se *Error
				if !errors.As(err, &se) || se.Number == 0 {
					t.Fatalf("%q: translation error without a number: %v", src, err)
				}
				continue
			}
			for i := range q.Args {
				if !strings.Contains(q.SQL, "$"+strconv.Itoa(i+1)+"::text") {
					t.Fatalf("%q: $%d missing from %s", src, i+1, q.SQL)
				}
			}
			if strings.ContainsRune(q.SQL, 0) {
				t.Fatalf("%q: placeholder left in %s", src, q.SQL)
			}
		}
	})
}

// FuzzParamDecls: sp_executesql's @params never panics the parser.
func FuzzParamDecls(f *testing.F) {
	for _, s := range []string{"@p1 bigint,@p2 nvarchar(5)", "@id int, @name nvarchar(max) OUTPUT", "@d datetimeoffset(7)", "@x decimal(19, 6)", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		decls, err := ParseParamDecls(src)
		if err != nil {
			return
		}
		for _, d := range decls {
			if !strings.HasPrefix(d.Name, "@") || d.Type.Kind == TNone {
				t.Fatalf("%q: bad declaration %+v", src, d)
			}
		}
	})
}

// FuzzLike: every LIKE pattern becomes a regular expression.
func FuzzLike(f *testing.F) {
	for _, s := range []string{"A%", "%[_]%", "[^a-c]x_", "50!%", "[", "a[]b", `\.*+?`} {
		f.Add(s, "!")
	}
	f.Fuzz(func(t *testing.T, pattern, esc string) {
		r := []rune(esc)
		re, err := likeRegex(pattern, firstRune(r), len(r) == 1)
		if err != nil {
			return
		}
		if !strings.HasPrefix(re, "^") || !strings.HasSuffix(re, "$") && re != neverMatch {
			t.Fatalf("%q: unanchored %q", pattern, re)
		}
	})
}

func firstRune(r []rune) rune {
	if len(r) == 0 {
		return 0
	}
	return r[0]
}
