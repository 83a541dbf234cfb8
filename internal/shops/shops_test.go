package shops_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

const onboardingURL = "https://tiktokb1.example.com/oauth/tiktok/start"

// env is one test's database, fake TikTok, store and onboarding.
type env struct {
	dbURL      string
	pool       *pgxpool.Pool
	fake       *fakeTikTok
	key        []byte
	store      *shops.Store
	onboarding *shops.Onboarding
	inserter   *river.Client[pgx.Tx]
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dbURL: testdb.NewURL(t), fake: newFakeTikTok(t), key: make([]byte, 32)}
	var err error
	if e.pool, err = pgxpool.New(context.Background(), e.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pool.Close)
	_, _ = rand.Read(e.key)
	sealer, err := shops.NewSealer(e.key)
	if err != nil {
		t.Fatal(err)
	}
	e.store, _ = newStore(e.pool, sealer, e.fake.srv.URL, e.fake.appKey, e.fake.appSecret)
	api := tiktok.New(tiktok.Config{AppKey: e.fake.appKey, AppSecret: e.fake.appSecret, APIURL: e.fake.srv.URL, AuthURL: e.fake.srv.URL, Tokens: e.store})
	// An insert-only River client, as the service's own would insert.
	if e.inserter, err = river.NewClient(riverpgxv5.New(e.pool), &river.Config{Schema: migrations.RiverSchema}); err != nil {
		t.Fatal(err)
	}
	e.onboarding = shops.NewOnboarding(e.pool, sealer, api, shops.OnboardingOptions{
		ServiceID:      "svc-7001",
		AfterAuthorize: jobs.EnqueueWebhookSubscriptions(e.inserter),
	})
	return e
}

// newStore builds a Store the way the service does: it refreshes through a
// client of its own.
func newStore(pool *pgxpool.Pool, sealer *shops.Sealer, tiktokURL, appKey, appSecret string) (*shops.Store, *tiktok.Client) {
	auth := tiktok.New(tiktok.Config{AppKey: appKey, AppSecret: appSecret, APIURL: tiktokURL, AuthURL: tiktokURL})
	return shops.NewStore(pool, sealer, auth, shops.StoreOptions{RefreshAhead: 24 * time.Hour, OnboardingURL: onboardingURL}), auth
}

// start returns the state of a fresh authorisation link.
func (e *env) start(t *testing.T) string {
	t.Helper()
	link, err := e.onboarding.StartURL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// onboard authorises seller through a fresh link.
func (e *env) onboard(t *testing.T, code string, seller fakeSeller) shops.Authorized {
	t.Helper()
	e.fake.grant(code, seller)
	res, err := e.onboarding.Complete(context.Background(), code, e.start(t))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	return res
}

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (e *env) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) jobShops(t *testing.T) []string {
	t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT args->>'shop_id' FROM river.river_job WHERE kind = 'subscribe_tiktok_webhooks' AND queue = 'tiktok_write' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

var seller1 = fakeSeller{OpenID: "7010736057180325637", Name: "Maomao beauty", Shops: []map[string]string{
	shop("7000714532876273420", "Maomao beauty GB"),
	shop("7000714532876273421", "Maomao beauty FR"),
}}

var seller2 = fakeSeller{OpenID: "7010736057180320002", Name: "Solo seller", Shops: []map[string]string{
	shop("7000714532876270002", "Solo shop"),
}}

func TestOnboardingStoresShopsAndEnqueuesSubscriptions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)

	link, err := e.onboarding.StartURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	state := u.Query().Get("state")
	if u.Scheme+"://"+u.Host+u.Path != "https://services.tiktokshop.com/open/authorize" || u.Query().Get("service_id") != "svc-7001" {
		t.Fatalf("link %s, want TikTok's authorize page with service_id", link)
	}
	if b, err := hex.DecodeString(state); err != nil || len(b) != 32 {
		t.Fatalf("state %q is not 32 bytes of hex", state)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.oauth_state WHERE state = $1 AND used_at IS NULL
		AND expires_at BETWEEN now() + interval '29 minutes' AND now() + interval '31 minutes'`, state); n != 1 {
		t.Fatalf("state row for 30 minutes: %d", n)
	}

	e.fake.grant("code-1", seller1)
	res, err := e.onboarding.Complete(ctx, "code-1", state)
	if err != nil {
		t.Fatal(err)
	}
	if res.OpenID != seller1.OpenID || res.SellerName != "Maomao beauty" || len(res.Shops) != 2 {
		t.Fatalf("Complete = %+v", res)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE open_id = $1 AND status = 'active'
		AND seller_name = 'Maomao beauty' AND granted_scopes = '{seller.authorization.info,seller.order.info}'
		AND access_expires_at > now() + interval '6 days' AND refresh_expires_at > now() + interval '300 days'`, seller1.OpenID); n != 1 {
		t.Fatalf("authorisation rows: %d", n)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.shop WHERE open_id = $1 AND status = 'active'
		AND cipher = 'GCP_' || id AND region = 'GB' AND seller_type = 'LOCAL' AND deauthorized_at IS NULL`, seller1.OpenID); n != 2 {
		t.Fatalf("shop rows: %d", n)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.oauth_state WHERE state = $1 AND used_at IS NOT NULL`, state); n != 1 {
		t.Fatal("state not marked used")
	}
	if got := e.jobShops(t); strings.Join(got, ",") != "7000714532876273420,7000714532876273421" {
		t.Fatalf("subscription jobs for %v, want one per shop", got)
	}

	// The jobs are enqueued in the transaction that stores the shops: when
	// that transaction fails, neither the shops nor the jobs exist.
	sealer, _ := shops.NewSealer(e.key)
	failing := shops.NewOnboarding(e.pool, sealer, tiktok.New(tiktok.Config{AppKey: e.fake.appKey, AppSecret: e.fake.appSecret, APIURL: e.fake.srv.URL, AuthURL: e.fake.srv.URL}),
		shops.OnboardingOptions{ServiceID: "svc-7001", AfterAuthorize: func(ctx context.Context, tx pgx.Tx, ids []string) error {
			if err := jobs.EnqueueWebhookSubscriptions(e.inserter)(ctx, tx, ids); err != nil {
				return err
			}
			return errors.New("boom after enqueueing")
		}})
	e.fake.grant("code-2", seller2)
	if _, err := failing.Complete(ctx, "code-2", e.start(t)); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Complete with a failing transaction = %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE open_id = $1`, seller2.OpenID); n != 0 {
		t.Fatal("authorisation stored although its transaction failed")
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.shop WHERE open_id = $1`, seller2.OpenID); n != 0 {
		t.Fatal("shop stored although its transaction failed")
	}
	if got := e.jobShops(t); len(got) != 2 {
		t.Fatalf("jobs after the failed transaction: %v, want the first two only", got)
	}
}

func TestOnboardingRefusesBadStatesAndStoresNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	nothingStored := func(t *testing.T) {
		t.Helper()
		for _, tbl := range []string{"integration.tiktok_authorization", "tiktok.shop", "river.river_job"} {
			if n := e.count(t, "SELECT count(*) FROM "+tbl); n != 0 {
				t.Fatalf("%s has %d rows after a refused callback", tbl, n)
			}
		}
	}
	e.fake.grant("good-code", seller1)

	unknown := hex.EncodeToString(make([]byte, 32))
	expired := e.start(t)
	e.exec(t, `UPDATE integration.oauth_state SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE state = $1`, expired)
	cases := []struct{ name, code, state, reason string }{
		{"unknown state", "good-code", unknown, "not handed out"},
		{"garbage state", "good-code", "'; DROP TABLE tiktok.shop; --", "not handed out"},
		{"no state", "good-code", "", "no state"},
		{"expired state", "good-code", expired, "expired"},
		{"no code", "", e.start(t), "no authorisation code"},
	}
	for _, c := range cases {
		_, err := e.onboarding.Complete(ctx, c.code, c.state)
		if !errors.Is(err, shops.ErrStartAgain) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: Complete = %v, want ErrStartAgain (%s)", c.name, err, c.reason)
		}
	}
	if gets, _ := e.fake.counts(); gets != 0 {
		t.Fatalf("TikTok's token endpoint was called %d times for refused states", gets)
	}
	nothingStored(t)

	// A code TikTok refuses: start again, nothing stored.
	if _, err := e.onboarding.Complete(ctx, "made-up-code", e.start(t)); !errors.Is(err, shops.ErrStartAgain) {
		t.Fatalf("refused code: %v, want ErrStartAgain", err)
	}
	nothingStored(t)

	// A state is accepted once: replaying the callback (even with a new code)
	// is refused without calling TikTok.
	state := e.start(t)
	if _, err := e.onboarding.Complete(ctx, "good-code", state); err != nil {
		t.Fatal(err)
	}
	getsBefore, _ := e.fake.counts()
	authBefore := e.count(t, "SELECT count(*) FROM integration.tiktok_authorization")
	e.fake.grant("second-code", seller2)
	if _, err := e.onboarding.Complete(ctx, "second-code", state); !errors.Is(err, shops.ErrStartAgain) || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("reused state: %v, want ErrStartAgain (used)", err)
	}
	if gets, _ := e.fake.counts(); gets != getsBefore {
		t.Fatal("a reused state reached TikTok")
	}
	if n := e.count(t, "SELECT count(*) FROM integration.tiktok_authorization"); n != authBefore {
		t.Fatal("a reused state stored an authorisation")
	}
}

func TestTokensAreStoredEncrypted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller1)
	access, err := e.store.AccessToken(ctx, "7000714532876273420")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(access, "TTACCESS-") {
		t.Fatalf("AccessToken = %q, want the token TikTok issued", access)
	}
	e.fake.mu.Lock()
	var plain []string
	for tok := range e.fake.access {
		plain = append(plain, tok)
	}
	for tok := range e.fake.refresh {
		plain = append(plain, tok)
	}
	e.fake.mu.Unlock()

	var accEnc, refEnc []byte
	var rowText string
	if err := e.pool.QueryRow(ctx, `SELECT access_token_enc, refresh_token_enc, t::text FROM integration.tiktok_authorization t`).Scan(&accEnc, &refEnc, &rowText); err != nil {
		t.Fatal(err)
	}
	var everything string // every column of every table this feature writes, as text
	if err := e.pool.QueryRow(ctx, `SELECT concat_ws('|', (SELECT string_agg(t::text, '') FROM integration.tiktok_authorization t),
		(SELECT string_agg(s::text, '') FROM tiktok.shop s), (SELECT string_agg(j.args::text, '') FROM river.river_job j))`).Scan(&everything); err != nil {
		t.Fatal(err)
	}
	for _, tok := range plain {
		for _, where := range [][]byte{accEnc, refEnc, []byte(rowText), []byte(everything)} {
			if bytes.Contains(where, []byte(tok)) || bytes.Contains(where, []byte("plaintext")) {
				t.Fatalf("token %s appears in the database in clear", tok)
			}
		}
	}

	// Another key cannot read them, and says so without showing them.
	otherKey := make([]byte, 32)
	_, _ = rand.Read(otherKey)
	sealer, _ := shops.NewSealer(otherKey)
	other, _ := newStore(e.pool, sealer, e.fake.srv.URL, e.fake.appKey, e.fake.appSecret)
	_, err = other.AccessToken(ctx, "7000714532876273420")
	if !errors.Is(err, shops.ErrTokenUndecryptable) || strings.Contains(err.Error(), "TTACCESS") {
		t.Fatalf("AccessToken with another key = %v, want ErrTokenUndecryptable", err)
	}
	if _, err := e.store.AccessToken(ctx, "123"); !errors.Is(err, shops.ErrUnknownShop) {
		t.Fatalf("unknown shop: %v", err)
	}
}

func TestAccessTokenIsRefreshedAheadOfExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller1)
	const shopID = "7000714532876273421"
	first, err := e.store.AccessToken(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	if _, n := e.fake.counts(); n != 0 {
		t.Fatalf("a fresh token was refreshed %d times", n)
	}
	var refreshBefore []byte
	_ = e.pool.QueryRow(ctx, `SELECT refresh_token_enc FROM integration.tiktok_authorization`).Scan(&refreshBefore)

	// Within the 24h window: refreshed before use, both tokens replaced.
	e.exec(t, `UPDATE integration.tiktok_authorization SET access_expires_at = now() + interval '2 hours'`)
	second, err := e.store.AccessToken(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("token not refreshed within the refresh-ahead window")
	}
	if _, n := e.fake.counts(); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}
	var refreshAfter []byte
	var accessAt time.Time
	_ = e.pool.QueryRow(ctx, `SELECT refresh_token_enc, access_expires_at FROM integration.tiktok_authorization`).Scan(&refreshAfter, &accessAt)
	if bytes.Equal(refreshBefore, refreshAfter) || time.Until(accessAt) < 6*24*time.Hour {
		t.Fatal("the rotated refresh token or the new expiry was not stored")
	}
	// Both shops of the authorisation use the new token; no more refreshes.
	for _, id := range []string{shopID, "7000714532876273420"} {
		if got, err := e.store.AccessToken(ctx, id); err != nil || got != second {
			t.Fatalf("AccessToken(%s) = %q, %v; want the refreshed token", id, got, err)
		}
	}
	// TikTok rejected the old token (105002) in some caller: the one stored
	// is newer and fresh, so it is returned without refreshing again.
	if got, err := e.store.RefreshAccessToken(ctx, shopID, first); err != nil || got != second {
		t.Fatalf("RefreshAccessToken(stale) = %q, %v", got, err)
	}
	// TikTok rejected the current one: refresh.
	third, err := e.store.RefreshAccessToken(ctx, shopID, second)
	if err != nil || third == second {
		t.Fatalf("RefreshAccessToken(current) = %q, %v; want a new token", third, err)
	}
	if _, n := e.fake.counts(); n != 2 {
		t.Fatalf("refreshes = %d, want 2", n)
	}
}

func TestRefreshDueRefreshesOnlyExpiringAuthorisations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller1)
	e.onboard(t, "code-2", seller2)
	e.exec(t, `UPDATE integration.tiktok_authorization SET access_expires_at = now() + interval '3 hours' WHERE open_id = $1`, seller2.OpenID)
	n, err := e.store.RefreshDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RefreshDue = %d, %v; want 1", n, err)
	}
	if _, r := e.fake.counts(); r != 1 {
		t.Fatalf("TikTok refreshes = %d, want 1", r)
	}
	if n, err := e.store.RefreshDue(ctx); err != nil || n != 0 {
		t.Fatalf("second RefreshDue = %d, %v; want nothing due", n, err)
	}
}

func TestExpiredRefreshTokenAsksForReauthorisation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller2)
	const shopID = "7000714532876270002"
	current, err := e.store.AccessToken(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.mu.Lock()
	e.fake.refreshCode = tiktok.CodeRefreshTokenExpired
	e.fake.mu.Unlock()

	_, err = e.store.RefreshAccessToken(ctx, shopID, current)
	if !errors.Is(err, shops.ErrNotAuthorized) || !errors.Is(err, tiktok.ErrRefreshTokenExpired) {
		t.Fatalf("RefreshAccessToken = %v, want ErrNotAuthorized wrapping ErrRefreshTokenExpired", err)
	}
	if strings.Contains(err.Error(), "TTREFRESH") || strings.Contains(err.Error(), "TTACCESS") {
		t.Fatalf("error shows a token: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE status = 'reauthorize'`); n != 1 {
		t.Fatal("authorisation not marked reauthorize")
	}
	exceptions := func() (n, occurrences int, message string) {
		t.Helper()
		err := e.pool.QueryRow(ctx, `SELECT count(*) OVER (), occurrences, message FROM ops.exception
			WHERE kind = 'tiktok_reauthorize' AND owner_team = 'it' AND severity = 'critical' AND shop_id = $1 AND status = 'open'`, shopID).Scan(&n, &occurrences, &message)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, 0, ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return n, occurrences, message
	}
	n, occ, msg := exceptions()
	if n != 1 || occ != 1 || !strings.Contains(msg, onboardingURL) || !strings.Contains(msg, "Solo shop") {
		t.Fatalf("exceptions = %d (occurrences %d): %q", n, occ, msg)
	}
	if total := e.count(t, `SELECT count(*) FROM ops.exception`); total != 1 {
		t.Fatalf("%d exceptions, want one", total)
	}

	// Later calls fail at once, without asking TikTok again or adding rows.
	if _, err := e.store.AccessToken(ctx, shopID); !errors.Is(err, shops.ErrNotAuthorized) {
		t.Fatalf("AccessToken after: %v", err)
	}
	if _, err := e.store.RefreshAccessToken(ctx, shopID, current); !errors.Is(err, shops.ErrNotAuthorized) {
		t.Fatalf("RefreshAccessToken after: %v", err)
	}
	if n, err := e.store.RefreshDue(ctx); err != nil || n != 0 {
		t.Fatalf("RefreshDue after: %d, %v", n, err)
	}
	if _, r := e.fake.counts(); r != 1 {
		t.Fatalf("TikTok refreshes = %d, want 1", r)
	}
	if n, occ, _ := exceptions(); n != 1 || occ != 1 {
		t.Fatalf("exceptions after: %d (occurrences %d)", n, occ)
	}

	// The seller authorises again: tokens replaced, status active, the
	// exception resolved by tiktokb1, subscriptions enqueued again.
	e.fake.mu.Lock()
	e.fake.refreshCode = 0
	e.fake.mu.Unlock()
	e.onboard(t, "code-2", seller2)
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE status = 'active'`); n != 1 {
		t.Fatal("authorisation not active after re-authorisation")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_reauthorize' AND status = 'resolved'
		AND resolved_by = 'tiktokb1' AND resolution = 'auto: shop re-authorised'`); n != 1 {
		t.Fatal("tiktok_reauthorize not resolved by the re-authorisation")
	}
	if got, err := e.store.AccessToken(ctx, shopID); err != nil || got == current {
		t.Fatalf("AccessToken after re-authorisation = %q, %v; want the new token", got, err)
	}
	if got := e.jobShops(t); len(got) != 2 {
		t.Fatalf("subscription jobs %v, want one per authorisation", got)
	}
}

func TestDeauthorisationAndExpiryWarnings(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller1)
	const shopA, shopB = "7000714532876273420", "7000714532876273421"

	// An expiry warning, repeated daily: one row, occurrences counting.
	expires := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for range 2 {
		if ok, err := e.store.AuthorizationExpiring(ctx, e.pool, shopA, expires, "expiring in 30 days"); err != nil || !ok {
			t.Fatalf("AuthorizationExpiring = %v, %v", ok, err)
		}
	}
	var occ int
	var msg, details string
	if err := e.pool.QueryRow(ctx, `SELECT occurrences, message, details::text FROM ops.exception
		WHERE kind = 'tiktok_authorization_expiring' AND severity = 'warning' AND owner_team = 'it' AND shop_id = $1`, shopA).Scan(&occ, &msg, &details); err != nil {
		t.Fatal(err)
	}
	if occ != 2 || !strings.Contains(msg, "2027-03-01 12:00 UTC") || !strings.Contains(details, `"expiration_time": "2027-03-01T12:00:00Z"`) {
		t.Fatalf("expiry warning: %d occurrences, %q, %s", occ, msg, details)
	}
	if ok, _ := e.store.AuthorizationExpiring(ctx, e.pool, "999", expires, ""); ok {
		t.Fatal("warned about a shop that is not onboarded")
	}

	// A redelivered deauthorisation sent before the shop's last authorisation
	// changes nothing.
	old := time.Now().Add(-time.Hour)
	if ok, err := e.store.Deauthorized(ctx, e.pool, shopA, &old, "old news"); err != nil || ok {
		t.Fatalf("stale Deauthorized = %v, %v; want no change", ok, err)
	}
	now := time.Now().Add(time.Second)
	if ok, err := e.store.Deauthorized(ctx, e.pool, shopA, &now, "Shop_id is deauthorized from your APP by merchant."); err != nil || !ok {
		t.Fatalf("Deauthorized = %v, %v", ok, err)
	}
	if ok, err := e.store.Deauthorized(ctx, e.pool, shopA, &now, "again"); err != nil || ok {
		t.Fatalf("second Deauthorized = %v, %v; want no change", ok, err)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.shop WHERE id = $1 AND status = 'deauthorized' AND deauthorized_at IS NOT NULL`, shopA); n != 1 {
		t.Fatal("shop not deauthorized")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_deauthorized' AND severity = 'critical' AND owner_team = 'it' AND shop_id = $1 AND occurrences = 1`, shopA); n != 1 {
		t.Fatal("no single tiktok_deauthorized exception")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_authorization_expiring' AND status = 'resolved'`); n != 1 {
		t.Fatal("the expiry warning of a deauthorised shop is still open")
	}
	// The other shop still works; the authorisation stays active until its
	// last shop goes.
	if _, err := e.store.AccessToken(ctx, shopB); err != nil {
		t.Fatalf("other shop: %v", err)
	}
	if _, err := e.store.AccessToken(ctx, shopA); !errors.Is(err, shops.ErrNotAuthorized) {
		t.Fatalf("deauthorised shop: %v", err)
	}
	if ok, err := e.store.Deauthorized(ctx, e.pool, shopB, nil, ""); err != nil || !ok {
		t.Fatalf("Deauthorized(B) = %v, %v", ok, err)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_authorization WHERE status = 'deauthorized'`); n != 1 {
		t.Fatal("authorisation with no active shop left is not deauthorized")
	}

	// Authorising again reactivates both shops and resolves their exceptions.
	e.onboard(t, "code-2", seller1)
	if n := e.count(t, `SELECT count(*) FROM tiktok.shop WHERE status = 'active' AND deauthorized_at IS NULL`); n != 2 {
		t.Fatal("shops not reactivated")
	}
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'tiktok_deauthorized' AND status = 'resolved' AND resolved_by = 'tiktokb1'`); n != 2 {
		t.Fatal("tiktok_deauthorized not resolved by the re-authorisation")
	}
}

// The refresh race: two processes hold the same expired token and refresh at
// once. TikTok is asked once; both end up with the one new token.
const raceChildEnv = "SHOPS_TEST_REFRESH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(raceChildEnv) == "1" {
		os.Exit(refreshChild())
	}
	if os.Getenv(simChildEnv) == "1" {
		os.Exit(simChild())
	}
	os.Exit(m.Run())
}

// refreshChild is one competing process: it prints "ready", waits for "go" on
// stdin, calls RefreshAccessToken and prints the token it got.
func refreshChild() int {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("CHILD_DATABASE_URL"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		fmt.Println("error", err)
		return 1
	}
	key, _ := hex.DecodeString(os.Getenv("CHILD_TOKEN_KEY"))
	sealer, err := shops.NewSealer(key)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	store, _ := newStore(pool, sealer, os.Getenv("CHILD_TIKTOK_URL"), os.Getenv("CHILD_APP_KEY"), os.Getenv("CHILD_APP_SECRET"))
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("error", err)
		return 1
	}
	tok, err := store.RefreshAccessToken(ctx, os.Getenv("CHILD_SHOP_ID"), os.Getenv("CHILD_REJECTED"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("token", tok)
	return 0
}

func TestRefreshRaceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.onboard(t, "code-1", seller1)
	const shopID = "7000714532876273420"
	expired, err := e.store.AccessToken(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	e.exec(t, `UPDATE integration.tiktok_authorization SET access_expires_at = now() - interval '1 minute'`)

	// TikTok answers the first refresh only once the other process is seen
	// waiting for the authorisation's row lock: the race really happens, and
	// the lock is what settles it.
	var sawWaiter bool
	var once sync.Once
	e.fake.beforeRefresh = func() {
		once.Do(func() {
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) {
				var n int
				_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`).Scan(&n)
				if n > 0 {
					sawWaiter = true
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for range 2 {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(),
			raceChildEnv+"=1",
			"CHILD_DATABASE_URL="+e.dbURL,
			"CHILD_TOKEN_KEY="+hex.EncodeToString(e.key),
			"CHILD_TIKTOK_URL="+e.fake.srv.URL,
			"CHILD_APP_KEY="+e.fake.appKey,
			"CHILD_APP_SECRET="+e.fake.appSecret,
			"CHILD_SHOP_ID="+shopID,
			"CHILD_REJECTED="+expired,
		)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c := child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
		if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child: %q, %v", line, err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	var tokens []string
	for _, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "token ") {
			t.Fatalf("child answered %q, %v", line, err)
		}
		tokens = append(tokens, strings.TrimSpace(strings.TrimPrefix(line, "token ")))
	}
	if _, n := e.fake.counts(); n != 1 {
		t.Fatalf("TikTok's refresh endpoint was called %d times, want exactly once", n)
	}
	if !sawWaiter {
		t.Fatal("the second process was never seen waiting for the row lock: the race did not happen")
	}
	if tokens[0] != tokens[1] || tokens[0] == expired || !strings.HasPrefix(tokens[0], "TTACCESS-") {
		t.Fatalf("processes got %v, want the same new token (old %s)", tokens, expired)
	}
	if got, err := e.store.AccessToken(ctx, shopID); err != nil || got != tokens[0] {
		t.Fatalf("stored token %q, %v; want %s", got, err, tokens[0])
	}
}
