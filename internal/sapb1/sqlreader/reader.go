// Package sqlreader reads SAP Business One's company database directly, and
// only reads: short, bounded, keyset-paged queries over its own read-only
// DSN. Stock and watermark reads run at READ COMMITTED with a short lock
// timeout (or SNAPSHOT where the DBA enabled it); NOLOCK is used for master
// data only (DESIGN invariant 1). The T-SQL lives in sql/*.sql.
package sqlreader

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/shopspring/decimal"
)

//go:embed sql/*.sql
var files embed.FS

// query returns the text of sql/<name>.sql.
func query(name string) string {
	b, err := files.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic("sqlreader: missing query " + name)
	}
	return string(b)
}

// Isolation is how stock and watermark reads see concurrent writes.
type Isolation string

const (
	// ReadCommitted waits (up to LockTimeout) for rows being written.
	ReadCommitted Isolation = "READ COMMITTED"
	// Snapshot reads the last committed version without waiting; it needs
	// ALLOW_SNAPSHOT_ISOLATION enabled by the DBA.
	Snapshot Isolation = "SNAPSHOT"
)

// Config configures a Reader. Zero values take the defaults in the comments.
type Config struct {
	// DSN is a sqlserver:// URL of a read-only login.
	DSN string
	// Isolation of every query; default ReadCommitted.
	Isolation Isolation
	// LockTimeout bounds waiting for a row lock; default 5 s.
	LockTimeout time.Duration
	// QueryTimeout bounds one query (one page); default 30 s.
	QueryTimeout time.Duration
	// PageSize is rows per keyset page; default 5000.
	PageSize int
	// Overlap is how far before the last watermark the UpdateDate+UpdateTS
	// reads start again, so a row stamped earlier but committed later is
	// not missed; default 60 s.
	Overlap time.Duration
}

// Reader reads one SAP company database.
type Reader struct {
	db  *sql.DB
	cfg Config
}

// Open prepares a reader; connections open on first use.
func Open(cfg Config) (*Reader, error) {
	if cfg.Isolation == "" {
		cfg.Isolation = ReadCommitted
	}
	if cfg.Isolation != ReadCommitted && cfg.Isolation != Snapshot {
		return nil, fmt.Errorf("sqlreader: isolation %q is neither READ COMMITTED nor SNAPSHOT", cfg.Isolation)
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = 5 * time.Second
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 30 * time.Second
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 5000
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 60 * time.Second
	}
	conn, err := mssql.NewConnector(cfg.DSN)
	if err != nil {
		return nil, errors.New("sqlreader: SAPB1_SQL_DSN is not a valid sqlserver:// DSN")
	}
	// Every session is reset when a pooled connection is reused, then set up
	// again: the isolation and lock timeout hold for every query.
	conn.SessionInitSQL = fmt.Sprintf("SET TRANSACTION ISOLATION LEVEL %s; SET LOCK_TIMEOUT %d;", cfg.Isolation, cfg.LockTimeout.Milliseconds())
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Reader{db: db, cfg: cfg}, nil
}

// Close closes the connections.
func (r *Reader) Close() error { return r.db.Close() }

// Ping checks the connection and the login.
func (r *Reader) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	if err := r.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlreader: %w", err)
	}
	return nil
}

// rows runs one query to completion within QueryTimeout, scanning each row
// with scan: no query stays open beyond its page.
func (r *Reader) rows(ctx context.Context, name string, scan func(*sql.Rows) error, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	rows, err := r.db.QueryContext(ctx, query(name), args...)
	if err != nil {
		return fmt.Errorf("sqlreader %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("sqlreader %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlreader %s: %w", name, err)
	}
	return nil
}

// Item is an item master row (OITM).
type Item struct {
	ItemCode   string
	ItemName   string
	InvntItem  string // Y/N
	SellItem   string // Y/N
	ValidFor   string // Y/N
	FrozenFor  string // Y/N
	TreeType   string // N, S (sales BOM), A, P, T
	UpdateDate time.Time
	UpdateTS   int
}

func scanItem(rows *sql.Rows) (Item, error) {
	var it Item
	var name, treeType sql.NullString
	err := rows.Scan(&it.ItemCode, &name, &it.InvntItem, &it.SellItem, &it.ValidFor, &it.FrozenFor, &treeType, &it.UpdateDate, &it.UpdateTS)
	it.ItemName, it.TreeType = name.String, treeType.String
	return it, err
}

// Items reads the item master in keyset pages, calling fn per page.
func (r *Reader) Items(ctx context.Context, fn func([]Item) error) error {
	return pages(ctx, r, "items_page", scanItem, func(last *Item) []any {
		if last == nil {
			return []any{""}
		}
		return []any{last.ItemCode}
	}, fn)
}

// ItemsByCode reads the item master rows of the given items, in queries of
// up to 100 items.
func (r *Reader) ItemsByCode(ctx context.Context, itemCodes []string) ([]Item, error) {
	var out []Item
	err := inBatches(itemCodes, func(args []any) error {
		return r.rows(ctx, "items_by_code", func(rows *sql.Rows) error {
			it, err := scanItem(rows)
			out = append(out, it)
			return err
		}, args...)
	})
	return out, err
}

// inBatches calls fn with the codes (item codes, DocEntry values) in groups
// of 100 query arguments, the unused ones repeating the first code (the
// queries take exactly 100).
func inBatches[T any](codes []T, fn func(args []any) error) error {
	for start := 0; start < len(codes); start += stockBatch {
		batch := codes[start:min(start+stockBatch, len(codes))]
		args := make([]any, stockBatch)
		for i := range args {
			args[i] = batch[0]
			if i < len(batch) {
				args[i] = batch[i]
			}
		}
		if err := fn(args); err != nil {
			return err
		}
	}
	return nil
}

// Stock is one item in one warehouse (OITW).
type Stock struct {
	ItemCode   string
	WhsCode    string
	OnHand     decimal.Decimal
	IsCommited decimal.Decimal // SAP's spelling
	OnOrder    decimal.Decimal
}

func scanStock(rows *sql.Rows) (Stock, error) {
	var s Stock
	err := rows.Scan(&s.ItemCode, &s.WhsCode, &s.OnHand, &s.IsCommited, &s.OnOrder)
	return s, err
}

// StockAll reads OITW in keyset pages, calling fn per page.
func (r *Reader) StockAll(ctx context.Context, fn func([]Stock) error) error {
	return pages(ctx, r, "stock_page", scanStock, func(last *Stock) []any {
		if last == nil {
			return []any{"", ""}
		}
		return []any{last.ItemCode, last.WhsCode}
	}, fn)
}

// stockBatch is the number of item codes one StockOf query takes.
const stockBatch = 100

// StockOf reads the stock of the given items in every warehouse, in queries
// of up to 100 items: what the change detector reads again.
func (r *Reader) StockOf(ctx context.Context, itemCodes []string) ([]Stock, error) {
	var out []Stock
	err := inBatches(itemCodes, func(args []any) error {
		return r.rows(ctx, "stock_of_items", func(rows *sql.Rows) error {
			s, err := scanStock(rows)
			out = append(out, s)
			return err
		}, args...)
	})
	return out, err
}

// Warehouse is one warehouse (OWHS).
type Warehouse struct {
	WhsCode  string
	WhsName  string
	Inactive string // Y/N
}

// Warehouses reads every warehouse.
func (r *Reader) Warehouses(ctx context.Context) ([]Warehouse, error) {
	var out []Warehouse
	err := r.rows(ctx, "warehouses", func(rows *sql.Rows) error {
		var w Warehouse
		var inactive sql.NullString
		if err := rows.Scan(&w.WhsCode, &w.WhsName, &inactive); err != nil {
			return err
		}
		w.Inactive = inactive.String
		out = append(out, w)
		return nil
	})
	return out, err
}

// BOMLine is one component of a bill of materials (OITT + ITT1).
type BOMLine struct {
	Father         string
	TreeType       string // S: sales BOM (kit)
	HeaderQuantity decimal.Decimal
	ChildNum       int
	Component      string
	Quantity       decimal.Decimal
	Warehouse      string
}

// BOMs reads every bill-of-materials line in keyset pages.
func (r *Reader) BOMs(ctx context.Context, fn func([]BOMLine) error) error {
	scan := func(rows *sql.Rows) (BOMLine, error) {
		var b BOMLine
		var whs sql.NullString
		err := rows.Scan(&b.Father, &b.TreeType, &b.HeaderQuantity, &b.ChildNum, &b.Component, &b.Quantity, &whs)
		b.Warehouse = whs.String
		return b, err
	}
	return pages(ctx, r, "boms_page", scan, func(last *BOMLine) []any {
		if last == nil {
			return []any{"", -1}
		}
		return []any{last.Father, last.ChildNum}
	}, fn)
}

// Price is an item's price in a price list (ITM1).
type Price struct {
	ItemCode  string
	PriceList int
	Price     decimal.Decimal
	Currency  string
}

// Prices reads one price list in keyset pages.
func (r *Reader) Prices(ctx context.Context, priceList int, fn func([]Price) error) error {
	scan := func(rows *sql.Rows) (Price, error) {
		var p Price
		var cur sql.NullString
		err := rows.Scan(&p.ItemCode, &p.PriceList, &p.Price, &cur)
		p.Currency = cur.String
		return p, err
	}
	return pages(ctx, r, "prices_page", scan, func(last *Price) []any {
		if last == nil {
			return []any{priceList, ""}
		}
		return []any{priceList, last.ItemCode}
	}, fn)
}

// pages runs a keyset-paged query to the end: each page is one query of
// PageSize rows after the key of the previous page's last row (keyArgs of
// nil for the first), handed to fn before the next is read.
func pages[T any](ctx context.Context, r *Reader, name string, scan func(*sql.Rows) (T, error), keyArgs func(last *T) []any, fn func([]T) error) error {
	var last *T
	for {
		var page []T
		args := append([]any{r.cfg.PageSize}, keyArgs(last)...)
		err := r.rows(ctx, name, func(rows *sql.Rows) error {
			v, err := scan(rows)
			page = append(page, v)
			return err
		}, args...)
		if err != nil || len(page) == 0 {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page) < r.cfg.PageSize {
			return nil
		}
		last = &page[len(page)-1]
	}
}
