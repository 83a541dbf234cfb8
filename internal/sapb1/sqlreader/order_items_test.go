package sqlreader

import (
	"strings"
	"testing"
)

// The change detector's reads (watermarks, the items of changed orders and
// their stock) never use NOLOCK (DESIGN invariant 1).
func TestStockAndWatermarkReadsNeverNOLOCK(t *testing.T) {
	for _, name := range []string{"transseq_max", "moved_items", "changed_orders", "order_items", "stock_of_items", "stock_page"} {
		if q := strings.ToUpper(query(name)); strings.Contains(q, "WITH (NOLOCK)") || strings.Contains(q, "READUNCOMMITTED") {
			t.Errorf("%s.sql reads with NOLOCK", name)
		}
	}
	_, in, _ := strings.Cut(query("order_items"), "IN (")
	in, _, _ = strings.Cut(in, ")")
	if n := strings.Count(in, "@p"); n != stockBatch {
		t.Errorf("order_items.sql takes %d DocEntry arguments, inBatches sends %d", n, stockBatch)
	}
}
