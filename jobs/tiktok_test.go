package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/internal/web"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const (
	appKey, appSecret = "jobs-key", "jobs-secret"
	shopID            = "7000714532876273420"
	webhookURL        = "https://tiktokb1.example.com/webhooks/tiktok"
)

// fakeTikTok is a tiny stand-in for TikTok: the token endpoints, the shops of
// an authorisation, and webhook subscriptions, in TikTok's envelope.
type fakeTikTok struct {
	srv *httptest.Server

	mu            sync.Mutex
	seq           int
	refreshes     int
	subscriptions []map[string]string // event_type, address, shop_cipher, token
	// subscribe decides the answer to a subscription: nil accepts it.
	subscribe func(w http.ResponseWriter) bool
}

func newFakeTikTok(t *testing.T) *fakeTikTok {
	f := &fakeTikTok{}
	envelope := func(w http.ResponseWriter, code int, data any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": map[bool]string{true: "success", false: "refused"}[code == 0], "request_id": "r1", "data": data})
	}
	tokens := func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.URL.Query().Get("app_secret") != appSecret {
			envelope(w, 36009004, nil)
			return
		}
		if r.URL.Path == "/api/v2/token/refresh" {
			f.refreshes++
		}
		f.seq++
		envelope(w, 0, map[string]any{
			"access_token": fmt.Sprintf("access-%d", f.seq), "access_token_expire_in": time.Now().Add(7 * 24 * time.Hour).Unix(),
			"refresh_token": fmt.Sprintf("refresh-%d", f.seq), "refresh_token_expire_in": time.Now().Add(300 * 24 * time.Hour).Unix(),
			"open_id": "seller-1", "seller_name": "Seller One", "seller_base_region": "GB", "user_type": 0,
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/token/get", tokens)
	mux.HandleFunc("GET /api/v2/token/refresh", tokens)
	mux.HandleFunc("GET /authorization/202309/shops", func(w http.ResponseWriter, r *http.Request) {
		envelope(w, 0, map[string]any{"shops": []map[string]string{
			{"id": shopID, "name": "Maomao beauty", "region": "GB", "seller_type": "LOCAL", "cipher": "GCP_cipher1", "code": "CNGB1"},
		}})
	})
	// Order detail: every id asked for is an unpaid one-unit order.
	mux.HandleFunc("GET /order/202309/orders", func(w http.ResponseWriter, r *http.Request) {
		var orders []map[string]any
		for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
			orders = append(orders, map[string]any{
				"id": id, "status": "UNPAID", "create_time": 1718305585, "update_time": 1718305585,
				"payment":    map[string]string{"currency": "GBP", "sub_total": "5", "total_amount": "5"},
				"line_items": []map[string]any{{"id": id + "1", "seller_sku": "W1", "original_price": "5", "sale_price": "5"}},
			})
		}
		envelope(w, 0, map[string]any{"orders": orders})
	})
	mux.HandleFunc("PUT /event/202309/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		answer := f.subscribe
		f.mu.Unlock()
		if answer != nil && !answer(w) {
			return
		}
		f.mu.Lock()
		body["shop_cipher"] = r.URL.Query().Get("shop_cipher")
		body["token"] = r.Header.Get("x-tts-access-token")
		f.subscriptions = append(f.subscriptions, body)
		f.mu.Unlock()
		envelope(w, 0, nil)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTikTok) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// tiktokEnv is a database with one onboarded shop, the TikTok pieces the
// service builds, and jobs.Deps over them.
type tiktokEnv struct {
	pool  *pgxpool.Pool
	fake  *fakeTikTok
	store *shops.Store
	api   *tiktok.Client
	deps  jobs.Deps
}

func newTikTokEnv(t *testing.T) *tiktokEnv {
	t.Helper()
	ctx := context.Background()
	e := &tiktokEnv{pool: testdb.New(t), fake: newFakeTikTok(t)}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := shops.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tiktok.Config{AppKey: appKey, AppSecret: appSecret, APIURL: e.fake.srv.URL, AuthURL: e.fake.srv.URL}
	e.store = shops.NewStore(e.pool, sealer, tiktok.New(cfg), shops.StoreOptions{RefreshAhead: 24 * time.Hour})
	cfg.Tokens = e.store
	e.api = tiktok.New(cfg)
	e.deps = jobs.Deps{Pool: e.pool, TikTok: e.api, Shops: e.store, TikTokWebhookURL: webhookURL}

	// Onboard the shop (no jobs: the tests enqueue their own).
	ob := shops.NewOnboarding(e.pool, sealer, e.api, shops.OnboardingOptions{ServiceID: "svc"})
	link, err := ob.StartURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	state := link[strings.Index(link, "state=")+len("state="):]
	if _, err := ob.Complete(ctx, "code", state); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *tiktokEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// work runs one job through River's test worker and returns its result.
func work[T river.JobArgs](t *testing.T, e *tiktokEnv, worker river.Worker[T], args T) *rivertest.WorkResult {
	t.Helper()
	ctx := context.Background()
	tw := rivertest.NewWorker(t, riverpgxv5.New(e.pool), &river.Config{Schema: migrations.RiverSchema}, worker)
	tx, err := e.pool.Begin(ctx)
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

func TestSubscribeTikTokWebhooksSubscribesEveryType(t *testing.T) {
	e := newTikTokEnv(t)
	res := work(t, e, &jobs.SubscribeTikTokWebhooksWorker{Deps: e.deps}, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID})
	if res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("job %s: %v", res.EventKind, res.Job.Errors)
	}
	want := []string{"ORDER_STATUS_CHANGE", "RECIPIENT_ADDRESS_UPDATE", "CANCELLATION_STATUS_CHANGE", "SELLER_DEAUTHORIZATION",
		"UPCOMING_AUTHORIZATION_EXPIRATION", "PRODUCT_STATUS_CHANGE", "RETURN_STATUS_CHANGE"}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	if len(e.fake.subscriptions) != len(want) {
		t.Fatalf("subscriptions %v, want %v", e.fake.subscriptions, want)
	}
	for i, s := range e.fake.subscriptions {
		if s["event_type"] != want[i] || s["address"] != webhookURL || s["shop_cipher"] != "GCP_cipher1" || s["token"] != "access-1" {
			t.Errorf("subscription %d = %v, want %s to %s with the shop's cipher and token", i, s, want[i], webhookURL)
		}
	}
}

func TestSubscribeTikTokWebhooksSnoozesWhenRateLimited(t *testing.T) {
	e := newTikTokEnv(t)
	e.fake.mu.Lock()
	e.fake.subscribe = func(w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"code":36009002,"message":"Too many requests","request_id":"r2"}`)
		return false
	}
	e.fake.mu.Unlock()
	res := work(t, e, &jobs.SubscribeTikTokWebhooksWorker{Deps: e.deps}, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID})
	if res.EventKind != river.EventKindJobSnoozed {
		t.Fatalf("job %s, want snoozed", res.EventKind)
	}
	if d := time.Until(res.Job.ScheduledAt); d < 100*time.Second || d > 130*time.Second {
		t.Fatalf("snoozed until %s from now, want TikTok's 120 s", d)
	}
	if res.Job.Attempt != 0 {
		t.Fatalf("snoozing spent an attempt: attempt %d", res.Job.Attempt)
	}
	if n := e.count(t, "SELECT count(*) FROM ops.exception"); n != 0 {
		t.Fatal("a rate limit raised an exception")
	}
}

func TestSubscribeTikTokWebhooksCancelsOnPermanentErrors(t *testing.T) {
	e := newTikTokEnv(t)
	e.fake.mu.Lock()
	e.fake.subscribe = func(w http.ResponseWriter) bool {
		_, _ = io.WriteString(w, `{"code":36009004,"message":"invalid param: address","request_id":"r3"}`)
		return false
	}
	e.fake.mu.Unlock()
	res := work(t, e, &jobs.SubscribeTikTokWebhooksWorker{Deps: e.deps}, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID})
	if res.EventKind != river.EventKindJobCancelled {
		t.Fatalf("job %s, want cancelled", res.EventKind)
	}
	var msg string
	if err := e.pool.QueryRow(context.Background(), `SELECT message FROM ops.exception
		WHERE kind = 'tiktok_webhook_subscription_failed' AND owner_team = 'it' AND shop_id = $1 AND status = 'open'`, shopID).Scan(&msg); err != nil {
		t.Fatalf("no exception for IT: %v", err)
	}
	if !strings.Contains(msg, "invalid param: address") || !strings.Contains(msg, webhookURL) {
		t.Fatalf("exception message %q lacks TikTok's reason or the address", msg)
	}

	// Fixed (TikTok accepts now): the retried job completes and resolves it.
	e.fake.mu.Lock()
	e.fake.subscribe = nil
	e.fake.mu.Unlock()
	if res := work(t, e, &jobs.SubscribeTikTokWebhooksWorker{Deps: e.deps}, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID}); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("retry %s", res.EventKind)
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_webhook_subscription_failed' AND status = 'resolved' AND resolved_by = 'tiktokb1'`); n != 1 {
		t.Fatal("exception not resolved after a successful subscription")
	}
}

func TestSubscribeTikTokWebhooksTellsITWhenRetriesRunOut(t *testing.T) {
	ctx := context.Background()
	e := newTikTokEnv(t)
	e.fake.mu.Lock()
	e.fake.subscribe = func(w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, `upstream down`)
		return false
	}
	e.fake.mu.Unlock()
	tw := rivertest.NewWorker(t, riverpgxv5.New(e.pool), &river.Config{Schema: migrations.RiverSchema}, river.Worker[jobs.SubscribeTikTokWebhooksArgs](&jobs.SubscribeTikTokWebhooksWorker{Deps: e.deps}))
	for attempt, max := range []int{2, 1} { // a retry left, then none
		tx, err := e.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The worker's error comes back as err; the job is failed, not cancelled.
		res, err := tw.Work(ctx, t, tx, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID}, &river.InsertOpts{MaxAttempts: max})
		_ = tx.Rollback(ctx)
		if err == nil || !strings.Contains(err.Error(), "HTTP 502") || res == nil || res.EventKind != river.EventKindJobFailed {
			t.Fatalf("attempt %d: %v, %v", attempt, res, err)
		}
		want := attempt // no exception while retries remain, one when they ran out
		if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_webhook_subscription_failed' AND message LIKE '%HTTP 502%'`); n != want {
			t.Fatalf("after a failure with max attempts %d: %d exceptions, want %d", max, n, want)
		}
	}
}

func TestTikTokJobsWithoutTikTokCancelClearly(t *testing.T) {
	e := newTikTokEnv(t)
	none := jobs.Deps{Pool: e.pool}
	for _, res := range []*rivertest.WorkResult{
		work(t, e, &jobs.SubscribeTikTokWebhooksWorker{Deps: none}, jobs.SubscribeTikTokWebhooksArgs{ShopID: shopID}),
		work(t, e, &jobs.ProcessTikTokWebhookWorker{Deps: none}, jobs.ProcessTikTokWebhookArgs{EventID: 1}),
		work(t, e, &jobs.RefreshTikTokTokensWorker{Deps: none}, jobs.RefreshTikTokTokensArgs{}),
		work(t, e, &jobs.ReadTikTokInventoryWorker{Deps: none}, jobs.ReadTikTokInventoryArgs{ShopID: shopID}),
	} {
		if res.EventKind != river.EventKindJobCancelled || len(res.Job.Errors) == 0 || !strings.Contains(res.Job.Errors[0].Error, "TIKTOK_APP_KEY unset") {
			t.Errorf("%s without TikTok: %s %v", res.Job.Kind, res.EventKind, res.Job.Errors)
		}
	}
	if got, with := len(jobs.Periodic(none)), len(jobs.Periodic(e.deps)); got != with-5 {
		t.Errorf("periodic jobs: %d without TikTok, %d with; want refresh_tiktok_tokens, poll_tiktok_orders, poll_tiktok_cancellations, push_tiktok_inventory and read_tiktok_inventory only with", got, with)
	}
}

func TestRefreshTikTokTokensJob(t *testing.T) {
	e := newTikTokEnv(t)
	if res := work(t, e, &jobs.RefreshTikTokTokensWorker{Deps: e.deps}, jobs.RefreshTikTokTokensArgs{}); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("job %s", res.EventKind)
	}
	if e.fake.refreshCount() != 0 {
		t.Fatal("a fresh token was refreshed")
	}
	if _, err := e.pool.Exec(context.Background(), `UPDATE integration.tiktok_authorization SET access_expires_at = now() + interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if res := work(t, e, &jobs.RefreshTikTokTokensWorker{Deps: e.deps}, jobs.RefreshTikTokTokensArgs{}); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("job %s", res.EventKind)
	}
	if n := e.fake.refreshCount(); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE access_expires_at > now() + interval '6 days'`); n != 1 {
		t.Fatal("the refreshed token was not stored")
	}
}

// From TikTok's delivery to its effect: the webhook endpoint lands the event
// and enqueues its processing; River's workers act on it.
func TestWebhooksAreLandedThenProcessed(t *testing.T) {
	ctx := context.Background()
	e := newTikTokEnv(t)
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{
		Schema:            migrations.RiverSchema,
		Queues:            jobs.Queues(nil),
		Workers:           jobs.Workers(e.deps),
		FetchPollInterval: 100 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancelEvents := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancelEvents()
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
	srv := httptest.NewServer(web.NewHandler(web.Options{
		DB: e.pool, Metrics: metrics.New("test"),
		TikTok: &web.TikTok{AppKey: appKey, AppSecret: appSecret, DB: e.pool, Jobs: client},
	}))
	defer srv.Close()

	deliver := func(body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/tiktok", strings.NewReader(body))
		req.Header.Set("Authorization", tiktok.SignWebhook(appKey, appSecret, []byte(body)))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery answered %d", resp.StatusCode)
		}
	}
	// waitProcessed waits until the process job of notification id finished.
	waitProcessed := func(id string) {
		t.Helper()
		var eventID int64
		if err := e.pool.QueryRow(ctx, `SELECT id FROM tiktok.webhook_event WHERE notification_id = $1`, id).Scan(&eventID); err != nil {
			t.Fatalf("event %s not landed: %v", id, err)
		}
		deadline := time.After(15 * time.Second)
		for {
			select {
			case ev := <-events:
				var args jobs.ProcessTikTokWebhookArgs
				if ev.Job.Kind != args.Kind() || json.Unmarshal(ev.Job.EncodedArgs, &args) != nil || args.EventID != eventID {
					continue
				}
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("process job of %s: %s %v", id, ev.Kind, ev.Job.Errors)
				}
				return
			case <-deadline:
				t.Fatalf("event %s not processed within 15 s", id)
			}
		}
	}
	body := func(typ int, id, data string) string {
		return fmt.Sprintf(`{"type":%d,"tts_notification_id":"%s","shop_id":"%s","timestamp":%d,"data":%s}`, typ, id, shopID, time.Now().Add(time.Second).Unix(), data)
	}

	// 7, delivered on two days: one warning, counted twice.
	deliver(body(7, "n-7a", `{"message":"Authorization of shop_id is expirating in 30 days.","expiration_time":"1830297600"}`))
	waitProcessed("n-7a")
	deliver(body(7, "n-7b", `{"message":"Authorization of shop_id is expirating in 29 days.","expiration_time":1830297600}`))
	waitProcessed("n-7b")
	var occ int
	var msg string
	if err := e.pool.QueryRow(ctx, `SELECT occurrences, message FROM ops.exception WHERE kind = 'tiktok_authorization_expiring'
		AND severity = 'warning' AND owner_team = 'it' AND shop_id = $1 AND status = 'open'`, shopID).Scan(&occ, &msg); err != nil {
		t.Fatal(err)
	}
	if occ != 2 || !strings.Contains(msg, "2028-01-01 00:00 UTC") {
		t.Fatalf("expiry warning: %d occurrences, %q", occ, msg)
	}

	// An order status change: the order is read from TikTok and landed.
	deliver(body(1, "n-1", `{"order_id":576653688135258178,"order_status":"UNPAID","update_time":1718305585}`))
	waitProcessed("n-1")
	if n := e.count(t, `SELECT count(*) FROM tiktok."order" WHERE order_id = '576653688135258178' AND status = 'UNPAID'`); n != 1 {
		t.Fatal("the order of the status change was not landed")
	}

	// Data that does not decode: the event is closed with its error and IT
	// hears of it.
	deliver(body(7, "n-7bad", `{"expiration_time":"next tuesday"}`))
	waitProcessed("n-7bad")
	if n := e.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE notification_id = 'n-7bad' AND processed_at IS NOT NULL AND process_error LIKE '%next tuesday%'`); n != 1 {
		t.Fatal("undecodable event not closed with its error")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_webhook_unprocessable' AND shop_id = $1`, shopID); n != 1 {
		t.Fatal("no exception for the undecodable event")
	}

	// 6: the shop is deauthorised and IT is told.
	deliver(body(6, "n-6", `{"message":"Shop_id is deauthorized from your APP by merchant."}`))
	waitProcessed("n-6")
	if n := e.count(t, `SELECT count(*) FROM tiktok.shop WHERE id = $1 AND status = 'deauthorized' AND deauthorized_at IS NOT NULL`, shopID); n != 1 {
		t.Fatal("shop not deauthorized")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_deauthorized' AND severity = 'critical' AND owner_team = 'it' AND shop_id = $1 AND status = 'open'`, shopID); n != 1 {
		t.Fatal("no tiktok_deauthorized exception")
	}
	if _, err := e.store.AccessToken(ctx, shopID); !errors.Is(err, shops.ErrNotAuthorized) {
		t.Fatalf("AccessToken of a deauthorised shop: %v", err)
	}

	// Every event is processed once, with the jobs the endpoint enqueued.
	if n := e.count(t, `SELECT count(*) FROM tiktok.webhook_event WHERE processed_at IS NULL`); n != 0 {
		t.Fatalf("%d events unprocessed", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river.river_job WHERE kind = 'process_tiktok_webhook'`); n != 5 {
		t.Fatalf("%d process jobs, want one per event", n)
	}
	// A job for an event already processed changes nothing.
	var eventID int64
	_ = e.pool.QueryRow(ctx, `SELECT id FROM tiktok.webhook_event WHERE notification_id = 'n-7a'`).Scan(&eventID)
	if res := work(t, e, &jobs.ProcessTikTokWebhookWorker{Deps: e.deps}, jobs.ProcessTikTokWebhookArgs{EventID: eventID}); res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("rerun: %s", res.EventKind)
	}
	if err := e.pool.QueryRow(ctx, `SELECT occurrences FROM ops.exception WHERE kind = 'tiktok_authorization_expiring'`).Scan(&occ); err != nil || occ != 2 {
		t.Fatalf("rerunning a processed event raised again: occurrences %d, %v", occ, err)
	}
}
