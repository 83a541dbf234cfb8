package mapping_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/mapping"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

const shopsCSV = `shop_id,card_code,currency,series,default_warehouse,shipping_mode,shipping_item_code,freight_expense_code,prices_include_tax,tiktok_remits_tax,exempt_tax_code,fbt_mode,fbt_warehouse,already_shipped,cutover_at,extra_hold,orders_paused,inventory_paused,cancellations_paused
7495540735365777507,C-TIKTOK-GB,GBP,,01,freight,,1,true,false,,skip,,exception,2026-11-01T00:00:00Z,0s,false,false,false
7495540735365777508,C-TIKTOK-US,usd,12,02,service_item,SHIP,,false,true,EXEMPT,warehouse,FBT,post_as_shipped,2026-11-15,30m,true,false,false
`

func kind(t *testing.T, name string) *mapping.Kind {
	t.Helper()
	k, err := mapping.KindNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func importCSV(t *testing.T, pool *pgxpool.Pool, name, text string, opts mapping.Options) (int64, error) {
	t.Helper()
	return mapping.Import(context.Background(), pool, kind(t, name), strings.NewReader(text), opts)
}

func export(t *testing.T, pool *pgxpool.Pool, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := mapping.Export(context.Background(), pool, kind(t, name), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestImportExportRoundTrip(t *testing.T) {
	pool := testdb.New(t)
	files := map[string]string{
		"shops":     shopsCSV,
		"tax-codes": "shop_id,region,tax_code\n7495540735365777507,GB,O1\n7495540735365777507,,X0\n",
		"skus":      "shop_id,seller_sku,item_code\n,MUG-RED,A00001\n7495540735365777507,MUG-BLUE,A00002\n",
		"bundles": "seller_sku,mode,kit_item_code,component_item_code,quantity,price_weight\n" +
			"GIFTSET,components,,A00001,2,3\nGIFTSET,components,,A00002,1,1\nKIT-1,kit,K00001,,,\n",
		"warehouse-sets": "shop_id,tiktok_warehouse_id,whs_code\n7495540735365777507,7068517275539719942,01\n7495540735365777507,7068517275539719942,02\n",
		"buffers":        "item_code,buffer\nA00001,5\nA00002,0\nA00003,2.5\n",
		"allocations":    "shop_id,seller_sku,share\n7495540735365777507,MUG-RED,0.7\n7495540735365777508,MUG-RED,0.3\n7495540735365777508,MUG-BLUE,0.3333\n7495540735365777508,MUG-GREEN,0\n",
	}
	for _, name := range []string{"shops", "tax-codes", "skus", "bundles", "warehouse-sets", "buffers", "allocations"} {
		n, err := importCSV(t, pool, name, files[name], mapping.Options{})
		if err != nil || n == 0 {
			t.Fatalf("import %s: %d rows, %v", name, n, err)
		}
		again, err := importCSV(t, pool, name, export(t, pool, name), mapping.Options{})
		if err != nil {
			t.Fatalf("re-import of the export of %s: %v\n%s", name, err, export(t, pool, name))
		}
		if name != "bundles" && again != 0 {
			t.Errorf("re-importing the export of %s changed %d rows, want 0", name, again)
		}
	}
	shops := export(t, pool, "shops")
	for _, want := range []string{"7495540735365777508,C-TIKTOK-US,USD,12,02,service_item,SHIP,,false,true,EXEMPT,warehouse,FBT,post_as_shipped,2026-11-15T00:00:00Z,30m0s,true,false,false"} {
		if !strings.Contains(shops, want) {
			t.Errorf("export lacks %q:\n%s", want, shops)
		}
	}
	if got := export(t, pool, "bundles"); !strings.Contains(got, "GIFTSET,components,,A00001,2,3") || !strings.Contains(got, "KIT-1,kit,K00001,,,") {
		t.Errorf("bundles export:\n%s", got)
	}
	// Columns in the file's order, numbers as written.
	if got := export(t, pool, "buffers"); got != files["buffers"] {
		t.Errorf("buffers export:\n%s\nwant\n%s", got, files["buffers"])
	}
	wantAllocations := "shop_id,seller_sku,share\n7495540735365777507,MUG-RED,0.7\n7495540735365777508,MUG-BLUE,0.3333\n" +
		"7495540735365777508,MUG-GREEN,0\n7495540735365777508,MUG-RED,0.3\n"
	if got := export(t, pool, "allocations"); got != wantAllocations {
		t.Errorf("allocations export:\n%s\nwant\n%s", got, wantAllocations)
	}
	// Changing one mapping counts one row.
	n, err := importCSV(t, pool, "skus", "shop_id,seller_sku,item_code\n,MUG-RED,A00009\n", mapping.Options{})
	if err != nil || n != 1 {
		t.Fatalf("changing one SKU: %d, %v", n, err)
	}
	// With --replace the file is the whole map.
	if _, err := importCSV(t, pool, "skus", "shop_id,seller_sku,item_code\n,MUG-RED,A00009\n", mapping.Options{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := export(t, pool, "skus"); strings.Contains(got, "MUG-BLUE") {
		t.Errorf("--replace kept a row the file lacks:\n%s", got)
	}
}

func TestBadFilesNameEachProblemAndImportNothing(t *testing.T) {
	pool := testdb.New(t)
	for name, text := range map[string]string{
		"skus":        "shop_id,seller_sku,item_code\n,KEEP,A1\n",
		"buffers":     "item_code,buffer\nKEEP,1\n",
		"allocations": "shop_id,seller_sku,share\nS1,KEEP,0.5\n",
	} {
		if _, err := importCSV(t, pool, name, text, mapping.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		kind, text string
		want       []string
	}{
		{"skus", "", []string{"the file is empty"}},
		{"skus", "seller_sku,item\n", []string{`unknown column "item"`, `column "shop_id" is missing`, `column "item_code" is missing`}},
		{"skus", "shop_id,seller_sku,item_code\n,A,\n,A,X\n,B,Y\n", []string{"line 2, item_code: required", `line 3, seller_sku: "/A" appears again (first on line 2)`}},
		{"skus", "shop_id,seller_sku,item_code\n,\"open quote,X\n", []string{"line 2"}},
		{"shops", strings.Replace(shopsCSV, ",GBP,", ",POUNDS,", 1), []string{`line 2, currency: "POUNDS" is not a three-letter currency code`}},
		{"shops", strings.Replace(shopsCSV, "2026-11-01T00:00:00Z", "yesterday", 1), []string{`line 2, cutover_at: "yesterday" is not a time`}},
		{"shops", strings.Replace(shopsCSV, ",freight,,1,", ",freight,,,", 1), []string{"line 2, freight_expense_code: required when shipping_mode is freight"}},
		{"shops", strings.Replace(shopsCSV, ",true,EXEMPT,", ",true,,", 1), []string{"line 3, exempt_tax_code: required when tiktok_remits_tax is true"}},
		{"shops", strings.Replace(shopsCSV, ",30m,", ",half an hour,", 1), []string{`line 3, extra_hold: "half an hour" is not a duration`}},
		{"bundles", "seller_sku,mode,kit_item_code,component_item_code,quantity,price_weight\nB,components,,A1,-2,1\nB,kit,K,,,\nC,box,,,,\n",
			[]string{`line 2, quantity: "-2" is not a positive number`, "line 3, mode: bundle \"B\" is components on an earlier line", `line 4, mode: "box" is not one of kit, components`}},
		{"buffers", "item_code,buffer\nA1,-1\n,3\nA2,2\nA2,4\nA3,\nA4,lots\nA5,0.1234567\n",
			[]string{`line 2, buffer: "-1" is below 0`, "line 3, item_code: required", `line 5, item_code: "A2" appears again (first on line 4)`,
				"line 6, buffer: required", `line 7, buffer: "lots" is not a number (use a point for decimals): expected a number of units, 0 or more`, `line 8, buffer: "0.1234567" has more than 6 decimals`}},
		{"allocations", "shop_id,seller_sku,share\nS1,A,1.5\nS1,B,-0.1\nS1,C,abc\nS1,D,0.33333\nS1,E,0.5\nS1,E,0.5\n,F,0.5\nS1,,0.5\nS1,G,\n",
			[]string{`line 2, share: "1.5" is above 1: expected a number from 0 to 1`, `line 3, share: "-0.1" is below 0: expected a number from 0 to 1`,
				`line 4, share: "abc" is not a number (use a point for decimals): expected a number from 0 to 1`, `line 5, share: "0.33333" has more than 4 decimals`,
				`line 7, seller_sku: "S1/E" appears again (first on line 6)`, "line 8, shop_id: required", "line 9, seller_sku: required",
				"line 10, share: required"}},
	}
	for _, c := range cases {
		_, err := importCSV(t, pool, c.kind, c.text, mapping.Options{})
		var problems mapping.Problems
		if !errors.As(err, &problems) {
			t.Errorf("%s %q: %v, want problems", c.kind, c.text, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: problems lack %q:\n%v", c.kind, w, err)
			}
		}
	}
	for name, want := range map[string]string{
		"skus":        "shop_id,seller_sku,item_code\n,KEEP,A1\n",
		"buffers":     "item_code,buffer\nKEEP,1\n",
		"allocations": "shop_id,seller_sku,share\nS1,KEEP,0.5\n",
	} {
		if got := export(t, pool, name); got != want {
			t.Errorf("a rejected %s file changed what was stored:\n%s", name, got)
		}
	}
	if _, err := mapping.KindNamed("skuz"); err == nil || !strings.Contains(err.Error(), "shops, tax-codes, skus, bundles, warehouse-sets, buffers, allocations") {
		t.Fatalf("unknown kind: %v", err)
	}
}

// With --replace a buffers or allocations file is the whole table: rows it
// lacks are deleted; without, they stay.
func TestBuffersAndAllocationsReplace(t *testing.T) {
	pool := testdb.New(t)
	cases := []struct{ kind, first, second, want string }{
		{"buffers", "item_code,buffer\nA,1\nB,2\n", "item_code,buffer\nB,3\n", "item_code,buffer\nB,3\n"},
		{"allocations", "shop_id,seller_sku,share\nS1,A,0.7\nS2,A,0.3\n", "shop_id,seller_sku,share\nS2,A,0.25\n",
			"shop_id,seller_sku,share\nS2,A,0.25\n"},
	}
	for _, c := range cases {
		if _, err := importCSV(t, pool, c.kind, c.first, mapping.Options{}); err != nil {
			t.Fatal(err)
		}
		// Without --replace: added or updated, nothing deleted.
		n, err := importCSV(t, pool, c.kind, c.second, mapping.Options{})
		if err != nil || n != 1 {
			t.Fatalf("%s: %d rows changed, %v; want 1", c.kind, n, err)
		}
		if got := export(t, pool, c.kind); got == c.want {
			t.Errorf("%s: an import without --replace deleted rows:\n%s", c.kind, got)
		}
		n, err = importCSV(t, pool, c.kind, c.second, mapping.Options{Replace: true})
		if err != nil || n != 1 {
			t.Fatalf("%s --replace: %d rows changed, %v; want 1 (the deleted row)", c.kind, n, err)
		}
		if got := export(t, pool, c.kind); got != c.want {
			t.Errorf("%s --replace:\n%s\nwant\n%s", c.kind, got, c.want)
		}
	}
}
