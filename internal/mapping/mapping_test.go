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
	}
	for _, name := range []string{"shops", "tax-codes", "skus", "bundles", "warehouse-sets"} {
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
	if _, err := importCSV(t, pool, "skus", "shop_id,seller_sku,item_code\n,KEEP,A1\n", mapping.Options{}); err != nil {
		t.Fatal(err)
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
	if got := export(t, pool, "skus"); got != "shop_id,seller_sku,item_code\n,KEEP,A1\n" {
		t.Fatalf("a rejected file changed what was stored:\n%s", got)
	}
	if _, err := mapping.KindNamed("skuz"); err == nil || !strings.Contains(err.Error(), "shops, tax-codes, skus, bundles, warehouse-sets") {
		t.Fatalf("unknown kind: %v", err)
	}
}
