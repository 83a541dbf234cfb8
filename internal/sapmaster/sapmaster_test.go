package sapmaster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

type env struct {
	t      *testing.T
	sim    *sapb1sim.Server
	reader *sqlreader.Reader
	pool   *pgxpool.Pool // our staging database
}

func newEnv(t *testing.T, pageSize int) *env {
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
	r, err := sqlreader.Open(sqlreader.Config{DSN: fmt.Sprintf("sqlserver://reader:r3ad@%s?database=%s&encrypt=disable", ln.Addr(), name), PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &env{t: t, sim: sim, reader: r, pool: testdb.New(t)}
}

func (e *env) sap(method, path string, body any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	if status, out := e.sim.Call(context.Background(), method, path, b); status/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, status, out)
	}
}

func (e *env) items(t *testing.T) map[string]string {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT item_code, format('%s valid=%s frozen=%s sales=%s tree=%s', item_name, valid, frozen, sales_item, tree_type) FROM sapb1.item`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func TestSnapshotsLandItemsBOMsAndWarehouses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	e.sap("POST", "Warehouses", map[string]any{"WarehouseCode": "01", "WarehouseName": "Main"})
	for i := range 10 {
		e.sap("POST", "Items", map[string]any{"ItemCode": fmt.Sprintf("I%02d", i), "ItemName": fmt.Sprintf("Item %d", i)})
	}
	e.sap("POST", "Items", map[string]any{"ItemCode": "KIT", "ItemName": "Kit", "InventoryItem": "tNO"})
	e.sap("POST", "ProductTrees", map[string]any{"TreeCode": "KIT", "TreeType": "iSalesTree",
		"ProductTreeLines": []any{map[string]any{"ItemCode": "I00", "Quantity": 2}}})

	if n, err := sapmaster.SnapshotWarehouses(ctx, e.pool, e.reader); err != nil || n != 1 {
		t.Fatalf("warehouses: %d, %v", n, err)
	}
	if n, err := sapmaster.SnapshotItems(ctx, e.pool, e.reader); err != nil || n != 11 {
		t.Fatalf("items: %d, %v", n, err)
	}
	if n, err := sapmaster.SnapshotBOMs(ctx, e.pool, e.reader); err != nil || n != 1 {
		t.Fatalf("BOMs: %d, %v", n, err)
	}
	got := e.items(t)
	if len(got) != 11 || got["KIT"] != "Kit valid=t frozen=f sales=t tree=S" {
		t.Fatalf("items landed: %v", got)
	}
	var comp string
	var qty decimal.Decimal
	if err := e.pool.QueryRow(ctx, `SELECT component, quantity FROM sapb1.bom_line WHERE father = 'KIT'`).Scan(&comp, &qty); err != nil || comp != "I00" || !qty.Equal(decimal.NewFromInt(2)) {
		t.Fatalf("kit component %s × %s (%v)", comp, qty, err)
	}

	// An item SAP no longer has leaves with the next complete snapshot.
	if _, err := e.pool.Exec(ctx, `INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen) VALUES ('GONE', true, true, true, false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := sapmaster.SnapshotItems(ctx, e.pool, e.reader); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.items(t)["GONE"]; ok {
		t.Fatal("an item SAP does not have survived a complete snapshot")
	}
}

// failingReader fails its item read after the first page.
type failingReader struct {
	sapmaster.Reader
}

func (f failingReader) Items(ctx context.Context, fn func([]sqlreader.Item) error) error {
	pages := 0
	return f.Reader.Items(ctx, func(p []sqlreader.Item) error {
		if pages++; pages > 1 {
			return errors.New("connection reset by SAP's SQL Server")
		}
		return fn(p)
	})
}

// A read that fails half way publishes nothing: the last complete snapshot
// stays (DESIGN invariant 9).
func TestAPartialSnapshotPublishesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 3)
	for i := range 8 {
		e.sap("POST", "Items", map[string]any{"ItemCode": fmt.Sprintf("I%02d", i), "ItemName": "first"})
	}
	if _, err := sapmaster.SnapshotItems(ctx, e.pool, e.reader); err != nil {
		t.Fatal(err)
	}
	e.sap("PATCH", "Items('I00')", map[string]any{"ItemName": "renamed"})
	if _, err := sapmaster.SnapshotItems(ctx, e.pool, failingReader{e.reader}); err == nil {
		t.Fatal("a failed read reported success")
	}
	got := e.items(t)
	if len(got) != 8 || got["I00"] != "first valid=t frozen=f sales=t tree=N" {
		t.Fatalf("after a failed snapshot: %v", got)
	}
	var status string
	var loadRows int
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT status FROM sapb1.snapshot ORDER BY id DESC LIMIT 1), (SELECT count(*) FROM sapb1.item_load)`).Scan(&status, &loadRows); err != nil || status != "failed" || loadRows != 0 {
		t.Fatalf("failed snapshot: status %q, %d rows left loading (%v)", status, loadRows, err)
	}
}

// An item created or deactivated in SAP reaches the staging tables on the
// next change-detector run, without a full snapshot.
func TestChangedItemsArriveBetweenSnapshots(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 50)
	e.sap("POST", "Items", map[string]any{"ItemCode": "OLD", "ItemName": "Old"})
	if _, err := sapmaster.SnapshotItems(ctx, e.pool, e.reader); err != nil {
		t.Fatal(err)
	}
	if _, err := sapmaster.RefreshChangedItems(ctx, e.pool, e.reader); err != nil {
		t.Fatal(err)
	}
	e.sap("POST", "Items", map[string]any{"ItemCode": "NEW", "ItemName": "New"})
	e.sap("PATCH", "Items('OLD')", map[string]any{"Valid": "tNO"})
	n, err := sapmaster.RefreshChangedItems(ctx, e.pool, e.reader)
	if err != nil || n < 2 {
		t.Fatalf("refresh: %d items, %v", n, err)
	}
	got := e.items(t)
	if got["NEW"] == "" || got["OLD"] != "Old valid=f frozen=f sales=t tree=N" {
		t.Fatalf("after the change detector: %v", got)
	}
	var watermark string
	if err := e.pool.QueryRow(ctx, `SELECT watermark FROM ops.sync_run WHERE flow = $1 AND error IS NULL ORDER BY id DESC LIMIT 1`, sapmaster.ChangesFlow).Scan(&watermark); err != nil || watermark == "" {
		t.Fatalf("no watermark recorded: %q, %v", watermark, err)
	}
}
