package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/internal/web"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const appKey, appSecret = "webkey", "websecret"

// newFakeTikTok is a tiny stand-in for TikTok's token exchange and shop list,
// in TikTok's envelope: code "good" is exchangeable (once).
func newFakeTikTok(t *testing.T) *httptest.Server {
	used := false
	mux := http.NewServeMux()
	env := func(w http.ResponseWriter, code int, data any) {
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": "m", "request_id": "r", "data": data})
	}
	mux.HandleFunc("GET /api/v2/token/get", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("auth_code") != "good" || used {
			env(w, 36004004, nil)
			return
		}
		used = true
		env(w, 0, map[string]any{
			"access_token": "SECRET-ACCESS-TOKEN", "access_token_expire_in": time.Now().Add(7 * 24 * time.Hour).Unix(),
			"refresh_token": "SECRET-REFRESH-TOKEN", "refresh_token_expire_in": time.Now().Add(365 * 24 * time.Hour).Unix(),
			"open_id": "7010736057180325637", "seller_name": "Jjj test seller", "seller_base_region": "ID", "user_type": 0,
		})
	})
	mux.HandleFunc("GET /authorization/202309/shops", func(w http.ResponseWriter, r *http.Request) {
		env(w, 0, map[string]any{"shops": []map[string]any{
			{"cipher": "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3", "code": "CNGBCBA4LLU8", "id": "7000714532876273420",
				"name": "Maomao <beauty> shop", "region": "GB", "seller_type": "CROSS_BORDER"},
		}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type tiktokServer struct {
	pool *pgxpool.Pool
	srv  *httptest.Server
}

func newTikTokServer(t *testing.T) *tiktokServer {
	t.Helper()
	pool := testdb.New(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: migrations.RiverSchema})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, _ := shops.NewSealer(key)
	fake := newFakeTikTok(t)
	api := tiktok.New(tiktok.Config{AppKey: appKey, AppSecret: appSecret, APIURL: fake.URL, AuthURL: fake.URL})
	srv := httptest.NewServer(web.NewHandler(web.Options{
		DB: pool, Metrics: metrics.New("test"),
		TikTok: &web.TikTok{
			AppKey: appKey, AppSecret: appSecret, DB: pool, Jobs: inserter,
			Onboarding: shops.NewOnboarding(pool, sealer, api, shops.OnboardingOptions{
				AuthorizeURL:   "https://services.tiktokshop.com/open/authorize",
				ServiceID:      "svc-42",
				AfterAuthorize: jobs.EnqueueWebhookSubscriptions(inserter),
			}),
		},
	}))
	t.Cleanup(srv.Close)
	return &tiktokServer{pool: pool, srv: srv}
}

func (s *tiktokServer) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (s *tiktokServer) post(t *testing.T, body []byte, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/webhooks/tiktok", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sign(body []byte) string { return tiktok.SignWebhook(appKey, appSecret, body) }

// TikTok's official sample of an order status webhook.
const orderWebhook = `{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507","timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178","order_status":"UNPAID","update_time":1718305585}}`

func TestTikTokWebhookEndpoint(t *testing.T) {
	ctx := context.Background()
	s := newTikTokServer(t)
	body := []byte(orderWebhook)
	stored := func() int { return s.count(t, "SELECT count(*) FROM tiktok.webhook_event") }
	jobsEnqueued := func() int {
		return s.count(t, "SELECT count(*) FROM river.river_job WHERE kind = 'process_tiktok_webhook' AND queue = 'tiktok_read'")
	}

	// A valid delivery: landed byte for byte, one processing job.
	if code, resp := s.post(t, body, sign(body)); code != http.StatusOK || resp != `{"code":0}` {
		t.Fatalf("valid webhook: %d %s", code, resp)
	}
	var (
		id                     int64
		typ                    int
		shopID, notificationID string
		eventTime              time.Time
		raw, sum               []byte
		orderID                string
	)
	if err := s.pool.QueryRow(ctx, `SELECT id, notification_id, type, shop_id, event_time, body, body_sha256, body_json->'data'->>'order_id'
		FROM tiktok.webhook_event`).Scan(&id, &notificationID, &typ, &shopID, &eventTime, &raw, &sum, &orderID); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(body)
	if notificationID != "7380066284010030890" || typ != 1 || shopID != "7495540735365777507" || !eventTime.Equal(time.Unix(1718305585, 0)) ||
		!bytes.Equal(raw, body) || !bytes.Equal(sum, want[:]) || orderID != "576653688135258178" {
		t.Fatalf("landed %s type %d shop %s at %s, body %q", notificationID, typ, shopID, eventTime, raw)
	}
	var jobEvent int64
	if err := s.pool.QueryRow(ctx, `SELECT (args->>'event_id')::bigint FROM river.river_job WHERE kind = 'process_tiktok_webhook'`).Scan(&jobEvent); err != nil || jobEvent != id {
		t.Fatalf("process job for event %d, want %d (%v)", jobEvent, id, err)
	}

	// TikTok delivers it again: acknowledged, not stored or processed again.
	if code, resp := s.post(t, body, sign(body)); code != http.StatusOK || resp != `{"code":0}` {
		t.Fatalf("redelivery: %d %s", code, resp)
	}
	if stored() != 1 || jobsEnqueued() != 1 {
		t.Fatalf("after a redelivery: %d events, %d jobs; want 1 and 1", stored(), jobsEnqueued())
	}

	other := bytes.Replace(body, []byte("7380066284010030890"), []byte("7380066284010030891"), 1)
	changed := bytes.Replace(other, []byte(`"UNPAID"`), []byte(`"UNPAIX"`), 1)
	bad := []struct {
		name string
		body []byte
		auth string
		want int
	}{
		{"no signature", other, "", http.StatusUnauthorized},
		{"signature of another app", other, tiktok.SignWebhook(appKey, "other-secret", other), http.StatusUnauthorized},
		{"upper-case signature", other, strings.ToUpper(sign(other)), http.StatusUnauthorized},
		{"Bearer prefix", other, "Bearer " + sign(other), http.StatusUnauthorized},
		{"body changed by one byte", changed, sign(other), http.StatusUnauthorized},
		{"malformed JSON, valid signature", []byte(`{"type":1,`), sign([]byte(`{"type":1,`)), http.StatusBadRequest},
		{"no type, valid signature", []byte(`{"tts_notification_id":"x","shop_id":"1"}`), sign([]byte(`{"tts_notification_id":"x","shop_id":"1"}`)), http.StatusBadRequest},
		{"JSON array, valid signature", []byte(`[1]`), sign([]byte(`[1]`)), http.StatusBadRequest},
		{"type out of range, valid signature", []byte(`{"type":4294967296,"tts_notification_id":"x"}`), sign([]byte(`{"type":4294967296,"tts_notification_id":"x"}`)), http.StatusBadRequest},
	}
	for _, b := range bad {
		if code, _ := s.post(t, b.body, b.auth); code != b.want {
			t.Errorf("%s: %d, want %d", b.name, code, b.want)
		}
	}
	big := append([]byte(`{"type":1,"tts_notification_id":"big","data":{"pad":"`), bytes.Repeat([]byte("x"), web.MaxWebhookBody)...)
	big = append(big, []byte(`"}}`)...)
	if code, _ := s.post(t, big, sign(big)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", code)
	}
	if stored() != 1 || jobsEnqueued() != 1 {
		t.Fatalf("refused deliveries stored something: %d events, %d jobs", stored(), jobsEnqueued())
	}

	// Valid JSON that Postgres's jsonb cannot hold: the raw bytes still land.
	nul := []byte(`{"type":5,"tts_notification_id":"n-nul","shop_id":7495540735365777507,"timestamp":"1718305585","data":{"product_id":1729,"status":"a\u0000b"}}`)
	if code, resp := s.post(t, nul, sign(nul)); code != http.StatusOK {
		t.Fatalf("webhook with \\u0000: %d %s", code, resp)
	}
	if n := s.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE notification_id = 'n-nul' AND body_json IS NULL
		AND body = $1 AND shop_id = '7495540735365777507' AND type = 5`, nul); n != 1 {
		t.Fatal("webhook with \\u0000 not landed as raw bytes")
	}

	// TikTok documents events without tts_notification_id: they land under
	// an id from their hash, so a redelivery of the same bytes is a duplicate.
	noID := []byte(`{"type":6,"shop_id":"7494049642642441621","timestamp":1644412885,"data":{"message":"Shop_id {xxx} is deauthorized from your APP by merchant."}}`)
	for range 2 {
		if code, _ := s.post(t, noID, sign(noID)); code != http.StatusOK {
			t.Fatalf("webhook without notification id: %d", code)
		}
	}
	if n := s.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE type = 6 AND notification_id LIKE 'sha256-%'`); n != 1 {
		t.Fatalf("webhook without notification id landed %d times, want once", n)
	}

	_, text := get(t, s.srv, "/metrics")
	for _, want := range []string{
		`tiktokb1_tiktok_webhooks_total{outcome="stored"} 3`,
		`tiktokb1_tiktok_webhooks_total{outcome="duplicate"} 2`,
		`tiktokb1_tiktok_webhooks_total{outcome="bad_signature"} 5`,
		`tiktokb1_tiktok_webhooks_total{outcome="malformed"} 4`,
		`tiktokb1_tiktok_webhooks_total{outcome="too_large"} 1`,
		`tiktokb1_tiktok_webhooks_total{outcome="error"} 0`,
		`tiktokb1_http_requests_total{code="401",route="tiktok_webhook"} 5`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestTikTokOAuthRoutes(t *testing.T) {
	s := newTikTokServer(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := func() string {
		t.Helper()
		resp, err := noRedirect.Get(s.srv.URL + "/oauth/tiktok/start")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || loc.Host != "services.tiktokshop.com" || loc.Path != "/open/authorize" ||
			loc.Query().Get("service_id") != "svc-42" || len(loc.Query().Get("state")) != 64 {
			t.Fatalf("start: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("state")
	}
	callback := func(code, state string) (int, string) {
		t.Helper()
		return get(t, s.srv, "/oauth/tiktok/callback?"+url.Values{"code": {code}, "state": {state}}.Encode())
	}
	nothingStored := func() {
		t.Helper()
		for _, tbl := range []string{"integration.tiktok_authorization", "tiktok.shop", "river.river_job"} {
			if n := s.count(t, "SELECT count(*) FROM "+tbl); n != 0 {
				t.Fatalf("%s has %d rows", tbl, n)
			}
		}
	}

	// A state this service never handed out, and an expired one.
	expired := start()
	if _, err := s.pool.Exec(context.Background(), `UPDATE integration.oauth_state SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 minute' WHERE state = $1`, expired); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{fmt.Sprintf("%064x", 1), expired, "<script>"} {
		code, page := callback("good", state)
		if code != http.StatusBadRequest || !strings.Contains(page, "/oauth/tiktok/start") || !strings.Contains(page, "Start again") || strings.Contains(page, "<script>") {
			t.Fatalf("callback with state %q: %d %s", state, code, page)
		}
	}
	nothingStored()

	state := start()
	code, page := callback("good", state)
	if code != http.StatusOK || !strings.Contains(page, "Maomao &lt;beauty&gt; shop") || !strings.Contains(page, "7000714532876273420") {
		t.Fatalf("callback: %d %s", code, page)
	}
	if strings.Contains(page, "SECRET") || strings.Contains(page, "GCP_") {
		t.Fatalf("the page shows a token or cipher: %s", page)
	}
	if n := s.count(t, `SELECT count(*) FROM tiktok.shop WHERE id = '7000714532876273420' AND status = 'active'`); n != 1 {
		t.Fatal("shop not stored")
	}
	if n := s.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'subscribe_tiktok_webhooks' AND args->>'shop_id' = '7000714532876273420'`); n != 1 {
		t.Fatal("subscription job not enqueued")
	}

	// The same callback again (a reload): refused, nothing changes.
	if code, page := callback("good", state); code != http.StatusBadRequest || !strings.Contains(page, "/oauth/tiktok/start") {
		t.Fatalf("reused state: %d %s", code, page)
	}
	if n := s.count(t, `SELECT count(*) FROM river.river_job`); n != 1 {
		t.Fatal("a reused state enqueued jobs")
	}
}

func TestNoTikTokRoutesWithoutTikTok(t *testing.T) {
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: fakePinger{}, Metrics: metrics.New("test")}))
	defer srv.Close()
	for _, path := range []string{"/oauth/tiktok/start", "/oauth/tiktok/callback"} {
		if code, _ := get(t, srv, path); code != http.StatusNotFound {
			t.Errorf("GET %s without TikTok: %d, want 404", path, code)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/webhooks/tiktok", "application/json", strings.NewReader(orderWebhook))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /webhooks/tiktok without TikTok: %d, want 404", resp.StatusCode)
	}
}

type fakePinger struct{}

func (fakePinger) Ping(context.Context) error { return nil }
