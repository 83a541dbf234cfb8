package sapmaster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/inventory/inventorytest"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// newStockEnv is newEnv with the reader's overlap window set, a company with
// warehouses 01 and 02, a customer, the given items with 10 units in 01, the
// item and stock snapshots taken (which sets the detector's first
// watermark) and shop S1's TikTok warehouse TW counting 01 and 02.
func newStockEnv(t testing.TB, overlap time.Duration, items ...string) *env {
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
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	r, err := sqlreader.Open(sqlreader.Config{DSN: fmt.Sprintf("sqlserver://reader:r3ad@%s?database=%s&encrypt=disable", ln.Addr(), name), PageSize: 50, Overlap: overlap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e := &env{sim: sim, reader: r, pool: testdb.New(t)}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	call := func(path string, body string) {
		if status, out := sim.Call(ctx, "POST", path, []byte(body)); status/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, status, out)
		}
	}
	call("Warehouses", `{"WarehouseCode":"01","WarehouseName":"Main"}`)
	call("Warehouses", `{"WarehouseCode":"02","WarehouseName":"Store"}`)
	call("BusinessPartners", `{"CardCode":"C1","CardName":"TikTok","CardType":"cCustomer"}`)
	for _, it := range items {
		call("Items", fmt.Sprintf(`{"ItemCode":%q,"ItemName":"Item %s"}`, it, it))
		if _, err := sim.ReceiveStock(ctx, it, "01", decimal.NewFromInt(10)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sapmaster.SnapshotItems(ctx, e.pool, r); err != nil {
		t.Fatal(err)
	}
	if _, err := sapmaster.SnapshotStockAndRewind(ctx, e.pool, r); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code) VALUES ('S1', 'TW', '01'), ('S1', 'TW', '02')`); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Recompute(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) order(t testing.TB, item string, qty int) {
	t.Helper()
	body := fmt.Sprintf(`{"CardCode":"C1","DocDueDate":%q,"DocumentLines":[{"ItemCode":%q,"Quantity":%d,"WarehouseCode":"01","UnitPrice":1}]}`,
		time.Now().Format("2006-01-02"), item, qty)
	if status, out := e.sim.Call(context.Background(), "POST", "Orders", []byte(body)); status/100 != 2 {
		t.Fatalf("POST Orders: %d %s", status, out)
	}
}

// stockOf is item's published (on hand, committed) in warehouse 01.
func (e *env) stockOf(t testing.TB, item string) (int64, int64) {
	t.Helper()
	var onHand, committed int64
	if err := e.pool.QueryRow(context.Background(), `SELECT on_hand::bigint, is_committed::bigint FROM sapb1.stock WHERE item_code = $1 AND whs_code = '01'`, item).Scan(&onHand, &committed); err != nil {
		t.Fatalf("stock of %s: %v", item, err)
	}
	return onHand, committed
}

func (e *env) ats(t testing.TB, sku string) int64 {
	t.Helper()
	var q int64
	if err := e.pool.QueryRow(context.Background(), `SELECT computed_quantity FROM integration.inventory_push WHERE shop_id = 'S1' AND tiktok_warehouse_id = 'TW' AND seller_sku = $1`, sku).Scan(&q); err != nil {
		t.Fatalf("ATS of %s: %v", sku, err)
	}
	return q
}

// fingerprint is a digest of every table the SQL reader may read, straight
// from the simulator's Postgres: equal fingerprints, nothing written.
func (e *env) fingerprint(t testing.TB) string {
	t.Helper()
	var out string
	for _, tbl := range tds.DefaultTables {
		var exists bool
		if err := e.sim.Pool().QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{e.sim.Schema(), tbl}.Sanitize()).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			continue
		}
		var digest string
		q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %s x`, pgx.Identifier{e.sim.Schema(), tbl}.Sanitize())
		if err := e.sim.Pool().QueryRow(context.Background(), q).Scan(&digest); err != nil {
			t.Fatal(err)
		}
		out += tbl + ":" + digest + " "
	}
	return out
}

func detect(t testing.TB, e *env) sapmaster.StockChanges {
	t.Helper()
	res, err := sapmaster.DetectStockChanges(context.Background(), e.pool, e.reader)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestStockChangeDetectorPicksUpReceiptsAndOrders(t *testing.T) {
	ctx := context.Background()
	e := newStockEnv(t, time.Second, "A", "B")
	if got := e.ats(t, "A"); got != 10 {
		t.Fatalf("ATS of A after the snapshot: %d, want 10", got)
	}
	if res := detect(t, e); res.Baseline {
		t.Fatal("the snapshot should have set the detector's first watermark")
	}

	// A receipt in SAP: one run reads A again, and only A.
	before := e.fingerprint(t)
	if _, err := e.sim.ReceiveStock(ctx, "A", "01", decimal.NewFromInt(5)); err != nil {
		t.Fatal(err)
	}
	afterReceipt := e.fingerprint(t)
	if before == afterReceipt {
		t.Fatal("the receipt changed nothing in SAP's tables")
	}
	res := detect(t, e)
	if res.Movements != 1 || res.Items != 1 || res.RowsWritten == 0 {
		t.Fatalf("after a receipt: %+v", res)
	}
	if onHand, _ := e.stockOf(t, "A"); onHand != 15 {
		t.Fatalf("A on hand %d, want 15", onHand)
	}
	if _, err := inventory.Recompute(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	if got := e.ats(t, "A"); got != 15 {
		t.Fatalf("ATS of A after the receipt: %d, want 15", got)
	}
	// The detector only read: SAP's tables are as the receipt left them.
	if got := e.fingerprint(t); got != afterReceipt {
		t.Fatal("SAP's tables changed while the detector ran")
	}

	// A Sales Order posted in SAP commits stock without moving OIVL: ORDR's
	// watermark finds it.
	e.order(t, "B", 4)
	res = detect(t, e)
	if res.Orders == 0 || !slices.Contains([]int{1}, res.Items) || res.RowsWritten == 0 {
		t.Fatalf("after an order: %+v", res)
	}
	if onHand, committed := e.stockOf(t, "B"); onHand != 10 || committed != 4 {
		t.Fatalf("B on hand %d committed %d, want 10 and 4", onHand, committed)
	}
	if _, err := inventory.Recompute(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	if got := e.ats(t, "B"); got != 6 {
		t.Fatalf("ATS of B after the order: %d, want 6", got)
	}

	// Nothing changed: the overlap window re-reads B's order, but nothing
	// is written and the watermark holds.
	var refreshed time.Time
	if err := e.pool.QueryRow(ctx, `SELECT max(refreshed_at) FROM sapb1.stock`).Scan(&refreshed); err != nil {
		t.Fatal(err)
	}
	mark := res.Watermark
	for range 2 {
		res = detect(t, e)
		if res.RowsWritten != 0 || res.Movements != 0 {
			t.Fatalf("nothing changed in SAP, yet: %+v", res)
		}
	}
	if res.Watermark.TransSeq != mark.TransSeq || res.Watermark.Orders.Key != mark.Orders.Key {
		t.Fatalf("watermark moved from %+v to %+v", mark, res.Watermark)
	}
	var refreshedAfter time.Time
	if err := e.pool.QueryRow(ctx, `SELECT max(refreshed_at) FROM sapb1.stock`).Scan(&refreshedAfter); err != nil || !refreshedAfter.Equal(refreshed) {
		t.Fatalf("sapb1.stock rewritten with nothing changed (%v → %v, %v)", refreshed, refreshedAfter, err)
	}
	if got := e.fingerprint(t); got == afterReceipt {
		t.Fatal("the order changed nothing in SAP's tables")
	}
	var runs int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ops.sync_run WHERE flow = $1 AND error IS NULL`, sapmaster.StockChangesFlow).Scan(&runs); err != nil || runs < 5 {
		t.Fatalf("sync runs recorded: %d, %v", runs, err)
	}
}

// More items than one StockOf query takes, and more orders than one
// OrderItems query takes: every batch is read.
func TestStockChangeDetectorBatchesOverHundredItems(t *testing.T) {
	ctx := context.Background()
	var items []string
	for i := range 130 {
		items = append(items, fmt.Sprintf("I%03d", i))
	}
	e := newStockEnv(t, time.Second, items...)
	for _, it := range items {
		if _, err := e.sim.ReceiveStock(ctx, it, "02", decimal.NewFromInt(3)); err != nil {
			t.Fatal(err)
		}
		e.order(t, it, 1)
	}
	var total sapmaster.StockChanges
	for range 10 { // the journal is read 20 pages of 50 a run
		res := detect(t, e)
		total.Movements += res.Movements
		total.RowsWritten += res.RowsWritten
		if res.Movements == 0 {
			break
		}
	}
	if total.Movements != 130 {
		t.Fatalf("movements read: %d, want 130", total.Movements)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM sapb1.stock WHERE whs_code = '02' AND on_hand = 3`).Scan(&n); err != nil || n != 130 {
		t.Fatalf("items with their receipt in 02 published: %d, %v", n, err)
	}
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM sapb1.stock WHERE whs_code = '01' AND is_committed = 1`).Scan(&n); err != nil || n != 130 {
		t.Fatalf("items with their order's commitment published: %d, %v", n, err)
	}
	if _, err := inventory.Recompute(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	var health int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM report.inventory_health WHERE sap_on_hand = 13 AND sap_committed = 1 AND ats = 12 AND pending = 0 AND drift_status = 'never_pushed'`).Scan(&health); err != nil || health != 130 {
		t.Fatalf("report.inventory_health rows as expected: %d, %v", health, err)
	}
}

// A full snapshot overwrites rows the detector published while it read;
// it rewinds the detector, whose next run reads those items again.
func TestStockSnapshotRewindsTheDetector(t *testing.T) {
	ctx := context.Background()
	e := newStockEnv(t, time.Second, "A")
	if _, err := e.sim.ReceiveStock(ctx, "A", "01", decimal.NewFromInt(1)); err != nil {
		t.Fatal(err)
	}
	// A snapshot whose read saw A before the receipt, published after it.
	old := fakeStock{{ItemCode: "A", WhsCode: "01", OnHand: decimal.NewFromInt(10)}}
	mark, err := sapmaster.StockChangesBaseline(ctx, e.pool, e.reader)
	if err != nil {
		t.Fatal(err)
	}
	detect(t, e) // publishes 11
	if _, err := sapmaster.SnapshotStock(ctx, e.pool, old); err != nil {
		t.Fatal(err)
	}
	if onHand, _ := e.stockOf(t, "A"); onHand != 10 {
		t.Fatalf("stale snapshot published %d", onHand)
	}
	if err := sapmaster.RewindStockChanges(ctx, e.pool, mark); err != nil {
		t.Fatal(err)
	}
	detect(t, e)
	if onHand, _ := e.stockOf(t, "A"); onHand != 11 {
		t.Fatalf("after the rewind A on hand is %d, want 11", onHand)
	}
}

type fakeStock []sqlreader.Stock

func (f fakeStock) StockAll(ctx context.Context, fn func([]sqlreader.Stock) error) error {
	return fn(f)
}

// BenchmarkStockFreshness measures how long a receipt in SAP takes to change
// the computed available-to-sell, with the change detector run every
// jobs.DetectSAPB1StockChangesInterval as in production (the worker's work:
// DetectStockChanges, then inventory.Recompute when stock was written).
// River's own scheduling latency is not included. 20 receipts at random
// moments of the interval; reports p50, p95 and max in seconds. Timing is
// reported, never asserted. The company is small, so each recompute takes
// milliseconds; BenchmarkStockFreshnessAt100kSKUs is the same at full size.
func BenchmarkStockFreshness(b *testing.B) {
	measureFreshness(b, newStockEnv(b, 0, "F"))
}

// BenchmarkStockFreshnessAt100kSKUs is BenchmarkStockFreshness with issue 7's
// data set (100k SKUs × 8 warehouses + 10k bundles, inventorytest) landed
// beside the simulated company's item, so every detector run that writes
// stock pays a full-size recompute.
func BenchmarkStockFreshnessAt100kSKUs(b *testing.B) {
	e := newStockEnv(b, 0, "F")
	inventorytest.Load(b, e.pool, "S1", "TW")
	if _, err := inventory.Recompute(context.Background(), e.pool); err != nil {
		b.Fatal(err)
	}
	measureFreshness(b, e)
}

func measureFreshness(b *testing.B, e *env) {
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(jobs.DetectSAPB1StockChangesInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				res, err := sapmaster.DetectStockChanges(ctx, e.pool, e.reader)
				if err == nil && res.RowsWritten > 0 {
					_, err = inventory.Recompute(ctx, e.pool)
				}
				if err != nil {
					b.Error(err)
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	const receipts = 20
	var lat []time.Duration
	b.ResetTimer()
	for i := range receipts {
		time.Sleep(time.Duration(mrand.Int64N(int64(jobs.DetectSAPB1StockChangesInterval))))
		want := e.ats(b, "F") + 1
		start := time.Now()
		if _, err := e.sim.ReceiveStock(ctx, "F", "01", decimal.NewFromInt(1)); err != nil {
			b.Fatal(err)
		}
		for e.ats(b, "F") != want {
			if time.Since(start) > time.Minute {
				b.Fatalf("receipt %d not in available-to-sell after a minute", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[int(p*float64(len(lat)-1)+0.5)].Seconds() }
	b.ReportMetric(pct(0.5), "p50_s")
	b.ReportMetric(pct(0.95), "p95_s")
	b.ReportMetric(lat[len(lat)-1].Seconds(), "max_s")
	b.ReportMetric(0, "ns/op")
	b.Logf("SAP receipt → computed ATS over %d receipts, detector every %s: p50 %.2fs p95 %.2fs max %.2fs",
		receipts, jobs.DetectSAPB1StockChangesInterval, pct(0.5), pct(0.95), lat[len(lat)-1].Seconds())
}
