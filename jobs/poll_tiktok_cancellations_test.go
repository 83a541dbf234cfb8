package jobs_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/jobs"
)

func (e *orderEnv) pollCancellations(t *testing.T) *rivertest.WorkResult {
	t.Helper()
	return runJob(t, e.pool, &jobs.PollTikTokCancellationsWorker{Deps: e.deps}, jobs.PollTikTokCancellationsArgs{ShopID: e.shop.ID})
}

// lastCancellationRun is the newest cancellations_poll run of the shop.
func (e *orderEnv) lastCancellationRun(t *testing.T) pollRun {
	t.Helper()
	var r pollRun
	var wm *string
	var counts []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT watermark, counts, error FROM ops.sync_run
		WHERE flow = 'cancellations_poll' AND scope = $1 ORDER BY id DESC LIMIT 1`, e.shop.ID).Scan(&wm, &counts, &r.Error); err != nil {
		t.Fatalf("no cancellations_poll run: %v", err)
	}
	if wm != nil {
		r.Watermark, _ = strconv.ParseInt(*wm, 10, 64)
	}
	_ = json.Unmarshal(counts, &r.Counts)
	return r
}

// A buyer's cancellation and a buyer's pending cancellation request, whose
// webhooks never arrive, are found by the cancellation poll: their orders
// land cancelled / with is_buyer_request_cancel and validation is asked for;
// a second poll lands nothing new; a later cancellation moves the watermark.
func TestCancellationPollCatchesLostWebhooks(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 41}) // no webhook URL: nothing is delivered
	if _, err := e.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "P1", Stock: 100, Price: "9.99"}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		id, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "P1", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	cancelled, requested, later := ids[0], ids[1], ids[2]
	// The orders were landed as placed (the order poll); the cancellations
	// come after, and the order poll does not run again here.
	if res := e.poll(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("order poll: %s", res.EventKind)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.sim.CancelOrder(cancelled, tiktoksim.CancelRequest{Role: "BUYER"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.CancelOrder(requested, tiktoksim.CancelRequest{Request: true}); err != nil {
		t.Fatal(err)
	}
	cancelAt := e.clock.Now().Unix()

	typed := func(id string) (status string, requestCancel bool) {
		t.Helper()
		if err := e.pool.QueryRow(context.Background(), `SELECT status, is_buyer_request_cancel FROM tiktok."order"
			WHERE shop_id = $1 AND order_id = $2`, e.shop.ID, id).Scan(&status, &requestCancel); err != nil {
			t.Fatalf("order %s: %v", id, err)
		}
		return status, requestCancel
	}
	if s, _ := typed(cancelled); s != "AWAITING_SHIPMENT" {
		t.Fatalf("before the cancellation poll: %s", s)
	}
	payloads := e.count(t, `SELECT count(*) FROM tiktok.order_payload`)

	if res := e.pollCancellations(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("cancellation poll: %s %v", res.EventKind, res.Job.Errors)
	}
	if res := e.count(t, `SELECT count(*) FROM tiktok.webhook_event`); res != 0 {
		t.Fatalf("%d webhooks arrived; the test is about none", res)
	}
	if s, _ := typed(cancelled); s != "CANCELLED" {
		t.Errorf("cancelled order: %s, want CANCELLED", s)
	}
	if s, req := typed(requested); !req || s == "CANCELLED" {
		t.Errorf("order with a pending request: %s, is_buyer_request_cancel %v; want it flagged, not cancelled", s, req)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload WHERE source = 'detail'`); n != 2 {
		t.Errorf("%d detail payloads, want the 2 cancelled orders", n)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload WHERE order_id = $1`, later); n != 1 {
		t.Errorf("the order without a cancellation has %d payloads, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'validate_orders'`); n == 0 {
		t.Error("no validation run was asked for")
	}
	run := e.lastCancellationRun(t)
	if run.Error != nil || run.Watermark != cancelAt || run.Counts["cancellations"] != 2.0 || run.Counts["landed"] != 2.0 || run.Counts["complete"] != true {
		t.Fatalf("first run %+v; want success, watermark %d, 2 cancellations, 2 landed", run, cancelAt)
	}
	w := run.Counts["window_update_time_ge"].(float64)
	authorized := e.count(t, `SELECT floor(extract(epoch FROM authorized_at))::int FROM tiktok.shop WHERE id = $1`, e.shop.ID)
	if int64(w) != int64(authorized)-int64((24*time.Hour+jobs.DefaultOrdersPollOverlap)/time.Second) {
		t.Errorf("first window starts at %d, want a day and the overlap before the authorisation %d", int64(w), authorized)
	}

	// Again: nothing new; the window starts at the watermark minus the overlap.
	payloads += 2
	if res := e.pollCancellations(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("second poll: %s", res.EventKind)
	}
	run = e.lastCancellationRun(t)
	if run.Error != nil || run.Counts["landed"] != 0.0 || run.Counts["unchanged"] != 2.0 || run.Watermark != cancelAt {
		t.Fatalf("second run %+v; want nothing landed, watermark %d", run, cancelAt)
	}
	if int64(run.Counts["window_update_time_ge"].(float64)) != cancelAt-int64(jobs.DefaultOrdersPollOverlap/time.Second) {
		t.Errorf("second window %v; want from the watermark minus the overlap", run.Counts["window_update_time_ge"])
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload`); n != payloads {
		t.Fatalf("second poll stored %d payloads more", n-payloads)
	}

	// A cancellation later: found, and the watermark advances.
	e.clock.Advance(5 * time.Minute)
	if _, err := e.sim.CancelOrder(later, tiktoksim.CancelRequest{Role: "BUYER"}); err != nil {
		t.Fatal(err)
	}
	if res := e.pollCancellations(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("third poll: %s", res.EventKind)
	}
	run = e.lastCancellationRun(t)
	if run.Error != nil || run.Watermark != e.clock.Now().Unix() || run.Watermark <= cancelAt || run.Counts["landed"] != 1.0 {
		t.Fatalf("third run %+v; want the watermark advanced to %d and 1 landed", run, e.clock.Now().Unix())
	}
	if s, _ := typed(later); s != "CANCELLED" {
		t.Errorf("later cancellation: %s, want CANCELLED", s)
	}
}

// A deauthorised shop's cancellations are not polled.
func TestCancellationPollSkipsDeauthorisedShops(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 42})
	e.exec(t, `UPDATE tiktok.shop SET status = 'deauthorized', deauthorized_at = now() WHERE id = $1`, e.shop.ID)
	if res := e.pollCancellations(t); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("poll of a deauthorised shop: %s", res.EventKind)
	}
	if n := e.count(t, `SELECT count(*) FROM ops.sync_run`); n != 0 {
		t.Fatal("a deauthorised shop was polled")
	}
}

// TikTok's rate limit mid-poll: the orders found so far are landed, the job
// snoozes without spending an attempt, and the run is recorded as failed,
// so the next one reads the whole window again.
func TestCancellationPollSnoozesWhenTikTokLimitsTheRate(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 43, RateLimit: 0.1, RateBurst: 1})
	if _, err := e.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "P1", Stock: 1000, Price: "3"}}); err != nil {
		t.Fatal(err)
	}
	for range 51 { // two pages of the cancellation search
		id, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "P1", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sim.CancelOrder(id, tiktoksim.CancelRequest{Role: "BUYER"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
	e.clock.Advance(30 * time.Second) // the token calls of onboarding are forgotten
	res := e.pollCancellations(t)
	if res.EventKind != river.EventKindJobSnoozed || res.Job.Attempt != 0 {
		t.Fatalf("rate-limited poll: %s, attempt %d; want snoozed without an attempt spent", res.EventKind, res.Job.Attempt)
	}
	run := e.lastCancellationRun(t)
	if run.Error == nil || run.Counts["landed"] != 50.0 || run.Counts["complete"] != false {
		t.Fatalf("rate-limited run %+v; want the first page's orders landed and the run failed", run)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok."order" WHERE status = 'CANCELLED'`); n != 50 {
		t.Fatalf("%d cancelled orders typed, want 50", n)
	}
}
