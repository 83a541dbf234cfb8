package tiktoksim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

type received struct {
	body          []byte
	authorization string
}

// receiver is a webhook endpoint that answers 500 to the first delivery of
// each notification (when flaky) and records everything.
type receiver struct {
	mu    sync.Mutex
	got   []received
	tries map[string]int
	flaky bool
	down  bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		ID string `json:"tts_notification_id"`
	}
	json.Unmarshal(body, &ev)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{body, r.Header.Get("Authorization")})
	rc.tries[ev.ID]++
	if rc.down || rc.flaky && rc.tries[ev.ID] == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type event struct {
	Type              int             `json:"type"`
	TTSNotificationID string          `json:"tts_notification_id"`
	ShopID            string          `json:"shop_id"`
	Timestamp         int64           `json:"timestamp"`
	Data              json.RawMessage `json:"data"`
}

func TestWebhooksAreSignedAndRetried(t *testing.T) {
	rc := &receiver{tries: map[string]int{}, flaky: true}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f := newFixture(t, tiktoksim.Options{WebhookURL: hook.URL, WebhookRetryDelays: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}})
	f.addProduct("S1", 5, "10")
	id := f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 2})
	if _, err := f.sim.CancelOrder(id, tiktoksim.CancelRequest{}); err != nil {
		t.Fatal(err)
	}
	// UNPAID, AWAITING_SHIPMENT, then the cancellation (11) and CANCELLED (1).
	waitFor(t, "four webhooks acknowledged", func() bool { return f.sim.Stats().WebhooksSent == 4 })

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 8 {
		t.Fatalf("%d deliveries, want 8 (each notification refused once, then retried)", len(rc.got))
	}
	bodies := map[string][][]byte{}
	statuses := map[string]bool{}
	types := map[int]int{}
	for _, g := range rc.got {
		if want := tiktok.SignWebhook(testKey, testSecret, g.body); g.authorization != want {
			t.Errorf("Authorization %q, want %q for %s", g.authorization, want, g.body)
		}
		var ev event
		if err := json.Unmarshal(g.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ShopID != f.shop.ID || ev.Timestamp != f.clock.Now().Unix() || ev.TTSNotificationID == "" {
			t.Errorf("event envelope %s", g.body)
		}
		bodies[ev.TTSNotificationID] = append(bodies[ev.TTSNotificationID], g.body)
		var d struct {
			OrderID     string `json:"order_id"`
			OrderStatus string `json:"order_status"`
			CancelID    string `json:"cancel_id"`
		}
		json.Unmarshal(ev.Data, &d)
		if d.OrderID != id {
			t.Errorf("event about order %q, want %s", d.OrderID, id)
		}
		if ev.Type == 1 {
			statuses[d.OrderStatus] = true
		}
		types[ev.Type]++
	}
	for nid, bs := range bodies {
		if len(bs) != 2 || string(bs[0]) != string(bs[1]) {
			t.Errorf("notification %s: %d deliveries, want 2 with the same bytes", nid, len(bs))
		}
	}
	if !statuses["UNPAID"] || !statuses["AWAITING_SHIPMENT"] || !statuses["CANCELLED"] || types[11] != 2 {
		t.Errorf("statuses %v, types %v", statuses, types)
	}
	if st := f.sim.Stats(); st.WebhookAttempts != 8 || st.WebhooksFailed != 0 || st.WebhooksPending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookGivenUpAfterTheLastRetry(t *testing.T) {
	rc := &receiver{tries: map[string]int{}, down: true}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f := newFixture(t, tiktoksim.Options{WebhookRetryDelays: []time.Duration{5 * time.Millisecond, 5 * time.Millisecond}})
	f.addProduct("S1", 5, "10")
	// Subscribe through the API, as the service does at onboarding.
	f.ok("PUT", "/event/202309/webhooks", f.q(), `{"address":"`+hook.URL+`","event_type":"ORDER_STATUS_CHANGE"}`, nil)
	var subs struct {
		Webhooks []struct {
			Address   string `json:"address"`
			EventType string `json:"event_type"`
		} `json:"webhooks"`
	}
	f.ok("GET", "/event/202309/webhooks", f.q(), "", &subs)
	if len(subs.Webhooks) != 1 || subs.Webhooks[0].Address != hook.URL {
		t.Fatalf("subscriptions %+v", subs)
	}
	wantCode(t, "unknown event type", f.call("PUT", "/event/202309/webhooks", f.q(), `{"address":"https://x.example","event_type":"ORDER_CHANGE"}`), 200, 36009004, "event_type")
	wantCode(t, "not a URL", f.call("PUT", "/event/202309/webhooks", f.q(), `{"address":"x.example","event_type":"ORDER_STATUS_CHANGE"}`), 200, 36009004, "address")

	f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 1})
	waitFor(t, "two webhooks given up", func() bool { return f.sim.Stats().WebhooksFailed == 2 })
	if st := f.sim.Stats(); st.WebhookAttempts != 6 || st.WebhooksSent != 0 || st.WebhooksPending != 0 {
		t.Errorf("stats %+v, want 3 attempts per webhook", st)
	}

	f.ok("DELETE", "/event/202309/webhooks", f.q(), `{"event_type":"ORDER_STATUS_CHANGE"}`, nil)
	f.placeOrder(tiktoksim.NewOrderLine{SellerSKU: "S1", Quantity: 1})
	time.Sleep(30 * time.Millisecond)
	if st := f.sim.Stats(); st.WebhookAttempts != 6 {
		t.Errorf("a webhook was sent after unsubscribing: %+v", st)
	}
}
