package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/landing"
	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// The orders flow's jobs go where DESIGN.md says (posting through the
// governor on sapb1_write, cancellations on priority) and exist once per
// order while not finished.
func TestOrderPostingJobsQueuesAndUniqueness(t *testing.T) {
	if q := (jobs.PostOrderArgs{}).InsertOpts().Queue; q != jobs.QueueSAPB1Write {
		t.Errorf("post_order on %q", q)
	}
	if q := (jobs.CancelOrderArgs{}).InsertOpts().Queue; q != jobs.QueuePriority {
		t.Errorf("cancel_order on %q", q)
	}
	ctx := context.Background()
	pool := testdb.New(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: migrations.RiverSchema, Workers: jobs.Workers(jobs.Deps{Pool: pool})})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, args := range []river.JobArgs{jobs.PostOrderArgs{ShopID: "s", OrderID: "1"}, jobs.CancelOrderArgs{ShopID: "s", OrderID: "1"}, jobs.ValidateOrdersArgs{}} {
			if _, err := client.Insert(ctx, args, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river.river_job`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d jobs (%v), want one of each", n, err)
	}
}

// A validation run queues one post_order per order that became ready, in
// its own transaction; a second run queues nothing more.
func TestValidateOrdersQueuesOnePostOrderPerReadyOrder(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	sim := tiktoksim.New(tiktoksim.Options{AppKey: "k", AppSecret: "s", Seed: 3})
	t.Cleanup(func() { sim.Close() })
	shop := sim.Shop().ID
	postingFixture(t, pool, shop)
	if _, err := sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "MUG", Price: "8.50", Stock: 10}}); err != nil {
		t.Fatal(err)
	}
	id, err := sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "MUG", Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sim.Order(id)
	if err != nil {
		t.Fatal(err)
	}
	var o tiktok.Order
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if _, err := landing.Land(ctx, pool, shop, landing.SourceWebhook, []tiktok.Order{o}); err != nil {
		t.Fatal(err)
	}
	// A client that is never called: validation only needs to know SAP is there.
	sap, err := sapb1.New(sapb1.Config{BaseURL: "http://127.0.0.1:9/b1s/v1"})
	if err != nil {
		t.Fatal(err)
	}
	deps := jobs.Deps{Pool: pool, SAP: sap}
	for range 2 {
		if res := workOrderJob(t, pool, &jobs.ValidateOrdersWorker{Deps: deps}, jobs.ValidateOrdersArgs{}, nil); res.EventKind != river.EventKindJobCompleted {
			t.Fatalf("validate_orders %s: %v", res.EventKind, res.Job.Errors)
		}
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT state FROM integration.order_posting WHERE order_id = $1`, id).Scan(&state); err != nil || state != "ready" {
		t.Fatalf("ledger state %q (%v), want ready", state, err)
	}
	var args []string
	rows, err := pool.Query(ctx, `SELECT args::text FROM river.river_job WHERE kind = 'post_order'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		args = append(args, a)
	}
	if len(args) != 1 || !strings.Contains(args[0], id) {
		t.Fatalf("post_order jobs %v, want one for order %s", args, id)
	}
}

// Without SAP the posting job cancels itself with a message saying why;
// when its last attempt fails, IT gets an exception.
func TestPostOrderWithoutSAPAndOnItsLastAttempt(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	res := workOrderJob(t, pool, &jobs.PostOrderWorker{Deps: jobs.Deps{Pool: pool}}, jobs.PostOrderArgs{ShopID: "s", OrderID: "1"}, nil)
	if res.EventKind != river.EventKindJobCancelled || !strings.Contains(res.Job.Errors[0].Error, "not configured") {
		t.Fatalf("job %s %v, want cancelled: SAP not configured", res.EventKind, res.Job.Errors)
	}

	if _, err := pool.Exec(ctx, `INSERT INTO integration.order_posting (shop_id, order_id, state) VALUES ('s', '1', 'ready')`); err != nil {
		t.Fatal(err)
	}
	// Nothing listens there: SAP cannot be reached.
	sap, err := sapb1.New(sapb1.Config{BaseURL: "http://127.0.0.1:9/b1s/v1", CompanyDB: "X", User: "u", Password: "p", RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res = workOrderJob(t, pool, &jobs.PostOrderWorker{Deps: jobs.Deps{Pool: pool, SAP: sap}}, jobs.PostOrderArgs{ShopID: "s", OrderID: "1"},
		&river.InsertOpts{MaxAttempts: 1})
	if res.EventKind != river.EventKindJobFailed {
		t.Fatalf("job %s, want failed", res.EventKind)
	}
	var owner, msg string
	if err := pool.QueryRow(ctx, `SELECT owner_team, message FROM ops.exception WHERE kind = 'order_post_failed' AND order_id = '1' AND status = 'open'`).Scan(&owner, &msg); err != nil {
		t.Fatalf("no order_post_failed exception: %v", err)
	}
	if owner != "it" || !strings.Contains(msg, "1 attempts") {
		t.Fatalf("exception for %s: %q", owner, msg)
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT state FROM integration.order_posting WHERE order_id = '1'`).Scan(&state); err != nil || state != "ready" {
		t.Fatalf("ledger %q (%v): a failed read must leave the order ready", state, err)
	}
}

// postingFixture configures a shop as the sandbox does, with the SAP item
// snapshot holding MUG and warehouse 01 (typed rows: no SAP needed).
func postingFixture(t *testing.T, pool *pgxpool.Pool, shop string) {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	if _, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
		OpenID: "open-" + shop, GrantedScopes: []string{}, AccessTokenEnc: []byte{1}, RefreshTokenEnc: []byte{1},
		AccessExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.UpsertTikTokShops(ctx, db.UpsertTikTokShopsParams{
		Ids: []string{shop}, OpenID: "open-" + shop, Names: []string{"Shop"}, Regions: []string{"GB"},
		SellerTypes: []string{"LOCAL"}, Ciphers: []string{"c"}, Codes: []string{"GB1"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO integration.shop_config (shop_id, card_code, currency, default_warehouse, shipping_mode, cutover_at)
		 VALUES ('` + shop + `', 'C-TIKTOK', 'GBP', '01', 'none', now() - interval '30 days')`,
		`INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen) VALUES ('MUG', true, true, true, false)`,
		`INSERT INTO sapb1.warehouse (whs_code) VALUES ('01')`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
}

func workOrderJob[T river.JobArgs](t *testing.T, pool *pgxpool.Pool, worker river.Worker[T], args T, opts *river.InsertOpts) *rivertest.WorkResult {
	t.Helper()
	ctx := context.Background()
	tw := rivertest.NewWorker(t, riverpgxv5.New(pool), &river.Config{Schema: migrations.RiverSchema}, worker)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	res, err := tw.Work(ctx, t, tx, args, opts)
	if res == nil {
		t.Fatalf("working %s: %v", args.Kind(), err)
	}
	return res
}
