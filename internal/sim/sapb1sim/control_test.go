package sapb1sim

import (
	"strings"
	"testing"
)

func TestControlAPI(t *testing.T) {
	ts := shop(t, nil)
	c := ts.c
	r := c.must(200, "POST", "/_sim/stock", map[string]any{"item_code": "A", "warehouse": "01", "quantity": "2.5"})
	if jdec(r.json["on_hand"]).String() != "12.5" || jnum(r.json["trans_seq"]) < 1 {
		t.Fatalf("receipt: %s", r)
	}
	r = c.must(200, "POST", "/_sim/stock", map[string]any{"item_code": "A", "warehouse": "01", "quantity": -0.5})
	if jdec(r.json["on_hand"]).String() != "12" {
		t.Fatalf("issue: %s", r)
	}
	for _, bad := range []map[string]any{
		{"item_code": "A", "warehouse": "01", "quantity": "-100"},
		{"item_code": "NOPE", "warehouse": "01", "quantity": "1"},
		{"item_code": "A", "warehouse": "99", "quantity": "1"},
		{"item_code": "A", "warehouse": "01", "quantity": "0"},
		{"item_code": "A", "warehouse": "01", "quantity": "1", "extra": true},
	} {
		if r := c.do("POST", "/_sim/stock", bad); r.status != 400 || r.json["error"] == nil {
			t.Errorf("%v: %s", bad, r)
		}
	}
	ts.wantStock("A", "01", "12", "0")
	var types []int
	rows, err := ts.srv.Pool().Query(t.Context(), `SELECT "TransType" FROM `+ts.srv.t("OIVL")+` WHERE "ItemCode" = 'A' ORDER BY "TransSeq"`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int
		_ = rows.Scan(&n)
		types = append(types, n)
	}
	if len(types) != 3 || types[0] != 59 || types[1] != 59 || types[2] != 60 {
		t.Fatalf("journal types: %v", types)
	}

	st := c.must(200, "GET", "/_sim/stats", nil)
	for _, k := range []string{"documents", "peak_concurrent_writes", "http_502", "deadlocks", "logins", "requests"} {
		if _, ok := st.json[k]; !ok {
			t.Errorf("stats lack %q: %s", k, st.raw)
		}
	}
	if jnum(st.json["logins"]) != 1 || jnum(st.json["requests"]) < 5 {
		t.Errorf("stats: %s", st.raw)
	}
	if z := c.must(200, "POST", "/_sim/reset-stats", nil); jnum(z.json["requests"]) != 0 || jnum(z.json["logins"]) != 0 {
		t.Errorf("after reset: %s", z.raw)
	}
	f := c.must(200, "POST", "/_sim/faults", map[string]any{"proxy_timeout": "2s", "docs_per_second": 7.5, "deadlock_rate": 0.1})
	if f.json["proxy_timeout"] != "2s" || ts.srv.Faults().DocsPerSecond != 7.5 || ts.srv.Faults().DeadlockRate != 0.1 {
		t.Fatalf("faults: %s", f.raw)
	}
	if g := c.must(200, "GET", "/_sim/faults", nil); g.json["outage"] != false || g.json["commit_delay"] != "0s" {
		t.Fatalf("faults: %s", g.raw)
	}
	if r := c.do("POST", "/_sim/faults", map[string]any{"slow_login": "soon"}); r.status != 400 {
		t.Fatalf("bad duration: %s", r)
	}
	if r := c.do("GET", "/_sim/nothing", nil); r.status != 404 || r.json["error"] == nil {
		t.Fatalf("unknown control path: %s", r)
	}
	if r := c.do("GET", "/_sim/stock", nil); r.status != 405 {
		t.Fatalf("wrong method: %s", r)
	}
	c.must(204, "POST", "/_sim/expire-sessions", nil)
	wantError(t, c.do("GET", "Items", nil), 401, 301, "Invalid session")
}

func TestCallSeedsWithoutASession(t *testing.T) {
	ts := newSim(t, nil)
	status, body := ts.srv.Call(t.Context(), "POST", "Warehouses", []byte(`{"WarehouseCode":"01","WarehouseName":"Main"}`))
	if status != 201 || !strings.Contains(string(body), `"WarehouseCode":"01"`) {
		t.Fatalf("Call: %d %s", status, body)
	}
	status, body = ts.srv.Call(t.Context(), "GET", "Warehouses?$select=WarehouseCode&$filter=WarehouseCode eq '01'", nil)
	if status != 200 || !strings.Contains(string(body), `"value":[{"WarehouseCode":"01"}]`) {
		t.Fatalf("Call GET: %d %s", status, body)
	}
	if status, _ := ts.srv.Call(t.Context(), "GET", "Nothing", nil); status != 404 {
		t.Fatalf("Call unknown: %d", status)
	}
}

func TestRestartKeepsTheCompanyAndResetEmptiesIt(t *testing.T) {
	ts := newSim(t, nil)
	ts.warehouse("01")
	ts.c.must(201, "POST", "UserFieldsMD", map[string]any{"Name": "Kept", "TableName": "OITM"})
	opts := ts.srv.opts
	again, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := again.Call(t.Context(), "GET", "Warehouses('01')", nil); status != 200 {
		t.Fatalf("after restart: %d %s", status, body)
	}
	if again.lookup(itemEntity, "U_Kept") == nil {
		t.Fatal("UDF lost on restart")
	}
	again.Close()
	opts.Reset = true
	fresh, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if status, _ := fresh.Call(t.Context(), "GET", "Warehouses('01')", nil); status != 404 {
		t.Fatalf("after reset: %d", status)
	}
	if _, err := New(t.Context(), Options{Pool: opts.Pool, CompanyDB: "bad-name", User: "u", Password: "p"}); err == nil {
		t.Fatal("a company name that is no identifier was accepted")
	}
}
