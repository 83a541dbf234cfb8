package landing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

func land(t *testing.T, pool *pgxpool.Pool, source landing.Source, orders ...tiktok.Order) landing.Result {
	t.Helper()
	res, err := landing.Land(context.Background(), pool, shopID, source, orders)
	if err != nil {
		t.Fatalf("landing %d orders: %v", len(orders), err)
	}
	if res.DeriveError != "" {
		t.Fatalf("derivation failed: %s", res.DeriveError)
	}
	return res
}

// Every shape of order the demo shop has lands typed: amounts exact to the
// cent as TikTok sent them, one line per unit, packages; landing the same
// states again changes nothing.
func TestDemoOrdersLandTypedAndOnce(t *testing.T) {
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 21)
	orders := simOrders(t, sim)

	res := land(t, pool, landing.SourcePoll, orders...)
	units := 0
	for _, o := range orders {
		units += len(object(t, o.Raw)["line_items"].([]any))
	}
	if res.Landed != len(orders) || res.Derive.Orders != len(orders) || res.Derive.Lines != units || res.Derive.Unreadable != 0 {
		t.Fatalf("first landing: %+v; want %d orders and %d lines", res, len(orders), units)
	}
	for _, o := range orders {
		checkTyped(t, pool, o)
	}
	before := typedChecksum(t, pool)

	again := land(t, pool, landing.SourceWebhook, orders...)
	if again.Landed != 0 || again.Unchanged != len(orders) || again.Derive.Orders != 0 {
		t.Fatalf("landing the same states again: %+v; want nothing new", again)
	}
	if after := typedChecksum(t, pool); after != before {
		t.Fatalf("typed tables changed by landing the same states:\n%s\n%s", before, after)
	}
	if n := count(t, pool, `SELECT count(*) FROM tiktok.order_payload`); n != len(orders) {
		t.Fatalf("%d payloads, want %d (one per state)", n, len(orders))
	}
}

// checkTyped compares an order's typed rows with TikTok's JSON.
func checkTyped(t *testing.T, pool *pgxpool.Pool, o tiktok.Order) {
	t.Helper()
	m := object(t, o.Raw)
	pay := m["payment"].(map[string]any)
	var status, currency string
	var sub, total, ship, tax decimal.Decimal
	var lines int
	err := pool.QueryRow(context.Background(), `SELECT status, currency, sub_total, total_amount, shipping_fee, tax, line_count
		FROM tiktok."order" WHERE shop_id = $1 AND order_id = $2`, shopID, o.ID).Scan(&status, &currency, &sub, &total, &ship, &tax, &lines)
	if err != nil {
		t.Fatalf("order %s: %v", o.ID, err)
	}
	dec := func(v any) decimal.Decimal { return decimal.RequireFromString(v.(string)) }
	items := m["line_items"].([]any)
	if status != m["status"] || currency != pay["currency"] || !sub.Equal(dec(pay["sub_total"])) || !total.Equal(dec(pay["total_amount"])) ||
		!ship.Equal(dec(pay["shipping_fee"])) || !tax.Equal(dec(pay["tax"])) || lines != len(items) {
		t.Errorf("order %s typed %s %s sub %s total %s shipping %s tax %s, %d lines; TikTok sent %v", o.ID, status, currency, sub, total, ship, tax, lines, pay)
	}
	for _, it := range items {
		li := it.(map[string]any)
		var sale, orig decimal.Decimal
		var gift bool
		var pkg *string
		if err := pool.QueryRow(context.Background(), `SELECT sale_price, original_price, is_gift, package_id FROM tiktok.order_line
			WHERE shop_id = $1 AND order_id = $2 AND line_id = $3`, shopID, o.ID, li["id"]).Scan(&sale, &orig, &gift, &pkg); err != nil {
			t.Fatalf("line %s of %s: %v", li["id"], o.ID, err)
		}
		wantPkg, _ := li["package_id"].(string)
		if !sale.Equal(dec(li["sale_price"])) || !orig.Equal(dec(li["original_price"])) || gift != li["is_gift"] || (pkg == nil) != (wantPkg == "") {
			t.Errorf("line %s of %s: sale %s original %s gift %v package %v; TikTok sent %v", li["id"], o.ID, sale, orig, gift, pkg, li)
		}
	}
}

// The newest state wins: a higher update_time, and on the same update_time
// the later status (CANCELLED above all), whatever order they land in; the
// lines go with their order's state.
func TestNewestStateWins(t *testing.T) {
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 22)
	var base tiktok.Order
	for _, o := range simOrders(t, sim) {
		if o.Status == "AWAITING_SHIPMENT" && len(object(t, o.Raw)["line_items"].([]any)) >= 2 {
			base = o
			break
		}
	}
	status := func(o tiktok.Order, s string, dt int64) tiktok.Order {
		return edit(t, o, func(m map[string]any) { m["status"] = s; m["update_time"] = o.UpdateTime + dt })
	}
	typed := func() (string, int) {
		var s string
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT o.status, (SELECT count(*) FROM tiktok.order_line l WHERE l.order_id = o.order_id)
			FROM tiktok."order" o WHERE o.order_id = $1`, base.ID).Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		return s, n
	}

	collecting := status(base, "AWAITING_COLLECTION", 0)
	land(t, pool, landing.SourceWebhook, collecting)
	land(t, pool, landing.SourcePoll, base) // same second, lower rank, landed later
	if s, _ := typed(); s != "AWAITING_COLLECTION" {
		t.Fatalf("after AWAITING_COLLECTION then AWAITING_SHIPMENT in the same second: %s", s)
	}
	land(t, pool, landing.SourcePoll, status(base, "CANCELLED", 0))
	if s, _ := typed(); s != "CANCELLED" {
		t.Fatalf("CANCELLED in the same second did not win: %s", s)
	}
	// Both in one page, in either order.
	land(t, pool, landing.SourcePoll, status(base, "IN_TRANSIT", 10), status(base, "DELIVERED", 10))
	if s, _ := typed(); s != "DELIVERED" {
		t.Fatalf("a page with IN_TRANSIT and DELIVERED in the same second: %s", s)
	}
	// A later update_time wins whatever the status; its lines replace the old.
	fewer := edit(t, base, func(m map[string]any) {
		m["update_time"] = base.UpdateTime + 20
		m["line_items"] = m["line_items"].([]any)[:1]
	})
	land(t, pool, landing.SourcePoll, fewer)
	if s, n := typed(); s != "AWAITING_SHIPMENT" || n != 1 {
		t.Fatalf("newer state: %s with %d lines, want AWAITING_SHIPMENT with 1", s, n)
	}
	// An older state arriving late changes nothing.
	before := typedChecksum(t, pool)
	land(t, pool, landing.SourcePoll, status(base, "COMPLETED", 15))
	if after := typedChecksum(t, pool); after != before {
		t.Fatal("an older state changed the typed order")
	}
	if n := count(t, pool, `SELECT count(*) FROM tiktok.order_payload WHERE order_id = $1`, base.ID); n != 7 {
		t.Fatalf("%d payloads of the order, want the 7 states received", n)
	}
}

// Recipient, e-mail, buyer message and buyer id land in pii.order_recipient
// only; nothing in the tiktok schema holds them, and the analyst role cannot
// read pii.
func TestPersonalDataStaysInPII(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 23)
	orders := simOrders(t, sim)
	land(t, pool, landing.SourcePoll, orders...)

	var secrets []string
	withAddress := 0
	for _, o := range orders {
		m := object(t, o.Raw)
		secrets = append(secrets, m["buyer_email"].(string), m["user_id"].(string))
		if msg, _ := m["buyer_message"].(string); msg != "" {
			secrets = append(secrets, msg)
		}
		if a, ok := m["recipient_address"].(map[string]any); ok {
			withAddress++
			secrets = append(secrets, a["full_address"].(string), a["phone_number"].(string), a["name"].(string), a["address_line1"].(string))
			var stored string
			if err := pool.QueryRow(ctx, `SELECT recipient_address->>'full_address' FROM pii.order_recipient WHERE shop_id = $1 AND order_id = $2`,
				shopID, o.ID).Scan(&stored); err != nil || stored != a["full_address"] {
				t.Errorf("order %s: pii holds address %q (%v), want %q", o.ID, stored, err, a["full_address"])
			}
		}
		if n := count(t, pool, `SELECT count(*) FROM pii.order_recipient WHERE order_id = $1 AND buyer_email = $2`, o.ID, m["buyer_email"]); n != 1 {
			t.Errorf("order %s: buyer e-mail not in pii.order_recipient", o.ID)
		}
	}
	if withAddress < 5 {
		t.Fatalf("only %d demo orders show an address; the test needs some", withAddress)
	}
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'tiktok' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range tables {
		for _, s := range secrets {
			if n := count(t, pool, fmt.Sprintf(`SELECT count(*) FROM tiktok.%s t WHERE strpos(t::text, $1) > 0`, pgx.Identifier{tbl}.Sanitize()), s); n != 0 {
				t.Errorf("tiktok.%s holds personal data %q in %d rows", tbl, s, n)
			}
		}
	}

	asRole := func(role, sql string) string {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return pgErr.Code
		}
		if err != nil {
			t.Fatal(err)
		}
		return ""
	}
	if code := asRole(testdb.TestRoles.Analyst, `SELECT * FROM pii.order_recipient`); code != "42501" {
		t.Errorf("analyst reading pii.order_recipient: SQLSTATE %q, want 42501 (denied)", code)
	}
	if code := asRole(testdb.TestRoles.Analyst, `SELECT * FROM tiktok.order_payload, tiktok."order", tiktok.order_line`); code != "" {
		t.Errorf("analyst reading the landed orders: SQLSTATE %q", code)
	}
	if code := asRole(testdb.TestRoles.App, `SELECT * FROM pii.order_recipient`); code != "" {
		t.Errorf("app role reading pii.order_recipient: SQLSTATE %q", code)
	}
}

// An address change in the same second, and a later state without an
// address, keep the newest address known.
func TestNewestAddressIsKept(t *testing.T) {
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 24)
	var o tiktok.Order
	for _, x := range simOrders(t, sim) {
		if x.Status == "AWAITING_SHIPMENT" {
			o = x
			break
		}
	}
	if err := sim.UpdateAddress(o.ID); err != nil {
		t.Fatal(err)
	}
	moved := simOrder(t, sim, o.ID)
	land(t, pool, landing.SourcePoll, o)
	land(t, pool, landing.SourceWebhook, moved)
	land(t, pool, landing.SourcePoll, edit(t, moved, func(m map[string]any) {
		delete(m, "recipient_address")
		m["update_time"] = moved.UpdateTime + 60
	}))
	want := object(t, moved.Raw)["recipient_address"].(map[string]any)["full_address"]
	if got := text(t, pool, `SELECT recipient_address->>'full_address' FROM pii.order_recipient WHERE order_id = $1`, o.ID); got != want {
		t.Fatalf("address %q, want the changed one %q", got, want)
	}
}

// Bad input: malformed amounts, a missing id, absurd prices and quantities,
// bytes Postgres cannot hold. The good orders of the page land; each bad one
// is an exception for IT; what was stored before is kept.
func TestUnreadableOrdersBecomeExceptions(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 25)
	orders := simOrders(t, sim)
	good1, good2, victim := orders[0], orders[1], orders[2]
	land(t, pool, landing.SourcePoll, victim)
	before := typedChecksum(t, pool)

	badAmount := edit(t, victim, func(m map[string]any) {
		m["update_time"] = victim.UpdateTime + 10
		m["payment"].(map[string]any)["sub_total"] = "abc"
	})
	noID := edit(t, orders[3], func(m map[string]any) { delete(m, "id") })
	absurdPrice := edit(t, orders[4], func(m map[string]any) {
		m["line_items"].([]any)[0].(map[string]any)["sale_price"] = "99999999999999.99"
	})
	absurdUnits := edit(t, orders[5], func(m map[string]any) {
		li := m["line_items"].([]any)
		for len(li) <= 5000 {
			u := map[string]any{}
			for k, v := range li[0].(map[string]any) {
				u[k] = v
			}
			u["id"] = fmt.Sprintf("9%017d", len(li))
			li = append(li, u)
		}
		m["line_items"] = li
	})
	negative := edit(t, orders[6], func(m map[string]any) { m["payment"].(map[string]any)["total_amount"] = "-5.00" })
	nul := orders[7]
	nul.Raw = json.RawMessage(strings.Replace(string(nul.Raw), `"status":`, `"seller_note":"a\u0000b","status":`, 1))
	huge := edit(t, orders[8], func(m map[string]any) { m["seller_note"] = json.Number("1e1000000") })

	res, err := landing.Land(ctx, pool, shopID, landing.SourcePoll, []tiktok.Order{good1, badAmount, noID, absurdPrice, good2, absurdUnits, negative, nul, huge})
	if err != nil {
		t.Fatal(err)
	}
	if res.Landed != 7 || res.Rejected != 2 || res.Derive.Orders != 2 || res.Derive.Unreadable != 5 || res.DeriveError != "" {
		t.Fatalf("result %+v; want 7 stored, 2 rejected, 2 derived, 5 unreadable", res)
	}
	for _, o := range []tiktok.Order{good1, good2} {
		checkTyped(t, pool, o)
	}
	// The victim keeps its earlier state.
	if got := count(t, pool, `SELECT count(*) FROM tiktok."order" WHERE order_id = $1 AND update_time_unix = $2`, victim.ID, victim.UpdateTime); got != 1 {
		t.Fatal("the earlier state of the order with a malformed update was lost")
	}
	for _, id := range []string{absurdPrice.ID, absurdUnits.ID, negative.ID, nul.ID, huge.ID} {
		if n := count(t, pool, `SELECT count(*) FROM tiktok."order" WHERE order_id = $1`, id); n != 0 {
			t.Errorf("unreadable order %s was derived", id)
		}
	}
	wants := map[string]string{
		victim.ID:      `payment.sub_total "abc" is not an amount`,
		absurdPrice.ID: `line_items[0].sale_price "99999999999999.99" is not an amount`,
		absurdUnits.ID: `5001 line items (units) in one order`,
		negative.ID:    `payment.total_amount "-5.00" is not an amount`,
		nul.ID:         `holds a \u0000 character`,
		huge.ID:        `value overflows numeric format`,
		"":             `no order id`,
	}
	for id, want := range wants {
		var msg, owner string
		err := pool.QueryRow(ctx, `SELECT message, owner_team FROM ops.exception WHERE kind = 'tiktok_order_unreadable'
			AND status = 'open' AND shop_id = $1 AND order_id IS NOT DISTINCT FROM nullif($2, '')`, shopID, id).Scan(&msg, &owner)
		if err != nil || owner != "it" || !strings.Contains(msg, want) {
			t.Errorf("order %q: exception %q (owner %q, %v), want one for IT saying %q", id, msg, owner, err, want)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM ops.exception`); n != 7 {
		t.Errorf("%d exceptions, want 7", n)
	}
	// Raw payloads of the unreadable ones are kept for a replay after a fix.
	if n := count(t, pool, `SELECT count(*) FROM tiktok.order_payload WHERE order_id IS NULL`); n != 1 {
		t.Errorf("the order without id was not kept: %d", n)
	}
	if after := typedChecksum(t, pool); !strings.Contains(after, "3 orders") {
		t.Errorf("typed tables after the bad page: %s (before: %s)", after, before)
	}

	// The same bad state again counts an occurrence; a readable newer state
	// of the order flows and resolves the exception.
	land(t, pool, landing.SourcePoll, badAmount)
	land(t, pool, landing.SourceWebhook, edit(t, victim, func(m map[string]any) { m["update_time"] = victim.UpdateTime + 20 }))
	if n := count(t, pool, `SELECT count(*) FROM ops.exception WHERE order_id = $1 AND status = 'resolved' AND resolved_by = 'tiktokb1'`, victim.ID); n != 1 {
		t.Fatal("the exception was not resolved by a readable newer state")
	}
	if n := count(t, pool, `SELECT count(*) FROM tiktok."order" WHERE order_id = $1 AND update_time_unix = $2`, victim.ID, victim.UpdateTime+20); n != 1 {
		t.Fatal("the readable newer state was not derived")
	}
}

// Replay derives exactly the typed tables that landing made, after they are
// lost or damaged, and again changes nothing.
func TestReplayReproducesTypedTables(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 26)
	orders := simOrders(t, sim)
	land(t, pool, landing.SourcePoll, orders[:10]...)
	land(t, pool, landing.SourcePoll, orders[10:]...)
	// Newer states of some, and states in the same second.
	for i, o := range orders[:6] {
		if o.Status == "AWAITING_SHIPMENT" {
			land(t, pool, landing.SourceWebhook, edit(t, o, func(m map[string]any) { m["status"] = "CANCELLED" }))
		} else {
			land(t, pool, landing.SourceWebhook, edit(t, o, func(m map[string]any) { m["update_time"] = o.UpdateTime + int64(i) + 1 }))
		}
	}
	want := typedChecksum(t, pool)

	if _, err := pool.Exec(ctx, `TRUNCATE tiktok."order" CASCADE`); err != nil {
		t.Fatal(err)
	}
	var pages []landing.ReplayProgress
	res, err := landing.Replay(ctx, pool, landing.ReplayOptions{PageSize: 7, Progress: func(p landing.ReplayProgress) { pages = append(pages, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := typedChecksum(t, pool); got != want {
		t.Fatalf("after replay:\n%s\nwant\n%s", got, want)
	}
	if res.Orders != int64(len(orders)) || len(pages) != (len(orders)+6)/7 || pages[len(pages)-1].Done != int64(len(orders)) || pages[0].Total != int64(len(orders)) {
		t.Fatalf("replay %+v in %d pages (%+v)", res, len(pages), pages)
	}

	// A damaged typed table (as a bug would leave it) is repaired; a second
	// replay changes nothing.
	if _, err := pool.Exec(ctx, `UPDATE tiktok.order_line SET sale_price = 0; DELETE FROM tiktok.order_package`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := landing.Replay(ctx, pool, landing.ReplayOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := typedChecksum(t, pool); got != want {
			t.Fatalf("after replaying a damaged table:\n%s\nwant\n%s", got, want)
		}
	}
	// Since a time after every payload: nothing to do.
	future := time.Now().Add(time.Hour)
	if res, err := landing.Replay(ctx, pool, landing.ReplayOptions{Since: &future}); err != nil || res.Orders != 0 {
		t.Fatalf("replay since the future: %+v, %v", res, err)
	}
}

// A derivation that fails as a whole (here: a schema that does not match the
// build) keeps the raw payloads and tells IT to replay.
func TestDerivationFailureKeepsPayloads(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 27)
	orders := simOrders(t, sim)[:5]
	if _, err := pool.Exec(ctx, `ALTER TABLE tiktok.order_line RENAME COLUMN tax TO tax_broken`); err != nil {
		t.Fatal(err)
	}
	res, err := landing.Land(ctx, pool, shopID, landing.SourcePoll, orders)
	if err != nil {
		t.Fatal(err)
	}
	if res.Landed != 5 || res.DeriveError == "" {
		t.Fatalf("result %+v; want the payloads landed and the derivation error reported", res)
	}
	if n := count(t, pool, `SELECT count(*) FROM tiktok.order_payload`); n != 5 {
		t.Fatalf("%d payloads kept, want 5", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM tiktok."order"`); n != 0 {
		t.Fatalf("%d typed orders from a failed derivation", n)
	}
	if msg := text(t, pool, `SELECT message FROM ops.exception WHERE kind = 'tiktok_order_derivation_failed' AND owner_team = 'it'`); !strings.Contains(msg, "replay orders") {
		t.Fatalf("exception %q does not say to replay", msg)
	}
	// Fixed: the replay derives them.
	if _, err := pool.Exec(ctx, `ALTER TABLE tiktok.order_line RENAME COLUMN tax_broken TO tax`); err != nil {
		t.Fatal(err)
	}
	if r, err := landing.Replay(ctx, pool, landing.ReplayOptions{}); err != nil || r.Derive.Orders != 5 {
		t.Fatalf("replay after the fix: %+v, %v", r, err)
	}
}

// Landing inside a caller's transaction is undone with it.
func TestLandJoinsTheCallersTransaction(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	addShop(t, pool, shopID)
	sim := demoSim(t, 28)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := landing.Land(ctx, tx, shopID, landing.SourceWebhook, simOrders(t, sim)[:3]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT (SELECT count(*) FROM tiktok.order_payload) + (SELECT count(*) FROM pii.order_recipient)`); n != 0 {
		t.Fatalf("%d rows left after the caller rolled back", n)
	}
}
