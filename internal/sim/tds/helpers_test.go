package tds_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	mssql "github.com/microsoft/go-mssqldb"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// The tests share one scratch database; each test gets a company (a
// schema) of its own, dropped when it ends.
const scratchDB = "tiktokb1_tds_test"

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
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{scratchDB}.Sanitize())
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")) {
			scratchErr = err
			return
		}
		scratchCfg, scratchErr = pgxpool.ParseConfig(admin)
		if scratchErr == nil {
			scratchCfg.ConnConfig.Database = scratchDB
			scratchCfg.MaxConns = 8
		}
	})
	if scratchErr != nil {
		t.Fatalf("scratch database: %v", scratchErr)
	}
	return scratchCfg.Copy()
}

const (
	sqlUser     = "b1reader"
	sqlPassword = "Rd-s3cret!"
)

// company is a simulated SAP company with its SQL Server endpoint.
type company struct {
	t    testing.TB
	name string
	sim  *sapb1sim.Server
	pool *pgxpool.Pool
	srv  *tds.Server
	addr string
}

func newCompany(t testing.TB, tweak func(*tds.Options)) *company {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, scratchConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	name := "T" + randHex(5)
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{Pool: pool, CompanyDB: name, User: "manager", Password: "manager", DocsPerSecond: -1, ProxyTimeout: -1})
	if err != nil {
		pool.Close()
		t.Fatalf("company: %v", err)
	}
	opts := tds.Options{Pool: pool, Schema: sim.Schema(), Database: name, User: sqlUser, Password: sqlPassword}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := tds.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	c := &company{t: t, name: name, sim: sim, pool: pool, srv: srv, addr: ln.Addr().String()}
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{sim.Schema()}.Sanitize()+" CASCADE")
		pool.Close()
	})
	return c
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dsn is a go-mssqldb connection string; extra adds or overrides query
// parameters ("encrypt=true&TrustServerCertificate=true").
func (c *company) dsn(extra string) string {
	return c.dsnAs(sqlUser, sqlPassword, extra)
}

// dsnAs is dsn with other credentials.
func (c *company) dsnAs(user, password, extra string) string {
	u := &url.URL{Scheme: "sqlserver", User: url.UserPassword(user, password), Host: c.addr}
	q := url.Values{"database": {c.name}, "encrypt": {"disable"}, "dial timeout": {"5"}}
	if extra != "" {
		more, err := url.ParseQuery(extra)
		if err != nil {
			c.t.Fatal(err)
		}
		for k, v := range more {
			if len(v) == 1 && v[0] == "" {
				delete(q, k) // "encrypt=": leave the client's default
				continue
			}
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// db opens a go-mssqldb pool on the endpoint.
func (c *company) db(extra string) *sql.DB {
	c.t.Helper()
	db, err := sql.Open("sqlserver", c.dsn(extra))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// call runs a Service Layer request in process and fails the test unless
// it answers want.
func (c *company) call(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			c.t.Fatal(err)
		}
	}
	status, out := c.sim.Call(context.Background(), method, path, raw)
	if status != want {
		c.t.Fatalf("%s %s: %d %s", method, path, status, out)
	}
	var m map[string]any
	if len(out) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(out)))
		dec.UseNumber()
		_ = dec.Decode(&m)
	}
	return m
}

func (c *company) warehouse(code string) {
	c.call(201, "POST", "Warehouses", map[string]any{"WarehouseCode": code, "WarehouseName": "Warehouse " + code})
}

func (c *company) item(code, name string) {
	c.call(201, "POST", "Items", map[string]any{"ItemCode": code, "ItemName": name})
}

func (c *company) customer(code string) {
	c.call(201, "POST", "BusinessPartners", map[string]any{"CardCode": code, "CardName": "Customer " + code, "CardType": "cCustomer"})
}

func (c *company) receive(item, whs, qty string) {
	c.t.Helper()
	if _, err := c.sim.ReceiveStock(context.Background(), item, whs, decimal.RequireFromString(qty)); err != nil {
		c.t.Fatalf("receive %s %s %s: %v", item, whs, qty, err)
	}
}

// order posts a sales order and returns its DocEntry.
func (c *company) order(card string, lines ...map[string]any) int {
	c.t.Helper()
	r := c.call(201, "POST", "Orders", map[string]any{"CardCode": card, "DocDueDate": "2024-06-30", "DocumentLines": lines})
	n, _ := r["DocEntry"].(json.Number).Int64()
	return int(n)
}

func line(item, whs string, qty any, price any) map[string]any {
	return map[string]any{"ItemCode": item, "WarehouseCode": whs, "Quantity": qty, "UnitPrice": price}
}

// sqlErr returns the SQL Server error in err, failing the test if there is
// none.
func sqlErr(t testing.TB, err error) mssql.Error {
	t.Helper()
	var e mssql.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a SQL Server error, got %v", err)
	}
	return e
}

func wantSQLError(t testing.TB, err error, number int32, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d (%s), got none", number, text)
	}
	e := sqlErr(t, err)
	if e.Number != number || !strings.Contains(e.Message, text) {
		t.Fatalf("want error %d containing %q, got %d: %s", number, text, e.Number, e.Message)
	}
}

// ctx is a test context with a bound.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// seed fills the company through the Service Layer: warehouses, a price
// list, items whose names mix case, accents, quotes and emoji, stock in
// several warehouses, a sales BOM, customers, orders and a delivery.
func (c *company) seed(items int) {
	c.t.Helper()
	items = max(items, 7) // the orders below use the first seven items
	for _, w := range []string{"01", "02", "WEB"} {
		c.warehouse(w)
	}
	c.call(201, "POST", "PriceLists", map[string]any{"PriceListName": "Retail", "DefaultPrimeCurrency": "USD"})
	names := []string{"T-Shirt blue", "t-shirt BLUE", "Café crème", "O'Brien mug", "Gift box 🎁", "50% off sticker", "under_score", "[bracketed]", "plain"}
	for i := 1; i <= items; i++ {
		code := fmt.Sprintf("A-%03d", i)
		if i%5 == 0 {
			code = fmt.Sprintf("a-%03d", i) // lower case codes sort among the others
		}
		body := map[string]any{"ItemCode": code, "ItemName": names[i%len(names)] + fmt.Sprintf(" #%d", i),
			"ItemPrices": []any{map[string]any{"PriceList": 1, "Price": fmt.Sprintf("%d.%02d", i, i%100)}}}
		if i%4 == 0 {
			body["ForeignName"] = "Foreign " + code
		}
		if i%7 == 0 {
			body["Frozen"] = "tYES"
		}
		c.call(201, "POST", "Items", body)
		if i%3 != 0 {
			c.receive(code, "01", fmt.Sprintf("%d.5", i*2))
		}
		if i%2 == 0 {
			c.receive(code, "02", fmt.Sprintf("%d", i))
		}
	}
	c.call(201, "POST", "Items", map[string]any{"ItemCode": "KIT-1", "ItemName": "Kit", "InventoryItem": "tNO"})
	c.call(201, "POST", "ProductTrees", map[string]any{"TreeCode": "KIT-1", "TreeType": "iSalesTree",
		"ProductTreeLines": []any{map[string]any{"ItemCode": "A-001", "Quantity": 2}, map[string]any{"ItemCode": "A-002", "Quantity": 1}}})
	c.customer("C1")
	c.customer("C2")
	for i := 0; i < 4; i++ {
		c.order("C1", line("A-001", "01", 1+i, "10.00"), line("A-002", "02", 2, "3.333333"), line(fmt.Sprintf("A-%03d", 3+i), "01", "0.5", 7))
	}
	c.order("C2", line("A-004", "02", 1, 99))
	c.call(201, "POST", "DeliveryNotes", map[string]any{"CardCode": "C1", "TrackingNumber": "1Z999",
		"DocumentLines": []any{map[string]any{"BaseType": 17, "BaseEntry": 1, "BaseLine": 0}}})
}

// pgRows runs SQL directly on the company's schema and returns its rows
// as normalised strings.
func (c *company) pgRows(query string, args ...any) [][]string {
	c.t.Helper()
	conn, err := c.pool.Acquire(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(context.Background(), "SET search_path TO "+pgx.Identifier{c.sim.Schema()}.Sanitize()); err != nil {
		c.t.Fatal(err)
	}
	rows, err := conn.Query(context.Background(), query, args...)
	if err != nil {
		c.t.Fatalf("postgres: %v\n%s", err, query)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			c.t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = norm(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		c.t.Fatalf("postgres: %v\n%s", err, query)
	}
	return out
}

// sqlRows runs a query through go-mssqldb and returns normalised rows.
func sqlRows(t testing.TB, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) [][]string {
	t.Helper()
	rows, err := q.QueryContext(ctx(t), query, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = norm(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	return out
}

// norm renders a value from either driver the same way: numbers by value,
// times in UTC.
func norm(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if d, err := decimal.NewFromString(string(x)); err == nil {
			return d.String()
		}
		return string(x)
	case string:
		return x
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case int64, int32, int16, int8, int, bool:
		return fmt.Sprint(x)
	case float64:
		return decimal.NewFromFloat(x).String()
	case float32:
		return decimal.NewFromFloat32(x).String()
	}
	if n, ok := v.(pgtype.Numeric); ok {
		d := decimal.NewFromBigInt(n.Int, n.Exp)
		return d.String()
	}
	if nv, ok := v.(fmt.Stringer); ok {
		return nv.String()
	}
	return fmt.Sprint(v)
}
