package sapb1sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// The tests share one scratch database on the test server; each test gets a
// fresh company (its own schema), dropped when it ends.
const scratchDB = "tiktokb1_sapb1sim_test"

var (
	scratchOnce sync.Once
	scratchCfg  *pgxpool.Config
	scratchErr  error
)

func scratchConfig(t testing.TB) *pgxpool.Config {
	t.Helper()
	admin := testdb.AdminURL(t)
	scratchOnce.Do(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			scratchErr = err
			return
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE DATABASE "+ident(scratchDB))
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) {
			scratchErr = err
			return
		}
		scratchCfg, scratchErr = pgxpool.ParseConfig(admin)
		if scratchErr == nil {
			scratchCfg.ConnConfig.Database = scratchDB
			scratchCfg.MaxConns = 12
		}
	})
	if scratchErr != nil {
		t.Fatalf("scratch database: %v", scratchErr)
	}
	return scratchCfg.Copy()
}

// testSim is a simulator on a fresh company behind a real HTTP server.
type testSim struct {
	t   testing.TB
	srv *Server
	hs  *httptest.Server
	c   *client // logged in
}

const (
	testUser     = "manager"
	testPassword = "s3cret"
)

func newSim(t testing.TB, tweak func(*Options)) *testSim {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, scratchConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	company := "T" + randHex(6)
	opts := Options{Pool: pool, CompanyDB: company, User: testUser, Password: testPassword, DocsPerSecond: -1, ProxyTimeout: -1}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := New(ctx, opts)
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	ts := &testSim{t: t, srv: srv, hs: hs}
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+ident(srv.Schema())+" CASCADE")
		pool.Close()
	})
	ts.c = ts.newClient()
	ts.c.login()
	return ts
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// client talks to the simulator as a Service Layer client would: cookies in
// a jar, JSON bodies.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	db   string
}

func (ts *testSim) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: ts.t, base: ts.hs.URL, http: &http.Client{Jar: jar, Timeout: 60 * time.Second}, db: ts.srv.opts.CompanyDB}
}

// resp is an answer: status, headers, raw body, and the body as JSON.
type resp struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// sapCode is the error code of an SAP error envelope, 0 if none.
func (r *resp) sapCode() int {
	e, _ := r.json["error"].(map[string]any)
	if e == nil {
		return 0
	}
	n, _ := e["code"].(json.Number).Int64()
	return int(n)
}

func (r *resp) sapMessage() string {
	e, _ := r.json["error"].(map[string]any)
	if e == nil {
		return ""
	}
	m, _ := e["message"].(map[string]any)
	v, _ := m["value"].(string)
	return v
}

func (r *resp) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

func (c *client) do(method, path string, body any, headers ...string) *resp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	if p, q, ok := strings.Cut(path, "?"); ok {
		path = p + "?" + escapeQuery(q)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		if !strings.HasPrefix(path, "/") {
			path = "/b1s/v1/" + path
		}
		url = c.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.json); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return r
}

func (c *client) login() {
	c.t.Helper()
	r := c.do("POST", "Login", map[string]string{"CompanyDB": c.db, "UserName": testUser, "Password": testPassword})
	if r.status != 200 {
		c.t.Fatalf("login: %s", r)
	}
}

// must runs a request and fails the test unless it answers with status.
func (c *client) must(status int, method, path string, body any, headers ...string) *resp {
	c.t.Helper()
	r := c.do(method, path, body, headers...)
	if r.status != status {
		c.t.Fatalf("%s %s: want %d, got %s", method, path, status, r)
	}
	return r
}

// wantError checks an SAP error answer.
func wantError(t testing.TB, r *resp, status, code int, text string) {
	t.Helper()
	if r.status != status || r.sapCode() != code || !strings.Contains(r.sapMessage(), text) {
		t.Fatalf("want %d code %d containing %q, got %s", status, code, text, r)
	}
}

// ---- seeding ----

func (ts *testSim) warehouse(code string) {
	ts.t.Helper()
	ts.c.must(201, "POST", "Warehouses", map[string]any{"WarehouseCode": code, "WarehouseName": "Warehouse " + code})
}

func (ts *testSim) item(code string, extra map[string]any) {
	ts.t.Helper()
	body := map[string]any{"ItemCode": code, "ItemName": "Item " + code}
	for k, v := range extra {
		body[k] = v
	}
	ts.c.must(201, "POST", "Items", body)
}

func (ts *testSim) customer(code string) {
	ts.t.Helper()
	ts.c.must(201, "POST", "BusinessPartners", map[string]any{"CardCode": code, "CardName": "Customer " + code, "CardType": "cCustomer"})
}

func (ts *testSim) receive(item, whs string, qty string) {
	ts.t.Helper()
	if _, err := ts.srv.ReceiveStock(context.Background(), item, whs, decimal.RequireFromString(qty)); err != nil {
		ts.t.Fatalf("receive %s %s %s: %v", item, whs, qty, err)
	}
}

// order posts an order and returns its DocEntry.
func (ts *testSim) order(card string, lines ...map[string]any) int {
	ts.t.Helper()
	r := ts.c.must(201, "POST", "Orders", map[string]any{"CardCode": card, "DocDueDate": "2024-06-30", "DocumentLines": lines})
	return jnum(r.json["DocEntry"])
}

func line(item, whs string, qty any) map[string]any {
	return map[string]any{"ItemCode": item, "WarehouseCode": whs, "Quantity": qty, "UnitPrice": 10}
}

// stock reads OITW directly, as the SQL reader would.
func (ts *testSim) stock(item, whs string) (onHand, committed decimal.Decimal) {
	ts.t.Helper()
	err := ts.srv.Pool().QueryRow(context.Background(), `SELECT "OnHand", "IsCommited" FROM `+ts.srv.t("OITW")+` WHERE "ItemCode" = $1 AND "WhsCode" = $2`, item, whs).Scan(&onHand, &committed)
	if err != nil {
		ts.t.Fatalf("stock %s/%s: %v", item, whs, err)
	}
	return
}

func (ts *testSim) wantStock(item, whs, onHand, committed string) {
	ts.t.Helper()
	oh, c := ts.stock(item, whs)
	if !oh.Equal(decimal.RequireFromString(onHand)) || !c.Equal(decimal.RequireFromString(committed)) {
		ts.t.Fatalf("%s/%s: OnHand %s IsCommited %s, want %s and %s", item, whs, oh, c, onHand, committed)
	}
}

func jnum(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	case float64:
		return int(x)
	}
	return -1
}

func jdec(v any) decimal.Decimal {
	switch x := v.(type) {
	case json.Number:
		return decimal.RequireFromString(x.String())
	case string:
		return decimal.RequireFromString(x)
	}
	return decimal.NewFromInt(-999999)
}

func docLines(r *resp) []map[string]any {
	var out []map[string]any
	for _, l := range r.json["DocumentLines"].([]any) {
		out = append(out, l.(map[string]any))
	}
	return out
}

// escapeQuery escapes a readable query ("$filter=A eq 'x'&$top=2") the way
// a client library would, leaving text that is already escaped alone.
func escapeQuery(q string) string {
	var parts []string
	for _, pair := range strings.Split(q, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			parts = append(parts, pair)
			continue
		}
		if u, err := neturl.QueryUnescape(v); err == nil && strings.ContainsAny(v, "%+") {
			v = u
		}
		parts = append(parts, k+"="+strings.ReplaceAll(neturl.QueryEscape(v), "%24", "$"))
	}
	return strings.Join(parts, "&")
}
