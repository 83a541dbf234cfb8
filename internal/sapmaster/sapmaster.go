// Package sapmaster lands SAP Business One master data (items, bills of
// materials, warehouses) in the sapb1 schema through the SQL reader: full
// snapshots swapped in only once complete, and between them the items whose
// UpdateDate+UpdateTS moved, so an item created or reactivated in SAP is
// known to validation within seconds.
package sapmaster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// Reader is what sapmaster reads SAP through (a *sqlreader.Reader).
type Reader interface {
	Items(ctx context.Context, fn func([]sqlreader.Item) error) error
	ItemsByCode(ctx context.Context, codes []string) ([]sqlreader.Item, error)
	BOMs(ctx context.Context, fn func([]sqlreader.BOMLine) error) error
	Warehouses(ctx context.Context) ([]sqlreader.Warehouse, error)
	ChangedItems(ctx context.Context, watermark sqlreader.Stamp) ([]sqlreader.Change, sqlreader.Stamp, error)
}

// SnapshotItems reads every item and swaps them in once the read is
// complete. A read that fails publishes nothing.
func SnapshotItems(ctx context.Context, pool *pgxpool.Pool, r Reader) (int64, error) {
	q := db.New(pool)
	id, err := q.StartSnapshot(ctx, "items")
	if err != nil {
		return 0, fmt.Errorf("sapmaster: starting the item snapshot: %w", err)
	}
	var loaded int64
	err = r.Items(ctx, func(page []sqlreader.Item) error {
		n, err := q.LoadItems(ctx, loadItemsParams(id, page))
		loaded += n
		return err
	})
	if err != nil {
		return 0, fail(ctx, q, id, "items", err)
	}
	n, err := q.PublishItems(ctx, id)
	if err != nil {
		return 0, fail(ctx, q, id, "items", err)
	}
	if n != 1 {
		return 0, fmt.Errorf("sapmaster: item snapshot %d was no longer loading", id)
	}
	return loaded, nil
}

// SnapshotBOMs reads every bill-of-materials line and replaces the stored
// ones once the read is complete.
func SnapshotBOMs(ctx context.Context, pool *pgxpool.Pool, r Reader) (int64, error) {
	q := db.New(pool)
	id, err := q.StartSnapshot(ctx, "boms")
	if err != nil {
		return 0, fmt.Errorf("sapmaster: starting the BOM snapshot: %w", err)
	}
	var loaded int64
	err = r.BOMs(ctx, func(page []sqlreader.BOMLine) error {
		p := db.LoadBOMLinesParams{SnapshotID: id}
		for _, b := range page {
			p.Fathers = append(p.Fathers, b.Father)
			p.ChildNums = append(p.ChildNums, int32(b.ChildNum))
			p.TreeTypes = append(p.TreeTypes, b.TreeType)
			p.HeaderQuantities = append(p.HeaderQuantities, b.HeaderQuantity)
			p.Components = append(p.Components, b.Component)
			p.Quantities = append(p.Quantities, b.Quantity)
			p.Warehouses = append(p.Warehouses, b.Warehouse)
		}
		n, err := q.LoadBOMLines(ctx, p)
		loaded += n
		return err
	})
	if err != nil {
		return 0, fail(ctx, q, id, "boms", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		qt := db.New(tx)
		if err := qt.ClearBOMLines(ctx); err != nil {
			return err
		}
		_, err := qt.PublishBOMLines(ctx, id)
		return err
	})
	if err != nil {
		return 0, fail(ctx, q, id, "boms", err)
	}
	return loaded, nil
}

// SnapshotWarehouses reads and publishes the warehouses.
func SnapshotWarehouses(ctx context.Context, pool *pgxpool.Pool, r Reader) (int, error) {
	whs, err := r.Warehouses(ctx)
	if err != nil {
		return 0, fmt.Errorf("sapmaster: reading warehouses: %w", err)
	}
	p := db.PublishWarehousesParams{}
	for _, w := range whs {
		p.WhsCodes = append(p.WhsCodes, w.WhsCode)
		p.WhsNames = append(p.WhsNames, w.WhsName)
		p.Inactives = append(p.Inactives, w.Inactive == "Y")
	}
	if _, err := db.New(pool).PublishWarehouses(ctx, p); err != nil {
		return 0, fmt.Errorf("sapmaster: publishing warehouses: %w", err)
	}
	return len(whs), nil
}

// ChangesFlow is the ops.sync_run flow of the item change detector.
const ChangesFlow = "sapb1_item_changes"

// RefreshChangedItems reads the items whose UpdateDate+UpdateTS moved since
// the last successful run (re-reading an overlap window before it) and
// upserts them. The run and its watermark are recorded in ops.sync_run.
func RefreshChangedItems(ctx context.Context, pool *pgxpool.Pool, r Reader) (int, error) {
	q := db.New(pool)
	var watermark sqlreader.Stamp
	if last, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: ChangesFlow}); err == nil && last.Watermark != nil {
		if watermark, err = parseStamp(*last.Watermark); err != nil {
			return 0, fmt.Errorf("sapmaster: stored watermark %q: %w", *last.Watermark, err)
		}
	} else if err != nil && err != pgx.ErrNoRows {
		return 0, fmt.Errorf("sapmaster: reading the last watermark: %w", err)
	}
	run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: ChangesFlow})
	if err != nil {
		return 0, fmt.Errorf("sapmaster: %w", err)
	}
	n, next, err := refreshChanged(ctx, q, r, watermark)
	finish := db.FinishSyncRunParams{ID: run.ID, Counts: counts(map[string]int{"items": n})}
	if err != nil {
		msg := err.Error()
		finish.Error = &msg
	} else {
		w := formatStamp(next)
		finish.Watermark = &w
	}
	if _, ferr := q.FinishSyncRun(context.WithoutCancel(ctx), finish); ferr != nil && err == nil {
		err = fmt.Errorf("sapmaster: recording the run: %w", ferr)
	}
	return n, err
}

func refreshChanged(ctx context.Context, q *db.Queries, r Reader, watermark sqlreader.Stamp) (int, sqlreader.Stamp, error) {
	changes, next, err := r.ChangedItems(ctx, watermark)
	if err != nil || len(changes) == 0 {
		return 0, next, err
	}
	codes := make([]string, 0, len(changes))
	seen := map[string]bool{}
	for _, c := range changes {
		if !seen[c.Key] {
			seen[c.Key] = true
			codes = append(codes, c.Key)
		}
	}
	items, err := r.ItemsByCode(ctx, codes)
	if err != nil {
		return 0, watermark, err
	}
	if len(items) > 0 {
		l := loadItemsParams(0, items)
		p := db.UpsertChangedItemsParams{
			ItemCodes: l.ItemCodes, ItemNames: l.ItemNames, InventoryItems: l.InventoryItems, SalesItems: l.SalesItems,
			Valids: l.Valids, Frozens: l.Frozens, TreeTypes: l.TreeTypes, UpdateDates: l.UpdateDates, UpdateTss: l.UpdateTss,
		}
		if _, err := q.UpsertChangedItems(ctx, p); err != nil {
			return 0, watermark, err
		}
	}
	return len(items), next, nil
}

func loadItemsParams(id int64, page []sqlreader.Item) db.LoadItemsParams {
	p := db.LoadItemsParams{SnapshotID: id}
	for _, it := range page {
		p.ItemCodes = append(p.ItemCodes, it.ItemCode)
		p.ItemNames = append(p.ItemNames, it.ItemName)
		p.InventoryItems = append(p.InventoryItems, it.InvntItem == "Y")
		p.SalesItems = append(p.SalesItems, it.SellItem == "Y")
		p.Valids = append(p.Valids, it.ValidFor == "Y")
		p.Frozens = append(p.Frozens, it.FrozenFor == "Y")
		tree := it.TreeType
		if tree == "" {
			tree = "N"
		}
		p.TreeTypes = append(p.TreeTypes, tree)
		p.UpdateDates = append(p.UpdateDates, it.UpdateDate)
		p.UpdateTss = append(p.UpdateTss, int32(it.UpdateTS))
	}
	return p
}

func fail(ctx context.Context, q *db.Queries, id int64, kind string, cause error) error {
	if err := q.FailSnapshot(context.WithoutCancel(ctx), db.FailSnapshotParams{ID: id, Error: cause.Error()}); err != nil {
		return fmt.Errorf("sapmaster: %s snapshot %d failed (%w) and could not be marked failed: %v", kind, id, cause, err)
	}
	return fmt.Errorf("sapmaster: %s snapshot %d failed, nothing published: %w", kind, id, cause)
}

func counts(m map[string]int) json.RawMessage {
	b, _ := json.Marshal(m)
	return b
}

// formatStamp writes a watermark as "YYYY-MM-DD|HHMMSS|key".
func formatStamp(s sqlreader.Stamp) string {
	if s.Date.IsZero() {
		return ""
	}
	return fmt.Sprintf("%s|%06d|%s", s.Date.Format("2006-01-02"), s.TS, s.Key)
}

func parseStamp(v string) (sqlreader.Stamp, error) {
	if v == "" {
		return sqlreader.Stamp{}, nil
	}
	parts := strings.SplitN(v, "|", 3)
	if len(parts) != 3 {
		return sqlreader.Stamp{}, fmt.Errorf("not date|time|key")
	}
	d, err := time.Parse("2006-01-02", parts[0])
	if err != nil {
		return sqlreader.Stamp{}, err
	}
	ts, err := strconv.Atoi(parts[1])
	if err != nil {
		return sqlreader.Stamp{}, err
	}
	return sqlreader.Stamp{Date: d, TS: ts, Key: parts[2]}, nil
}
