package shops_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeTikTok is a tiny stand-in for TikTok's token host and
// /authorization/202309/shops, speaking TikTok's envelope. It issues tokens
// for the auth codes it was given, rotates refresh tokens, and counts calls.
// (The full simulator lives in internal/sim/tiktoksim.)
type fakeTikTok struct {
	srv               *httptest.Server
	appKey, appSecret string

	mu       sync.Mutex
	seq      int
	codes    map[string]fakeSeller // auth code (single use) → seller
	access   map[string]string     // live access token → open_id
	refresh  map[string]string     // live refresh token → open_id
	sellers  map[string]fakeSeller // open_id → seller
	gets     int
	refreshs int
	// refreshCode, when not 0, is the error code of every refresh.
	refreshCode int
	// beforeRefresh runs (without the lock) before a refresh answers.
	beforeRefresh func()
	// accessTTL is the lifetime of issued access tokens; default 7 days.
	accessTTL time.Duration
}

type fakeSeller struct {
	OpenID, Name string
	Shops        []map[string]string
}

func newFakeTikTok(t *testing.T) *fakeTikTok {
	f := &fakeTikTok{
		appKey: "testkey", appSecret: "testsecret",
		codes: map[string]fakeSeller{}, access: map[string]string{}, refresh: map[string]string{}, sellers: map[string]fakeSeller{},
		accessTTL: 7 * 24 * time.Hour,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/token/get", f.tokenGet)
	mux.HandleFunc("GET /api/v2/token/refresh", f.tokenRefresh)
	mux.HandleFunc("GET /authorization/202309/shops", f.shops)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// grant makes code exchangeable once for seller's tokens.
func (f *fakeTikTok) grant(code string, s fakeSeller) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[code] = s
	f.sellers[s.OpenID] = s
}

func (f *fakeTikTok) counts() (gets, refreshes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.refreshs
}

func envelope(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "request_id": "fake-req", "data": data})
}

// issue returns new tokens for openID; the caller holds f.mu.
func (f *fakeTikTok) issue(openID string) map[string]any {
	f.seq++
	acc := fmt.Sprintf("TTACCESS-%d-%s-plaintext", f.seq, openID)
	ref := fmt.Sprintf("TTREFRESH-%d-%s-plaintext", f.seq, openID)
	f.access[acc] = openID
	f.refresh[ref] = openID
	s := f.sellers[openID]
	return map[string]any{
		"access_token": acc, "access_token_expire_in": time.Now().Add(f.accessTTL).Unix(),
		"refresh_token": ref, "refresh_token_expire_in": time.Now().Add(365 * 24 * time.Hour).Unix(),
		"open_id": openID, "seller_name": s.Name, "seller_base_region": "GB", "user_type": 0,
		"granted_scopes": []string{"seller.authorization.info", "seller.order.info"},
	}
}

func (f *fakeTikTok) appOK(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if q.Get("app_key") != f.appKey || q.Get("app_secret") != f.appSecret {
		envelope(w, 36009004, "invalid app_key or app_secret", nil)
		return false
	}
	return true
}

func (f *fakeTikTok) tokenGet(w http.ResponseWriter, r *http.Request) {
	if !f.appOK(w, r) {
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	s, ok := f.codes[q.Get("auth_code")]
	if !ok || q.Get("grant_type") != "authorized_code" {
		envelope(w, 36004004, "invalid auth code", nil)
		return
	}
	delete(f.codes, q.Get("auth_code"))
	envelope(w, 0, "success", f.issue(s.OpenID))
}

func (f *fakeTikTok) tokenRefresh(w http.ResponseWriter, r *http.Request) {
	if !f.appOK(w, r) {
		return
	}
	f.mu.Lock()
	f.refreshs++
	before := f.beforeRefresh
	f.mu.Unlock()
	if before != nil {
		before()
	}
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refreshCode != 0 {
		envelope(w, f.refreshCode, "rt has expired", nil)
		return
	}
	openID, ok := f.refresh[q.Get("refresh_token")]
	if !ok || q.Get("grant_type") != "refresh_token" {
		envelope(w, 36004005, "can not find related auth record", nil)
		return
	}
	delete(f.refresh, q.Get("refresh_token")) // rotated: the old one is spent
	envelope(w, 0, "success", f.issue(openID))
}

func (f *fakeTikTok) shops(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("sign") == "" || r.URL.Query().Has("shop_cipher") {
		envelope(w, 36009004, "bad request", nil)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	openID, ok := f.access[r.Header.Get("x-tts-access-token")]
	if !ok {
		envelope(w, 105002, "access token is expired, please refresh it", nil)
		return
	}
	envelope(w, 0, "success", map[string]any{"shops": f.sellers[openID].Shops})
}

// shop is a shop as TikTok lists it.
func shop(id, name string) map[string]string {
	return map[string]string{"id": id, "name": name, "region": "GB", "seller_type": "LOCAL", "cipher": "GCP_" + id, "code": "C" + id[len(id)-4:]}
}
