package sapmaster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/sqlreader"
)

// StockChangesFlow is the ops.sync_run flow of the stock change detector.
// Its watermark is "<OIVL TransSeq>/<ORDR stamp>" (formatStockWatermark).
const StockChangesFlow = "sapb1_stock_changes"

// StockChangeReader is what the stock change detector reads SAP through (a
// *sqlreader.Reader): watermark and stock reads at READ COMMITTED, never
// NOLOCK, each one bounded query.
type StockChangeReader interface {
	StockReader
	MaxTransSeq(ctx context.Context) (int64, error)
	MovedSince(ctx context.Context, transSeq int64) ([]sqlreader.Movement, error)
	ChangedOrders(ctx context.Context, watermark sqlreader.Stamp) ([]sqlreader.Change, sqlreader.Stamp, error)
	OrderItems(ctx context.Context, docEntries []int) ([]string, error)
	StockOf(ctx context.Context, itemCodes []string) ([]sqlreader.Stock, error)
}

// StockWatermark is where the stock change detector resumes: the last OIVL
// TransSeq read and the last ORDR UpdateDate+UpdateTS read (re-read with the
// reader's overlap window).
type StockWatermark struct {
	TransSeq int64
	Orders   sqlreader.Stamp
}

// StockChanges is what one detector run did.
type StockChanges struct {
	Baseline    bool // first run: watermarks set, nothing re-read
	Movements   int  // OIVL rows read after the TransSeq watermark
	Orders      int  // ORDR rows read from the watermark (overlap included)
	Items       int  // distinct items whose stock was read again
	RowsRead    int  // OITW rows those reads returned
	RowsWritten int64
	Watermark   StockWatermark
}

// maxMovePages bounds the OIVL pages one run reads; a run that stops there
// continues from its watermark on the next.
const maxMovePages = 20

// maxBaselineReads bounds how many ORDR reads a first run takes to reach
// the newest order.
const maxBaselineReads = 1000

// DetectStockChanges is one run of the stock change detector (DESIGN.md
// "Inventory"): the stock movements after the OIVL TransSeq watermark and
// the sales orders changed since the ORDR watermark (with its overlap
// window) give the items whose OnHand or IsCommited may have moved; their
// stock is read again (StockOf, 100 items a query) and upserted into
// sapb1.stock with read_from = when that read started. The run and its
// watermark are recorded in ops.sync_run. Without a previous watermark the
// run only sets one (the full snapshot covers what came before). It does
// not recompute available-to-sell: the caller does when RowsWritten > 0.
//
// Runs are serialised across processes by an advisory lock; a run that
// finds it held returns (StockChanges{}, nil) and reads nothing.
func DetectStockChanges(ctx context.Context, pool *pgxpool.Pool, r StockChangeReader) (StockChanges, error) {
	var res StockChanges
	var ran bool
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		locked, err := db.New(tx).TryLockStockChanges(ctx)
		if err != nil || !locked {
			return err
		}
		ran = true
		res, err = detectStockChanges(ctx, pool, r)
		return err
	})
	if !ran && err == nil {
		return StockChanges{}, nil
	}
	return res, err
}

func detectStockChanges(ctx context.Context, pool *pgxpool.Pool, r StockChangeReader) (StockChanges, error) {
	q := db.New(pool)
	mark, found, err := lastStockWatermark(ctx, q)
	if err != nil {
		return StockChanges{}, err
	}
	run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: StockChangesFlow})
	if err != nil {
		return StockChanges{}, fmt.Errorf("sapmaster: %w", err)
	}
	var res StockChanges
	if found {
		res, err = readStockChanges(ctx, q, r, mark)
	} else {
		res, err = stockBaseline(ctx, r)
	}
	finish := db.FinishSyncRunParams{ID: run.ID, Counts: counts(map[string]int{
		"baseline": b2i(res.Baseline), "movements": res.Movements, "orders": res.Orders,
		"items": res.Items, "rows_read": res.RowsRead, "rows_written": int(res.RowsWritten),
	})}
	if err != nil {
		msg := err.Error()
		finish.Error = &msg
	} else {
		w := formatStockWatermark(res.Watermark)
		finish.Watermark = &w
	}
	if _, ferr := q.FinishSyncRun(context.WithoutCancel(ctx), finish); ferr != nil && err == nil {
		err = fmt.Errorf("sapmaster: recording the stock change run: %w", ferr)
	}
	return res, err
}

// stockBaseline sets the first watermarks: OIVL's high-water mark and the
// newest ORDR stamp, read to the end without re-reading any stock.
func stockBaseline(ctx context.Context, r StockChangeReader) (StockChanges, error) {
	res := StockChanges{Baseline: true}
	seq, err := r.MaxTransSeq(ctx)
	if err != nil {
		return res, err
	}
	res.Watermark.TransSeq = seq
	var stamp sqlreader.Stamp
	for range maxBaselineReads {
		_, next, err := r.ChangedOrders(ctx, stamp)
		if err != nil {
			return res, err
		}
		if sameStamp(next, stamp) {
			break
		}
		stamp = next
	}
	res.Watermark.Orders = stamp
	return res, nil
}

// readStockChanges reads what moved after mark and publishes the stock of
// those items.
func readStockChanges(ctx context.Context, q *db.Queries, r StockChangeReader, mark StockWatermark) (StockChanges, error) {
	res := StockChanges{Watermark: mark}
	items := map[string]bool{}
	var codes []string
	add := func(code string) {
		if code != "" && !items[code] {
			items[code] = true
			codes = append(codes, code)
		}
	}
	next := mark
	for range maxMovePages {
		moves, err := r.MovedSince(ctx, next.TransSeq)
		if err != nil {
			return res, err
		}
		for _, m := range moves {
			add(m.ItemCode)
			next.TransSeq = max(next.TransSeq, m.TransSeq)
		}
		res.Movements += len(moves)
		// A short page is the end of the journal for now (MovedSince pages
		// at the reader's page size, which is at least one row).
		if len(moves) == 0 || len(moves) < pageSizeOf(r, len(moves)) {
			break
		}
	}
	orders, ordersMark, err := r.ChangedOrders(ctx, mark.Orders)
	if err != nil {
		return res, err
	}
	res.Orders = len(orders)
	next.Orders = ordersMark
	if len(orders) > 0 {
		entries := make([]int, 0, len(orders))
		seen := map[int]bool{}
		for _, o := range orders {
			n, err := strconv.Atoi(o.Key)
			if err != nil {
				return res, fmt.Errorf("sapmaster: ORDR DocEntry %q: %w", o.Key, err)
			}
			if !seen[n] {
				seen[n] = true
				entries = append(entries, n)
			}
		}
		orderItems, err := r.OrderItems(ctx, entries)
		if err != nil {
			return res, err
		}
		for _, c := range orderItems {
			add(c)
		}
	}
	res.Items = len(codes)
	if len(codes) > 0 {
		// read_from: before the first stock query, on the database's clock.
		readFrom, err := q.StockReadStart(ctx)
		if err != nil {
			return res, fmt.Errorf("sapmaster: %w", err)
		}
		stock, err := r.StockOf(ctx, codes)
		if err != nil {
			return res, err
		}
		res.RowsRead = len(stock)
		p := db.UpsertChangedStockParams{ReadFrom: readFrom, ReadItemCodes: codes,
			ItemCodes: []string{}, WhsCodes: []string{}}
		for _, s := range stock {
			p.ItemCodes = append(p.ItemCodes, s.ItemCode)
			p.WhsCodes = append(p.WhsCodes, s.WhsCode)
			p.OnHands = append(p.OnHands, s.OnHand)
			p.IsCommitteds = append(p.IsCommitteds, s.IsCommited)
			p.OnOrders = append(p.OnOrders, s.OnOrder)
		}
		if res.RowsWritten, err = q.UpsertChangedStock(ctx, p); err != nil {
			return res, fmt.Errorf("sapmaster: publishing re-read stock: %w", err)
		}
	}
	res.Watermark = next
	return res, nil
}

// pageSizeOf is the page size MovedSince reads at, when the reader tells
// it (a *sqlreader.Reader does); otherwise n+1, which ends the loop after
// one page: the next run continues from the watermark.
func pageSizeOf(r StockChangeReader, n int) int {
	if p, ok := r.(interface{ PageSize() int }); ok {
		return p.PageSize()
	}
	return n + 1
}

// RewindStockChanges sets the stock change detector's watermark back to
// mark, so its next run reads again everything that moved since. A full
// stock snapshot calls it after publishing with the watermark it found
// when it started: the snapshot overwrote the rows the detector published
// while it was reading with values read earlier, and the detector brings
// them forward again. It waits for a detector run in progress to finish.
func RewindStockChanges(ctx context.Context, pool *pgxpool.Pool, mark StockWatermark) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := db.New(tx).LockStockChanges(ctx); err != nil {
			return err
		}
		q := db.New(pool)
		run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: StockChangesFlow})
		if err != nil {
			return err
		}
		w := formatStockWatermark(mark)
		_, err = q.FinishSyncRun(ctx, db.FinishSyncRunParams{ID: run.ID, Watermark: &w,
			Counts: counts(map[string]int{"rewound_for_stock_snapshot": 1})})
		return err
	})
}

// StockChangesBaseline returns the stock change detector's watermark,
// setting the first one (a baseline run) when there is none yet: a full
// stock snapshot takes it before it reads, to rewind to once published.
func StockChangesBaseline(ctx context.Context, pool *pgxpool.Pool, r StockChangeReader) (StockWatermark, error) {
	var mark StockWatermark
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := db.New(tx).LockStockChanges(ctx); err != nil {
			return err
		}
		m, found, err := lastStockWatermark(ctx, db.New(pool))
		if err != nil || found {
			mark = m
			return err
		}
		res, err := detectStockChanges(ctx, pool, r)
		mark = res.Watermark
		return err
	})
	return mark, err
}

// SnapshotStockAndRewind is the full stock snapshot as the schedule runs
// it: the detector's watermark taken first, SnapshotStock, then the
// detector rewound to that watermark (see RewindStockChanges).
func SnapshotStockAndRewind(ctx context.Context, pool *pgxpool.Pool, r StockChangeReader) (int64, error) {
	mark, err := StockChangesBaseline(ctx, pool, r)
	if err != nil {
		return 0, fmt.Errorf("sapmaster: the stock change detector's watermark: %w", err)
	}
	n, err := SnapshotStock(ctx, pool, r)
	if err != nil {
		return 0, err
	}
	if err := RewindStockChanges(ctx, pool, mark); err != nil {
		return n, fmt.Errorf("sapmaster: stock snapshot published, but the change detector could not be rewound: %w", err)
	}
	return n, nil
}

func lastStockWatermark(ctx context.Context, q *db.Queries) (StockWatermark, bool, error) {
	last, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: StockChangesFlow})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && last.Watermark == nil) {
		return StockWatermark{}, false, nil
	}
	if err != nil {
		return StockWatermark{}, false, fmt.Errorf("sapmaster: reading the stock watermark: %w", err)
	}
	m, err := parseStockWatermark(*last.Watermark)
	if err != nil {
		return StockWatermark{}, false, fmt.Errorf("sapmaster: stored stock watermark %q: %w", *last.Watermark, err)
	}
	return m, true, nil
}

// formatStockWatermark writes "<TransSeq>/<ORDR stamp>".
func formatStockWatermark(m StockWatermark) string {
	return fmt.Sprintf("%d/%s", m.TransSeq, formatStamp(m.Orders))
}

func parseStockWatermark(v string) (StockWatermark, error) {
	seq, stamp, ok := strings.Cut(v, "/")
	if !ok {
		return StockWatermark{}, errors.New("not TransSeq/stamp")
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		return StockWatermark{}, err
	}
	s, err := parseStamp(stamp)
	return StockWatermark{TransSeq: n, Orders: s}, err
}

func sameStamp(a, b sqlreader.Stamp) bool {
	return a.Date.Equal(b.Date) && a.TS == b.TS && a.Key == b.Key
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
