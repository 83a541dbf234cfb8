package inventory_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/inventory/inventorytest"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

func setupBenchmark(b *testing.B) *pgxpool.Pool {
	b.Helper()
	pool := testdb.New(b)
	inventorytest.Load(b, pool, "S1", "TW1")
	return pool
}

// BenchmarkAvailableToSell is issue 7's full recompute: 100k SKUs × 8
// warehouses + 10k bundles, diff and ledger writes included (target ≤ 2 s),
// side by side with a baseline of the same run. See docs/benchmarks.md.
func BenchmarkAvailableToSell(b *testing.B) {
	ctx := context.Background()
	pool := setupBenchmark(b)

	// Baseline: the cheapest useful read of the same stock, the per-item
	// sums over the warehouses, every row fetched by the client.
	b.Run("baseline_sum_group_by", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, `SELECT item_code, sum(on_hand) - sum(is_committed) FROM sapb1.stock GROUP BY item_code`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Close(); rows.Err() != nil || n != 100000 {
				b.Fatalf("%d rows, %v", n, rows.Err())
			}
		}
	})

	// Every listing new: 110k ledger rows written (counted per shop).
	b.Run("recompute_all_changed", func(b *testing.B) {
		var changed int
		for b.Loop() {
			b.StopTimer()
			exec(b, pool, `TRUNCATE integration.inventory_push`)
			b.StartTimer()
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil {
				b.Fatal(err)
			}
			changed = int(inventory.Listings(shops))
		}
		if changed != inventorytest.Listings {
			b.Fatalf("%d listings changed, want %d", changed, inventorytest.Listings)
		}
		b.ReportMetric(float64(changed), "changed/op")
	})

	// A stock read moved 1,000 items: the steady state.
	b.Run("recompute_1k_items_moved", func(b *testing.B) {
		var changed, round int
		for b.Loop() {
			b.StopTimer()
			round++
			exec(b, pool, `UPDATE sapb1.stock SET on_hand = on_hand + 5 * (1 - 2 * ($1::int % 2))
			               WHERE whs_code = 'W1' AND item_code IN (SELECT format('I%s', lpad(i::text, 6, '0')) FROM generate_series(1, 100000, 100) i)`, round)
			b.StartTimer()
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil {
				b.Fatal(err)
			}
			changed = int(inventory.Listings(shops))
		}
		b.ReportMetric(float64(changed), "changed/op")
	})

	// Nothing moved: the diff finds nothing, nothing is written.
	b.Run("recompute_unchanged", func(b *testing.B) {
		for b.Loop() {
			shops, err := inventory.Recompute(ctx, pool)
			if err != nil || len(shops) != 0 {
				b.Fatalf("%v changed, %v", shops, err)
			}
		}
	})
}
