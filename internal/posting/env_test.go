package posting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/mapping"
	"github.com/tiktokb1/tiktokb1/internal/posting"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// demoSKUs are the TikTok simulator's demo listings; the SAP company has an
// item of the same code for each (identity mapping), and SHIPPING, the
// shops' shipping service item.
var demoSKUs = []string{"TEE-BLK-M", "TEE-BLK-L", "MUG-WHT-350", "SOCK-3PK", "CANDLE-VAN", "KEYRING-GIFT", "SERUM-30ML", "BOTTLE-750", "LAMP-DESK"}

// env is one end-to-end setup: a database, the TikTok simulator with one
// shop, the SAP simulator with the shop's company, the SAP client behind the
// governor, River working the orders flow's jobs, and a Poster to validate.
type env struct {
	t      *testing.T
	ctx    context.Context
	pool   *pgxpool.Pool
	tt     *tiktoksim.Server
	shopID string
	sap    *sapb1sim.Server
	seed   *sapb1.Client // straight to SAP, for the test's own reads and setup
	client *sapb1.Client // behind the governor, as the service builds it
	river  *river.Client[pgx.Tx]
	poster *posting.Poster
}

type envOptions struct {
	demo        bool          // seed the TikTok simulator's demo orders
	lookupAfter time.Duration // the Service Layer timeout; default 1s
	requestTO   time.Duration // the client's request timeout; default 10s
	shop        shopRow       // the shop's configuration; zero = the sandbox's
}

// shopRow is the shop's row of `tiktokb1 mapping import shops`.
type shopRow struct {
	cutover        time.Time
	ordersPaused   bool
	shippingMode   string // service_item (default), freight (expense code 1) or none
	alreadyShipped string
	grossPrices    bool              // prices_include_tax
	taxCodes       map[string]string // region → SAP tax code (integration.tax_code)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	if o.lookupAfter == 0 {
		o.lookupAfter = time.Second
	}
	if o.requestTO == 0 {
		o.requestTO = 10 * time.Second
	}
	url := testdb.NewURL(t)
	pool := openPool(t, url, 16)
	e := &env{t: t, ctx: ctx, pool: pool}

	e.tt = tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: 7, Demo: o.demo})
	t.Cleanup(func() { e.tt.Close() })
	e.shopID = e.tt.Shop().ID
	if !o.demo {
		var products []tiktoksim.NewProduct
		for _, sku := range demoSKUs {
			products = append(products, tiktoksim.NewProduct{SellerSKU: sku, Price: "10", Stock: 5000})
		}
		if _, err := e.tt.AddProducts(products); err != nil {
			t.Fatal(err)
		}
	}
	addShop(t, pool, e.shopID)

	sim, err := sapb1sim.New(ctx, sapb1sim.Options{Pool: openPool(t, url, 8), CompanyDB: "SANDBOX", User: "manager", Password: "manager",
		Currency: "GBP", DocsPerSecond: -1, ProxyTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	e.sap = sim
	cfg := sapb1.Config{BaseURL: srv.URL + "/b1s/v1", CompanyDB: "SANDBOX", User: "manager", Password: "manager"}
	if e.seed, err = sapb1.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.seed.Close(context.Background()) })
	e.seedSAP()

	gov, err := governor.New(ctx, pool, governor.Config{MaxConcurrent: 4, RequestsPerSecond: 500, RequestTimeout: o.requestTO,
		BreakerFailures: 3, BreakerCooldown: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Gate, cfg.RequestTimeout, cfg.ServiceLayerTimeout = gov, o.requestTO, o.lookupAfter
	if e.client, err = sapb1.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.client.Close(context.Background()) })
	e.snapshot()

	if o.shop.cutover.IsZero() {
		o.shop.cutover = time.Now().AddDate(0, -1, 0)
	}
	e.importShop(o.shop)

	deps := jobs.Deps{Pool: pool, SAP: e.client, SAPLookupAfter: o.lookupAfter}
	e.river, err = river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:            migrations.RiverSchema,
		Queues:            jobs.Queues(map[string]int{jobs.QueueSAPB1Write: 4, jobs.QueuePriority: 2}),
		Workers:           jobs.Workers(deps),
		FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown:     10 * time.Millisecond,
		RetryPolicy:       fastRetry{},
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.river.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.river.Stop(stop)
	})
	e.poster = posting.New(posting.Options{Pool: pool, SAP: e.client, Jobs: jobs.OrderJobs(e.river), LookupAfter: o.lookupAfter,
		StaleAfter: time.Hour})
	return e
}

// fastRetry retries a failed job after a quarter of a second, so a test of
// SAP being down does not wait out River's exponential back-off.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(250 * time.Millisecond)
}

func openPool(t *testing.T, url string, conns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// addShop stores an onboarded shop (the landed orders refer to it).
func addShop(t *testing.T, pool *pgxpool.Pool, id string) {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	if _, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
		OpenID: "open-" + id, GrantedScopes: []string{}, AccessTokenEnc: []byte{1}, RefreshTokenEnc: []byte{1},
		AccessExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.UpsertTikTokShops(ctx, db.UpsertTikTokShopsParams{
		Ids: []string{id}, OpenID: "open-" + id, Names: []string{"Sandbox shop"}, Regions: []string{"GB"},
		SellerTypes: []string{"LOCAL"}, Ciphers: []string{"cipher"}, Codes: []string{"GBLC1"},
	}); err != nil {
		t.Fatal(err)
	}
}

// seedSAP gives the company what the sandbox has: warehouse 01, the shop's
// customer, an item per demo SKU with stock, the shipping service item and
// the orders flow's UDFs.
func (e *env) seedSAP() {
	t := e.t
	for _, call := range [][2]string{
		{"Warehouses", `{"WarehouseCode":"01","WarehouseName":"Main"}`},
		{"BusinessPartners", `{"CardCode":"C-TIKTOK","CardName":"TikTok Shop customer","CardType":"cCustomer"}`},
		{"Items", `{"ItemCode":"SHIPPING","ItemName":"Shipping","InventoryItem":"tNO","SalesItem":"tYES"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokOrderId","Type":"db_Alpha","Size":30,"Description":"TikTok order id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokShopId","Type":"db_Alpha","Size":30,"Description":"TikTok shop id"}`},
		{"UserFieldsMD", `{"TableName":"RDR1","Name":"TikTokPackageId","Type":"db_Alpha","Size":30,"Description":"TikTok package id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokRelease","Type":"db_Alpha","Size":1,"Description":"Released to the warehouse (Y/N)"}`},
	} {
		if status, body := e.sap.Call(e.ctx, "POST", call[0], []byte(call[1])); status != 201 {
			t.Fatalf("seeding %s: %d %s", call[0], status, body)
		}
	}
	for _, sku := range demoSKUs {
		e.addItem(sku)
	}
}

// addItem creates a stocked inventory item in SAP (not yet in the snapshot).
func (e *env) addItem(code string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"ItemCode":%q,"ItemName":%q,"InventoryItem":"tYES","SalesItem":"tYES"}`, code, "Item "+code)
	if status, out := e.sap.Call(e.ctx, "POST", "Items", []byte(body)); status != 201 {
		e.t.Fatalf("creating item %s: %d %s", code, status, out)
	}
	if _, err := e.sap.ReceiveStock(e.ctx, code, "01", decimal.NewFromInt(10000)); err != nil {
		e.t.Fatal(err)
	}
}

// snapshot lands SAP's items and warehouses in the sapb1 schema, as the SQL
// reader's change detector does.
func (e *env) snapshot() {
	t := e.t
	var p db.UpsertChangedItemsParams
	codes := append([]string{"SHIPPING"}, demoSKUs...)
	var extra []string
	if err := e.sap.Pool().QueryRow(e.ctx, fmt.Sprintf(`SELECT coalesce(array_agg("ItemCode"::text), '{}') FROM %q."OITM"`, e.sap.Schema())).Scan(&extra); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range append(codes, extra...) {
		if seen[c] {
			continue
		}
		seen[c] = true
		it, err := e.seed.GetItem(e.ctx, c)
		if err != nil {
			t.Fatalf("reading item %s: %v", c, err)
		}
		p.ItemCodes = append(p.ItemCodes, it.ItemCode)
		p.ItemNames = append(p.ItemNames, it.ItemName)
		p.InventoryItems = append(p.InventoryItems, it.InventoryItem == "tYES")
		p.SalesItems = append(p.SalesItems, it.SalesItem == "tYES")
		p.Valids = append(p.Valids, it.Valid != "tNO")
		p.Frozens = append(p.Frozens, it.Frozen == "tYES")
		tree := "N"
		if it.TreeType == "iSalesTree" {
			tree = "S"
		}
		p.TreeTypes = append(p.TreeTypes, tree)
		p.UpdateDates = append(p.UpdateDates, time.Now())
		p.UpdateTss = append(p.UpdateTss, 0)
	}
	if _, err := db.New(e.pool).UpsertChangedItems(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(e.ctx, `INSERT INTO sapb1.warehouse (whs_code, whs_name) VALUES ('01', 'Main') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
}

// importShop configures the shop as an operator does: a CSV file through
// `tiktokb1 mapping import shops`.
func (e *env) importShop(s shopRow) {
	e.t.Helper()
	mode := s.shippingMode
	if mode == "" {
		mode = "service_item"
	}
	item, freight := "", ""
	switch mode {
	case "service_item":
		item = "SHIPPING"
	case "freight":
		freight = "1" // SAP's seeded "Freight"
	}
	shipped := s.alreadyShipped
	if shipped == "" {
		shipped = "exception"
	}
	csv := "shop_id,card_code,currency,series,default_warehouse,shipping_mode,shipping_item_code,freight_expense_code,prices_include_tax,tiktok_remits_tax,exempt_tax_code,fbt_mode,fbt_warehouse,already_shipped,cutover_at,extra_hold,orders_paused,inventory_paused,cancellations_paused\n" +
		fmt.Sprintf("%s,C-TIKTOK,GBP,,01,%s,%s,%s,%t,false,,skip,,%s,%s,0s,%t,false,false\n",
			e.shopID, mode, item, freight, s.grossPrices, shipped, s.cutover.UTC().Format(time.RFC3339), s.ordersPaused)
	e.importCSV("shops", csv)
	if len(s.taxCodes) > 0 {
		tc := "shop_id,region,tax_code\n"
		for region, code := range s.taxCodes {
			tc += fmt.Sprintf("%s,%s,%s\n", e.shopID, region, code)
		}
		e.importCSV("tax-codes", tc)
	}
}

func (e *env) importCSV(kind, csv string) {
	e.t.Helper()
	k, err := mapping.KindNamed(kind)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := mapping.Import(e.ctx, e.pool, k, strings.NewReader(csv), mapping.Options{By: "test"}); err != nil {
		e.t.Fatalf("importing %s: %v", kind, err)
	}
}

// land lands the orders' current state from the TikTok simulator, as a poll
// or a webhook does (all of them when none are named).
func (e *env) land(ids ...string) {
	e.t.Helper()
	if len(ids) == 0 {
		ids = e.tt.OrderIDs()
	}
	var page []tiktok.Order
	for _, id := range ids {
		raw, err := e.tt.Order(id)
		if err != nil {
			e.t.Fatal(err)
		}
		var o tiktok.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			e.t.Fatal(err)
		}
		page = append(page, o)
	}
	res, err := landing.Land(e.ctx, e.pool, e.shopID, landing.SourcePoll, page)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.DeriveError != "" || res.Rejected > 0 {
		e.t.Fatalf("landing: %+v", res)
	}
}

// place places an order on TikTok and lands it.
func (e *env) place(no tiktoksim.NewOrder) string {
	e.t.Helper()
	id, err := e.tt.PlaceOrder(no)
	if err != nil {
		e.t.Fatalf("placing an order: %v", err)
	}
	e.land(id)
	return id
}

func (e *env) validate() posting.ValidateResult {
	e.t.Helper()
	res, err := e.poster.Validate(e.ctx)
	if err != nil {
		e.t.Fatalf("validating: %v", err)
	}
	return res
}

// waitFor validates every 100 ms (as the periodic job does) until cond
// holds, failing after timeout.
func (e *env) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e.validate()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, e.ledgerDump())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settled reports whether no order is ready, posting or unknown and no job
// of the orders flow is queued.
func (e *env) settled() bool {
	return e.count(`SELECT count(*) FROM integration.order_posting WHERE state IN ('ready', 'posting', 'unknown')`) == 0 &&
		e.count(`SELECT count(*) FROM river.river_job WHERE kind IN ('post_order', 'cancel_order') AND state NOT IN ('completed', 'cancelled', 'discarded')`) == 0
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *env) ledgerDump() string {
	rows, err := e.pool.Query(e.ctx, `SELECT order_id, state, reason_kind, left(reason, 160), coalesce(last_error, '') FROM integration.order_posting ORDER BY order_id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, state, kind, reason, last string
		_ = rows.Scan(&id, &state, &kind, &reason, &last)
		fmt.Fprintf(&b, "  %s %s %s: %s %s\n", id, state, kind, reason, last)
	}
	jobsRows, err := e.pool.Query(e.ctx, `SELECT kind, state, attempt, coalesce(errors::text, '') FROM river.river_job WHERE kind IN ('post_order', 'cancel_order') ORDER BY id`)
	if err == nil {
		defer jobsRows.Close()
		for jobsRows.Next() {
			var kind, state, errs string
			var attempt int
			_ = jobsRows.Scan(&kind, &state, &attempt, &errs)
			if len(errs) > 300 {
				errs = errs[len(errs)-300:]
			}
			fmt.Fprintf(&b, "  job %s %s attempt %d %s\n", kind, state, attempt, errs)
		}
	}
	return b.String()
}

// ledger is one order's ledger row as a test checks it.
type ledger struct {
	State, ReasonKind, Reason string
	DocEntry, DocNum          *int32
	TotalCheck                *string
	Lines                     []posting.LedgerLine
	Attempts                  int32
	CancelResult              *string
}

func (e *env) ledger(orderID string) ledger {
	e.t.Helper()
	l, err := db.New(e.pool).GetOrderPosting(e.ctx, db.GetOrderPostingParams{ShopID: e.shopID, OrderID: orderID})
	if err != nil {
		e.t.Fatalf("ledger of %s: %v", orderID, err)
	}
	out := ledger{State: l.State, ReasonKind: l.ReasonKind, Reason: l.Reason, DocEntry: l.DocEntry, DocNum: l.DocNum,
		TotalCheck: l.TotalCheck, Attempts: l.Attempts, CancelResult: l.CancelResult}
	if len(l.Lines) > 0 {
		if err := json.Unmarshal(l.Lines, &out.Lines); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// salesOrders are SAP's Sales Orders carrying a TikTok order id.
func (e *env) salesOrders(orderID string) []sapb1.Document {
	e.t.Helper()
	docs, err := e.seed.FindByUDF(e.ctx, sapb1.Orders, sapb1.DocumentKey{UDF: "U_TikTokOrderId", Value: orderID})
	if err != nil {
		e.t.Fatal(err)
	}
	return docs
}

// documents is the number of Sales Orders in SAP.
func (e *env) documents() int {
	return e.count(fmt.Sprintf(`SELECT count(*) FROM %q."ORDR"`, e.sap.Schema()))
}

// exceptions are the live exceptions of an order (kind → owner).
func (e *env) exceptions(orderID string) map[string]string {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT kind, owner_team FROM ops.exception WHERE order_id = $1 AND status <> 'resolved'`, orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, o string
		if err := rows.Scan(&k, &o); err != nil {
			e.t.Fatal(err)
		}
		out[k] = o
	}
	return out
}
