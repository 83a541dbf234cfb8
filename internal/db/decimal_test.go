package db_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// Money is numeric in Postgres and decimal.Decimal in Go (sqlc.yaml maps
// one to the other); a round trip through pgx must be exact, never a float.
func TestNumericRoundTripsExactlyAsDecimal(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	for _, s := range []string{"0.1", "3.333333", "-0.01", "12345678901234567.891234", "1E-6", "9007199254740993"} {
		in := decimal.RequireFromString(s)
		var out decimal.Decimal
		var text string
		if err := pool.QueryRow(ctx, "SELECT $1::numeric(38,6), $1::numeric(38,6)::text", in).Scan(&out, &text); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if !out.Equal(in) {
			t.Errorf("%s came back as %s", s, out)
		}
		if !decimal.RequireFromString(text).Equal(in) {
			t.Errorf("%s was stored as %s", s, text)
		}
	}
	var null decimal.NullDecimal
	if err := pool.QueryRow(ctx, "SELECT NULL::numeric").Scan(&null); err != nil || null.Valid {
		t.Fatalf("NULL numeric scanned as %+v, %v", null, err)
	}
}
