// Package mapping imports and exports the orders flow's configuration as CSV:
// shops, tax codes per region, the SKU map, bundles, warehouse sets, stock
// buffers and listing allocations. An import checks
// every row before it writes anything, names the line and column of each
// problem, and writes the whole file in one transaction.
package mapping

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Kind is one kind of configuration, with its CSV columns.
type Kind struct {
	Name    string
	Summary string
	Columns []string
	// Optional are columns of Columns a file may leave out (added after
	// files were written); what an absent column means is the kind's.
	Optional []string
	// Inventory: the kind changes what TikTok may sell (the listing
	// expansion, warehouse sets, buffers, allocation), so an import is
	// followed by a recompute of available-to-sell.
	Inventory bool
	// importRows checks the rows and writes them inside tx.
	importRows func(ctx context.Context, q *db.Queries, rows []row, opts Options) (int64, error)
	exportRows func(ctx context.Context, q *db.Queries, w *csv.Writer) error
}

// Kinds lists every kind, in the order an operator configures them.
var Kinds = []*Kind{shopsKind, taxCodesKind, skusKind, bundlesKind, warehouseSetsKind, buffersKind, allocationsKind}

// KindNamed returns the kind called name.
func KindNamed(name string) (*Kind, error) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Name
	}
	return nil, fmt.Errorf("unknown kind %q; expected one of %s", name, strings.Join(names, ", "))
}

// Options changes how an import writes.
type Options struct {
	// Replace makes the table equal to the file (rows not in it are
	// deleted) where the kind supports it (skus, warehouse-sets, buffers,
	// allocations); otherwise rows are added or updated.
	Replace bool
	// By is recorded as updated_by; default the database user.
	By string
}

// Problems is every problem of a file, one per line of text.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d problem(s), nothing imported:\n  %s", len(p), strings.Join(p, "\n  "))
}

// row is one CSV record with its line number, read by column name.
type row struct {
	line   int
	values map[string]string
}

func (r row) get(col string) string { return strings.TrimSpace(r.values[col]) }

// has reports whether the file has the column.
func (r row) has(col string) bool { _, ok := r.values[col]; return ok }

// Import reads a CSV file of kind k and writes it. It returns the number of
// rows added or changed; rows equal to what is stored count as unchanged.
func Import(ctx context.Context, pool *pgxpool.Pool, k *Kind, r io.Reader, opts Options) (int64, error) {
	rows, err := readCSV(k, r)
	if err != nil {
		return 0, err
	}
	if opts.By == "" {
		opts.By = "tiktokb1 mapping import"
	}
	var changed int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		changed, err = k.importRows(ctx, db.New(tx), rows, opts)
		return err
	})
	if err != nil {
		var problems Problems
		if errors.As(err, &problems) {
			return 0, problems
		}
		return 0, fmt.Errorf("importing %s: %w", k.Name, err)
	}
	return changed, nil
}

// Export writes kind k as CSV with a header row.
func Export(ctx context.Context, pool *pgxpool.Pool, k *Kind, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(k.Columns); err != nil {
		return err
	}
	if err := k.exportRows(ctx, db.New(pool), cw); err != nil {
		return fmt.Errorf("exporting %s: %w", k.Name, err)
	}
	cw.Flush()
	return cw.Error()
}

// readCSV reads the header (columns in any order; every column of the kind
// required, no unknown ones) and the records.
func readCSV(k *Kind, r io.Reader) ([]row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, Problems{"the file is empty; expected a header line: " + strings.Join(k.Columns, ",")}
	}
	if err != nil {
		return nil, Problems{fmt.Sprintf("line 1: %v", err)}
	}
	var problems Problems
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
		if !slices.Contains(k.Columns, header[i]) {
			problems = append(problems, fmt.Sprintf("line 1: unknown column %q; %s files have: %s", header[i], k.Name, strings.Join(k.Columns, ",")))
		}
	}
	for _, c := range k.Columns {
		if !slices.Contains(header, c) && !slices.Contains(k.Optional, c) {
			problems = append(problems, fmt.Sprintf("line 1: column %q is missing", c))
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		if len(rec) != len(header) {
			problems = append(problems, fmt.Sprintf("line %d: %d fields, the header has %d", line, len(rec), len(header)))
			continue
		}
		values := make(map[string]string, len(header))
		for i, h := range header {
			values[h] = rec[i]
		}
		rows = append(rows, row{line: line, values: values})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return rows, nil
}
