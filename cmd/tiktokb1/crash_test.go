package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/mapping"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// The service SIGKILLed between SAP's commit and the ledger update (DESIGN
// invariant 3, issue 6): `tiktokb1 serve` runs as a child process against
// the SAP simulator, which commits every Sales Order and then holds its
// answer; the test kills the process while the order's ledger row is still
// `posting` although SAP already has the document, restarts it, and does
// so at least 20 times. Once the service runs undisturbed, every order must
// be posted, with exactly one Sales Order each in SAP: the one the ledger
// records.
func TestSIGKILLBetweenSAPCommitAndLedgerLeavesOneSalesOrderPerOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: about a minute")
	}
	const (
		nOrders     = 25
		wantKills   = 20
		commitDelay = 1500 * time.Millisecond
	)
	ctx := context.Background()
	start := time.Now()
	url := testdb.NewURL(t)
	pool := crashPool(t, url, 4)

	// SAP: the company with warehouse 01, the shop's customer, the items
	// and the orders flow's UDFs.
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{Pool: crashPool(t, url, 8), CompanyDB: "SANDBOX", User: "manager", Password: "manager",
		Currency: "GBP", DocsPerSecond: -1, ProxyTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	skus := []string{"TEE-BLK-M", "MUG-WHT-350", "SOCK-3PK", "CANDLE-VAN", "LAMP-DESK"}
	for _, call := range [][2]string{
		{"Warehouses", `{"WarehouseCode":"01","WarehouseName":"Main"}`},
		{"BusinessPartners", `{"CardCode":"C-TIKTOK","CardName":"TikTok Shop customer","CardType":"cCustomer"}`},
		{"Items", `{"ItemCode":"SHIPPING","ItemName":"Shipping","InventoryItem":"tNO","SalesItem":"tYES"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokOrderId","Type":"db_Alpha","Size":30,"Description":"TikTok order id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokShopId","Type":"db_Alpha","Size":30,"Description":"TikTok shop id"}`},
		{"UserFieldsMD", `{"TableName":"RDR1","Name":"TikTokPackageId","Type":"db_Alpha","Size":30,"Description":"TikTok package id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokRelease","Type":"db_Alpha","Size":1,"Description":"Released to the warehouse (Y/N)"}`},
	} {
		if status, body := sim.Call(ctx, "POST", call[0], []byte(call[1])); status != 201 {
			t.Fatalf("seeding %s: %d %s", call[0], status, body)
		}
	}
	for _, sku := range skus {
		body := fmt.Sprintf(`{"ItemCode":%q,"ItemName":%q,"InventoryItem":"tYES","SalesItem":"tYES"}`, sku, "Item "+sku)
		if status, out := sim.Call(ctx, "POST", "Items", []byte(body)); status != 201 {
			t.Fatalf("creating item %s: %d %s", sku, status, out)
		}
		if _, err := sim.ReceiveStock(ctx, sku, "01", decimal.NewFromInt(10000)); err != nil {
			t.Fatal(err)
		}
	}

	// Staging: the shop onboarded and configured, SAP's items and warehouse
	// snapshotted (identity SKU mapping: an item of the SKU's code), and the
	// TikTok orders landed.
	tt := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: 11})
	t.Cleanup(func() { _ = tt.Close() })
	shopID := tt.Shop().ID
	var products []tiktoksim.NewProduct
	for _, sku := range skus {
		products = append(products, tiktoksim.NewProduct{SellerSKU: sku, Price: "12.50", Stock: 5000})
	}
	if _, err := tt.AddProducts(products); err != nil {
		t.Fatal(err)
	}
	crashStageShop(t, pool, shopID, skus)
	var page []tiktok.Order
	for i := range nOrders {
		id, err := tt.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{
			{SellerSKU: skus[i%len(skus)], Quantity: 1 + i%3},
			{SellerSKU: skus[(i+2)%len(skus)], Quantity: 1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := tt.Order(id)
		if err != nil {
			t.Fatal(err)
		}
		var o tiktok.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		page = append(page, o)
	}
	if res, err := landing.Land(ctx, pool, shopID, landing.SourcePoll, page); err != nil || res.DeriveError != "" || res.Rejected > 0 {
		t.Fatalf("landing: %+v, %v", res, err)
	}

	// Every document write commits, then SAP holds its answer.
	sim.SetFaults(sapb1sim.Faults{CommitDelay: commitDelay})
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + url, "TIKTOKB1_DB_MAX_CONNS=6",
		"TIKTOKB1_LOG_FORMAT=json", "TIKTOKB1_LOG_LEVEL=warn",
		"SAPB1_SERVICE_LAYER_URL=" + srv.URL + "/b1s/v1", "SAPB1_COMPANY_DB=SANDBOX", "SAPB1_USER=manager", "SAPB1_PASSWORD=manager",
		// A lost answer is looked up 2×5 s after the POST.
		"SAPB1_REQUEST_TIMEOUT=5s", "SAPB1_SLOW_REQUEST=3s", "SAPB1_REQUESTS_PER_SECOND=100",
		// A killed process's governor slot frees itself only when its lease
		// (request timeout + 30 s) runs out; the cap leaves room for the
		// slots of the kills of the last 35 s.
		"SAPB1_MAX_CONCURRENT=40", "SAPB1_PRIORITY_RESERVED=1",
		// One POST in flight at a time: each kill strands one order.
		"TIKTOKB1_WORKERS_SAPB1_WRITE=1",
		// A killed process's jobs are rescued within seconds, not an hour.
		"TIKTOKB1_JOB_TIMEOUT=5s", "TIKTOKB1_RESCUE_STUCK_JOBS_AFTER=6s",
	}

	inWindow := func(orderID string) bool {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM integration.order_posting op JOIN %s o ON o."U_TikTokOrderId" = op.order_id
			WHERE op.state = 'posting' AND op.doc_entry IS NULL AND op.order_id = $1`, pgx.Identifier{sim.Schema(), "ORDR"}.Sanitize())
		if err := pool.QueryRow(ctx, q, orderID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	// stranded are the orders left posting with their Sales Order in SAP by
	// earlier kills: a new one in that state is this process's.
	stranded := map[string]bool{}
	newlyCaught := func() string {
		q := fmt.Sprintf(`SELECT op.order_id FROM integration.order_posting op JOIN %s o ON o."U_TikTokOrderId" = op.order_id
			WHERE op.state = 'posting' AND op.doc_entry IS NULL`, pgx.Identifier{sim.Schema(), "ORDR"}.Sanitize())
		rows, err := pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !stranded[id] {
				return id
			}
		}
		return ""
	}

	kills, inside := 0, 0
	killStart := time.Now()
	var lastLogs *bytes.Buffer
	killDeadline := time.Now().Add(100 * time.Second)
	for inside < wantKills {
		if time.Now().After(killDeadline) {
			t.Fatalf("after %s only %d of %d kills landed between SAP's commit and the ledger update (%d kills)\n%s\nlast logs:\n%s",
				time.Since(start).Round(time.Second), inside, wantKills, kills, crashLedger(t, pool), lastLogs)
		}
		p := startServe(t, env)
		lastLogs = p.logs
		var id string
		waitUntil := time.Now().Add(25 * time.Second)
		for id == "" && time.Now().Before(waitUntil) && !p.exited() {
			if strings.Contains(crashStates(t, pool), "blocked") {
				p.kill(t)
				t.Fatalf("an order is blocked:\n%s", crashLedger(t, pool))
			}
			id = newlyCaught()
			if id == "" {
				time.Sleep(10 * time.Millisecond)
			}
		}
		p.kill(t)
		kills++
		if id == "" {
			t.Logf("kill %d: no Sales Order committed and unrecorded within the wait (%s)", kills, crashStates(t, pool))
			continue
		}
		// The process is dead: if the row is still posting with the
		// document in SAP, the kill landed inside the window.
		if inWindow(id) {
			inside++
			stranded[id] = true
		}
	}
	killPhase := time.Since(killStart)

	// No more faults: the service must settle every order by itself.
	sim.SetFaults(sapb1sim.Faults{})
	p := startServe(t, env)
	defer p.kill(t)
	deadline := time.Now().Add(90 * time.Second)
	for {
		var open int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM integration.order_posting WHERE state <> 'posted'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		var total int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM integration.order_posting`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if open == 0 && total == nOrders {
			break
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("%d of %d orders not posted 90 s after the last restart\n%s\nlogs:\n%s", open, total, crashLedger(t, pool), p.logs)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Exactly one Sales Order per TikTok order, the one the ledger records.
	type doc struct {
		orderID  string
		n        int
		docEntry int
	}
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT o."U_TikTokOrderId", count(*), max(o."DocEntry") FROM %s o GROUP BY 1 ORDER BY 1`,
		pgx.Identifier{sim.Schema(), "ORDR"}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (doc, error) {
		var d doc
		var id *string
		err := r.Scan(&id, &d.n, &d.docEntry)
		if id != nil {
			d.orderID = *id
		}
		return d, err
	})
	if err != nil {
		t.Fatal(err)
	}
	documents := 0
	for _, d := range docs {
		documents += d.n
		if d.n != 1 {
			t.Errorf("TikTok order %q has %d Sales Orders in SAP, want 1", d.orderID, d.n)
			continue
		}
		var entry *int32
		var state string
		if err := pool.QueryRow(ctx, `SELECT state, doc_entry FROM integration.order_posting WHERE shop_id = $1 AND order_id = $2`,
			shopID, d.orderID).Scan(&state, &entry); err != nil {
			t.Errorf("Sales Order %d of TikTok order %q: no ledger row: %v", d.docEntry, d.orderID, err)
			continue
		}
		if state != "posted" || entry == nil || int(*entry) != d.docEntry {
			t.Errorf("TikTok order %s: ledger %s with DocEntry %v, SAP has DocEntry %d", d.orderID, state, deref(entry), d.docEntry)
		}
	}
	if len(docs) != nOrders || documents != nOrders {
		t.Errorf("SAP holds %d Sales Orders for %d TikTok orders, want %d for %d", documents, len(docs), nOrders, nOrders)
	}
	var dupes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ops.exception WHERE kind = 'duplicate_sales_order'`).Scan(&dupes); err != nil {
		t.Fatal(err)
	}
	if dupes != 0 {
		t.Errorf("%d duplicate_sales_order exceptions", dupes)
	}
	var foundByUDF int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM integration.order_posting WHERE reason LIKE '%found by U_TikTokOrderId%'`).Scan(&foundByUDF); err != nil {
		t.Fatal(err)
	}
	if foundByUDF < inside {
		t.Errorf("%d orders were recorded after a lookup by U_TikTokOrderId, want at least the %d stranded by kills", foundByUDF, inside)
	}
	t.Logf("%d SIGKILLs, %d between SAP's commit and the ledger update (in %s, after %s of setup); %d TikTok orders → %d Sales Orders in SAP, %d settled by a lookup by UDF; all posted after %s",
		kills, inside, killPhase.Round(100*time.Millisecond), killStart.Sub(start).Round(100*time.Millisecond), nOrders, documents, foundByUDF, time.Since(start).Round(time.Second))
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// serveProcess is one `tiktokb1 serve` child process.
type serveProcess struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

func startServe(t *testing.T, env []string) *serveProcess {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--http-addr", freeAddr(t))
	cmd.Env = env
	p := &serveProcess{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(t) })
	return p
}

func (p *serveProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the process (no shutdown of any kind) and waits for it.
func (p *serveProcess) kill(t *testing.T) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("tiktokb1 serve (pid %d) still running 10 s after SIGKILL", p.cmd.Process.Pid)
	}
}

func crashPool(t *testing.T, url string, conns int32) *pgxpool.Pool {
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

// crashStageShop onboards the shop, imports its configuration as an
// operator does (`tiktokb1 mapping import shops`), and lands SAP's items and
// warehouse as the SQL reader's snapshot does.
func crashStageShop(t *testing.T, pool *pgxpool.Pool, shopID string, skus []string) {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	if _, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
		OpenID: "open-" + shopID, GrantedScopes: []string{}, AccessTokenEnc: []byte{1}, RefreshTokenEnc: []byte{1},
		AccessExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.UpsertTikTokShops(ctx, db.UpsertTikTokShopsParams{
		Ids: []string{shopID}, OpenID: "open-" + shopID, Names: []string{"Crash shop"}, Regions: []string{"GB"},
		SellerTypes: []string{"LOCAL"}, Ciphers: []string{"cipher"}, Codes: []string{"GBLC1"},
	}); err != nil {
		t.Fatal(err)
	}
	csv := "shop_id,card_code,currency,series,default_warehouse,shipping_mode,shipping_item_code,freight_expense_code,prices_include_tax,tiktok_remits_tax,exempt_tax_code,fbt_mode,fbt_warehouse,already_shipped,cutover_at,extra_hold,orders_paused,inventory_paused,cancellations_paused\n" +
		fmt.Sprintf("%s,C-TIKTOK,GBP,,01,service_item,SHIPPING,,false,false,,skip,,exception,%s,0s,false,false,false\n",
			shopID, time.Now().AddDate(0, -1, 0).UTC().Format(time.RFC3339))
	k, err := mapping.KindNamed("shops")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mapping.Import(ctx, pool, k, strings.NewReader(csv), mapping.Options{By: "test"}); err != nil {
		t.Fatalf("importing the shop: %v", err)
	}
	var p db.UpsertChangedItemsParams
	for _, code := range append([]string{"SHIPPING"}, skus...) {
		p.ItemCodes = append(p.ItemCodes, code)
		p.ItemNames = append(p.ItemNames, "Item "+code)
		p.InventoryItems = append(p.InventoryItems, code != "SHIPPING")
		p.SalesItems = append(p.SalesItems, true)
		p.Valids = append(p.Valids, true)
		p.Frozens = append(p.Frozens, false)
		p.TreeTypes = append(p.TreeTypes, "N")
		p.UpdateDates = append(p.UpdateDates, time.Now())
		p.UpdateTss = append(p.UpdateTss, 0)
	}
	if _, err := q.UpsertChangedItems(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sapb1.warehouse (whs_code, whs_name) VALUES ('01', 'Main') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
}

func crashStates(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT state || ' ' || count(*) FROM integration.order_posting GROUP BY state ORDER BY state`)
	if err != nil {
		return err.Error()
	}
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err.Error()
	}
	return "ledger: " + strings.Join(states, ", ")
}

func crashLedger(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	rows, err := pool.Query(ctx, `SELECT order_id, state, reason_kind, left(reason, 160), coalesce(last_error, '') FROM integration.order_posting ORDER BY order_id`)
	if err != nil {
		return err.Error()
	}
	for rows.Next() {
		var id, state, kind, reason, last string
		_ = rows.Scan(&id, &state, &kind, &reason, &last)
		fmt.Fprintf(&b, "  %s %s %s: %s %s\n", id, state, kind, reason, last)
	}
	rows.Close()
	rows, err = pool.Query(ctx, `SELECT kind, state, attempt, coalesce(args::text, ''), coalesce(right(errors::text, 300), '') FROM river.river_job WHERE kind IN ('post_order', 'validate_orders') ORDER BY id`)
	if err != nil {
		return b.String() + err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state, args, errs string
		var attempt int
		_ = rows.Scan(&kind, &state, &attempt, &args, &errs)
		fmt.Fprintf(&b, "  job %s %s attempt %d %s %s\n", kind, state, attempt, args, errs)
	}
	return b.String()
}
