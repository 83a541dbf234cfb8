package jobs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const simAppKey, simAppSecret = "orders-key", "orders-secret"

// simClock is the simulator's (and the client's) clock: it moves only when
// a test moves it, so orders can change within one second.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// orderEnv is a database with the simulator's shop onboarded through the
// real onboarding, the real client with the shops.Store as its tokens, and
// jobs.Deps over them. The poll runs pollAfter behind the simulator's clock.
type orderEnv struct {
	pool  *pgxpool.Pool
	sim   *tiktoksim.Server
	srv   *httptest.Server
	clock *simClock
	deps  jobs.Deps
	shop  tiktoksim.Shop

	mu         sync.Mutex
	pollAfter  time.Duration
	searchDown bool       // the order search answers 502
	windows    [][2]int64 // update_time_ge, update_time_lt of every order search
}

func newOrderEnv(t *testing.T, opts tiktoksim.Options) *orderEnv {
	t.Helper()
	ctx := context.Background()
	e := &orderEnv{pool: testdb.New(t), clock: &simClock{t: time.Now().Truncate(time.Second)}, pollAfter: jobs.DefaultOrdersPollLag + time.Second}
	opts.AppKey, opts.AppSecret, opts.Now = simAppKey, simAppSecret, e.clock.Now
	e.sim = tiktoksim.New(opts)
	e.sim.Start()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/order/202309/orders/search" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var f struct {
				GE int64 `json:"update_time_ge"`
				LT int64 `json:"update_time_lt"`
			}
			_ = json.Unmarshal(body, &f)
			e.mu.Lock()
			e.windows = append(e.windows, [2]int64{f.GE, f.LT})
			down := e.searchDown
			e.mu.Unlock()
			if down {
				http.Error(w, "upstream down", http.StatusBadGateway)
				return
			}
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { e.srv.Close(); e.sim.Close() })
	e.shop = e.sim.Shop()

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := shops.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tiktok.Config{AppKey: simAppKey, AppSecret: simAppSecret, APIURL: e.srv.URL, AuthURL: e.srv.URL, Now: e.clock.Now, RateLimit: 1000}
	store := shops.NewStore(e.pool, sealer, tiktok.New(cfg), shops.StoreOptions{})
	cfg.Tokens = store
	api := tiktok.New(cfg)
	ob := shops.NewOnboarding(e.pool, sealer, api, shops.OnboardingOptions{ServiceID: "svc"})
	link, err := ob.StartURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if _, err := ob.Complete(ctx, "code-from-consent", u.Query().Get("state")); err != nil {
		t.Fatalf("onboarding the simulator's shop: %v", err)
	}
	e.deps = jobs.Deps{Pool: e.pool, TikTok: api, Shops: store, Now: e.pollNow}
	return e
}

func (e *orderEnv) pollNow() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock.Now().Add(e.pollAfter)
}

func (e *orderEnv) setPollAfter(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pollAfter = d
}

func (e *orderEnv) lastWindow(t *testing.T) [2]int64 {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.windows) == 0 {
		t.Fatal("no order search was made")
	}
	return e.windows[len(e.windows)-1]
}

func (e *orderEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *orderEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// poll runs the poll job of the shop and returns how it ended.
func (e *orderEnv) poll(t *testing.T) *rivertest.WorkResult {
	t.Helper()
	return runJob(t, e.pool, &jobs.PollTikTokOrdersWorker{Deps: e.deps}, jobs.PollTikTokOrdersArgs{ShopID: e.shop.ID})
}

func runJob[T river.JobArgs](t *testing.T, pool *pgxpool.Pool, worker river.Worker[T], args T) *rivertest.WorkResult {
	t.Helper()
	ctx := context.Background()
	tw := rivertest.NewWorker(t, riverpgxv5.New(pool), &river.Config{Schema: migrations.RiverSchema}, worker)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	res, err := tw.Work(ctx, t, tx, args, nil)
	if err != nil {
		t.Fatalf("working %s: %v", args.Kind(), err)
	}
	return res
}

// lastRun is the newest orders_poll run of the shop.
type pollRun struct {
	Watermark int64
	Counts    map[string]any
	Error     *string
}

func (e *orderEnv) lastRun(t *testing.T) pollRun {
	t.Helper()
	var r pollRun
	var wm *string
	var counts []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT watermark, counts, error FROM ops.sync_run
		WHERE flow = 'orders_poll' AND scope = $1 ORDER BY id DESC LIMIT 1`, e.shop.ID).Scan(&wm, &counts, &r.Error); err != nil {
		t.Fatalf("no orders_poll run: %v", err)
	}
	if wm != nil {
		r.Watermark, _ = strconv.ParseInt(*wm, 10, 64)
	}
	_ = json.Unmarshal(counts, &r.Counts)
	return r
}

// simJSON is an order as TikTok shows it now.
func (e *orderEnv) simJSON(t *testing.T, id string) map[string]any {
	t.Helper()
	raw, err := e.sim.Order(id)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkOrderMatchesTikTok compares an order's typed rows with what TikTok
// shows for it now: status, every amount to the cent, one line per unit.
func (e *orderEnv) checkOrderMatchesTikTok(t *testing.T, id string) {
	t.Helper()
	m := e.simJSON(t, id)
	pay := m["payment"].(map[string]any)
	var status string
	var amounts [6]decimal.Decimal
	var lines int
	err := e.pool.QueryRow(context.Background(), `SELECT status, sub_total, total_amount, shipping_fee, seller_discount, platform_discount,
		original_total_product_price, line_count FROM tiktok."order" WHERE shop_id = $1 AND order_id = $2`, e.shop.ID, id).Scan(
		&status, &amounts[0], &amounts[1], &amounts[2], &amounts[3], &amounts[4], &amounts[5], &lines)
	if err != nil {
		t.Errorf("order %s (%s) not typed: %v", id, m["status"], err)
		return
	}
	items := m["line_items"].([]any)
	for i, k := range []string{"sub_total", "total_amount", "shipping_fee", "seller_discount", "platform_discount", "original_total_product_price"} {
		if want := decimal.RequireFromString(pay[k].(string)); !amounts[i].Equal(want) {
			t.Errorf("order %s: %s = %s, TikTok says %s", id, k, amounts[i], want)
		}
	}
	if status != m["status"] || lines != len(items) {
		t.Errorf("order %s: %s with %d lines, TikTok says %s with %d line items", id, status, lines, m["status"], len(items))
	}
	var sale, seller, platform decimal.Decimal
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(sum(sale_price), 0), coalesce(sum(seller_discount), 0),
		coalesce(sum(platform_discount), 0), count(*) FROM tiktok.order_line WHERE shop_id = $1 AND order_id = $2`, e.shop.ID, id).Scan(
		&sale, &seller, &platform, &n); err != nil {
		t.Fatal(err)
	}
	if n != len(items) || !sale.Equal(amounts[0]) || !seller.Equal(amounts[3]) || !platform.Equal(amounts[4]) {
		t.Errorf("order %s: %d lines with sale %s, seller discount %s, platform discount %s; order says sub_total %s, %s, %s",
			id, n, sale, seller, platform, amounts[0], amounts[3], amounts[4])
	}
}

// Every order of the demo shop, each shape real shops send, lands typed by
// the poll, exact to the cent; a second poll lands nothing new.
func TestPollLandsEveryShapeOfOrder(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 31, Demo: true})
	// Demo orders go back three days; the first poll starts a day before
	// the shop's authorisation.
	e.exec(t, `UPDATE tiktok.shop SET authorized_at = $2 WHERE id = $1`, e.shop.ID, e.clock.Now().Add(-4*24*time.Hour))

	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("poll: %s %v", res.EventKind, res.Job.Errors)
	}
	ids := e.sim.OrderIDs()
	var newest int64
	for _, id := range ids {
		e.checkOrderMatchesTikTok(t, id)
		ut, _ := e.simJSON(t, id)["update_time"].(json.Number).Int64()
		newest = max(newest, ut)
	}
	shapes := map[string]string{
		"three units of one SKU at 10.00: 3.33, 3.33 and 3.34": `SELECT count(*) FROM (SELECT order_id FROM tiktok.order_line WHERE seller_sku = 'SOCK-3PK'
			GROUP BY order_id HAVING count(*) = 3 AND sum(sale_price) = 10.00 AND array_agg(sale_price ORDER BY sale_price)::text = '{3.33,3.33,3.34}') x`,
		"units of one SKU with unequal discounts": `SELECT count(*) FROM (SELECT order_id FROM tiktok.order_line WHERE seller_sku = 'TEE-BLK-M'
			GROUP BY order_id HAVING count(*) = 3 AND count(DISTINCT (seller_discount, platform_discount)) > 1) x`,
		"a free gift": `SELECT count(*) FROM tiktok.order_line WHERE is_gift AND sale_price = 0 AND original_price > 0`,
		"split packages": `SELECT count(*) FROM (SELECT order_id FROM tiktok.order_package GROUP BY order_id HAVING count(*) = 2) x
			WHERE (SELECT count(DISTINCT package_id) FROM tiktok.order_line l WHERE l.order_id = x.order_id) = 2`,
		"a line-level cancellation": `SELECT count(*) FROM tiktok.order_line l JOIN tiktok."order" o USING (shop_id, order_id)
			WHERE l.display_status = 'CANCELLED' AND l.cancel_user IS NOT NULL AND o.status <> 'CANCELLED'`,
		"an unpaid order":        `SELECT count(*) FROM tiktok."order" WHERE status = 'UNPAID' AND paid_time IS NULL`,
		"an order on hold":       `SELECT count(*) FROM tiktok."order" WHERE status = 'ON_HOLD' AND is_on_hold_order AND paid_time IS NOT NULL`,
		"TikTok shipping":        `SELECT count(*) FROM tiktok."order" WHERE shipping_type = 'TIKTOK' AND fulfillment_type = 'FULFILLMENT_BY_SELLER'`,
		"seller shipping":        `SELECT count(*) FROM tiktok."order" WHERE shipping_type = 'SELLER'`,
		"fulfilled by TikTok":    `SELECT count(*) FROM tiktok."order" WHERE fulfillment_type = 'FULFILLMENT_BY_TIKTOK'`,
		"a cancelled order":      `SELECT count(*) FROM tiktok."order" WHERE status = 'CANCELLED' AND cancel_time IS NOT NULL`,
		"a pending cancellation": `SELECT count(*) FROM tiktok."order" WHERE is_buyer_request_cancel`,
	}
	for what, sql := range shapes {
		if e.count(t, sql) == 0 {
			t.Errorf("no typed order shows %s", what)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok."order"`); n != len(ids) {
		t.Fatalf("%d typed orders, the shop has %d", n, len(ids))
	}
	run := e.lastRun(t)
	if run.Error != nil || run.Watermark != newest || run.Counts["landed"] != float64(len(ids)) || run.Counts["complete"] != true {
		t.Fatalf("sync run %+v; want success, watermark %d, %d landed", run, newest, len(ids))
	}
	w := e.lastWindow(t)
	authorized := e.count(t, `SELECT extract(epoch FROM authorized_at)::int FROM tiktok.shop WHERE id = $1`, e.shop.ID)
	if w[0] != int64(authorized)-int64((24*time.Hour+jobs.DefaultOrdersPollOverlap)/time.Second) ||
		w[1] != e.pollNow().Add(-jobs.DefaultOrdersPollLag).Unix() {
		t.Fatalf("first window [%d, %d); want from a day (and the overlap) before the authorisation to now minus the lag", w[0], w[1])
	}

	// Again: the same states, nothing new; the window starts at the
	// watermark minus the overlap.
	payloads := e.count(t, `SELECT count(*) FROM tiktok.order_payload`)
	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("second poll: %s", res.EventKind)
	}
	run = e.lastRun(t)
	if run.Counts["landed"] != 0.0 || run.Counts["unchanged"] != run.Counts["received"] || run.Watermark != newest {
		t.Fatalf("second poll %+v; want nothing landed", run)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload`); n != payloads {
		t.Fatalf("second poll stored %d payloads more", n-payloads)
	}
	if w := e.lastWindow(t); w[0] != newest-int64(jobs.DefaultOrdersPollOverlap/time.Second) {
		t.Fatalf("second window starts at %d, want the watermark %d minus the overlap", w[0], newest)
	}
}

// Orders that change after a poll are landed again and the newest state
// wins, by update_time and, within one second, by status; the watermark
// advances; the window never reaches past now minus the lag.
func TestPollFollowsChanges(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 32})
	if _, err := e.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "P1", Stock: 500, Price: "7.49"}}); err != nil {
		t.Fatal(err)
	}
	place := func() string {
		id, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "P1", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	typedStatus := func(id string) string {
		var s string
		if err := e.pool.QueryRow(context.Background(), `SELECT status FROM tiktok."order" WHERE order_id = $1`, id).Scan(&s); err != nil {
			return "(none)"
		}
		return s
	}
	a := place()
	e.clock.Advance(time.Minute)
	b := place()
	e.poll(t)
	if typedStatus(a) != "AWAITING_SHIPMENT" || typedStatus(b) != "AWAITING_SHIPMENT" {
		t.Fatalf("after the first poll: %s, %s", typedStatus(a), typedStatus(b))
	}
	first := e.lastRun(t).Watermark

	// a ships a minute later: a newer update_time.
	e.clock.Advance(time.Minute)
	if err := e.sim.SetOrderStatus(a, "IN_TRANSIT"); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	e.checkOrderMatchesTikTok(t, a)
	if typedStatus(a) != "IN_TRANSIT" {
		t.Fatalf("changed order: %s, want IN_TRANSIT", typedStatus(a))
	}
	second := e.lastRun(t).Watermark
	if second != e.clock.Now().Unix() || second <= first {
		t.Fatalf("watermark %d after %d; want the new update_time %d", second, first, e.clock.Now().Unix())
	}

	// c is placed, polled, and moves on within the same second: the second
	// poll's state has the same update_time and wins by its status.
	e.clock.Advance(time.Minute)
	c := place()
	e.poll(t)
	if err := e.sim.SetOrderStatus(c, "AWAITING_COLLECTION"); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	if typedStatus(c) != "AWAITING_COLLECTION" {
		t.Fatalf("same-second change: %s, want AWAITING_COLLECTION", typedStatus(c))
	}
	if n := e.count(t, `SELECT count(DISTINCT update_time) * 10 + count(*) FROM tiktok.order_payload WHERE order_id = $1`, c); n != 12 {
		t.Fatalf("order c: want two states stored with one update_time, got code %d", n)
	}
	e.checkOrderMatchesTikTok(t, c)

	// d changes less than the lag ago: not read until the lag has passed.
	e.clock.Advance(time.Minute)
	d := place()
	e.setPollAfter(time.Minute)
	e.poll(t)
	w := e.lastWindow(t)
	if w[1] > e.pollNow().Add(-jobs.DefaultOrdersPollLag).Unix() || typedStatus(d) != "(none)" {
		t.Fatalf("window [%d, %d) with now %d: reaches past now minus the lag, or landed %s", w[0], w[1], e.pollNow().Unix(), typedStatus(d))
	}
	e.setPollAfter(jobs.DefaultOrdersPollLag + time.Second)
	e.poll(t)
	if typedStatus(d) != "AWAITING_SHIPMENT" {
		t.Fatalf("after the lag: %s", typedStatus(d))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range e.windows {
		if w[1] <= w[0] {
			t.Errorf("empty window %v", w)
		}
	}
}

// TikTok's rate limit mid-poll: the pages landed count, the job snoozes
// without spending an attempt, and the next run goes on from there.
func TestPollSnoozesWhenTikTokLimitsTheRate(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 33, RateLimit: 0.1, RateBurst: 1})
	if _, err := e.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "P1", Stock: 1000, Price: "3"}}); err != nil {
		t.Fatal(err)
	}
	for range 150 {
		if _, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "P1", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
	e.clock.Advance(30 * time.Second) // the token calls of onboarding are forgotten
	res := e.poll(t)
	if res.EventKind != river.EventKindJobSnoozed || res.Job.Attempt != 0 {
		t.Fatalf("rate-limited poll: %s, attempt %d; want snoozed without an attempt spent", res.EventKind, res.Job.Attempt)
	}
	if d := time.Until(res.Job.ScheduledAt); d < 5*time.Second || d > 15*time.Second {
		t.Fatalf("snoozed for %s, want TikTok's Retry-After of 10 s", d)
	}
	run := e.lastRun(t)
	if run.Error != nil || run.Counts["landed"] != 100.0 || run.Counts["complete"] != false {
		t.Fatalf("rate-limited run %+v; want the first page landed and the run marked incomplete", run)
	}
	e.clock.Advance(10 * time.Second)
	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("after the wait: %s", res.EventKind)
	}
	if w := e.lastWindow(t); w[0] != run.Watermark {
		t.Fatalf("continued from %d, want the incomplete run's watermark %d (no overlap)", w[0], run.Watermark)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok."order"`); n != 150 {
		t.Fatalf("%d orders typed, want 150", n)
	}
}

// A deauthorised shop is not polled; the periodic job schedules one poll per
// active shop, never two at once.
func TestPollScheduleAndDeauthorisedShops(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 34})
	// rivertest's worker turns unique insertion off; the schedule runs with a
	// real client in its context here.
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{Schema: migrations.RiverSchema})
	if err != nil {
		t.Fatal(err)
	}
	schedule := func() {
		t.Helper()
		ctx := rivertest.WorkContext(context.Background(), client)
		job := &river.Job[jobs.PollTikTokOrdersArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 5}}
		if err := (&jobs.PollTikTokOrdersWorker{Deps: e.deps}).Work(ctx, job); err != nil {
			t.Fatalf("scheduling: %v", err)
		}
	}
	schedule()
	schedule()
	if n := e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'poll_tiktok_orders' AND args->>'shop_id' = $1 AND state = 'available'`, e.shop.ID); n != 1 {
		t.Fatalf("%d polls waiting for the shop, want 1", n)
	}

	e.exec(t, `UPDATE tiktok.shop SET status = 'deauthorized', deauthorized_at = now() WHERE id = $1`, e.shop.ID)
	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("poll of a deauthorised shop: %s", res.EventKind)
	}
	e.mu.Lock()
	searches := len(e.windows)
	e.mu.Unlock()
	if searches != 0 || e.count(t, `SELECT count(*) FROM ops.sync_run`) != 0 {
		t.Fatal("a deauthorised shop was polled")
	}
	e.exec(t, `DELETE FROM river.river_job`)
	schedule()
	if n := e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'poll_tiktok_orders' AND args->>'shop_id' IS NOT NULL`); n != 0 {
		t.Fatal("a poll was scheduled for a deauthorised shop")
	}
}

// A poll that keeps failing (TikTok answers 502) records each failed run,
// and when its attempts run out tells IT; the next poll that works resolves it.
func TestFailingPollTellsIT(t *testing.T) {
	ctx := context.Background()
	e := newOrderEnv(t, tiktoksim.Options{Seed: 37, Demo: true})
	e.mu.Lock()
	e.searchDown = true
	e.mu.Unlock()
	tw := rivertest.NewWorker(t, riverpgxv5.New(e.pool), &river.Config{Schema: migrations.RiverSchema},
		river.Worker[jobs.PollTikTokOrdersArgs](&jobs.PollTikTokOrdersWorker{Deps: e.deps}))
	for attempt, maxAttempts := range []int{2, 1} { // a retry left, then none
		tx, err := e.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tw.Work(ctx, t, tx, jobs.PollTikTokOrdersArgs{ShopID: e.shop.ID}, &river.InsertOpts{MaxAttempts: maxAttempts})
		_ = tx.Rollback(ctx)
		if err == nil || res.EventKind != river.EventKindJobFailed {
			t.Fatalf("attempt %d: %v, %v", attempt, res, err)
		}
		if run := e.lastRun(t); run.Error == nil || !strings.Contains(*run.Error, "HTTP 502") {
			t.Fatalf("failed run not recorded: %+v", run)
		}
		if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_orders_poll_failing' AND owner_team = 'it' AND shop_id = $1 AND status = 'open'`, e.shop.ID); n != attempt {
			t.Fatalf("after attempt %d: %d exceptions, want %d", attempt, n, attempt)
		}
	}
	e.mu.Lock()
	e.searchDown = false
	e.mu.Unlock()
	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("poll after TikTok is back: %s", res.EventKind)
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_orders_poll_failing' AND status = 'resolved'`); n != 1 {
		t.Fatal("the exception was not resolved by a working poll")
	}
}
