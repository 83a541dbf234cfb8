package web_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/web"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// dropFirstAck lands every delivery but answers the first one of each
// notification with a 502, as if our answer was lost on the way back: TikTok
// (the simulator) sends it again, and it must not land twice.
type dropFirstAck struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]bool
}

func (d *dropFirstAck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	d.next.ServeHTTP(rec, r)
	key := r.Header.Get("Authorization")
	d.mu.Lock()
	first := !d.seen[key]
	d.seen[key] = true
	d.mu.Unlock()
	if first && rec.Code == http.StatusOK {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Webhooks the simulator signs and sends are verified, landed once each and
// processed once each, even when every one of them is delivered twice.
func TestSimulatorWebhooksLandOnceDespiteRedelivery(t *testing.T) {
	pool := testdb.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: migrations.RiverSchema})
	if err != nil {
		t.Fatal(err)
	}
	handler := &dropFirstAck{seen: map[string]bool{}, next: web.NewHandler(web.Options{
		DB: pool, Metrics: metrics.New("test"),
		TikTok: &web.TikTok{AppKey: appKey, AppSecret: appSecret, DB: pool, Jobs: inserter},
	})}
	ours := httptest.NewServer(handler)
	defer ours.Close()

	sim := tiktoksim.New(tiktoksim.Options{
		AppKey: appKey, AppSecret: appSecret, Seed: 3,
		WebhookURL:         ours.URL + "/webhooks/tiktok",
		WebhookRetryDelays: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond},
	})
	sim.Start()
	defer sim.Close()
	if _, err := sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: "W1", Stock: 100, Price: "5.00"}}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: "W1", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Each order sends status webhooks (UNPAID, then AWAITING_SHIPMENT).
	deadline := time.Now().Add(20 * time.Second)
	for sim.Stats().WebhooksPending > 0 || sim.Stats().WebhooksSent < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("webhooks not delivered: %+v", sim.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := sim.Stats()
	if st.WebhookAttempts < 2*st.WebhooksSent {
		t.Fatalf("every webhook should have been delivered twice: %+v", st)
	}
	landed := countRows(t, pool, `SELECT count(*) FROM tiktok.webhook_event`)
	distinct := countRows(t, pool, `SELECT count(DISTINCT notification_id) FROM tiktok.webhook_event`)
	jobs := countRows(t, pool, `SELECT count(*) FROM river.river_job WHERE kind = 'process_tiktok_webhook'`)
	if landed != int(st.WebhooksSent) || distinct != landed || jobs != landed {
		t.Fatalf("%d webhooks acknowledged: %d rows (%d distinct), %d jobs; want one row and one job each", st.WebhooksSent, landed, distinct, jobs)
	}
	orders := countRows(t, pool, `SELECT count(DISTINCT body_json->'data'->>'order_id') FROM tiktok.webhook_event WHERE type = 1`)
	if orders != 5 {
		t.Fatalf("webhooks name %d orders, want the 5 placed", orders)
	}
}

func countRows(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
