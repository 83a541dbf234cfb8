package jobs_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

// ecomBuffers is OITM.U_EcomBuffer as the SQL reader pages it.
type ecomBuffers map[string]string

func (b ecomBuffers) EcomBuffers(_ context.Context, fn func([]sqlreader.Buffer) error) error {
	var page []sqlreader.Buffer
	for code, v := range b {
		page = append(page, sqlreader.Buffer{ItemCode: code, Buffer: decimal.RequireFromString(v)})
	}
	return fn(page)
}

// SAP's buffer UDF lowers available-to-sell; integration.stock_buffer wins
// for an item it lists; an item whose UDF is cleared has no buffer again.
func TestBufferUDFAndTableBuffer(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 77}, map[string]int{"A": 10, "B": 10})
	land := func(b ecomBuffers) {
		t.Helper()
		if _, _, err := sapmaster.LandBuffers(context.Background(), e.pool, b); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.Recompute(context.Background(), e.pool); err != nil {
			t.Fatal(err)
		}
		e.push(t)
	}
	land(ecomBuffers{"A": "3", "B": "4"})
	e.want(t, "A", 7)
	e.want(t, "B", 6)

	e.exec(t, `INSERT INTO integration.stock_buffer (item_code, buffer) VALUES ('A', 1)`)
	land(ecomBuffers{"A": "3", "B": "4"})
	e.want(t, "A", 9) // the table wins
	e.want(t, "B", 6)

	land(ecomBuffers{"A": "3"})
	e.want(t, "B", 10) // B's UDF cleared in SAP
	if n := e.count(t, `SELECT count(*) FROM report.inventory_health WHERE shop_id = $1 AND ((seller_sku = 'A' AND buffer = 1) OR (seller_sku = 'B' AND buffer = 0))`, e.shop.ID); n != 2 {
		t.Fatalf("report.inventory_health shows the buffers on %d of 2 listings", n)
	}
}
