package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/internal/web"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// forwarder lets the webhook address exist before its handler does.
type forwarder struct {
	mu sync.Mutex
	h  http.Handler
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.h
	f.mu.Unlock()
	if h == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// The simulator's signed webhooks (order status, address, cancellation) go
// through the real /webhooks/tiktok handler and River's workers: each order
// ends up typed as TikTok shows it, and nothing lands twice.
func TestOrderWebhooksLandOrders(t *testing.T) {
	ctx := context.Background()
	fwd := &forwarder{}
	ours := httptest.NewServer(fwd)
	defer ours.Close()
	e := newOrderEnv(t, tiktoksim.Options{
		Seed: 35, WebhookURL: ours.URL + "/webhooks/tiktok",
		WebhookRetryDelays: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, time.Second},
	})
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{
		Schema:            migrations.RiverSchema,
		Queues:            jobs.Queues(map[string]int{jobs.QueueTikTokRead: 2}),
		Workers:           jobs.Workers(e.deps),
		FetchPollInterval: 100 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	if err := client.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(c)
		stop()
	})
	handler := web.NewHandler(web.Options{DB: e.pool, Metrics: metrics.New("test"),
		TikTok: &web.TikTok{AppKey: simAppKey, AppSecret: simAppSecret, DB: e.pool, Jobs: client}})
	fwd.mu.Lock()
	fwd.h = handler
	fwd.mu.Unlock()

	if _, err := e.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "W1", Stock: 100, Price: "12.50"}, {SellerSKU: "W2", Stock: 100, Price: "3.99"}}); err != nil {
		t.Fatal(err)
	}
	place := func(shipping string) string {
		id, err := e.sim.PlaceOrder(tiktoksim.NewOrder{ShippingType: shipping, ShippingFee: "2.99",
			Lines: []tiktoksim.NewOrderLine{{SellerSKU: "W1", Quantity: 2, SellerDiscount: "1"}, {SellerSKU: "W2", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	moved, cancelled, shipped := place("SELLER"), place("TIKTOK"), place("SELLER")
	e.clock.Advance(time.Minute)
	if err := e.sim.UpdateAddress(moved); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.CancelOrder(cancelled, tiktoksim.CancelRequest{Reason: "Changed my mind"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if err := e.sim.SetOrderStatus(shipped, "IN_TRANSIT"); err != nil {
		t.Fatal(err)
	}
	waitWebhooks(t, e)

	for _, id := range []string{moved, cancelled, shipped} {
		e.checkOrderMatchesTikTok(t, id)
	}
	for _, typ := range []int{1, 3, 11} {
		if n := e.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE type = $1`, typ); n == 0 {
			t.Errorf("no webhook of type %d arrived", typ)
		}
	}
	addr := e.simJSON(t, moved)["recipient_address"].(map[string]any)["full_address"]
	var stored string
	if err := e.pool.QueryRow(ctx, `SELECT recipient_address->>'full_address' FROM pii.order_recipient WHERE order_id = $1`, moved).Scan(&stored); err != nil || stored != addr {
		t.Fatalf("address after the change: %q (%v), want %q", stored, err, addr)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload WHERE source <> 'webhook'`); n != 0 {
		t.Fatalf("%d payloads not from webhooks", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'process_tiktok_webhook' AND state <> 'completed'`); n != 0 {
		t.Fatalf("%d webhook jobs did not complete", n)
	}

	// A redelivery lands nothing; a webhook whose state is already landed
	// adds no payload.
	payloads := e.count(t, `SELECT count(*) FROM tiktok.order_payload`)
	var body []byte
	if err := e.pool.QueryRow(ctx, `SELECT body FROM tiktok.webhook_event WHERE type = 3`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	deliverWebhook(t, ours.URL, body)
	again := fmt.Sprintf(`{"type":1,"tts_notification_id":"again-1","shop_id":"%s","timestamp":%d,"data":{"order_id":"%s","order_status":"IN_TRANSIT","update_time":%d}}`,
		e.shop.ID, e.clock.Now().Unix(), shipped, e.clock.Now().Unix())
	deliverWebhook(t, ours.URL, []byte(again))
	waitWebhooks(t, e)
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_payload`); n != payloads {
		t.Fatalf("%d payloads after a redelivery and a repeated state, want %d", n, payloads)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok."order"`); n != 3 {
		t.Fatalf("%d typed orders, want 3", n)
	}

	// A webhook for a shop nobody onboarded: processed with its error and an
	// exception for IT, not retried.
	stranger := fmt.Sprintf(`{"type":1,"tts_notification_id":"stranger-1","shop_id":"7000000000000000001","timestamp":%d,"data":{"order_id":"576653688135258178","order_status":"UNPAID","update_time":1}}`, e.clock.Now().Unix())
	deliverWebhook(t, ours.URL, []byte(stranger))
	waitWebhooks(t, e)
	var procErr string
	if err := e.pool.QueryRow(ctx, `SELECT process_error FROM tiktok.webhook_event WHERE notification_id = 'stranger-1' AND processed_at IS NOT NULL`).Scan(&procErr); err != nil ||
		!strings.Contains(procErr, "not onboarded") {
		t.Fatalf("webhook of an unknown shop: %q, %v", procErr, err)
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_webhook_unprocessable' AND shop_id = '7000000000000000001' AND owner_team = 'it'`); n != 1 {
		t.Fatal("no exception for the webhook of an unknown shop")
	}
	if n := e.count(t, `SELECT max(attempt) FROM river.river_job WHERE kind = 'process_tiktok_webhook'`); n != 1 {
		t.Fatalf("a webhook job took %d attempts", n)
	}
}

func deliverWebhook(t *testing.T, base string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/tiktok", strings.NewReader(string(body)))
	req.Header.Set("Authorization", tiktok.SignWebhook(simAppKey, simAppSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery answered %d", resp.StatusCode)
	}
}

// waitWebhooks waits until the simulator delivered everything and every
// stored webhook was processed.
func waitWebhooks(t *testing.T, e *orderEnv) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.sim.Stats()
		if st.WebhooksPending == 0 && e.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE processed_at IS NULL`) == 0 &&
			e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'process_tiktok_webhook' AND state IN ('available', 'running', 'pending', 'scheduled')`) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks not processed within 30 s: %+v, %d pending", st, e.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE processed_at IS NULL`))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
