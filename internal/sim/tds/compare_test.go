package tds_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// SELECTs the reader never sends, each next to the same question asked of
// Postgres directly (written by hand, not translated), over a company the
// Service Layer filled.
func TestSelectsMatchPostgres(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(30)
	db := c.db("")
	for _, tc := range []struct{ tsql, pg string }{
		// Column lists, aliases, stars.
		{`SELECT * FROM OWHS ORDER BY WhsCode`, `SELECT * FROM "OWHS" ORDER BY "WhsCode"`},
		{`SELECT w.* FROM OWHS AS w WHERE w.WhsCode <> '02' ORDER BY 1`, `SELECT * FROM "OWHS" WHERE "WhsCode" <> '02' ORDER BY 1`},
		{`SELECT [ItemCode] AS [Item code], itemname name, Code = ItemCode FROM [dbo].[OITM] ORDER BY [Item code] DESC`,
			`SELECT "ItemCode", "ItemName", "ItemCode" FROM "OITM" ORDER BY 1 DESC`},
		{`SELECT ItemCode, FrgnName FROM OITM ORDER BY FrgnName, ItemCode`, `SELECT "ItemCode", "FrgnName" FROM "OITM" ORDER BY 2 NULLS FIRST, 1`},
		{`SELECT ItemCode, FrgnName FROM OITM ORDER BY FrgnName DESC, ItemCode DESC`, `SELECT "ItemCode", "FrgnName" FROM "OITM" ORDER BY 2 DESC NULLS LAST, 1 DESC`},
		// Each comparison operator, on numbers and on case-insensitive text.
		{`SELECT ItemCode, WhsCode FROM OITW WHERE OnHand = 10.5 ORDER BY 1, 2`, `SELECT "ItemCode", "WhsCode" FROM "OITW" WHERE "OnHand" = 10.5 ORDER BY 1, 2`},
		{`SELECT ItemCode, WhsCode FROM OITW WHERE OnHand != 0 AND OnHand <> 4 ORDER BY 1, 2`, `SELECT "ItemCode", "WhsCode" FROM "OITW" WHERE "OnHand" <> 0 AND "OnHand" <> 4 ORDER BY 1, 2`},
		{`SELECT ItemCode, WhsCode FROM OITW WHERE OnHand < 8 AND OnHand > 0 ORDER BY 1, 2`, `SELECT "ItemCode", "WhsCode" FROM "OITW" WHERE "OnHand" < 8 AND "OnHand" > 0 ORDER BY 1, 2`},
		{`SELECT ItemCode, WhsCode FROM OITW WHERE OnHand <= 8 AND OnHand >= 4 ORDER BY 1, 2`, `SELECT "ItemCode", "WhsCode" FROM "OITW" WHERE "OnHand" <= 8 AND "OnHand" >= 4 ORDER BY 1, 2`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode = 'a-001'`, `SELECT 'A-001'`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode IN ('a-010', N'A-020', 'zzz') ORDER BY ItemCode`, `SELECT "ItemCode" FROM "OITM" WHERE lower("ItemCode") IN ('a-010', 'a-020') ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode NOT IN ('A-001', 'a-002') AND ItemCode < 'A-006' ORDER BY ItemCode`, `SELECT "ItemCode" FROM "OITM" WHERE "ItemCode" IN ('A-003', 'A-004', 'a-005') ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode BETWEEN 'a-010' AND 'A-013' ORDER BY ItemCode`, `SELECT "ItemCode" FROM "OITM" WHERE "ItemCode" BETWEEN 'A-010' AND 'A-013' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode NOT BETWEEN 'A-002' AND 'KIT-1' ORDER BY ItemCode`, `SELECT "ItemCode" FROM "OITM" WHERE "ItemCode" = 'A-001' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE FrgnName IS NULL AND NOT (ItemCode >= 'A-010') ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE "FrgnName" IS NULL AND "ItemCode" < 'A-010' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE FrgnName IS NOT NULL ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE "FrgnName" IS NOT NULL ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemName LIKE 'T-SHIRT%' ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE lower("ItemName") COLLATE "C" LIKE 't-shirt%' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemName LIKE '%[_]%' OR ItemName LIKE '50!%%' ESCAPE '!' ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE "ItemName" COLLATE "C" LIKE '%\_%' OR "ItemName" COLLATE "C" LIKE '50\%%' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemName LIKE '[[]bracketed]%' ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE "ItemName" COLLATE "C" LIKE '[bracketed]%' ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE ItemCode NOT LIKE 'A-0_[0-4]' ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE NOT ("ItemCode" COLLATE "C" ~* '^A-0.[0-4]$') ORDER BY 1`},
		{`SELECT ItemCode FROM OITM WHERE (ItemCode < 'A-003' OR ItemCode > 'A-028') AND NOT ItemCode = 'KIT-1' ORDER BY 1`, `SELECT "ItemCode" FROM "OITM" WHERE ("ItemCode" < 'A-003' OR "ItemCode" > 'A-028') AND "ItemCode" <> 'KIT-1' ORDER BY 1`},
		// TOP, OFFSET/FETCH.
		{`SELECT TOP 5 ItemCode, WhsCode, OnHand FROM OITW ORDER BY OnHand DESC, ItemCode, WhsCode`, `SELECT "ItemCode", "WhsCode", "OnHand" FROM "OITW" ORDER BY 3 DESC, 1, 2 LIMIT 5`},
		{`SELECT ItemCode FROM OITM ORDER BY ItemCode OFFSET 10 ROWS FETCH NEXT 4 ROWS ONLY`, `SELECT "ItemCode" FROM "OITM" ORDER BY 1 OFFSET 10 LIMIT 4`},
		{`SELECT ItemCode FROM OITM ORDER BY ItemCode DESC OFFSET 28 ROWS`, `SELECT "ItemCode" FROM "OITM" ORDER BY 1 DESC OFFSET 28`},
		// Joins.
		{`SELECT T0.ItemCode, T1.WhsCode, T1.OnHand FROM OITM T0 INNER JOIN OITW T1 ON T0.ItemCode = T1.ItemCode WHERE T1.OnHand > 20 ORDER BY 1, 2`,
			`SELECT i."ItemCode", w."WhsCode", w."OnHand" FROM "OITM" i JOIN "OITW" w ON w."ItemCode" = i."ItemCode" WHERE w."OnHand" > 20 ORDER BY 1, 2`},
		{`SELECT T0.ItemCode, T1.Code, T1.TreeType FROM OITM T0 LEFT JOIN OITT T1 ON T1.Code = T0.ItemCode ORDER BY T0.ItemCode`,
			`SELECT i."ItemCode", b."Code", b."TreeType" FROM "OITM" i LEFT JOIN "OITT" b ON b."Code" = i."ItemCode" ORDER BY 1`},
		{`SELECT T1.Code, T0.ItemName FROM OITT T1 RIGHT OUTER JOIN OITM T0 ON T1.Code = T0.ItemCode WHERE T0.ItemCode LIKE 'K%'`,
			`SELECT b."Code", i."ItemName" FROM "OITM" i LEFT JOIN "OITT" b ON b."Code" = i."ItemCode" WHERE i."ItemCode" COLLATE "C" LIKE 'K%'`},
		{`SELECT o.DocEntry, l.LineNum, l.ItemCode, i.ItemName FROM ORDR o, RDR1 l, OITM i WHERE l.DocEntry = o.DocEntry AND i.ItemCode = l.ItemCode AND o.CardCode = 'c2'`,
			`SELECT o."DocEntry", l."LineNum", l."ItemCode", i."ItemName" FROM "ORDR" o JOIN "RDR1" l ON l."DocEntry" = o."DocEntry" JOIN "OITM" i ON i."ItemCode" = l."ItemCode" WHERE o."CardCode" = 'C2'`},
		// Aggregates, grouping, DISTINCT.
		{`SELECT WhsCode, COUNT(*) AS n, SUM(OnHand) total, MIN(OnHand), MAX(OnHand), AVG(OnHand), COUNT(DISTINCT ItemCode) FROM OITW GROUP BY WhsCode HAVING SUM(OnHand) > 0 ORDER BY WhsCode`,
			`SELECT "WhsCode", count(*), sum("OnHand"), min("OnHand"), max("OnHand"), round(avg("OnHand"), 6), count(DISTINCT "ItemCode") FROM "OITW" GROUP BY 1 HAVING sum("OnHand") > 0 ORDER BY 1`},
		{`SELECT ItemCode, SUM(OnHand - IsCommited) avail FROM OITW WHERE WhsCode IN ('01', '02') GROUP BY ItemCode HAVING SUM(OnHand - IsCommited) < 5 ORDER BY avail, ItemCode`,
			`SELECT "ItemCode", sum("OnHand" - "IsCommited") FROM "OITW" WHERE "WhsCode" IN ('01', '02') GROUP BY 1 HAVING sum("OnHand" - "IsCommited") < 5 ORDER BY 2, 1`},
		{`SELECT COUNT(*), MAX(TransSeq), MIN(CreateDate) FROM OIVL`, `SELECT count(*), max("TransSeq"), min("CreateDate") FROM "OIVL"`},
		{`SELECT COUNT(*) FROM OIVL WHERE TransSeq < 0`, `SELECT 0`},
		{`SELECT MAX(TransSeq) FROM OIVL WHERE TransSeq < 0`, `SELECT NULL`},
		{`SELECT DISTINCT LocCode FROM OIVL ORDER BY LocCode`, `SELECT DISTINCT "LocCode" FROM "OIVL" ORDER BY 1`},
		{`SELECT DISTINCT upper(left_side.ItemName) FROM OITM left_side WHERE left_side.ItemName LIKE 't-shirt%' ORDER BY 1`,
			`SELECT DISTINCT upper("ItemName") FROM "OITM" WHERE "ItemName" COLLATE "C" ILIKE 't-shirt%' ORDER BY 1`},
		// Expressions.
		{`SELECT ItemCode, OnHand - IsCommited, OnHand * 2, OnHand / 4, CAST(OnHand AS int), ISNULL(FrgnName, ItemName), COALESCE(FrgnName, N'-'),
				CASE WHEN OnHand > 10 THEN 'many' WHEN OnHand > 0 THEN 'some' ELSE 'none' END
			FROM OITM ORDER BY ItemCode`,
			`SELECT "ItemCode", "OnHand" - "IsCommited", "OnHand" * 2, round("OnHand" / 4, 17), trunc("OnHand")::int, coalesce("FrgnName", "ItemName"), coalesce("FrgnName", '-'),
				CASE WHEN "OnHand" > 10 THEN 'many' WHEN "OnHand" > 0 THEN 'some' ELSE 'none' END FROM "OITM" ORDER BY 1`},
		{`SELECT DocEntry, DocTotal, CONVERT(varchar(10), DocDate, 23), DocEntry / 2, DocEntry % 2, -DocEntry FROM ORDR ORDER BY DocEntry`,
			`SELECT "DocEntry", "DocTotal", to_char("DocDate", 'YYYY-MM-DD'), "DocEntry" / 2, "DocEntry" % 2, -"DocEntry" FROM "ORDR" ORDER BY 1`},
		{`SELECT ItemCode + '/' + WhsCode AS k FROM OITW WHERE ItemCode = 'A-001' ORDER BY k`,
			`SELECT "ItemCode" || '/' || "WhsCode" FROM "OITW" WHERE "ItemCode" = 'A-001' ORDER BY 1`},
	} {
		got := sqlRows(t, db, tc.tsql)
		want := c.pgRows(tc.pg)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n  got  %v\n  want %v", tc.tsql, got, want)
		}
		if len(want) == 0 {
			t.Errorf("%s: the expected result is empty, the case proves little", tc.tsql)
		}
	}
	// Names and spellings clients use: three-part names, db..table, the old
	// hint form, comments, TOP without parentheses, FETCH FIRST … ROW.
	for _, q := range []string{
		"SELECT TOP 3 ItemCode FROM OITM (NOLOCK) ORDER BY ItemCode DESC",
		"SELECT TOP (3) T0.[ItemCode] FROM [" + c.name + "].[dbo].[OITM] AS T0 WITH (NOLOCK, INDEX(PK_OITM)) -- newest first\n ORDER BY T0.ItemCode /* codes are case-insensitive */ DESC",
		"select top 3 oitm.itemcode from " + strings.ToLower(c.name) + "..oitm order by 1 desc",
		"SELECT ItemCode FROM OITM ORDER BY ItemCode DESC OFFSET 0 ROW FETCH FIRST 3 ROW ONLY",
	} {
		got := sqlRows(t, db, q)
		want := c.pgRows(`SELECT "ItemCode" FROM "OITM" ORDER BY 1 DESC LIMIT 3`)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n  got  %v\n  want %v", q, got, want)
		}
	}
	// TOP without ORDER BY is allowed: some rows, as many as asked.
	if got := sqlRows(t, db, "SELECT TOP (3) ItemCode FROM OITW WHERE OnHand > 0"); len(got) != 3 {
		t.Errorf("TOP 3 without ORDER BY: %v", got)
	}
}

// stockRow is OITW as the random test evaluates it, in Go.
type stockRow struct {
	item, whs                string
	onHand, committed, order decimal.Decimal
}

// Random WHERE clauses over OITW, evaluated by the endpoint and by a
// small evaluator in Go over the rows read directly.
func TestRandomPredicatesMatchGo(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(25)
	db := c.db("")
	var rows []stockRow
	for _, r := range c.pgRows(`SELECT "ItemCode", "WhsCode", "OnHand", "IsCommited", "OnOrder" FROM "OITW"`) {
		rows = append(rows, stockRow{r[0], r[1], decimal.RequireFromString(r[2]), decimal.RequireFromString(r[3]), decimal.RequireFromString(r[4])})
	}
	rng := rand.New(rand.NewPCG(5, 17))
	g := &predGen{rng: rng, rows: rows}
	some := 0 // queries whose answer is neither empty nor everything
	for i := 0; i < 150; i++ {
		g.args = nil
		sqlText, eval := g.pred(2)
		var want []string
		for _, r := range rows {
			if eval(r) == yes {
				want = append(want, r.item+"|"+r.whs)
			}
		}
		query := "SELECT ItemCode, WhsCode FROM OITW WHERE " + sqlText
		var got []string
		for _, r := range sqlRows(t, db, query, g.args...) {
			got = append(got, r[0]+"|"+r[1])
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %v\n  got  %v\n  want %v", query, g.args, got, want)
		}
		if len(want) > 0 && len(want) < len(rows) {
			some++
		}
	}
	if some < 75 {
		t.Fatalf("only %d of 150 predicates selected some but not all rows", some)
	}
}

// tri is SQL's three-valued logic.
type tri int

const (
	no tri = iota
	yes
	unknown
)

type predGen struct {
	rng  *rand.Rand
	rows []stockRow
	args []any
}

func (g *predGen) pick(n int) int { return g.rng.IntN(n) }

// number is a constant: a value present in the data or near one, written
// as a literal or passed as a parameter of a random Go type.
func (g *predGen) number() (string, decimal.Decimal) {
	r := g.rows[g.pick(len(g.rows))]
	d := []decimal.Decimal{r.onHand, r.committed, r.onHand.Add(decimal.NewFromInt(1)), decimal.NewFromInt(int64(g.pick(30))), decimal.RequireFromString("7.25")}[g.pick(5)]
	if g.pick(2) == 0 {
		return d.String(), d
	}
	name := fmt.Sprintf("@p%d", len(g.args)+1)
	switch {
	case d.IsInteger() && g.pick(2) == 0:
		g.args = append(g.args, d.IntPart())
	case g.pick(2) == 0:
		f, _ := d.Float64()
		g.args = append(g.args, f)
	default:
		g.args = append(g.args, d.String()) // nvarchar, converted by the server
	}
	return name, d
}

func (g *predGen) text(field func(stockRow) string) (string, string) {
	v := field(g.rows[g.pick(len(g.rows))])
	if g.pick(2) == 0 {
		v = strings.ToLower(v)
	}
	if g.pick(2) == 0 {
		return "'" + v + "'", v
	}
	g.args = append(g.args, v)
	return fmt.Sprintf("@p%d", len(g.args)), v
}

var numCols = []struct {
	name string
	get  func(stockRow) decimal.Decimal
}{
	{"OnHand", func(r stockRow) decimal.Decimal { return r.onHand }},
	{"IsCommited", func(r stockRow) decimal.Decimal { return r.committed }},
	{"OnOrder", func(r stockRow) decimal.Decimal { return r.order }},
	{"OnHand - IsCommited", func(r stockRow) decimal.Decimal { return r.onHand.Sub(r.committed) }},
}

var textCols = []struct {
	name string
	get  func(stockRow) string
}{
	{"ItemCode", func(r stockRow) string { return r.item }},
	{"WhsCode", func(r stockRow) string { return r.whs }},
}

func (g *predGen) pred(depth int) (string, func(stockRow) tri) {
	if depth > 0 {
		switch g.pick(5) {
		case 0:
			a, ea := g.pred(depth - 1)
			b, eb := g.pred(depth - 1)
			return "(" + a + " AND " + b + ")", func(r stockRow) tri { return and(ea(r), eb(r)) }
		case 1:
			a, ea := g.pred(depth - 1)
			b, eb := g.pred(depth - 1)
			return "(" + a + " OR " + b + ")", func(r stockRow) tri { return or(ea(r), eb(r)) }
		case 2:
			a, ea := g.pred(depth - 1)
			return "NOT (" + a + ")", func(r stockRow) tri { return not(ea(r)) }
		}
	}
	if g.pick(3) > 0 {
		col := numCols[g.pick(len(numCols))]
		switch g.pick(4) {
		case 0, 1:
			ops := []string{"=", "<>", "!=", "<", "<=", ">", ">=", "!<", "!>"}
			op := ops[g.pick(len(ops))]
			lit, v := g.number()
			return col.name + " " + op + " " + lit, func(r stockRow) tri { return cmp(col.get(r).Cmp(v), op) }
		case 2:
			a, va := g.number()
			b, vb := g.number()
			neg := g.pick(2) == 0
			s := col.name + " BETWEEN " + a + " AND " + b
			if neg {
				s = col.name + " NOT BETWEEN " + a + " AND " + b
			}
			return s, func(r stockRow) tri {
				x := col.get(r)
				in := x.Cmp(va) >= 0 && x.Cmp(vb) <= 0
				return boolTri(in != neg)
			}
		default:
			var lits []string
			var vals []decimal.Decimal
			for k := 0; k < 1+g.pick(4); k++ {
				l, v := g.number()
				lits, vals = append(lits, l), append(vals, v)
			}
			neg := g.pick(2) == 0
			s := col.name + " IN (" + strings.Join(lits, ", ") + ")"
			if neg {
				s = col.name + " NOT IN (" + strings.Join(lits, ", ") + ")"
			}
			return s, func(r stockRow) tri {
				in := false
				for _, v := range vals {
					in = in || col.get(r).Equal(v)
				}
				return boolTri(in != neg)
			}
		}
	}
	col := textCols[g.pick(len(textCols))]
	switch g.pick(3) {
	case 0:
		lit, v := g.text(col.get)
		op := []string{"=", "<>"}[g.pick(2)]
		return col.name + " " + op + " " + lit, func(r stockRow) tri { return boolTri(strings.EqualFold(col.get(r), v) == (op == "=")) }
	case 1:
		var lits, vals []string
		for k := 0; k < 1+g.pick(3); k++ {
			l, v := g.text(col.get)
			lits, vals = append(lits, l), append(vals, v)
		}
		return col.name + " IN (" + strings.Join(lits, ", ") + ")", func(r stockRow) tri {
			for _, v := range vals {
				if strings.EqualFold(col.get(r), v) {
					return yes
				}
			}
			return no
		}
	}
	// LIKE with % and _ on a prefix of a real value.
	v := col.get(g.rows[g.pick(len(g.rows))])
	n := 1 + g.pick(len(v))
	pat := []rune(strings.ToLower(v[:n]))
	if len(pat) > 1 && g.pick(2) == 0 {
		pat[g.pick(len(pat))] = '_'
	}
	p := string(pat) + "%"
	return col.name + " LIKE '" + p + "'", func(r stockRow) tri { return boolTri(likeMatch(strings.ToLower(col.get(r)), p)) }
}

func likeMatch(s, p string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if likeMatch(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && likeMatch(s[1:], p[1:])
	}
	return s != "" && s[0] == p[0] && likeMatch(s[1:], p[1:])
}

func cmp(c int, op string) tri {
	switch op {
	case "=":
		return boolTri(c == 0)
	case "<>", "!=":
		return boolTri(c != 0)
	case "<":
		return boolTri(c < 0)
	case "<=", "!>":
		return boolTri(c <= 0)
	case ">":
		return boolTri(c > 0)
	}
	return boolTri(c >= 0) // >=, !<
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

func and(a, b tri) tri {
	if a == no || b == no {
		return no
	}
	if a == yes && b == yes {
		return yes
	}
	return unknown
}

func or(a, b tri) tri {
	if a == yes || b == yes {
		return yes
	}
	if a == no && b == no {
		return no
	}
	return unknown
}

func not(a tri) tri {
	switch a {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}
