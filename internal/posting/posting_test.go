package posting_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// wantLine is one Sales Order line as a person checks it: item, quantity,
// unit price and the TikTok package (1-based in the order the order's line
// items name them; 0 = none).
type wantLine struct {
	item  string
	qty   string
	price string
	pkg   int
}

func (w wantLine) String() string {
	return fmt.Sprintf("%s %s@%s pkg%d", w.item, w.qty, w.price, w.pkg)
}

// demoWant is what becomes of one of the TikTok simulator's demo orders.
type demoWant struct {
	what      string
	state     string
	kind      string     // reason_kind
	lines     []wantLine // the Sales Order's lines (shipping included)
	total     string     // SAP's DocTotal
	exception string     // the one live exception it has, if any
}

var sh = func(amount string) wantLine { return wantLine{"SHIPPING", "1", amount, 0} }

// demoWants follow tiktoksim/demo.go order by order, with the sandbox's
// shop: identity mapping, shipping as the SHIPPING service item, FBT
// skipped, orders first seen shipped raise an exception.
var demoWants = []demoWant{
	{what: "one unit, seller shipping, with a shipping fee", state: "posted",
		lines: []wantLine{{"TEE-BLK-M", "1", "12.99", 1}, sh("2.99")}, total: "15.98"},
	{what: "three units of one SKU with unequal discounts", state: "posted",
		lines: []wantLine{{"TEE-BLK-M", "1", "12.65", 1}, {"TEE-BLK-M", "2", "12.66", 1}}, total: "37.97"},
	{what: "awkward price: 3 for 10.00", state: "posted",
		lines: []wantLine{{"SOCK-3PK", "2", "3.33", 1}, {"SOCK-3PK", "1", "3.34", 1}}, total: "10.00"},
	{what: "a free gift with a mug", state: "posted",
		lines: []wantLine{{"MUG-WHT-350", "1", "8.50", 1}, {"KEYRING-GIFT", "1", "0.00", 1}}, total: "8.50"},
	{what: "split into two packages", state: "posted",
		lines: []wantLine{{"CANDLE-VAN", "1", "15.00", 1}, {"BOTTLE-750", "1", "19.99", 2}, {"MUG-WHT-350", "1", "8.50", 1}}, total: "43.49"},
	{what: "the buyer cancels one of two units", state: "posted",
		lines: []wantLine{{"TEE-BLK-L", "1", "12.99", 1}, {"MUG-WHT-350", "1", "8.50", 1}}, total: "21.49"},
	{what: "unpaid", state: "waiting", kind: "unpaid"},
	{what: "on hold", state: "waiting", kind: "on_hold"},
	{what: "fulfilled by TikTok", state: "skipped", kind: "fbt_skipped"},
	{what: "cancelled by the buyer after payment", state: "cancelled_before_post", kind: "cancelled"},
	{what: "in transit, seller shipping", state: "blocked", kind: "order_already_shipped", exception: "order_already_shipped"},
	{what: "delivered", state: "blocked", kind: "order_already_shipped", exception: "order_already_shipped"},
	{what: "completed", state: "blocked", kind: "order_already_shipped", exception: "order_already_shipped"},
	{what: "awaiting collection", state: "posted",
		lines: []wantLine{{"SERUM-30ML", "1", "24.99", 1}}, total: "24.99"},
	{what: "partially shipping", state: "blocked", kind: "order_already_shipped", exception: "order_already_shipped"},
	{what: "platform discount and free shipping paid by seller and platform", state: "posted",
		lines: []wantLine{{"MUG-WHT-350", "2", "8.50", 1}, sh("2.99")}, total: "19.99"},
	// The simulator does not model tax: SAP adds none of the 5.00 TikTok
	// charged, and finance is told.
	{what: "with taxes on the item and the shipping", state: "posted",
		lines: []wantLine{{"BOTTLE-750", "1", "19.99", 1}, sh("4.99")}, total: "24.98", exception: "order_total_variance"},
	{what: "the buyer asks to cancel; the seller has not answered", state: "waiting", kind: "cancel_requested"},
	{what: "several SKUs", state: "posted",
		lines: []wantLine{{"TEE-BLK-M", "1", "12.99", 1}, {"TEE-BLK-L", "1", "12.99", 1}, {"SOCK-3PK", "2", "4.00", 1}, {"MUG-WHT-350", "1", "8.50", 1}}, total: "42.48"},
	{what: "never paid: cancelled by the system", state: "cancelled_before_post", kind: "cancelled"},
	{what: "address changed by the buyer", state: "posted",
		lines: []wantLine{{"CANDLE-VAN", "1", "15.00", 1}}, total: "15.00"},
	{what: "the seller cancels a unit out of stock", state: "posted",
		lines: []wantLine{{"SERUM-30ML", "1", "24.99", 1}}, total: "24.99"},
}

// Every shape of order the TikTok simulator seeds, landed, validated and
// posted: exactly the expected Sales Orders in SAP, to the cent, with their
// UDFs and packages; FBT orders never commit SAP stock; landing, validating
// and posting everything again creates nothing twice.
func TestDemoOrdersBecomeExactlyTheExpectedSalesOrders(t *testing.T) {
	e := newEnv(t, envOptions{demo: true})
	ids := e.tt.OrderIDs()
	if len(ids) != len(demoWants) {
		t.Fatalf("the simulator seeds %d demo orders, the test knows %d", len(ids), len(demoWants))
	}
	e.land()
	e.waitFor("every demo order to be decided and posted", 60*time.Second, func() bool {
		return e.count(`SELECT count(*) FROM integration.order_posting`) == len(ids) && e.settled()
	})

	posted := 0
	for i, w := range demoWants {
		id := ids[i]
		t.Run(fmt.Sprintf("%02d %s", i, w.what), func(t *testing.T) {
			l := e.ledger(id)
			if l.State != w.state || (w.kind != "" && l.ReasonKind != w.kind) {
				t.Errorf("ledger %s/%s (%s), want %s/%s", l.State, l.ReasonKind, l.Reason, w.state, w.kind)
			}
			docs := e.salesOrders(id)
			if w.state != "posted" {
				if len(docs) != 0 {
					t.Errorf("%d Sales Orders in SAP for an order that must not post", len(docs))
				}
			} else {
				e.checkSalesOrder(t, id, l, docs, w)
			}
			var live []string
			for k := range e.exceptions(id) {
				live = append(live, k)
			}
			if want := []string{}; w.exception != "" {
				want = append(want, w.exception)
				if !slices.Equal(live, want) {
					t.Errorf("live exceptions %v, want %v", live, want)
				}
			} else if len(live) > 0 {
				t.Errorf("live exceptions %v, want none", live)
			}
		})
		if w.state == "posted" {
			posted++
		}
	}
	if n := e.documents(); n != posted {
		t.Fatalf("SAP holds %d Sales Orders, want %d", n, posted)
	}
	owners := e.exceptions(ids[10])
	if owners["order_already_shipped"] != "operations" || e.exceptions(ids[16])["order_total_variance"] != "finance" {
		t.Errorf("owners: already shipped %v, variance %v", owners, e.exceptions(ids[16]))
	}

	// FBT: SAP commits SERUM-30ML only for the two orders posted (13, 21),
	// never for the two units TikTok ships from its own stock (8).
	serum, err := e.seed.GetItem(e.ctx, "SERUM-30ML")
	if err != nil {
		t.Fatal(err)
	}
	if c := serum.Warehouses[0].Committed; c == nil || !c.Equal(decimal.NewFromInt(2)) {
		t.Errorf("SERUM-30ML committed in SAP = %v, want 2 (the FBT order's units are TikTok's)", c)
	}

	// Duplicate webhooks, polls and a replay; validation and the posting
	// job run again for every order: nothing is created twice.
	before := e.documents()
	e.land()
	e.land()
	if _, err := landing.Replay(e.ctx, e.pool, landing.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.validate()
	e.validate()
	err = pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		var params []river.InsertManyParams
		for _, id := range ids {
			params = append(params, river.InsertManyParams{Args: jobs.PostOrderArgs{ShopID: e.shopID, OrderID: id}})
		}
		_, err := e.river.InsertManyTx(e.ctx, tx, params)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the replayed jobs to finish", 30*time.Second, e.settled)
	if n := e.documents(); n != before {
		t.Fatalf("after duplicates SAP holds %d Sales Orders, want still %d", n, before)
	}
	if n := e.count(`SELECT count(*) FROM integration.order_posting WHERE attempts > 1`); n != 0 {
		t.Fatalf("%d orders were POSTed more than once", n)
	}
	if n := e.count(`SELECT count(*) FROM ops.exception WHERE occurrences > 1`); n != 0 {
		t.Fatalf("%d exceptions counted again by re-validation", n)
	}

	// The pipeline view tells an analyst where each order is.
	var blockedWithKind, postedWithDoc int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FILTER (WHERE posting_state = 'blocked' AND exception_kind = 'order_already_shipped'),
		count(*) FILTER (WHERE posting_state = 'posted' AND doc_entry IS NOT NULL AND doc_num IS NOT NULL)
		FROM report.order_pipeline`).Scan(&blockedWithKind, &postedWithDoc); err != nil {
		t.Fatal(err)
	}
	if blockedWithKind != 4 || postedWithDoc != posted {
		t.Fatalf("report.order_pipeline: %d blocked with their exception (want 4), %d posted with DocEntry (want %d)", blockedWithKind, postedWithDoc, posted)
	}
	// An analyst reads the pipeline, not the ledger behind it.
	if n, err := e.asAnalyst(`SELECT count(*) FROM report.order_pipeline`); err != nil || n != len(ids) {
		t.Fatalf("analyst reads %d orders of the pipeline (%v), want %d", n, err, len(ids))
	}
	if _, err := e.asAnalyst(`SELECT count(*) FROM integration.order_posting`); err == nil {
		t.Fatal("the analyst role reads the ledger")
	}
}

// asAnalyst runs a count as the analyst role.
func (e *env) asAnalyst(sql string) (int, error) {
	var n int
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(e.ctx, "SET LOCAL ROLE "+pgx.Identifier{testdb.TestRoles.Analyst}.Sanitize()); err != nil {
			return err
		}
		return tx.QueryRow(e.ctx, sql).Scan(&n)
	})
	return n, err
}

// Bundles in both modes: a TikTok SKU posted as its components, the
// bundle's price split over them by weight to the cent, and one posted as an
// SAP kit item (a sales BOM, which SAP explodes into its components).
func TestBundlesInBothModes(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, call := range [][2]string{
		{"Items", `{"ItemCode":"GIFTSET","ItemName":"Gift set","InventoryItem":"tNO","SalesItem":"tYES"}`},
		{"ProductTrees", `{"TreeCode":"GIFTSET","TreeType":"iSalesTree","Quantity":1,"ProductTreeLines":[{"ItemCode":"CANDLE-VAN","Quantity":1},{"ItemCode":"SOCK-3PK","Quantity":2}]}`},
	} {
		if status, body := e.sap.Call(e.ctx, "POST", call[0], []byte(call[1])); status != 201 {
			t.Fatalf("%s: %d %s", call[0], status, body)
		}
	}
	e.snapshot()
	e.importCSV("bundles", "seller_sku,mode,kit_item_code,component_item_code,quantity,price_weight\n"+
		"MUG-PAIR,components,,MUG-WHT-350,2,8.5\nMUG-PAIR,components,,KEYRING-GIFT,1,2\nGIFTSET-TT,kit,GIFTSET,,,\n")
	if _, err := e.tt.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "MUG-PAIR", Price: "15", Stock: 10}, {SellerSKU: "GIFTSET-TT", Price: "30", Stock: 10}}); err != nil {
		t.Fatal(err)
	}
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-PAIR", Quantity: 1}, {SellerSKU: "GIFTSET-TT", Quantity: 1}}})
	e.waitFor("the bundle order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	d := e.salesOrders(id)[0]
	var got []string
	for _, l := range d.Lines {
		got = append(got, fmt.Sprintf("%s %s %s", l.ItemCode, l.Quantity.String(), l.LineTotal.StringFixed(2)))
	}
	// 15.00 over KEYRING 1 × 2 and MUG 2 × 8.5 (components in item order)
	// by largest remainder: 1.58 + 13.42.
	want := []string{"KEYRING-GIFT 1 1.58", "MUG-WHT-350 2 13.42", "GIFTSET 1 30.00", "CANDLE-VAN 1 0.00", "SOCK-3PK 2 0.00"}
	if !slices.Equal(got, want) || d.DocTotal.StringFixed(2) != "45.00" {
		t.Fatalf("SAP lines %v total %v, want %v total 45.00", got, d.DocTotal, want)
	}
	l := e.ledger(id)
	if len(l.Lines) != 3 || *l.Lines[0].LineNum != 0 || *l.Lines[1].LineNum != 1 || *l.Lines[2].LineNum != 2 || l.Lines[2].Kind != "kit" ||
		*l.TotalCheck != "matched" {
		t.Fatalf("ledger lines %+v, check %v", l.Lines, deref(l.TotalCheck))
	}
}

// checkSalesOrder checks an order's one Sales Order: header, UDFs, lines and
// packages, total, and the ledger's record of it.
func (e *env) checkSalesOrder(t *testing.T, id string, l ledger, docs []sapb1.Document, w demoWant) {
	t.Helper()
	if len(docs) != 1 {
		t.Fatalf("%d Sales Orders in SAP, want 1", len(docs))
	}
	d := docs[0]
	if l.DocEntry == nil || int(*l.DocEntry) != d.DocEntry || l.DocNum == nil || int(*l.DocNum) != d.DocNum {
		t.Errorf("ledger DocEntry/DocNum %v/%v, SAP's %d/%d", l.DocEntry, l.DocNum, d.DocEntry, d.DocNum)
	}
	if d.CardCode != "C-TIKTOK" || d.NumAtCard != id || d.UDF.String("U_TikTokOrderId") != id || d.UDF.String("U_TikTokShopId") != e.shopID {
		t.Errorf("header: CardCode %q NumAtCard %q UDFs %v", d.CardCode, d.NumAtCard, d.UDF)
	}
	if d.DocTotal == nil || d.DocTotal.StringFixed(2) != w.total {
		t.Errorf("DocTotal %v, want %s", d.DocTotal, w.total)
	}
	pkgNo := map[string]int{}
	for _, ll := range d.Lines {
		if p := ll.UDF.String("U_TikTokPackageId"); p != "" {
			if _, ok := pkgNo[p]; !ok {
				pkgNo[p] = len(pkgNo) + 1
			}
		}
	}
	var got, want []string
	for _, ll := range d.Lines {
		got = append(got, wantLine{ll.ItemCode, ll.Quantity.String(), ll.UnitPrice.StringFixed(2), pkgNo[ll.UDF.String("U_TikTokPackageId")]}.String())
	}
	for _, wl := range w.lines {
		want = append(want, wl.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("SAP lines\n got %v\nwant %v", got, want)
	}
	// The ledger maps every SAP line to its TikTok line items and package.
	if len(l.Lines) != len(d.Lines) {
		t.Fatalf("ledger has %d lines, SAP %d", len(l.Lines), len(d.Lines))
	}
	for i, ll := range l.Lines {
		s := d.Lines[i]
		if ll.LineNum == nil || *ll.LineNum != *s.LineNum || ll.ItemCode != s.ItemCode || ll.PackageID != s.UDF.String("U_TikTokPackageId") ||
			(ll.Kind != "shipping" && len(ll.TikTokLineIDs) != int(ll.Quantity.IntPart())) {
			t.Errorf("ledger line %d = %+v, SAP line %+v", i, ll, s)
		}
	}
	wantCheck := "matched"
	if w.exception == "order_total_variance" {
		wantCheck = "variance"
	}
	if l.TotalCheck == nil || *l.TotalCheck != wantCheck || l.Attempts != 1 {
		t.Errorf("total check %v (want %s), attempts %d\n%s", deref(l.TotalCheck), wantCheck, l.Attempts, e.ledgerDump())
	}
}

// An unmapped seller SKU blocks its order with one exception; importing the
// mapping lets it flow, and the exception resolves itself. An SAP item made
// inactive blocks the orders of its SKU until it is reactivated.
func TestMappingAndItemFixesLetBlockedOrdersFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := e.tt.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "GIFTBOX-RED", Price: "30", Stock: 50}}); err != nil {
		t.Fatal(err)
	}
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "GIFTBOX-RED", Quantity: 2}}})
	e.validate()
	e.validate()
	if l := e.ledger(id); l.State != "blocked" || l.ReasonKind != "unmapped_sku" || !strings.Contains(l.Reason, "GIFTBOX-RED") {
		t.Fatalf("ledger %+v, want blocked by unmapped_sku", l)
	}
	if n := e.count(`SELECT count(*) FROM ops.exception WHERE status = 'open' AND kind = 'unmapped_sku' AND owner_team = 'operations'
		AND order_id = $1 AND sku = 'GIFTBOX-RED' AND occurrences = 1`, id); n != 1 || e.count(`SELECT count(*) FROM ops.exception WHERE status = 'open'`) != 1 {
		t.Fatalf("want exactly one open unmapped_sku exception, have %d of %d", n, e.count(`SELECT count(*) FROM ops.exception`))
	}
	if e.documents() != 0 {
		t.Fatal("a blocked order was posted")
	}

	e.importCSV("skus", "shop_id,seller_sku,item_code\n"+e.shopID+",GIFTBOX-RED,CANDLE-VAN\n")
	e.waitFor("the mapped order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	docs := e.salesOrders(id)
	if len(docs) != 1 || docs[0].Lines[0].ItemCode != "CANDLE-VAN" || !docs[0].Lines[0].Quantity.Equal(decimal.NewFromInt(2)) {
		t.Fatalf("Sales Order %+v, want 2 × CANDLE-VAN", docs)
	}
	var resolvedBy, resolution string
	if err := e.pool.QueryRow(e.ctx, `SELECT resolved_by, resolution FROM ops.exception WHERE kind = 'unmapped_sku' AND order_id = $1`, id).Scan(&resolvedBy, &resolution); err != nil {
		t.Fatal(err)
	}
	if resolvedBy != "tiktokb1" || !strings.HasPrefix(resolution, "auto: ") {
		t.Fatalf("exception resolved by %q with %q, want by tiktokb1, auto", resolvedBy, resolution)
	}

	// TEE-BLK-L made inactive in SAP (and seen by the snapshot).
	if status, body := e.sap.Call(e.ctx, "PATCH", "Items('TEE-BLK-L')", []byte(`{"Valid":"tNO"}`)); status != 204 {
		t.Fatalf("deactivating: %d %s", status, body)
	}
	e.snapshot()
	id2 := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-L", Quantity: 1}, {SellerSKU: "MUG-WHT-350", Quantity: 1}}})
	e.validate()
	if l := e.ledger(id2); l.State != "blocked" || l.ReasonKind != "item_inactive" {
		t.Fatalf("ledger %+v, want blocked by item_inactive", l)
	}
	if ex := e.exceptions(id2); len(ex) != 1 || ex["item_inactive"] != "operations" {
		t.Fatalf("exceptions %v, want item_inactive for operations", ex)
	}
	if status, body := e.sap.Call(e.ctx, "PATCH", "Items('TEE-BLK-L')", []byte(`{"Valid":"tYES"}`)); status != 204 {
		t.Fatalf("reactivating: %d %s", status, body)
	}
	e.snapshot()
	e.waitFor("the order of the reactivated item to post", 20*time.Second, func() bool { return e.ledger(id2).State == "posted" })
	if ex := e.exceptions(id2); len(ex) != 0 {
		t.Fatalf("exceptions left %v", ex)
	}
	if e.documents() != 2 {
		t.Fatalf("%d Sales Orders, want 2", e.documents())
	}
}

// A POST whose answer is lost (the proxy gives up with a 502 while SAP
// commits) is looked up after the Service Layer's timeout, not repeated:
// exactly one Sales Order, and the ledger holds it.
func TestLostAnswerEndsWithExactlyOneSalesOrder(t *testing.T) {
	e := newEnv(t, envOptions{lookupAfter: 1500 * time.Millisecond})
	e.sap.SetFaults(sapb1sim.Faults{ProxyTimeout: 200 * time.Millisecond, CommitDelay: 700 * time.Millisecond})
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 3}}})
	sawUnknown := false
	e.waitFor("the order to be posted", 30*time.Second, func() bool {
		l := e.ledger(id)
		sawUnknown = sawUnknown || l.State == "unknown"
		return l.State == "posted"
	})
	if st := e.sap.Stats(); st.HTTP502 == 0 {
		t.Fatal("the proxy never gave up: the test did not lose an answer")
	}
	if !sawUnknown {
		t.Log("the unknown state passed between two looks")
	}
	docs := e.salesOrders(id)
	l := e.ledger(id)
	if len(docs) != 1 || e.documents() != 1 || l.DocEntry == nil || int(*l.DocEntry) != docs[0].DocEntry || l.Attempts != 1 {
		t.Fatalf("%d Sales Orders (%d in all), ledger %+v: want exactly one, POSTed once, recorded", len(docs), e.documents(), l)
	}
	if !strings.Contains(l.Reason, "found by U_TikTokOrderId") {
		t.Fatalf("reason %q does not say it was found after the answer was lost", l.Reason)
	}
}

// With SAP down the posting jobs back off and snooze, nothing is lost, and
// once SAP is back the backlog drains: every order posted once.
func TestSAPDownThenBackDrainsTheBacklog(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sap.SetFaults(sapb1sim.Faults{Outage: true})
	var ids []string
	for _, sku := range []string{"TEE-BLK-M", "SOCK-3PK", "CANDLE-VAN", "BOTTLE-750", "MUG-WHT-350"} {
		ids = append(ids, e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: sku, Quantity: 1}}}))
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		e.validate()
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM integration.order_posting WHERE state IN ('ready', 'posting')`); n != len(ids) {
		t.Fatalf("%d orders queued while SAP is down, want %d\n%s", n, len(ids), e.ledgerDump())
	}
	if n := e.count(`SELECT count(*) FROM river.river_job WHERE kind = 'post_order' AND state IN ('discarded', 'cancelled')`); n != 0 {
		t.Fatalf("%d posting jobs given up while SAP was down", n)
	}
	e.sap.SetFaults(sapb1sim.Faults{})
	e.waitFor("the backlog to drain", 30*time.Second, func() bool {
		return e.count(`SELECT count(*) FROM integration.order_posting WHERE state = 'posted'`) == len(ids) && e.settled()
	})
	for _, id := range ids {
		if n := len(e.salesOrders(id)); n != 1 {
			t.Fatalf("order %s has %d Sales Orders", id, n)
		}
	}
	if e.documents() != len(ids) {
		t.Fatalf("%d Sales Orders, want %d", e.documents(), len(ids))
	}
}

// A cancellation that lands while the order's POST is in flight (SAP holds
// its answer) ends with the Sales Order cancelled in SAP.
func TestCancellationDuringThePostCancelsTheSalesOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sap.SetFaults(sapb1sim.Faults{CommitDelay: 2 * time.Second})
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "CANDLE-VAN", Quantity: 2}}})
	e.waitFor("SAP to commit the Sales Order and hold its answer", 20*time.Second, func() bool {
		return e.ledger(id).State == "posting" && e.sap.Stats().Documents == 1
	})
	e.sap.SetFaults(sapb1sim.Faults{})
	if _, err := e.tt.CancelOrder(id, tiktoksim.CancelRequest{}); err != nil {
		t.Fatal(err)
	}
	e.land(id)
	e.validate()
	if l := e.ledger(id); l.State != "posting" {
		t.Fatalf("the cancellation moved an order in flight to %s", l.State)
	}
	e.waitFor("the Sales Order to be cancelled", 20*time.Second, func() bool { return e.ledger(id).State == "cancelled" })
	docs := e.salesOrders(id)
	if len(docs) != 1 || docs[0].Cancelled != "tYES" || e.documents() != 1 {
		t.Fatalf("Sales Orders %+v: want the one, cancelled", docs)
	}
	candle, err := e.seed.GetItem(e.ctx, "CANDLE-VAN")
	if err != nil {
		t.Fatal(err)
	}
	if c := candle.Warehouses[0].Committed; c == nil || !c.IsZero() {
		t.Fatalf("CANDLE-VAN still committed %v after the cancellation", c)
	}
}

// Cancelled before posting: never posted. Cancelled after SAP delivered it:
// cancelled_after_dispatch for CX. Delivered in part: the Sales Order is
// closed, and CX told. Cancelled when posted and not delivered: the Sales
// Order is cancelled.
func TestCancellations(t *testing.T) {
	e := newEnv(t, envOptions{})
	unpaid := e.place(tiktoksim.NewOrder{Status: "UNPAID", Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	delivered := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "BOTTLE-750", Quantity: 1}, {SellerSKU: "SOCK-3PK", Quantity: 2}}})
	open := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG-WHT-350", Quantity: 1}}})
	partly := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "CANDLE-VAN", Quantity: 1}, {SellerSKU: "TEE-BLK-L", Quantity: 1}}})
	e.waitFor("three orders to post", 20*time.Second, func() bool {
		return e.ledger(delivered).State == "posted" && e.ledger(open).State == "posted" && e.ledger(partly).State == "posted" &&
			e.ledger(unpaid).State == "waiting"
	})

	// SAP delivers one order in full, and the first line of another.
	deliver := func(id string, all bool) {
		d := e.salesOrders(id)[0]
		var lines []string
		for _, l := range d.Lines {
			lines = append(lines, fmt.Sprintf(`{"BaseType":17,"BaseEntry":%d,"BaseLine":%d}`, d.DocEntry, *l.LineNum))
			if !all {
				break
			}
		}
		if status, body := e.sap.Call(e.ctx, "POST", "DeliveryNotes", []byte(`{"CardCode":"C-TIKTOK","DocumentLines":[`+strings.Join(lines, ",")+`]}`)); status != 201 {
			t.Fatalf("delivering: %d %s", status, body)
		}
	}
	deliver(delivered, true)
	deliver(partly, false)
	d := e.salesOrders(delivered)[0]

	for _, id := range []string{unpaid, delivered, open, partly} {
		if _, err := e.tt.CancelOrder(id, tiktoksim.CancelRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	e.land(unpaid, delivered, open, partly)
	e.waitFor("the cancellations to settle", 20*time.Second, func() bool {
		return e.ledger(unpaid).State == "cancelled_before_post" && e.ledger(open).State == "cancelled" &&
			e.ledger(partly).State == "closed" && e.ledger(delivered).CancelResult != nil && e.settled()
	})
	if p := e.salesOrders(partly); len(p) != 1 || p[0].DocumentStatus != "bost_Close" || p[0].Cancelled == "tYES" {
		t.Fatalf("the partly delivered order's Sales Order %+v: want closed, not cancelled", p)
	}
	if ex := e.exceptions(partly); ex["cancelled_after_dispatch"] != "cx" {
		t.Fatalf("partly delivered: exceptions %v", ex)
	}
	if n := len(e.salesOrders(unpaid)); n != 0 {
		t.Fatalf("the order cancelled before posting has %d Sales Orders", n)
	}
	if d := e.salesOrders(open); len(d) != 1 || d[0].Cancelled != "tYES" {
		t.Fatalf("the open order's Sales Order %+v is not cancelled", d)
	}
	l := e.ledger(delivered)
	if l.State != "posted" || *l.CancelResult != "after_dispatch" {
		t.Fatalf("delivered order's ledger %+v", l)
	}
	var owner, severity, msg string
	if err := e.pool.QueryRow(e.ctx, `SELECT owner_team, severity, message FROM ops.exception
		WHERE kind = 'cancelled_after_dispatch' AND order_id = $1 AND status = 'open'`, delivered).Scan(&owner, &severity, &msg); err != nil {
		t.Fatalf("no cancelled_after_dispatch exception: %v", err)
	}
	if owner != "cx" || severity != "error" || !strings.Contains(msg, fmt.Sprint(d.DocNum)) {
		t.Fatalf("exception %s/%s %q", owner, severity, msg)
	}
	if d := e.salesOrders(delivered); d[0].Cancelled == "tYES" {
		t.Fatal("a delivered Sales Order was cancelled")
	}
}

// Orders created before the shop's cut-over are never posted; while the
// shop's orders are paused nothing posts, and resuming lets them go.
func TestCutOverAndPauseSwitch(t *testing.T) {
	cutover := time.Now().Add(-24 * time.Hour)
	e := newEnv(t, envOptions{shop: shopRow{cutover: cutover, ordersPaused: true}})
	before := e.place(tiktoksim.NewOrder{CreateTime: time.Now().Add(-48 * time.Hour).Unix(), Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	after := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	e.validate()
	if l := e.ledger(before); l.State != "skipped" || l.ReasonKind != "before_cutover" {
		t.Fatalf("order before the cut-over: %+v", l)
	}
	if l := e.ledger(after); l.State != "waiting" || l.ReasonKind != "orders_paused" {
		t.Fatalf("order while paused: %+v", l)
	}
	time.Sleep(300 * time.Millisecond)
	e.validate()
	if e.documents() != 0 {
		t.Fatal("something was posted while the shop is paused")
	}
	e.importShop(shopRow{cutover: cutover})
	e.waitFor("the order to post once resumed", 20*time.Second, func() bool { return e.ledger(after).State == "posted" && e.settled() })
	if l := e.ledger(before); l.State != "skipped" || len(e.salesOrders(before)) != 0 || e.documents() != 1 {
		t.Fatalf("order before the cut-over: %+v, %d Sales Orders in all", l, e.documents())
	}
}

// Absurd quantities and prices TikTok might send become exceptions; nothing
// is posted and nothing landed is lost.
func TestAbsurdOrdersAreExceptionsNotSalesOrders(t *testing.T) {
	e := newEnv(t, envOptions{})
	many := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "SOCK-3PK", Quantity: 750}, {SellerSKU: "SOCK-3PK", Quantity: 750}}})
	dear := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "LAMP-DESK", Quantity: 1, UnitPrice: "5000000000"}}})
	e.validate()
	time.Sleep(300 * time.Millisecond)
	e.validate()
	if l := e.ledger(many); l.State != "blocked" || l.ReasonKind != "absurd_quantity" || !strings.Contains(l.Reason, "1500 units") {
		t.Fatalf("1500 units: %+v", l)
	}
	if l := e.ledger(dear); l.State != "blocked" || l.ReasonKind != "absurd_amount" {
		t.Fatalf("a unit at 5,000,000,000: %+v", l)
	}
	if e.documents() != 0 {
		t.Fatal("an absurd order was posted")
	}
	if n := e.count(`SELECT count(*) FROM tiktok.order_line WHERE order_id = $1`, many); n != 1500 {
		t.Fatalf("%d of 1500 units landed", n)
	}
	if n := e.count(`SELECT count(*) FROM tiktok.order_payload WHERE order_id IN ($1, $2)`, many, dear); n != 2 {
		t.Fatalf("%d payloads kept, want 2", n)
	}
}

// SAP refusing a Sales Order (an unknown customer) blocks the order with
// SAP's message for IT, without a retry loop; once the cause is fixed and
// the exception resolved, it posts.
func TestSAPRefusalBlocksUntilAPersonRetries(t *testing.T) {
	e := newEnv(t, envOptions{})
	csv := "shop_id,card_code,currency,series,default_warehouse,shipping_mode,shipping_item_code,freight_expense_code,prices_include_tax,tiktok_remits_tax,exempt_tax_code,fbt_mode,fbt_warehouse,already_shipped,cutover_at,extra_hold,orders_paused,inventory_paused,cancellations_paused\n" +
		e.shopID + ",C-NEW,GBP,,01,none,,,false,false,,skip,,exception," + time.Now().AddDate(0, -1, 0).UTC().Format(time.RFC3339) + ",0s,false,false,false\n"
	e.importCSV("shops", csv)
	id := e.place(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "TEE-BLK-M", Quantity: 1}}})
	e.waitFor("SAP to refuse the order", 20*time.Second, func() bool { return e.ledger(id).State == "blocked" && e.settled() })
	var exID int64
	var owner, msg string
	if err := e.pool.QueryRow(e.ctx, `SELECT id, owner_team, message FROM ops.exception WHERE kind = 'sap_rejected' AND order_id = $1 AND status = 'open'`, id).Scan(&exID, &owner, &msg); err != nil {
		t.Fatalf("no sap_rejected exception: %v\n%s", err, e.ledgerDump())
	}
	if owner != "it" || !strings.Contains(msg, "C-NEW") {
		t.Fatalf("exception for %s: %q", owner, msg)
	}
	e.validate()
	e.validate()
	if l := e.ledger(id); l.State != "blocked" || l.Attempts != 1 {
		t.Fatalf("a refused order was retried by itself: %+v", l)
	}

	if status, body := e.sap.Call(e.ctx, "POST", "BusinessPartners", []byte(`{"CardCode":"C-NEW","CardName":"TikTok","CardType":"cCustomer"}`)); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	if _, err := db.New(e.pool).ResolveException(e.ctx, db.ResolveExceptionParams{ID: exID, ResolvedBy: "ops@example.com", Resolution: "customer created, retry"}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the retried order to post", 20*time.Second, func() bool { return e.ledger(id).State == "posted" })
	if l := e.ledger(id); l.Attempts != 2 || len(e.salesOrders(id)) != 1 {
		t.Fatalf("ledger %+v", l)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
