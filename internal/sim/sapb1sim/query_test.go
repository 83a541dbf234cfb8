package sapb1sim

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim/odata"
)

// The $filter translation is checked against a brute-force evaluator: the
// same tree evaluated in Go over the rows the simulator returns unfiltered
// must select exactly the rows the simulator's SQL selects. Strings compare
// case-insensitively (SQL Server), NULL follows SQL's three-valued logic.

type qkind int

const (
	qStr qkind = iota
	qNum
	qDate
	qEnum
)

type qfield struct {
	name  string
	kind  qkind
	enum  *enumType
	plain bool // values are plain alphanumerics: safe for gt/lt
}

var orderFields = []qfield{
	{"DocEntry", qNum, nil, true}, {"DocNum", qNum, nil, true}, {"DocTotal", qNum, nil, true}, {"DiscountPercent", qNum, nil, true},
	{"CardCode", qStr, nil, true}, {"NumAtCard", qStr, nil, false}, {"Comments", qStr, nil, false}, {"U_Channel", qStr, nil, true},
	{"DocDate", qDate, nil, true}, {"DocDueDate", qDate, nil, true},
	{"DocumentStatus", qEnum, enumStatus, true}, {"Cancelled", qEnum, enumCancelled, true},
}

type row map[string]any // field → nil, string, decimal.Decimal

// tri is SQL's three-valued logic: 1 true, 0 false, -1 unknown.
type tri int

func and3(a, b tri) tri {
	if a == 0 || b == 0 {
		return 0
	}
	if a == -1 || b == -1 {
		return -1
	}
	return 1
}

func or3(a, b tri) tri {
	if a == 1 || b == 1 {
		return 1
	}
	if a == -1 || b == -1 {
		return -1
	}
	return 0
}

func fieldByName(name string) qfield {
	for _, f := range orderFields {
		if f.name == name {
			return f
		}
	}
	panic(name)
}

// literalValue converts a literal for field f the way SAP reads it.
func literalValue(f qfield, lit odata.Literal) any {
	switch f.kind {
	case qNum:
		return decimal.RequireFromString(lit.Value)
	case qDate:
		d, ok := parseDate(lit.Value)
		if !ok {
			panic(lit.Value)
		}
		return d
	case qEnum:
		l, _ := f.enum.parse(lit.Value)
		return l
	}
	return lit.Value
}

func cmp(a, b any) int {
	switch x := a.(type) {
	case decimal.Decimal:
		return x.Cmp(b.(decimal.Decimal))
	case string:
		return strings.Compare(strings.ToLower(x), strings.ToLower(b.(string)))
	}
	panic(a)
}

func eval(e odata.Expr, r row) tri {
	switch x := e.(type) {
	case odata.Logical:
		if x.Op == "and" {
			return and3(eval(x.L, r), eval(x.R, r))
		}
		return or3(eval(x.L, r), eval(x.R, r))
	case odata.Not:
		switch eval(x.X, r) {
		case 1:
			return 0
		case 0:
			return 1
		}
		return -1
	case odata.Call:
		fa, la := x.Args[0], x.Args[1]
		if x.Func == "substringof" {
			fa, la = la, fa
		}
		v := r[fa.(odata.Field).Path[0]]
		if v == nil {
			return -1
		}
		s, p := strings.ToLower(v.(string)), strings.ToLower(la.(odata.Literal).Value)
		ok := map[string]func(string, string) bool{"startswith": strings.HasPrefix, "endswith": strings.HasSuffix, "contains": strings.Contains, "substringof": strings.Contains}[x.Func](s, p)
		if ok {
			return 1
		}
		return 0
	case odata.Compare:
		op, l, rr := x.Op, x.L, x.R
		if _, ok := l.(odata.Literal); ok {
			l, rr, op = rr, l, flipped[op]
		}
		f := fieldByName(l.(odata.Field).Path[0])
		a := r[f.name]
		var b any
		switch y := rr.(type) {
		case odata.Field:
			b = r[y.Path[0]]
		case odata.Literal:
			if y.Kind == odata.LitNull {
				isNull := a == nil
				if (op == "eq") == isNull {
					return 1
				}
				return 0
			}
			b = literalValue(f, y)
		}
		if a == nil || b == nil {
			return -1
		}
		c := cmp(a, b)
		ok := map[string]bool{"eq": c == 0, "ne": c != 0, "gt": c > 0, "ge": c >= 0, "lt": c < 0, "le": c <= 0}[op]
		if ok {
			return 1
		}
		return 0
	}
	panic(e)
}

// filterGen draws random filters over the rows' own values.
type filterGen struct {
	rng  *rand.Rand
	rows []row
}

func (g *filterGen) pick(f qfield) any {
	for range 10 {
		if v := g.rows[g.rng.IntN(len(g.rows))][f.name]; v != nil {
			return v
		}
	}
	return nil
}

func (g *filterGen) literal(f qfield) odata.Literal {
	v := g.pick(f)
	if v == nil || g.rng.IntN(12) == 0 {
		return odata.Literal{Kind: odata.LitNull, Value: "null"}
	}
	switch f.kind {
	case qNum:
		d := v.(decimal.Decimal)
		if g.rng.IntN(3) == 0 {
			d = d.Add(decimal.NewFromFloat(0.5))
		}
		return odata.Literal{Kind: odata.LitNumber, Value: d.String()}
	case qDate:
		s := v.(string)
		switch g.rng.IntN(4) {
		case 0:
			return odata.Literal{Kind: odata.LitString, Value: strings.ReplaceAll(s, "-", "")}
		case 1:
			return odata.Literal{Kind: odata.LitDateTime, Value: s}
		case 2:
			return odata.Literal{Kind: odata.LitString, Value: s + "T10:11:12"}
		}
		return odata.Literal{Kind: odata.LitString, Value: s}
	case qEnum:
		l := v.(string)
		if g.rng.IntN(2) == 0 {
			return odata.Literal{Kind: odata.LitString, Value: l}
		}
		return odata.Literal{Kind: odata.LitString, Value: f.enum.nameOf(l)}
	}
	s := v.(string)
	if g.rng.IntN(2) == 0 {
		s = strings.ToUpper(s)
	}
	return odata.Literal{Kind: odata.LitString, Value: s}
}

func (g *filterGen) leaf() odata.Expr {
	f := orderFields[g.rng.IntN(len(orderFields))]
	fld := odata.Field{Path: []string{f.name}}
	if f.kind == qStr && g.rng.IntN(4) == 0 {
		v, _ := g.pick(f).(string)
		p := v[:g.rng.IntN(len(v)+1)]
		if g.rng.IntN(2) == 0 {
			p = strings.ToUpper(p)
		}
		lit := odata.Literal{Kind: odata.LitString, Value: p}
		switch fn := []string{"startswith", "endswith", "contains", "substringof"}[g.rng.IntN(4)]; fn {
		case "substringof":
			return odata.Call{Func: fn, Args: []odata.Expr{lit, fld}}
		default:
			return odata.Call{Func: fn, Args: []odata.Expr{fld, lit}}
		}
	}
	ops := []string{"eq", "ne"}
	if f.plain {
		ops = []string{"eq", "ne", "gt", "ge", "lt", "le"}
	}
	op := ops[g.rng.IntN(len(ops))]
	if f.kind == qDate && g.rng.IntN(5) == 0 {
		return odata.Compare{Op: op, L: odata.Field{Path: []string{"DocDate"}}, R: odata.Field{Path: []string{"DocDueDate"}}}
	}
	lit := g.literal(f)
	if lit.Kind == odata.LitNull {
		op = []string{"eq", "ne"}[g.rng.IntN(2)]
	}
	if g.rng.IntN(4) == 0 && lit.Kind != odata.LitNull {
		return odata.Compare{Op: flipped[op], L: lit, R: fld}
	}
	return odata.Compare{Op: op, L: fld, R: lit}
}

func (g *filterGen) expr(depth int) odata.Expr {
	if depth == 0 || g.rng.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.rng.IntN(3) {
	case 0:
		return odata.Not{X: g.expr(depth - 1)}
	case 1:
		return odata.Logical{Op: "and", L: g.expr(depth - 1), R: g.expr(depth - 1)}
	}
	return odata.Logical{Op: "or", L: g.expr(depth - 1), R: g.expr(depth - 1)}
}

func rowsOf(r *resp) []row {
	var out []row
	for _, v := range r.json["value"].([]any) {
		m := v.(map[string]any)
		rw := row{}
		for _, f := range orderFields {
			switch x := m[f.name].(type) {
			case nil:
				rw[f.name] = nil
			case string:
				if f.kind == qEnum {
					l, _ := f.enum.parse(x)
					rw[f.name] = l
				} else {
					rw[f.name] = x
				}
			default:
				rw[f.name] = jdec(x)
			}
		}
		out = append(out, rw)
	}
	return out
}

func TestFilterMatchesBruteForce(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "c10", "CardName": "ten"})
	c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": "C9", "CardName": "nine"})
	// Before the UDF exists, filtering on it is an unknown property.
	wantError(t, c.do("GET", "Orders?$filter=U_Channel eq 'x'", nil), 400, -1000, "Property 'U_Channel' of 'Document' is invalid")
	c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "Channel", "Type": "db_Alpha", "Size": 20, "TableName": "ORDR"})
	rng := rand.New(rand.NewPCG(7, 11))
	cards := []string{"C1", "c10", "C9"}
	nums := []any{nil, "577-001", "O'Brien", "o'brien 2", "TikTok", "tiktok", "50% off", "a_b"}
	channels := []any{nil, "tiktok", "TikTok", "web", "Web2", "shop10"}
	for i := range 36 {
		body := map[string]any{
			"CardCode":   cards[rng.IntN(len(cards))],
			"DocDate":    fmt.Sprintf("2024-05-%02d", 1+rng.IntN(9)),
			"DocDueDate": fmt.Sprintf("2024-05-%02d", 3+rng.IntN(9)),
			"NumAtCard":  nums[rng.IntN(len(nums))],
			"U_Channel":  channels[rng.IntN(len(channels))],
			"DocumentLines": []any{map[string]any{"ItemCode": "A", "Quantity": 1 + rng.IntN(3), "WarehouseCode": "01",
				"UnitPrice": fmt.Sprintf("%d.%02d", rng.IntN(20), rng.IntN(100))}},
		}
		if i%3 == 0 {
			body["Comments"] = fmt.Sprintf("note %d", i)
		}
		if i%5 == 0 {
			body["DiscountPercent"] = 10
		}
		n := jnum(c.must(201, "POST", "Orders", body).json["DocEntry"])
		switch i % 7 {
		case 1:
			c.must(204, "POST", fmt.Sprintf("Orders(%d)/Close", n), nil)
		case 2:
			c.must(204, "POST", fmt.Sprintf("Orders(%d)/Cancel", n), nil)
		}
	}
	sel := "$select=" + strings.Join(func() []string {
		var s []string
		for _, f := range orderFields {
			s = append(s, f.name)
		}
		return s
	}(), ",")
	all := rowsOf(c.must(200, "GET", "Orders?"+sel, nil, "Prefer", "odata.maxpagesize=0"))
	if len(all) != 36 {
		t.Fatalf("%d orders", len(all))
	}
	var filters []string
	for _, f := range []string{
		"DocEntry lt 8 and ((DocEntry lt 8 or DocEntry gt 16) and startswith(CardCode,'c1'))",
		"not (startswith(NumAtCard, 'tik') and Comments eq null)",
		"NumAtCard eq 'O''Brien'", "NumAtCard eq 'o''brien'", "contains(NumAtCard,'''')", "contains(NumAtCard,'%')", "contains(NumAtCard,'_')",
		"DocDate eq '2024-05-03'", "DocDate ge '20240505'", "DocDate lt datetime'2024-05-04'", "DocDate le '2024-05-04T23:59:59'",
		"DocumentStatus eq 'bost_Close'", "DocumentStatus eq 'C'", "Cancelled eq 'tYES'", "Cancelled ne 'Y' and DocumentStatus eq 'O'",
		"U_Channel eq 'TIKTOK'", "U_Channel ne null", "U_Channel eq null or U_Channel gt 'web'", "DocTotal gt 20.5", "DiscountPercent eq 10",
		"CardCode gt 'C1'", "DocDate lt DocDueDate", "5 gt DocEntry", "startswith(CardCode,'c1') eq false",
	} {
		filters = append(filters, f)
	}
	g := &filterGen{rng: rng, rows: all}
	for range 250 {
		filters = append(filters, g.expr(3).String())
	}
	for _, f := range filters {
		tree, err := odata.ParseFilter(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want []int
		for _, r := range all {
			if eval(tree, r) == 1 {
				want = append(want, int(r["DocEntry"].(decimal.Decimal).IntPart()))
			}
		}
		got := c.must(200, "GET", "Orders?$select=DocEntry&$filter="+url.QueryEscape(f), nil, "Prefer", "odata.maxpagesize=0")
		var ids []int
		for _, v := range got.json["value"].([]any) {
			ids = append(ids, jnum(v.(map[string]any)["DocEntry"]))
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("$filter=%s\n simulator: %v\n expected:  %v", f, ids, want)
		}
	}
}

func TestBadQueriesAreRefusedNeverAnswered(t *testing.T) {
	ts := shop(t, nil)
	ts.order("C1", line("A", "01", 1))
	for _, q := range []string{
		"$filter=", "$filter=DocEntry", "$filter=DocEntry eq", "$filter=DocEntry eq 1)", "$filter=DocEntry eq 1 or",
		"$filter=DocEntry == 1", "$filter=DocEntry eq 1; DROP TABLE ORDR", "$filter=tolower(CardCode) eq 'c1'",
		"$filter=DocEntry add 1 eq 2", "$filter=true", "$filter=CardCode eq 'unterminated",
		"$filter=DocStatus eq 'O'", "$filter=NoSuchField eq 1", "$filter=u_channel eq 'x'",
		"$filter=DocumentLines/ItemCode eq 'A'", "$filter=DocumentLines eq null",
		"$filter=DocEntry eq 'x'", "$filter=CardCode eq 1", "$filter=DocDate eq 'yesterday'", "$filter=DocumentStatus eq 'bost_Maybe'",
		"$filter=startswith(DocEntry,'1')", "$filter=DocEntry gt null", "$filter=DocDate eq DocEntry",
		"$select=DocEntry,Nope", "$select=DocumentLines/ItemCode", "$orderby=Nope desc", "$orderby=DocEntry sideways",
		"$top=-1", "$top=x", "$skip=1.5", "$inlinecount=some", "$expand=DocumentLines", "$format=xml",
		"$filter=DocEntry eq 1&$filter=DocEntry eq 2",
	} {
		r := ts.c.do("GET", "Orders?"+q, nil)
		if r.status != 400 || r.sapCode() != -1000 || r.json["value"] != nil {
			t.Errorf("%s: want 400 -1000 and no rows, got %s", q, r)
		}
	}
	wantError(t, ts.c.do("GET", "Orders?$filter=DocStatus eq 'O'", nil), 400, -1000, "Property 'DocStatus' of 'Document' is invalid")
	wantError(t, ts.c.do("GET", "Orders(1)?$filter=DocEntry eq 1", nil), 400, -1000, "not allowed on a single entity")
	// Custom (non-$) options are ignored, as OData says.
	ts.c.must(200, "GET", "Orders?foo=bar", nil)
}

func TestPagingFollowsNextLink(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.c
	for i := range 45 {
		c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": fmt.Sprintf("C%03d", i), "CardName": fmt.Sprintf("Customer %d", i%4)})
	}
	r := c.must(200, "GET", "BusinessPartners?$select=CardCode", nil)
	if n := len(r.json["value"].([]any)); n != 20 || r.json["odata.nextLink"] != "/b1s/v1/BusinessPartners?$select=CardCode&$skip=20" {
		t.Fatalf("first page: %d %v", n, r.json["odata.nextLink"])
	}
	var codes []string
	next := "BusinessPartners?$select=CardCode&$filter=CardName ne 'Customer 3'&$orderby=CardCode desc"
	pages := 0
	for next != "" {
		r := c.must(200, "GET", next, nil)
		for _, v := range r.json["value"].([]any) {
			codes = append(codes, v.(map[string]any)["CardCode"].(string))
		}
		next, _ = r.json["odata.nextLink"].(string)
		pages++
		if next != "" && !strings.Contains(next, "$orderby=CardCode") {
			t.Fatalf("nextLink lost the query: %s", next)
		}
	}
	if pages != 2 || len(codes) != 34 || codes[0] != "C044" || !slices.IsSortedFunc(codes, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Fatalf("%d pages, %d codes: %v", pages, len(codes), codes)
	}
	r = c.must(200, "GET", "BusinessPartners?$select=CardCode", nil, "Prefer", "odata.maxpagesize=50")
	if n := len(r.json["value"].([]any)); n != 45 || r.json["odata.nextLink"] != nil || r.header.Get("Preference-Applied") != "odata.maxpagesize=50" {
		t.Fatalf("maxpagesize 50: %d %v %v", n, r.json["odata.nextLink"], r.header)
	}
	r = c.must(200, "GET", "BusinessPartners?$select=CardCode&$top=30&$inlinecount=allpages", nil)
	if n := len(r.json["value"].([]any)); n != 20 || r.json["odata.nextLink"] != "/b1s/v1/BusinessPartners?$select=CardCode&$inlinecount=allpages&$top=10&$skip=20" || r.json["odata.count"] != "45" {
		t.Fatalf("$top 30: %d %v %v", n, r.json["odata.nextLink"], r.json["odata.count"])
	}
	r = c.must(200, "GET", "BusinessPartners?$select=CardCode&$top=10&$skip=20&$orderby=CardCode", nil)
	if v := r.json["value"].([]any); len(v) != 10 || v[0].(map[string]any)["CardCode"] != "C020" || r.json["odata.nextLink"] != nil {
		t.Fatalf("$skip before $top: %s", r)
	}
	if n := c.must(200, "GET", "BusinessPartners/$count?$filter=CardName eq 'customer 1'", nil); string(n.raw) != "11" {
		t.Fatalf("$count: %s", n.raw)
	}
	v := c.must(200, "GET", "BusinessPartners?$select=CardCode,CardName", nil).json["value"].([]any)[0].(map[string]any)
	for k := range v {
		if k != "CardCode" && k != "CardName" && !strings.HasPrefix(k, "odata.") {
			t.Fatalf("$select returned %v", v)
		}
	}
}
