package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/mapping"
	"github.com/tiktokb1/tiktokb1/internal/service"
)

func mappingUsage() string {
	var b strings.Builder
	b.WriteString(`mapping import KIND FILE [--replace] | mapping export KIND [FILE]

  import   check every row of a CSV file, then add or update its rows in one
           transaction; a file with any problem imports nothing and each
           problem is listed with its line and column
  export   write KIND as CSV (to FILE, or to standard output without FILE or
           with -); an export imports back unchanged

Kinds:
`)
	for _, k := range mapping.Kinds {
		fmt.Fprintf(&b, "  %-10s %s\n             columns: %s\n", k.Name, k.Summary, strings.Join(k.Columns, ","))
	}
	return strings.TrimRight(b.String(), "\n")
}

func runMapping(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mapping", mappingUsage(), stdout, stderr, nil)
	replace := fs.Bool("replace", false, "with import of skus, warehouse-sets, buffers or allocations: the file is the whole table (rows not in it are deleted)")
	var positional []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional, args = append(positional, args[0]), args[1:]
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	positional = append(positional, fs.Args()...)
	if len(positional) < 2 {
		return usageError(fs, stderr, "expected import KIND FILE or export KIND [FILE]")
	}
	action, kindName := positional[0], positional[1]
	if action != "import" && action != "export" {
		return usageError(fs, stderr, "unknown action %q: expected import or export", action)
	}
	kind, err := mapping.KindNamed(kindName)
	if err != nil {
		return usageError(fs, stderr, "%v", err)
	}
	if action == "import" && len(positional) != 3 {
		return usageError(fs, stderr, "import needs the CSV file: mapping import %s FILE", kindName)
	}
	if len(positional) > 3 {
		return usageError(fs, stderr, "unexpected argument %q", positional[3])
	}
	cfg, logger, err := loadConfig(stderr)
	if err != nil {
		return err
	}
	pool, err := service.OpenPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()

	if action == "export" {
		w := stdout
		if len(positional) == 3 && positional[2] != "-" {
			f, err := os.Create(positional[2])
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		return mapping.Export(ctx, pool, kind, w)
	}
	f, err := os.Open(positional[2])
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := mapping.Import(ctx, pool, kind, f, mapping.Options{Replace: *replace})
	if err != nil {
		return fmt.Errorf("%s: %w", positional[2], err)
	}
	fmt.Fprintf(stdout, "%s: %d row(s) added or changed\n", kind.Name, n)
	if !kind.Inventory || n == 0 {
		return nil
	}
	// What TikTok may sell changes now, not at the next SAP stock change:
	// the running service's periodic push sends the changed listings.
	changes, err := inventory.Recompute(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "available-to-sell recomputed: %d listing(s) changed; the running service pushes them to TikTok within seconds\n", inventory.Listings(changes))
	return nil
}
