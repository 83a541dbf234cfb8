package sqlreader_test

import (
	"context"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// OITM.U_EcomBuffer, where the UDF exists: only items with a value, across
// pages.
func TestEcomBuffersReadsTheUDF(t *testing.T) {
	c := newCompany(t)
	c.call("UserFieldsMD", map[string]any{"Name": "EcomBuffer", "Type": "db_Float", "SubType": "st_Quantity", "TableName": "OITM"})
	c.call("Items", map[string]any{"ItemCode": "B1", "ItemName": "One", "U_EcomBuffer": 3})
	c.call("Items", map[string]any{"ItemCode": "B2", "ItemName": "Two"})
	c.call("Items", map[string]any{"ItemCode": "B3", "ItemName": "Three", "U_EcomBuffer": 2.5})
	c.call("Items", map[string]any{"ItemCode": "B4", "ItemName": "Four", "U_EcomBuffer": 0})
	var got []sqlreader.Buffer
	if err := c.reader(1).EcomBuffers(context.Background(), func(p []sqlreader.Buffer) error { got = append(got, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ItemCode != "B1" || got[0].Buffer.String() != "3" || got[1].ItemCode != "B3" || got[1].Buffer.String() != "2.5" || got[2].ItemCode != "B4" {
		t.Fatalf("buffers %v, want B1 3, B3 2.5, B4 0", got)
	}
}
