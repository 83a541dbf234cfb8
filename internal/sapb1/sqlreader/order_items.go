package sqlreader

import (
	"context"
	"database/sql"
)

// OrderItems returns the distinct items on the lines (RDR1) of the given
// sales orders, in queries of up to 100 orders at READ COMMITTED: the items
// whose committed stock may have moved when ChangedOrders saw their orders
// change. An item on several batches' orders is returned once.
func (r *Reader) OrderItems(ctx context.Context, docEntries []int) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	err := inBatches(docEntries, func(args []any) error {
		return r.rows(ctx, "order_items", func(rows *sql.Rows) error {
			var code string
			if err := rows.Scan(&code); err != nil {
				return err
			}
			if !seen[code] {
				seen[code] = true
				out = append(out, code)
			}
			return nil
		}, args...)
	})
	return out, err
}

// PageSize is the rows per keyset page: a MovedSince page shorter than it
// is the end of the journal for now.
func (r *Reader) PageSize() int { return r.cfg.PageSize }
