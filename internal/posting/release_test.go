package posting_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/posting"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// staticTokens is a TokenSource over one access token.
type staticTokens string

func (s staticTokens) AccessToken(context.Context, string) (string, error) { return string(s), nil }
func (s staticTokens) RefreshAccessToken(context.Context, string, string) (string, error) {
	return string(s), nil
}

// tiktokClient serves the env's TikTok simulator over HTTP and returns a
// client authorised for its shop.
func (e *env) tiktokClient() *tiktok.Client {
	e.t.Helper()
	srv := httptest.NewServer(e.tt)
	e.t.Cleanup(srv.Close)
	if _, err := e.pool.Exec(e.ctx, `UPDATE tiktok.shop SET cipher = $2 WHERE id = $1`, e.shopID, e.tt.Shop().Cipher); err != nil {
		e.t.Fatal(err)
	}
	tok, err := tiktok.New(tiktok.Config{AppKey: "k", AppSecret: "s", AuthURL: srv.URL}).GetToken(e.ctx, "code-from-the-consent-screen")
	if err != nil {
		e.t.Fatalf("token: %v", err)
	}
	return tiktok.New(tiktok.Config{AppKey: "k", AppSecret: "s", APIURL: srv.URL, AuthURL: srv.URL,
		Tokens: staticTokens(tok.AccessToken), RateLimit: 1000})
}

func (e *env) releaseUDF(orderID string) string {
	e.t.Helper()
	docs := e.salesOrders(orderID)
	if len(docs) != 1 {
		e.t.Fatalf("%d Sales Orders for %s", len(docs), orderID)
	}
	return docs[0].UDF.String("U_TikTokRelease")
}

func (e *env) posting(orderID string) db.IntegrationOrderPosting {
	e.t.Helper()
	l, err := db.New(e.pool).GetOrderPosting(e.ctx, db.GetOrderPostingParams{ShopID: e.shopID, OrderID: orderID})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func requests(st tiktoksim.Stats) int64 {
	var n int64
	for _, c := range st.RequestsByEndpoint {
		n += c
	}
	return n
}

// The release gate: posted orders sit on hold (U_TikTokRelease = N); one
// batched TikTok read per shop releases the shippable ones, and leaves on
// hold one with a pending cancellation request and one cancelled (which the
// cancellation flow then cancels, from the state the check landed).
func TestReleaseGate(t *testing.T) {
	e := newEnv(t, envOptions{})
	ok1 := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	ok2 := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 2}}})
	requested := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "SOCK-3PK", Quantity: 1}}})
	cancelled := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "CANDLE-VAN", Quantity: 1}}})
	all := []string{ok1, ok2, requested, cancelled}
	e.waitFor("four orders to post", 20*time.Second, func() bool {
		for _, id := range all {
			if e.ledger(id).State != "posted" {
				return false
			}
		}
		return true
	})
	for _, id := range all {
		if u := e.releaseUDF(id); u != "N" {
			t.Fatalf("order %s posted with U_TikTokRelease %q, want N (on hold)", id, u)
		}
	}
	if _, err := e.tt.CancelOrder(requested, tiktoksim.CancelRequest{Request: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tt.CancelOrder(cancelled, tiktoksim.CancelRequest{}); err != nil {
		t.Fatal(err)
	}

	client := e.tiktokClient()
	before := e.tt.Stats()
	res, err := e.poster.Release(e.ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	after := e.tt.Stats()
	if n := requests(after) - requests(before); n != 1 || res.Calls != 1 || res.Checked != 4 {
		t.Fatalf("release check: %d TikTok requests (%+v → %+v), result %+v; want one batched call for 4 orders",
			n, before.RequestsByEndpoint, after.RequestsByEndpoint, res)
	}
	if res.Approved != 2 || res.Held[posting.HoldCancelRequested] != 1 || res.Held[posting.HoldCancelled] != 1 {
		t.Fatalf("release result %+v", res)
	}
	e.waitFor("the shippable orders to be released in SAP", 20*time.Second, func() bool {
		return e.posting(ok1).ReleasedAt != nil && e.posting(ok2).ReleasedAt != nil
	})
	for _, id := range []string{ok1, ok2} {
		if u := e.releaseUDF(id); u != "Y" {
			t.Fatalf("released order %s has U_TikTokRelease %q in SAP", id, u)
		}
	}
	if l := e.posting(requested); l.ReleasedAt != nil || l.ReleaseHold == nil || *l.ReleaseHold != posting.HoldCancelRequested || e.releaseUDF(requested) != "N" {
		t.Fatalf("order with a pending cancellation request: released_at %v hold %v UDF %s", l.ReleasedAt, l.ReleaseHold, e.releaseUDF(requested))
	}
	// The cancelled order's state was landed by the check: the cancellation
	// flow cancels its Sales Order, which is never released.
	e.waitFor("the cancelled order's Sales Order to be cancelled", 20*time.Second, func() bool { return e.ledger(cancelled).State == "cancelled" })
	if l := e.posting(cancelled); l.ReleasedAt != nil || e.releaseUDF(cancelled) != "N" {
		t.Fatalf("the cancelled order was released: %v", l.ReleasedAt)
	}

	// A second run checks only the order still on hold.
	res, err = e.poster.Release(e.ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 1 || res.Approved != 0 || res.Held[posting.HoldCancelRequested] != 1 {
		t.Fatalf("second release run: %+v", res)
	}
}

// A unit cancelled on TikTok after posting is patched out of the Sales
// Order: the quantity drops (a whole line goes), the totals and SAP's
// committed stock follow, and patching again changes nothing.
func TestLineCancellationPatchesTheSalesOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 3}, {SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	e.waitFor("the order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	doc := e.salesOrders(id)[0]
	qty := func(d sapb1.Document, item string) string {
		for _, l := range d.Lines {
			if l.ItemCode == item {
				return l.Quantity.String()
			}
		}
		return "none"
	}
	committed := func(item string) string {
		it, err := e.seed.GetItem(e.ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		return it.Warehouses[0].Committed.String()
	}
	if qty(doc, "MUG-WHT-350") != "3" || qty(doc, "TEE-BLK-M") != "1" || committed("MUG-WHT-350") != "3" || committed("TEE-BLK-M") != "1" {
		t.Fatalf("posted: MUG %s TEE %s, committed %s/%s", qty(doc, "MUG-WHT-350"), qty(doc, "TEE-BLK-M"), committed("MUG-WHT-350"), committed("TEE-BLK-M"))
	}
	totalBefore := doc.DocTotal.Decimal

	if _, err := e.tt.CancelOrder(id, tiktoksim.CancelRequest{Role: "SELLER", Lines: []tiktoksim.CancelLine{
		{SellerSKU: "MUG-WHT-350", Quantity: 1}, {SellerSKU: "TEE-BLK-M", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	e.land(id)
	e.validate()
	ch, err := e.poster.DetectChanges(e.ctx)
	if err != nil || ch.Queued != 1 {
		t.Fatalf("change detection: %+v %v", ch, err)
	}
	e.waitFor("the Sales Order to be patched", 20*time.Second, func() bool { return e.posting(id).PatchedAt != nil })

	doc = e.salesOrders(id)[0]
	if qty(doc, "MUG-WHT-350") != "2" || qty(doc, "TEE-BLK-M") != "none" {
		t.Fatalf("patched: MUG %s TEE %s", qty(doc, "MUG-WHT-350"), qty(doc, "TEE-BLK-M"))
	}
	if c := committed("MUG-WHT-350"); c != "2" {
		t.Fatalf("MUG-WHT-350 committed %s after the patch, want 2", c)
	}
	if c := committed("TEE-BLK-M"); c != "0" {
		t.Fatalf("TEE-BLK-M committed %s after the patch, want 0", c)
	}
	l := e.ledger(id)
	if !doc.DocTotal.Decimal.LessThan(totalBefore) {
		t.Fatalf("DocTotal %s after the patch, was %s", doc.DocTotal, totalBefore)
	}
	row := e.posting(id)
	if !row.SapTotal.Valid || !row.SapTotal.Decimal.Equal(doc.DocTotal.Decimal) || !row.ExpectedTotal.Decimal.Equal(doc.DocTotal.Decimal) {
		t.Fatalf("ledger totals: sap %v expected %v, SAP DocTotal %s (check %v)", row.SapTotal, row.ExpectedTotal, doc.DocTotal, row.TotalCheck)
	}
	for _, ll := range l.Lines {
		if ll.ItemCode == "TEE-BLK-M" {
			t.Fatalf("the ledger still carries the cancelled line: %+v", l.Lines)
		}
		if ll.ItemCode == "MUG-WHT-350" && (!ll.Quantity.Equal(decimal.NewFromInt(2)) || ll.LineNum == nil) {
			t.Fatalf("ledger line %+v", ll)
		}
	}

	// Again: nothing to patch, nothing sent.
	etag := doc.ETag
	for range 2 {
		if err := e.poster.Patch(e.ctx, posting.Key{ShopID: e.shopID, OrderID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if ch, err := e.poster.DetectChanges(e.ctx); err != nil || ch.Queued != 0 {
		t.Fatalf("change detection after the patch: %+v %v", ch, err)
	}
	if d := e.salesOrders(id)[0]; d.ETag != etag || qty(d, "MUG-WHT-350") != "2" {
		t.Fatalf("patching again changed the Sales Order: ETag %s → %s", etag, d.ETag)
	}
}
