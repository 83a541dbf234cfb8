package sqlreader_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

type company struct {
	t   *testing.T
	sim *sapb1sim.Server
	dsn string
}

// newCompany starts the SAP simulator with its SQL Server endpoint.
func newCompany(t *testing.T) *company {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "SBO_" + hex.EncodeToString(b)
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{DatabaseURL: testdb.NewURL(t), CompanyDB: name, User: "manager", Password: "s3cret", DocsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	srv, err := tds.NewServer(tds.Options{Pool: sim.Pool(), Schema: sim.Schema(), Database: name, User: "reader", Password: "r3ad"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return &company{t: t, sim: sim, dsn: fmt.Sprintf("sqlserver://reader:r3ad@%s?database=%s&encrypt=disable", ln.Addr(), name)}
}

func (c *company) call(path string, body any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	if status, out := c.sim.Call(context.Background(), "POST", path, b); status/100 != 2 {
		c.t.Fatalf("POST %s: %d %s", path, status, out)
	}
}

func (c *company) receive(item, whs string, qty int64) {
	c.t.Helper()
	if _, err := c.sim.ReceiveStock(context.Background(), item, whs, decimal.NewFromInt(qty)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *company) reader(pageSize int) *sqlreader.Reader {
	c.t.Helper()
	r, err := sqlreader.Open(sqlreader.Config{DSN: c.dsn, PageSize: pageSize, Overlap: 5 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { r.Close() })
	return r
}

// seed: warehouses 01 and 02, items I000..I{n-1} with stock, a kit, a price
// list, and a customer.
func (c *company) seed(n int) {
	c.t.Helper()
	c.call("Warehouses", map[string]any{"WarehouseCode": "01", "WarehouseName": "Main"})
	c.call("Warehouses", map[string]any{"WarehouseCode": "02", "WarehouseName": "Store"})
	c.call("PriceLists", map[string]any{"PriceListName": "Retail", "DefaultPrimeCurrency": "USD"})
	c.call("BusinessPartners", map[string]any{"CardCode": "C1", "CardName": "TikTok", "CardType": "cCustomer"})
	for i := range n {
		code := fmt.Sprintf("I%03d", i)
		c.call("Items", map[string]any{"ItemCode": code, "ItemName": "Item " + code,
			"ItemPrices": []any{map[string]any{"PriceList": 1, "Price": fmt.Sprintf("%d.99", i)}}})
		c.receive(code, "01", int64(10+i))
		if i%2 == 0 {
			c.receive(code, "02", 5)
		}
	}
	c.call("Items", map[string]any{"ItemCode": "KIT", "ItemName": "Kit", "InventoryItem": "tNO"})
	c.call("ProductTrees", map[string]any{"TreeCode": "KIT", "TreeType": "iSalesTree",
		"ProductTreeLines": []any{map[string]any{"ItemCode": "I000", "Quantity": 2}, map[string]any{"ItemCode": "I001", "Quantity": 1}}})
}

func (c *company) order(item string, qty int) {
	c.call("Orders", map[string]any{"CardCode": "C1", "DocDueDate": time.Now().Format("2006-01-02"),
		"DocumentLines": []any{map[string]any{"ItemCode": item, "Quantity": qty, "WarehouseCode": "01", "UnitPrice": 1}}})
}

// Every snapshot read walks keyset pages and returns each row once.
func TestSnapshotsArePagedAndComplete(t *testing.T) {
	ctx := context.Background()
	c := newCompany(t)
	c.seed(25)
	c.order("I003", 4)
	r := c.reader(7)

	var items []sqlreader.Item
	pages := 0
	if err := r.Items(ctx, func(p []sqlreader.Item) error { pages++; items = append(items, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(items) != 26 || pages != 4 {
		t.Fatalf("items: %d rows in %d pages of 7, want 26 in 4", len(items), pages)
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.ItemCode] {
			t.Fatalf("item %s read twice", it.ItemCode)
		}
		seen[it.ItemCode] = true
	}
	kit := items[len(items)-1]
	if kit.ItemCode != "KIT" || kit.InvntItem != "N" || kit.TreeType != "S" {
		t.Fatalf("the kit reads as %+v", kit)
	}

	var stock []sqlreader.Stock
	if err := r.StockAll(ctx, func(p []sqlreader.Stock) error { stock = append(stock, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	byKey := map[string]sqlreader.Stock{}
	for _, s := range stock {
		byKey[s.ItemCode+"/"+s.WhsCode] = s
	}
	if s := byKey["I003/01"]; !s.OnHand.Equal(decimal.NewFromInt(13)) || !s.IsCommited.Equal(decimal.NewFromInt(4)) {
		t.Fatalf("I003 in 01 = %+v, want on hand 13, committed 4", s)
	}
	if s, ok := byKey["I004/02"]; !ok || !s.OnHand.Equal(decimal.NewFromInt(5)) {
		t.Fatalf("I004 in 02 = %+v", s)
	}
	some, err := r.StockOf(ctx, []string{"I003", "I004"})
	if err != nil || len(some) < 3 {
		t.Fatalf("StockOf = %+v, %v", some, err)
	}
	for _, s := range some {
		if s.ItemCode != "I003" && s.ItemCode != "I004" {
			t.Fatalf("StockOf returned %s", s.ItemCode)
		}
	}
	byCode, err := r.ItemsByCode(ctx, []string{"I010", "KIT", "NOPE"})
	if err != nil || len(byCode) != 2 {
		t.Fatalf("ItemsByCode = %+v, %v", byCode, err)
	}

	whs, err := r.Warehouses(ctx)
	if err != nil || len(whs) != 2 || whs[0].WhsCode != "01" {
		t.Fatalf("warehouses = %+v, %v", whs, err)
	}
	var boms []sqlreader.BOMLine
	if err := r.BOMs(ctx, func(p []sqlreader.BOMLine) error { boms = append(boms, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(boms) != 2 || boms[0].Father != "KIT" || boms[0].Component != "I000" || !boms[0].Quantity.Equal(decimal.NewFromInt(2)) || boms[0].TreeType != "S" {
		t.Fatalf("BOM lines = %+v", boms)
	}
	var prices []sqlreader.Price
	if err := r.Prices(ctx, 1, func(p []sqlreader.Price) error { prices = append(prices, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(prices) < 25 || prices[5].ItemCode != "I005" || !prices[5].Price.Equal(decimal.RequireFromString("5.99")) {
		t.Fatalf("prices = %d rows, [5] = %+v", len(prices), prices[min(5, len(prices)-1)])
	}
}

// The watermarks see every movement and every changed order exactly once
// per read past them, while documents are being posted, and a re-read
// within the overlap window repeats, never skips.
func TestWatermarksWhileDocumentsArePosted(t *testing.T) {
	ctx := context.Background()
	c := newCompany(t)
	c.seed(5)
	r := c.reader(3)

	seq, err := r.MaxTransSeq(ctx)
	if err != nil || seq == 0 {
		t.Fatalf("MaxTransSeq = %d, %v", seq, err)
	}
	_, mark, err := r.ChangedOrders(ctx, sqlreader.Stamp{})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 12 {
			c.order(fmt.Sprintf("I%03d", i%5), 1)
			c.receive(fmt.Sprintf("I%03d", i%5), "02", 1)
		}
	})
	// Read while they are posted, then once more after.
	seenMoves := map[int64]bool{}
	last := seq
	readMoves := func() {
		for {
			moves, err := r.MovedSince(ctx, last)
			if err != nil {
				t.Error(err)
				return
			}
			for _, m := range moves {
				if seenMoves[m.TransSeq] {
					t.Errorf("movement %d read twice", m.TransSeq)
				}
				seenMoves[m.TransSeq] = true
				last = m.TransSeq
			}
			if len(moves) < 3 {
				return
			}
		}
	}
	for range 5 {
		readMoves()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	readMoves()
	if len(seenMoves) != 12 {
		t.Fatalf("saw %d stock movements after the watermark, want the 12 receipts", len(seenMoves))
	}

	changes, next, err := r.ChangedOrders(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]bool{}
	for _, ch := range changes {
		entries[ch.Key] = true
	}
	if len(entries) != 12 {
		t.Fatalf("changed orders since the watermark: %d distinct, want 12 (%v)", len(entries), changes)
	}
	// Reading again from the new watermark repeats only the overlap window
	// (all of these orders are within its 5 s), never anything older.
	again, _, err := r.ChangedOrders(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range again {
		if !entries[ch.Key] {
			t.Fatalf("a re-read returned order %s, which changed before the watermark", ch.Key)
		}
	}
	if _, err := r.MaxTransSeq(ctx); err != nil {
		t.Fatal(err)
	}
}

// No query stays open while a page is handled: each page is read to the end
// and its connection given back before the caller lands it, however slow
// the landing (here the caller also queries again from inside the page).
func TestNoQueryOpenWhileAPageIsHandled(t *testing.T) {
	ctx := context.Background()
	c := newCompany(t)
	c.seed(20)
	r := c.reader(6)

	pages := 0
	check := func(what string) {
		pages++
		if n := sqlreader.ConnectionsInUse(r); n != 0 {
			t.Fatalf("%s: %d connections busy while a page is handled, want 0", what, n)
		}
		time.Sleep(20 * time.Millisecond)
		// The reader is usable from inside the callback: nothing of the
		// page's query holds a connection or a lock.
		if _, err := r.StockOf(ctx, []string{"I001"}); err != nil {
			t.Fatalf("%s: a read from inside a page: %v", what, err)
		}
	}
	if err := r.StockAll(ctx, func([]sqlreader.Stock) error { check("stock"); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Items(ctx, func([]sqlreader.Item) error { check("items"); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.BOMs(ctx, func([]sqlreader.BOMLine) error { check("boms"); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.Prices(ctx, 1, func([]sqlreader.Price) error { check("prices"); return nil }); err != nil {
		t.Fatal(err)
	}
	// 30 stock rows (20 in 01, 10 in 02), 21 items, 2 BOM lines, 20+ prices:
	// 5 + 4 + 1 + 4 pages at 6 rows each.
	if pages < 14 {
		t.Fatalf("%d pages handled, want at least 14", pages)
	}
}
