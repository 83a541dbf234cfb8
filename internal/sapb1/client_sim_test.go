package sapb1_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

type sandbox struct {
	sim    *sapb1sim.Server
	url    string
	client *sapb1.Client
}

// newSandbox starts a simulated company with one warehouse, a customer, the
// order UDF and items A1 (100 in stock) and B2 (5 in stock).
func newSandbox(t testing.TB, opts sapb1sim.Options, cfg sapb1.Config) *sandbox {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	opts.DatabaseURL = testdb.NewURL(t)
	opts.CompanyDB, opts.User, opts.Password = "SBO_"+hex.EncodeToString(b), "manager", "s3cret"
	sim, err := sapb1sim.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	cfg.BaseURL = srv.URL + "/b1s/v1"
	cfg.CompanyDB, cfg.User, cfg.Password = opts.CompanyDB, opts.User, opts.Password
	client, err := sapb1.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	s := &sandbox{sim: sim, url: srv.URL, client: client}

	must(t, client.CreateWarehouse(ctx, sapb1.Warehouse{WarehouseCode: "01", WarehouseName: "Main"}))
	must(t, client.CreateBusinessPartner(ctx, sapb1.BusinessPartner{CardCode: "C-TIKTOK", CardName: "TikTok shop customer", CardType: "cCustomer"}))
	for _, it := range []string{"A1", "B2"} {
		must(t, client.CreateItem(ctx, sapb1.Item{ItemCode: it, ItemName: "Item " + it, InventoryItem: "tYES", SalesItem: "tYES"}))
	}
	must(t, client.CreateUserField(ctx, sapb1.UserField{TableName: "ORDR", Name: "TikTokOrderId", Type: "db_Alpha", Size: 30, Description: "TikTok order id"}))
	must(t, client.CreateUserField(ctx, sapb1.UserField{TableName: "ORDR", Name: "Release", Type: "db_Alpha", Size: 1, Description: "Released to the warehouse"}))
	if _, err := sim.ReceiveStock(ctx, "A1", "01", decimalOf("100")); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.ReceiveStock(ctx, "B2", "01", decimalOf("5")); err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func order(tiktokID string, lines ...sapb1.DocumentLine) sapb1.Document {
	return sapb1.Document{
		CardCode: "C-TIKTOK", DocDate: time.Now().Format("2006-01-02"), DocDueDate: time.Now().Format("2006-01-02"),
		NumAtCard: tiktokID, UDF: sapb1.UDFs{"U_TikTokOrderId": tiktokID, "U_Release": "N"}, Lines: lines,
	}
}

func line(item, qty, price string) sapb1.DocumentLine {
	return sapb1.DocumentLine{ItemCode: item, Quantity: ptr(sapb1.N(qty)), UnitPrice: ptr(sapb1.N(price)), WarehouseCode: "01"}
}

func key(tiktokID string) sapb1.DocumentKey {
	return sapb1.DocumentKey{UDF: "U_TikTokOrderId", Value: tiktokID, Since: time.Now().AddDate(0, 0, -1)}
}

func TestOrderLifecycleAgainstTheSimulator(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{})

	created, err := s.client.Create(ctx, sapb1.Orders, order("576461413038785752", line("A1", "3", "3.33"), line("B2", "1", "10.00")))
	if err != nil {
		t.Fatal(err)
	}
	if created.DocEntry == 0 || created.DocNum == 0 || len(created.Lines) != 2 || created.UDF.String("U_TikTokOrderId") != "576461413038785752" {
		t.Fatalf("created = %+v", created)
	}
	if created.DocTotal == nil || !created.DocTotal.Equal(sapb1.N("19.99").Decimal) {
		t.Fatalf("DocTotal = %v, want 3 × 3.33 + 10.00 = 19.99 exactly", created.DocTotal)
	}
	item, err := s.client.GetItem(ctx, "A1")
	must(t, err)
	if committed := item.Warehouses[0].Committed; committed == nil || !committed.Equal(sapb1.N("3").Decimal) {
		t.Fatalf("A1 committed after the order = %v, want 3", committed)
	}

	found, err := s.client.FindByUDF(ctx, sapb1.Orders, key("576461413038785752"))
	if err != nil || len(found) != 1 || found[0].DocEntry != created.DocEntry {
		t.Fatalf("find by UDF = %+v, %v", found, err)
	}
	last, err := s.client.LastDocEntry(ctx, sapb1.Orders)
	if err != nil || last != created.DocEntry {
		t.Fatalf("last DocEntry = %d, %v", last, err)
	}
	bounded := key("576461413038785752")
	bounded.AfterDocEntry = last
	if none, err := s.client.FindByUDF(ctx, sapb1.Orders, bounded); err != nil || len(none) != 0 {
		t.Fatalf("a lookup bounded after the document found %d (%v)", len(none), err)
	}

	// Release flag and a changed line quantity.
	got, err := s.client.Get(ctx, sapb1.Orders, created.DocEntry)
	must(t, err)
	patch := sapb1.Document{UDF: sapb1.UDFs{"U_Release": "Y"}, Lines: []sapb1.DocumentLine{{LineNum: ptr(0), Quantity: ptr(sapb1.N("2"))}}, ETag: got.ETag}
	must(t, s.client.Patch(ctx, sapb1.Orders, created.DocEntry, patch, false))
	got, err = s.client.Get(ctx, sapb1.Orders, created.DocEntry)
	must(t, err)
	if got.UDF.String("U_Release") != "Y" || !got.Lines[0].Quantity.Equal(sapb1.N("2").Decimal) {
		t.Fatalf("after patch: release %q, line 0 quantity %v", got.UDF.String("U_Release"), got.Lines[0].Quantity)
	}
	// A PATCH carrying the version read before that change is refused.
	stale := sapb1.Document{Comments: "late edit", ETag: patch.ETag}
	if err := s.client.Patch(ctx, sapb1.Orders, created.DocEntry, stale, false); !errors.Is(err, sapb1.ErrChanged) {
		t.Fatalf("stale ETag: %v, want -2039", err)
	}

	must(t, s.client.CloseDocument(ctx, sapb1.Orders, created.DocEntry))
	must(t, s.client.Reopen(ctx, sapb1.Orders, created.DocEntry))
	must(t, s.client.Cancel(ctx, sapb1.Orders, created.DocEntry))
	got, err = s.client.Get(ctx, sapb1.Orders, created.DocEntry)
	must(t, err)
	if got.Cancelled != "tYES" {
		t.Fatalf("after Cancel: Cancelled = %q", got.Cancelled)
	}
	item, err = s.client.GetItem(ctx, "A1")
	must(t, err)
	if !item.Warehouses[0].Committed.Equal(sapb1.N("0").Decimal) {
		t.Fatalf("a cancelled order still commits %v of A1", item.Warehouses[0].Committed)
	}
	if err := s.client.Cancel(ctx, sapb1.Orders, created.DocEntry); err == nil {
		t.Fatal("cancelling twice succeeded")
	}
}

func TestSAPErrorsAreTypedAndPermanent(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{})
	var apiErr *sapb1.Error

	_, err := s.client.Get(ctx, sapb1.Orders, 999999)
	if !errors.Is(err, sapb1.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
	_, err = s.client.Create(ctx, sapb1.Orders, order("1", line("NO-SUCH-ITEM", "1", "1")))
	if !errors.As(err, &apiErr) || apiErr.Retryable() {
		t.Errorf("unknown item: %v, want a permanent SAP error", err)
	}
	err = s.client.CreateBusinessPartner(ctx, sapb1.BusinessPartner{CardCode: "C-TIKTOK", CardName: "again", CardType: "cCustomer"})
	if !errors.As(err, &apiErr) || apiErr.Retryable() {
		t.Errorf("duplicate customer: %v", err)
	}
	// B2 has 5 in stock: delivering 6 falls into negative inventory (-10).
	o, err := s.client.Create(ctx, sapb1.Orders, order("2", line("B2", "6", "1")))
	must(t, err)
	_, err = s.client.Create(ctx, sapb1.DeliveryNotes, sapb1.Document{CardCode: "C-TIKTOK", DocDate: o.DocDate, Lines: []sapb1.DocumentLine{{
		BaseType: ptr(17), BaseEntry: ptr(o.DocEntry), BaseLine: ptr(0), Quantity: ptr(sapb1.N("6")), WarehouseCode: "01",
	}}})
	if !errors.Is(err, sapb1.ErrBusinessRule) || !strings.Contains(err.Error(), "negative inventory") {
		t.Errorf("delivery beyond stock: %v, want -10 negative inventory", err)
	}
	if err := s.client.Patch(ctx, sapb1.Orders, o.DocEntry, sapb1.Document{UDF: sapb1.UDFs{"U_NoSuchField": "x"}}, false); err == nil {
		t.Error("a PATCH of an undefined UDF succeeded")
	}
	// Documents cannot be deleted (-5006): the client has no Delete, the
	// simulator refuses it; checked through the batch path.
	res, err := s.client.Batch(ctx, []sapb1.BatchPart{{Changeset: []sapb1.BatchRequest{{Method: http.MethodDelete, Path: fmt.Sprintf("Orders(%d)", o.DocEntry)}}}})
	must(t, err)
	if len(res) != 1 || res[0][0].Err == nil || !errors.Is(res[0][0].Err, sapb1.ErrNotSupported) {
		t.Errorf("DELETE of an order in a batch: %+v", res)
	}
}

func TestSessionExpiryLogsInAgainOnce(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{})
	before := s.sim.Stats().Logins
	s.sim.ExpireSessions()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.client.GetItem(ctx, "A1"); err != nil {
				t.Errorf("after the session expired: %v", err)
			}
		}()
	}
	wg.Wait()
	if after := s.sim.Stats().Logins; after-before < 1 || after-before > 2 {
		t.Fatalf("%d logins for 8 concurrent requests after expiry, want 1 (2 at most if two saw the expiry before the first re-login)", after-before)
	}
	// Wrong credentials are a clear, permanent error.
	bad, _ := sapb1.New(sapb1.Config{BaseURL: s.url + "/b1s/v1", CompanyDB: "NOPE", User: "manager", Password: "wrong"})
	if _, err := bad.GetItem(ctx, "A1"); !errors.Is(err, sapb1.ErrLoginFailed) {
		t.Fatalf("wrong password: %v", err)
	}
}

// A write whose answer is lost (the proxy's 502 while SAP still commits) is
// looked up after the Service Layer's timeout, never posted twice.
func TestLostAnswerIsLookedUpNotRepeated(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{ServiceLayerTimeout: 1500 * time.Millisecond})
	s.sim.SetFaults(sapb1sim.Faults{ProxyTimeout: 200 * time.Millisecond, CommitDelay: 600 * time.Millisecond, DocsPerSecond: 0})

	_, err := s.client.Create(ctx, sapb1.Orders, order("LOST-1", line("A1", "1", "5")))
	if !errors.Is(err, sapb1.ErrUnknownOutcome) {
		t.Fatalf("create behind a 502: %v, want ErrUnknownOutcome", err)
	}
	doc, err := s.client.CreateOnce(ctx, sapb1.Orders, order("LOST-2", line("A1", "1", "5")), key("LOST-2"))
	if err != nil {
		t.Fatalf("CreateOnce behind a 502: %v", err)
	}
	s.sim.SetFaults(sapb1sim.Faults{})
	for _, id := range []string{"LOST-1", "LOST-2"} {
		found, err := s.client.FindByUDF(ctx, sapb1.Orders, key(id))
		if err != nil || len(found) != 1 {
			t.Fatalf("%s: %d documents (%v), want exactly 1", id, len(found), err)
		}
		if id == "LOST-2" && found[0].DocEntry != doc.DocEntry {
			t.Fatalf("CreateOnce returned DocEntry %d, SAP has %d", doc.DocEntry, found[0].DocEntry)
		}
	}
	if st := s.sim.Stats(); st.HTTP502 < 2 {
		t.Fatalf("the simulator answered %d 502s; the test did not lose the answers", st.HTTP502)
	}
	// With the document there, CreateOnce returns it without posting.
	before := s.sim.Stats().Documents
	if again, err := s.client.CreateOnce(ctx, sapb1.Orders, order("LOST-2", line("A1", "1", "5")), key("LOST-2")); err != nil || again.DocEntry != doc.DocEntry {
		t.Fatalf("CreateOnce again = %d, %v", again.DocEntry, err)
	}
	if s.sim.Stats().Documents != before {
		t.Fatal("CreateOnce posted a document that already existed")
	}
}

func TestBatchChangesetIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{})
	res, err := s.client.Batch(ctx, []sapb1.BatchPart{
		{Changeset: []sapb1.BatchRequest{
			{Method: http.MethodPost, Path: "Orders", Body: order("BATCH-1", line("A1", "1", "1")), ContentID: 1},
			{Method: http.MethodPost, Path: "Orders", Body: order("BATCH-2", line("NO-SUCH-ITEM", "1", "1")), ContentID: 2},
		}},
		{Get: &sapb1.BatchRequest{Method: http.MethodGet, Path: "Items('A1')"}},
	})
	must(t, err)
	if len(res) == 0 || len(res[0]) != 1 || res[0][0].Err == nil {
		t.Fatalf("failed changeset answered %+v, want one error", res)
	}
	if len(res) > 1 {
		t.Fatalf("SAP stops at the first failure; got answers for %d parts", len(res))
	}
	for _, id := range []string{"BATCH-1", "BATCH-2"} {
		if found, err := s.client.FindByUDF(ctx, sapb1.Orders, key(id)); err != nil || len(found) != 0 {
			t.Fatalf("%s exists after its changeset failed (%v)", id, err)
		}
	}
	// A good changeset commits both, the second referring to the first.
	res, err = s.client.Batch(ctx, []sapb1.BatchPart{{Changeset: []sapb1.BatchRequest{
		{Method: http.MethodPost, Path: "Orders", Body: order("BATCH-3", line("A1", "1", "1")), ContentID: 1},
		{Method: http.MethodPatch, Path: "$1", Body: sapb1.Document{Comments: "patched in the same changeset"}, ContentID: 2},
	}}})
	must(t, err)
	if len(res) != 1 || len(res[0]) != 2 || res[0][0].Err != nil || res[0][1].Err != nil {
		t.Fatalf("good changeset answered %+v", res)
	}
	found, err := s.client.FindByUDF(ctx, sapb1.Orders, key("BATCH-3"))
	if err != nil || len(found) != 1 || found[0].Comments != "patched in the same changeset" {
		t.Fatalf("BATCH-3 = %+v, %v", found, err)
	}
}

// The lookup the orders flow relies on finds one order among a thousand,
// across pages of the collection.
func TestLookupByUDFAmongAThousandOrders(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, sapb1sim.Options{DocsPerSecond: -1}, sapb1.Config{PageSize: 50})
	if _, err := s.sim.ReceiveStock(ctx, "A1", "01", decimalOf("5000")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	entries := map[string]int{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("5764614130387%05d", i)
			d, err := s.client.Create(ctx, sapb1.Orders, order(id, line("A1", "1", "1")))
			if err != nil {
				t.Errorf("order %d: %v", i, err)
				return
			}
			mu.Lock()
			entries[id] = d.DocEntry
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range []string{"576461413038700000", "576461413038700500", "576461413038700999"} {
		found, err := s.client.FindByUDF(ctx, sapb1.Orders, key(id))
		if err != nil || len(found) != 1 || found[0].DocEntry != entries[id] {
			t.Fatalf("lookup of %s among 1000: %+v, %v", id, found, err)
		}
	}
	// Listing all of them walks odata.nextLink pages of 50.
	n := 0
	err := s.client.List(ctx, sapb1.Orders, url.Values{"$select": {"DocEntry"}}, func(page json.RawMessage) error {
		var docs []struct{ DocEntry int }
		if err := json.Unmarshal(page, &docs); err != nil {
			return err
		}
		if len(docs) > 50 {
			return fmt.Errorf("page of %d, asked for 50", len(docs))
		}
		n += len(docs)
		return nil
	})
	if err != nil || n != 1000 {
		t.Fatalf("listed %d orders (%v), want 1000", n, err)
	}
}

func decimalOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }
