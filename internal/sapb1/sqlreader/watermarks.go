package sqlreader

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MaxTransSeq is the warehouse journal's high-water mark (OIVL.TransSeq); 0
// for an empty journal.
func (r *Reader) MaxTransSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := r.rows(ctx, "transseq_max", func(rows *sql.Rows) error { return rows.Scan(&seq) })
	return seq.Int64, err
}

// Movement is one stock movement (an OIVL row).
type Movement struct {
	TransSeq int64
	ItemCode string
	WhsCode  string
}

// MovedSince reads the stock movements after transSeq, one bounded page
// (PageSize rows), oldest first. A full page means more may follow: call
// again from the last TransSeq.
func (r *Reader) MovedSince(ctx context.Context, transSeq int64) ([]Movement, error) {
	var out []Movement
	err := r.rows(ctx, "moved_items", func(rows *sql.Rows) error {
		var m Movement
		if err := rows.Scan(&m.TransSeq, &m.ItemCode, &m.WhsCode); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	}, r.cfg.PageSize, transSeq)
	return out, err
}

// Stamp is a moment in SAP's own terms: UpdateDate (a date) and UpdateTS
// (HHMMSS), in the SAP server's local time, one-second resolution. Key
// breaks ties within one second (DocEntry or ItemCode).
type Stamp struct {
	Date time.Time // midnight of the day
	TS   int       // HHMMSS
	Key  string
}

// clock returns s as a naive time: the date plus the time of day.
func (s Stamp) clock() time.Time {
	h, m, sec := s.TS/10000, s.TS/100%100, s.TS%100
	d := s.Date
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, sec, 0, time.UTC)
}

func stampOf(t time.Time, key string) Stamp {
	return Stamp{
		Date: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC),
		TS:   t.Hour()*10000 + t.Minute()*100 + t.Second(),
		Key:  key,
	}
}

// Before returns s moved back by d, with no tie-break key: reading from it
// repeats everything stamped within d before s.
func (s Stamp) Before(d time.Duration) Stamp {
	return stampOf(s.clock().Add(-d), "")
}

// Change is a row whose UpdateDate+UpdateTS moved.
type Change struct {
	Key   string // DocEntry (as text) or ItemCode
	Stamp Stamp
}

// ChangedOrders reads the sales orders changed since the watermark, re-reading
// an Overlap window before it, every page to the end, and returns them
// oldest first with the new watermark (the last stamp read).
func (r *Reader) ChangedOrders(ctx context.Context, watermark Stamp) ([]Change, Stamp, error) {
	return r.changes(ctx, "changed_orders", watermark, func(rows *sql.Rows) (Change, error) {
		var c Change
		var docEntry int
		err := rows.Scan(&docEntry, &c.Stamp.Date, &c.Stamp.TS)
		c.Key = fmt.Sprint(docEntry)
		return c, err
	}, func(key string) any {
		var n int
		fmt.Sscan(key, &n) //nolint:errcheck // "" → 0: before every DocEntry
		return n
	})
}

// ChangedItems is ChangedOrders for the item master (OITM).
func (r *Reader) ChangedItems(ctx context.Context, watermark Stamp) ([]Change, Stamp, error) {
	return r.changes(ctx, "changed_items", watermark, func(rows *sql.Rows) (Change, error) {
		var c Change
		err := rows.Scan(&c.Key, &c.Stamp.Date, &c.Stamp.TS)
		return c, err
	}, func(key string) any { return key })
}

// maxChangePages bounds one watermark read; past it the caller continues
// from the returned watermark next time.
const maxChangePages = 20

func (r *Reader) changes(ctx context.Context, name string, watermark Stamp, scan func(*sql.Rows) (Change, error), keyArg func(string) any) ([]Change, Stamp, error) {
	from := watermark
	if !watermark.Date.IsZero() {
		from = watermark.Before(r.cfg.Overlap)
	}
	var out []Change
	next := watermark
	for range maxChangePages {
		var page []Change
		err := r.rows(ctx, name, func(rows *sql.Rows) error {
			c, err := scan(rows)
			c.Stamp.Key = c.Key
			page = append(page, c)
			return err
		}, r.cfg.PageSize, from.Date, from.TS, keyArg(from.Key))
		if err != nil {
			return out, watermark, err
		}
		out = append(out, page...)
		if len(page) > 0 {
			// Rows come in (stamp, key) order from before the watermark on,
			// so the last row read is the newest: the next watermark.
			last := page[len(page)-1].Stamp
			if !last.clock().Before(watermark.clock()) || watermark.Date.IsZero() {
				next = last
			}
			from = last
		}
		if len(page) < r.cfg.PageSize {
			break
		}
	}
	return out, next, nil
}
