package sqlreader

import (
	"context"
	"database/sql"

	"github.com/shopspring/decimal"
)

// BufferUDF is the one OITM user field the reader can read as the
// e-commerce buffer (SAPB1_BUFFER_UDF): the query is a fixed embedded file,
// never built from configuration.
const BufferUDF = "U_EcomBuffer"

// Buffer is an item's e-commerce buffer from OITM.U_EcomBuffer.
type Buffer struct {
	ItemCode string
	Buffer   decimal.Decimal
}

// EcomBuffers reads OITM.U_EcomBuffer of the items that have a value, in
// keyset pages. Call it only where the UDF exists (SAPB1_BUFFER_UDF set):
// elsewhere SQL Server answers "Invalid column name".
func (r *Reader) EcomBuffers(ctx context.Context, fn func([]Buffer) error) error {
	scan := func(rows *sql.Rows) (Buffer, error) {
		var b Buffer
		err := rows.Scan(&b.ItemCode, &b.Buffer)
		return b, err
	}
	return pages(ctx, r, "ecom_buffer_page", scan, func(last *Buffer) []any {
		if last == nil {
			return []any{""}
		}
		return []any{last.ItemCode}
	}, fn)
}
