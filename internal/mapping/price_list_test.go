package mapping_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/mapping"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// The shops column price_list is optional: set when the file has it (empty:
// no price sync), left as it is when the file has not.
func TestShopsPriceList(t *testing.T) {
	pool := testdb.New(t)
	header, rows, _ := strings.Cut(shopsCSV, "\n")
	lines := strings.Split(strings.TrimSpace(rows), "\n")
	with := header + ",price_list\n" + lines[0] + ",2\n" + lines[1] + ",\n"
	if _, err := importCSV(t, pool, "shops", with, mapping.Options{}); err != nil {
		t.Fatal(err)
	}
	priceList := func(shop string) *int32 {
		var v *int32
		if err := pool.QueryRow(context.Background(), `SELECT price_list FROM integration.shop_config WHERE shop_id = $1`, shop).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := priceList("7495540735365777507"); v == nil || *v != 2 {
		t.Fatalf("price list %v, want 2", v)
	}
	if v := priceList("7495540735365777508"); v != nil {
		t.Fatalf("price list %v, want none", *v)
	}
	// Without the column: unchanged.
	if _, err := importCSV(t, pool, "shops", shopsCSV, mapping.Options{}); err != nil {
		t.Fatal(err)
	}
	if v := priceList("7495540735365777507"); v == nil || *v != 2 {
		t.Fatalf("price list %v after a file without the column, want 2", v)
	}
	if out := export(t, pool, "shops"); !strings.Contains(out, ",price_list\n") || !strings.Contains(out, ",false,2\n") {
		t.Fatalf("export lacks the price list:\n%s", out)
	}
	if _, err := importCSV(t, pool, "shops", header+",price_list\n"+lines[0]+",-3\n", mapping.Options{}); err == nil {
		t.Fatal("a negative price list was accepted")
	}
}
