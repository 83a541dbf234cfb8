// Package landing lands TikTok orders (DESIGN.md invariant 2, "land first,
// act second"): the order objects TikTok gave us are stored raw in
// tiktok.order_payload, minus personal data, which goes to pii.order_recipient;
// then the typed tiktok."order", order_line and order_package are derived from
// them. All of it is set-based SQL in queries/orders_landing.sql, a page per
// statement, one transaction per page. Replay derives the typed tables again
// from the stored payloads after a fix.
package landing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Source says how order objects arrived (tiktok.order_payload.source).
type Source string

const (
	// SourcePoll: a page of the order search (the poll).
	SourcePoll Source = "poll"
	// SourceWebhook: a detail read because a webhook named the order.
	SourceWebhook Source = "webhook"
	// SourceDetail: any other detail read.
	SourceDetail Source = "detail"
)

func (s Source) valid() bool {
	return s == SourcePoll || s == SourceWebhook || s == SourceDetail
}

// Exception kinds raised here, both for IT.
const (
	// KindOrderUnreadable: an order object that cannot be read (a malformed
	// amount, no id, an absurd number of units, ...). Its payload is kept;
	// the typed order keeps its previous state.
	KindOrderUnreadable = "tiktok_order_unreadable"
	// KindDerivationFailed: deriving typed orders failed for a whole page (a
	// fault of this build). The payloads are kept; replay once fixed.
	KindDerivationFailed = "tiktok_order_derivation_failed"
)

// Beginner starts a transaction: a *pgxpool.Pool, or a pgx.Tx (a savepoint
// then, so landing joins the caller's transaction).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Result counts what one Land did.
type Result struct {
	Received  int // order objects handed in
	Landed    int // new payloads stored (a state not seen before)
	Unchanged int // states already stored: nothing new
	Rejected  int // objects that could not even be stored (tiktok_order_unreadable raised)
	Derive    DeriveResult
	// DeriveError is set when deriving failed for the page as a whole (a
	// fault of this build): the payloads were still stored, and a
	// tiktok_order_derivation_failed exception asks IT to replay.
	DeriveError string
	// NewestUpdateTime is the highest update_time (unix seconds) among the
	// orders handed in; 0 when none had one.
	NewestUpdateTime int64
}

// DeriveResult counts what one derivation did.
type DeriveResult struct {
	Orders     int // typed orders written (new or newer state)
	Lines      int // order lines written
	Packages   int // order packages written
	Unreadable int // payloads that could not be read and are their order's newest state (exceptions raised or counted again)
	Resolved   int // tiktok_order_unreadable exceptions resolved by a readable newer state
}

// Land stores a page of orders for a shop and derives their typed rows, in
// one transaction begun on dbtx (a pool, or a savepoint of the caller's
// transaction): every order object is kept (minus personal data, split off
// into pii.order_recipient), the same state received twice is stored once,
// and the typed order takes the newest state. An object that cannot be read
// becomes a tiktok_order_unreadable exception; the others land regardless.
// An error means nothing of the page was stored.
func Land(ctx context.Context, dbtx Beginner, shopID string, source Source, orders []tiktok.Order) (Result, error) {
	res, _, err := land(ctx, dbtx, shopID, source, orders, true)
	return res, err
}

// Store is Land without the derivation: the page is stored raw (minus
// personal data) and the ids of the payloads that were new are returned, for
// Derive to use later. It is there to measure the two steps apart.
func Store(ctx context.Context, dbtx Beginner, shopID string, source Source, orders []tiktok.Order) (Result, []int64, error) {
	return land(ctx, dbtx, shopID, source, orders, false)
}

func land(ctx context.Context, dbtx Beginner, shopID string, source Source, orders []tiktok.Order, derive bool) (Result, []int64, error) {
	if shopID == "" {
		return Result{}, nil, errors.New("landing: no shop id")
	}
	if !source.valid() {
		return Result{}, nil, fmt.Errorf("landing: unknown source %q", source)
	}
	var tx pgx.Tx
	defer func() {
		if tx != nil {
			_ = tx.Rollback(ctx) // a no-op after Commit
		}
	}()
	begin := func() error {
		var err error
		if tx, err = dbtx.Begin(ctx); err != nil {
			return fmt.Errorf("landing: %w", err)
		}
		return nil
	}
	if err := begin(); err != nil {
		return Result{}, nil, err
	}
	// The page goes in one statement. When Postgres refuses its JSON (what
	// jsonb cannot hold: a \u0000 escape, a number beyond numeric's range,
	// bytes that are not UTF-8), the page is stored again order by order,
	// and the ones refused become exceptions: a bad order never blocks the
	// others, and valid pages pay no check in Go.
	res, ids, err := store(ctx, tx, shopID, source, orders, false)
	if jsonRefused(err) {
		_ = tx.Rollback(ctx)
		if err := begin(); err != nil {
			return res, nil, err
		}
		res, ids, err = store(ctx, tx, shopID, source, orders, true)
	}
	if err != nil {
		return res, nil, err
	}
	if derive && len(ids) > 0 {
		// A savepoint: when derivation fails as a whole, the raw payloads are
		// still committed (land first) and IT is told to replay.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return res, nil, fmt.Errorf("landing: %w", err)
		}
		d, derr := Derive(ctx, sp, ids, false)
		if derr != nil {
			_ = sp.Rollback(ctx)
			if !derivationFault(ctx, derr) {
				return res, nil, derr
			}
			res.DeriveError = derr.Error()
			if err := db.New(tx).RaiseOrderDerivationFailed(ctx, db.RaiseOrderDerivationFailedParams{
				ShopID: shopID, Error: derr.Error(), PayloadIds: ids,
			}); err != nil {
				return res, nil, fmt.Errorf("landing: raising %s: %w", KindDerivationFailed, err)
			}
		} else {
			if err := sp.Commit(ctx); err != nil {
				return res, nil, fmt.Errorf("landing: %w", err)
			}
			res.Derive = d
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, nil, fmt.Errorf("landing: committing shop %s's page: %w", shopID, err)
	}
	return res, ids, nil
}

// store stores the page in tx, in one statement, or with oneByOne each
// order in a savepoint of its own, reporting the ones Postgres refuses.
func store(ctx context.Context, tx pgx.Tx, shopID string, source Source, orders []tiktok.Order, oneByOne bool) (Result, []int64, error) {
	res := Result{Received: len(orders)}
	for _, o := range orders {
		res.NewestUpdateTime = max(res.NewestUpdateTime, o.UpdateTime)
	}
	land := func(tx db.DBTX, page []tiktok.Order) ([]int64, error) {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, o := range page {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(o.Raw)
		}
		b.WriteByte(']')
		rows, err := db.New(tx).LandOrderPayloads(ctx, db.LandOrderPayloadsParams{ShopID: shopID, Source: string(source), Orders: b.Bytes()})
		if err != nil {
			return nil, fmt.Errorf("landing: storing %d orders of shop %s: %w", len(page), shopID, err)
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		return ids, nil
	}
	if !oneByOne {
		if len(orders) == 0 {
			return res, nil, nil
		}
		ids, err := land(tx, orders)
		if err != nil {
			return res, nil, err
		}
		res.Landed, res.Unchanged = len(ids), len(orders)-len(ids)
		return res, ids, nil
	}

	var ids []int64
	var rejectedIDs, rejectedWhy []string
	reject := func(o tiktok.Order, why string) {
		rejectedIDs, rejectedWhy = append(rejectedIDs, o.ID), append(rejectedWhy, why)
	}
	for _, o := range orders {
		if why := unstorable(o.Raw); why != "" {
			reject(o, why)
			continue
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return res, nil, fmt.Errorf("landing: %w", err)
		}
		got, err := land(sp, []tiktok.Order{o})
		var pgErr *pgconn.PgError
		if jsonRefused(err) && errors.As(err, &pgErr) {
			_ = sp.Rollback(ctx)
			reject(o, "Postgres cannot store it as jsonb: "+pgErr.Message)
			continue
		}
		if err != nil {
			_ = sp.Rollback(ctx)
			return res, nil, err
		}
		if err := sp.Commit(ctx); err != nil {
			return res, nil, fmt.Errorf("landing: %w", err)
		}
		ids = append(ids, got...)
		res.Unchanged += 1 - len(got)
	}
	res.Landed = len(ids)
	if len(rejectedIDs) > 0 {
		if _, err := db.New(tx).RaiseRejectedOrders(ctx, db.RaiseRejectedOrdersParams{
			ShopID: shopID, Source: string(source), OrderIds: rejectedIDs, Problems: rejectedWhy,
		}); err != nil {
			return res, nil, fmt.Errorf("landing: raising %s: %w", KindOrderUnreadable, err)
		}
		res.Rejected = len(rejectedIDs)
	}
	return res, ids, nil
}

// jsonRefused reports whether Postgres refused the page's JSON (a data
// exception: invalid JSON, a \u0000 escape, bytes that are not UTF-8).
func jsonRefused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// unstorable says why an order object cannot be stored as jsonb at all ("" if
// it can). Everything else about its content is judged in SQL.
func unstorable(raw json.RawMessage) string {
	switch {
	case !json.Valid(raw):
		return "the order is not valid JSON"
	case !utf8.Valid(raw):
		return "the order is not valid UTF-8"
	case bytes.Contains(raw, []byte(`\u0000`)):
		return `the order holds a \u0000 character, which Postgres cannot store as jsonb`
	}
	return ""
}

// Derive derives the typed orders, lines and packages of the orders among
// the payloads, in tx: the newest state of each order replaces an older one
// (with replay, an equal one too), its lines and packages with it.
// Unreadable payloads are reported (tiktok_order_unreadable, owner it) when
// they are their order's newest state, and a readable newer state resolves
// that exception.
func Derive(ctx context.Context, tx db.DBTX, payloadIDs []int64, replay bool) (DeriveResult, error) {
	var res DeriveResult
	if len(payloadIDs) == 0 {
		return res, nil
	}
	q := db.New(tx)
	bad, err := q.CheckOrderPayloads(ctx, payloadIDs)
	if err != nil {
		return res, fmt.Errorf("landing: checking %d payloads: %w", len(payloadIDs), err)
	}
	good := payloadIDs
	badIDs := make([]int64, len(bad))
	problems := make([]string, len(bad))
	if len(bad) > 0 {
		isBad := make(map[int64]bool, len(bad))
		for i, b := range bad {
			badIDs[i], problems[i] = b.ID, b.Problem
			isBad[b.ID] = true
		}
		good = make([]int64, 0, len(payloadIDs)-len(bad))
		for _, id := range payloadIDs {
			if !isBad[id] {
				good = append(good, id)
			}
		}
	}
	var writtenIDs []int64
	if len(good) > 0 {
		written, err := q.DeriveOrders(ctx, db.DeriveOrdersParams{PayloadIds: good, Replay: replay})
		if err != nil {
			return res, fmt.Errorf("landing: deriving typed orders: %w", err)
		}
		writtenIDs = make([]int64, len(written))
		for i, w := range written {
			writtenIDs[i] = w.PayloadID
		}
		res.Orders = len(written)
	}
	if len(writtenIDs) > 0 {
		if err := q.DeleteOrderChildren(ctx, writtenIDs); err != nil {
			return res, fmt.Errorf("landing: replacing order lines: %w", err)
		}
		n, err := q.InsertOrderChildren(ctx, writtenIDs)
		if err != nil {
			return res, fmt.Errorf("landing: deriving order lines and packages: %w", err)
		}
		res.Lines, res.Packages = int(n.Lines), int(n.Packages)
	}
	if len(badIDs) > 0 || len(writtenIDs) > 0 {
		r, err := q.RecordOrderProblems(ctx, db.RecordOrderProblemsParams{BadIds: badIDs, Problems: problems, WrittenIds: writtenIDs})
		if err != nil {
			return res, fmt.Errorf("landing: recording unreadable orders: %w", err)
		}
		res.Unreadable, res.Resolved = int(r.Raised), int(r.Resolved)
	}
	return res, nil
}

// derivationFault reports whether err is a fault of the derivation itself
// (bad data reaching a cast, a constraint, a schema that does not match), as
// opposed to something a retry may cure (a deadlock, a lost connection, a
// cancelled context).
func derivationFault(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "42", "XX": // data exception, integrity, syntax or undefined object, internal
		return true
	}
	return false
}
