package doctor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/doctor"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

func TestWarehouseSetsAgainstTikTok(t *testing.T) {
	tiktokWarehouses := []tiktok.Warehouse{
		{ID: "7068517275539719942", Name: "Main", IsDefault: true, EffectStatus: "ENABLED", Type: "SALES_WAREHOUSE"},
		{ID: "7068517275539719943", Name: "Returns", EffectStatus: "ENABLED", Type: "RETURN_WAREHOUSE"},
		{ID: "7068517275539719944", Name: "Old", EffectStatus: "DISABLED", Type: "SALES_WAREHOUSE"},
	}
	for _, tc := range []struct {
		name       string
		configured []string
		ok         bool
		says       []string
	}{
		{"set for the default warehouse", []string{"7068517275539719942"}, true, []string{
			"7068517275539719942 (Main, default)", "7068517275539719943 (Returns, returns only, no warehouse set)",
			"7068517275539719944 (Old, disabled, no warehouse set)"}},
		{"no set at all", nil, true, []string{"no warehouse set, so no stock is pushed", "tiktokb1 mapping import warehouse-sets",
			"7068517275539719942 (Main, default, no warehouse set)"}},
		{"a set for a warehouse TikTok does not list", []string{"7068517275539719942", "123"}, false, []string{
			"warehouse set for TikTok warehouse 123, which the shop does not have", "--replace", "7068517275539719942 (Main, default)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := doctor.WarehouseSets("TikTok shop S", tiktokWarehouses, tc.configured)
			if c.OK != tc.ok {
				t.Fatalf("OK = %v, want %v: %s", c.OK, tc.ok, c.Detail)
			}
			for _, s := range tc.says {
				if !strings.Contains(c.Detail, s) {
					t.Errorf("detail %q does not say %q", c.Detail, s)
				}
			}
		})
	}
	if c := doctor.WarehouseSets("TikTok shop S", nil, nil); !strings.Contains(c.Detail, "TikTok lists no warehouse") {
		t.Fatalf("no warehouses: %s", c.Detail)
	}
}

func TestWarehouseSetsAgainstSAP(t *testing.T) {
	pool := testdb.New(t)
	ctx := context.Background()
	q := db.New(pool)
	check := func() doctor.Check {
		t.Helper()
		problems, err := q.WarehouseSetProblems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return doctor.SAPWarehouseSets(problems)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code) VALUES ('S1', 'TW1', '01'), ('S1', 'TW1', '02'), ('S1', 'TW1', '09')`); err != nil {
		t.Fatal(err)
	}
	// No SAP warehouse snapshot yet: nothing to judge by.
	if c := check(); !c.OK {
		t.Fatalf("without a snapshot: %+v", c)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sapb1.warehouse (whs_code, inactive) VALUES ('01', false), ('02', true)`); err != nil {
		t.Fatal(err)
	}
	c := check()
	if c.OK || !strings.Contains(c.Detail, "02 (shop S1, TikTok warehouse TW1) is inactive") || !strings.Contains(c.Detail, "09 (shop S1, TikTok warehouse TW1) is unknown") ||
		strings.Contains(c.Detail, "01 (") {
		t.Fatalf("with 02 inactive and 09 unknown: %+v", c)
	}
}
