package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// BenchmarkRaiseException measures the exception upsert that validation runs
// for every blocked record, beside a plain INSERT of the same row as the
// baseline: "repeat" is the common case (the same SKU blocks order after order).
func BenchmarkRaiseException(b *testing.B) {
	ctx := context.Background()
	pool := testdb.New(b)
	q := db.New(pool)
	b.Run("baseline_plain_insert", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, err := pool.Exec(ctx, `INSERT INTO ops.exception (kind, owner_team, sku, message) VALUES ('bench_plain', 'operations', $1, 'm')`,
				fmt.Sprint(i))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new_problem", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := q.RaiseException(ctx, unmapped(fmt.Sprint("new-", i), "m")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repeat_problem", func(b *testing.B) {
		for b.Loop() {
			if _, err := q.RaiseException(ctx, unmapped("same", "m")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
