package odata

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFilterAcceptsSAPsGrammar(t *testing.T) {
	cases := map[string]string{
		"DocTotal gt 3000":                                           "DocTotal gt 3000",
		"DocEntry lt 8 and CardCode eq 'c1'":                         "(DocEntry lt 8 and CardCode eq 'c1')",
		"a eq 1 or b eq 2 and c eq 3":                                "(a eq 1 or (b eq 2 and c eq 3))",
		"(a eq 1 or b eq 2) and c eq 3":                              "((a eq 1 or b eq 2) and c eq 3)",
		"not (startswith(ItemName, 'item') and ForeignName eq null)": "not ((startswith(ItemName,'item') and ForeignName eq null))",
		"not a eq 1":                              "not (a eq 1)",
		"Name eq 'O''Brien'":                      "Name eq 'O''Brien'",
		"DocDate eq datetime'2014-04-23'":         "DocDate eq datetime'2014-04-23'",
		"DocDate ge '20140423'":                   "DocDate ge '20140423'",
		"x ne -1.5e3":                             "x ne -1.5e3",
		"startswith(CardCode,'c1') eq true":       "startswith(CardCode,'c1')",
		"startswith(CardCode,'c1') eq false":      "not (startswith(CardCode,'c1'))",
		"substringof('ab', CardName)":             "substringof('ab',CardName)",
		"1 lt DocEntry":                           "1 lt DocEntry",
		"DocumentLines/ItemCode eq 'x'":           "DocumentLines/ItemCode eq 'x'",
		"  a  eq  'with  spaces'  ":               "a eq 'with  spaces'",
		"U_TikTokOrderId eq '577000000000000001'": "U_TikTokOrderId eq '577000000000000001'",
	}
	for in, want := range cases {
		e, err := ParseFilter(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := e.String(); got != want {
			t.Errorf("%q parsed as %q, want %q", in, got, want)
		}
	}
}

func TestParseFilterRejectsWhatItCannotFullyParse(t *testing.T) {
	for _, in := range []string{
		"", "   ", "a", "a eq", "eq 1", "a eq 1 and", "a eq 1)", "(a eq 1", "a eq 'x",
		"a eq 1 b eq 2", "a == 1", "a eq 1; drop table x", "a eq 1 AND b eq 2", "a EQ 1",
		"true", "'x'", "null", "tolower(a) eq 'x'", "startswith(a)", "startswith(a,'x','y')",
		"a add 1 eq 2", "a eq 12abc", "a eq 1.", "a eq .5", "a eq --1", "not", "a eq 1 or",
		"startswith(a,'x') eq 'y'", "a eq b eq c", "datetime'2024-01-01'", "a/ eq 1", "a eq 1,",
		"startswith(a eq 1,'x')", "a eq 1 and ()",
	} {
		if e, err := ParseFilter(in); err == nil {
			t.Errorf("%q parsed as %s, want an error", in, e)
		}
	}
}

func TestParseFilterBoundsNesting(t *testing.T) {
	deep := strings.Repeat("(", 500) + "a eq 1" + strings.Repeat(")", 500)
	if _, err := ParseFilter(deep); err == nil {
		t.Fatal("500 nested parentheses parsed; want an error")
	}
	ok := strings.Repeat("(", 20) + "a eq 1" + strings.Repeat(")", 20)
	if _, err := ParseFilter(ok); err != nil {
		t.Fatalf("20 nested parentheses: %v", err)
	}
}

func TestParseOrderByAndSelect(t *testing.T) {
	items, err := ParseOrderBy("DocTotal asc, DocEntry desc,CardCode")
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderItem{{Field{[]string{"DocTotal"}}, false}, {Field{[]string{"DocEntry"}}, true}, {Field{[]string{"CardCode"}}, false}}
	if !reflect.DeepEqual(items, want) {
		t.Fatalf("got %+v", items)
	}
	for _, bad := range []string{"", "a,", "a asc desc", "a b", "1", "a,,b"} {
		if _, err := ParseOrderBy(bad); err == nil {
			t.Errorf("$orderby %q accepted", bad)
		}
	}
	fields, err := ParseSelect("DocEntry, DocNum,DocumentLines")
	if err != nil || len(fields) != 3 || fields[2].Path[0] != "DocumentLines" {
		t.Fatalf("select: %v %v", fields, err)
	}
	if f, err := ParseSelect("*"); err != nil || f != nil {
		t.Fatalf("select *: %v %v", f, err)
	}
	for _, bad := range []string{"", "a,", "a b", "*,a", "'a'"} {
		if _, err := ParseSelect(bad); err == nil {
			t.Errorf("$select %q accepted", bad)
		}
	}
}
