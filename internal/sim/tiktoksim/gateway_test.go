package tiktoksim_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

func TestSignedRequestPasses(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	var data struct {
		Shops []tiktoksim.Shop `json:"shops"`
	}
	f.ok("GET", "/authorization/202309/shops", url.Values{}, "", &data)
	if len(data.Shops) != 1 || data.Shops[0].Cipher != f.shop.Cipher || data.Shops[0].ID != f.shop.ID {
		t.Fatalf("shops = %+v, want the one shop %+v", data.Shops, f.shop)
	}
	// A signed POST with a body, and the same with an empty body.
	f.ok("POST", "/order/202309/orders/search", f.q("page_size", "10"), `{"order_status":"UNPAID"}`, nil)
	f.ok("POST", "/order/202309/orders/search", f.q("page_size", "10"), ``, nil)
	// Optional legacy parameters a testing tool sends: version and shop_id.
	f.ok("POST", "/order/202309/orders/search", f.q("page_size", "10", "version", "202309", "shop_id", f.shop.ID), `{}`, nil)
}

func TestSignatureCoversTheExactBytes(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	signed := `{"order_status":"UNPAID"}`
	req := f.newRequest("POST", "/order/202309/orders/search", f.q("page_size", "10"), signed)
	// One space added after signing: same JSON, different bytes.
	req.Body = nopCloser(`{"order_status": "UNPAID"}`)
	req.ContentLength = -1
	wantCode(t, "body changed by one space", f.do(req), 200, 106001, "`sign`")

	// Upper-case hex is the same number but not TikTok's signature.
	req = f.newRequest("GET", "/authorization/202309/shops", url.Values{}, "")
	q := req.URL.Query()
	q.Set("sign", strings.ToUpper(q.Get("sign")))
	req.URL.RawQuery = q.Encode()
	wantCode(t, "upper-case sign", f.do(req), 200, 106001, "`sign`")

	// A query parameter changed after signing.
	req = f.newRequest("POST", "/order/202309/orders/search", f.q("page_size", "10"), signed)
	q = req.URL.Query()
	q.Set("page_size", "11")
	req.URL.RawQuery = q.Encode()
	req.Body = nopCloser(signed)
	wantCode(t, "query changed after signing", f.do(req), 200, 106001, "`sign`")

	// No sign at all.
	req = f.newRequest("GET", "/authorization/202309/shops", url.Values{}, "")
	q = req.URL.Query()
	q.Del("sign")
	req.URL.RawQuery = q.Encode()
	wantCode(t, "missing sign", f.do(req), 200, 36009004, "signature")
}

func TestTimestampWindow(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	now := f.clock.Now().Unix()
	for _, c := range []struct {
		name string
		ts   int64
		code int
		msg  string
	}{
		{"5 minutes old", now - 300, 0, ""},
		{"5 minutes and 1 second old", now - 301, 36009004, "earlier than 5 minutes"},
		{"30 seconds ahead", now + 30, 0, ""},
		{"31 seconds ahead", now + 31, 36009004, "more than 30 seconds"},
		{"in milliseconds", now * 1000, 36009004, "more than 30 seconds"},
	} {
		r := f.call("GET", "/authorization/202309/shops", url.Values{"timestamp": {strconv.FormatInt(c.ts, 10)}}, "")
		if c.code == 0 {
			if r.Code != 0 {
				t.Errorf("%s: code %d %q, want success", c.name, r.Code, r.Message)
			}
			continue
		}
		wantCode(t, c.name, r, 200, c.code, c.msg)
	}
	wantCode(t, "no timestamp", f.call("GET", "/authorization/202309/shops", url.Values{"timestamp": {""}}, ""), 200, 36009004, "timestamp")
}

func TestAppKeyTokenAndCipherChecks(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	wantCode(t, "wrong app_key", f.call("GET", "/authorization/202309/shops", url.Values{"app_key": {"other"}}, ""), 400, 36009004, "`app_key`")

	wantCode(t, "shop_cipher on /authorization", f.call("GET", "/authorization/202309/shops", f.q(), ""), 200, 36009004, "not required")
	wantCode(t, "no shop_cipher", f.call("GET", "/logistics/202309/warehouses", url.Values{}, ""), 200, 106013, "`shop_cipher` query parameter is required")
	wantCode(t, "unknown shop_cipher", f.call("GET", "/logistics/202309/warehouses", url.Values{"shop_cipher": {"ROW_nope"}}, ""), 200, 36009004, "`shop_cipher` query parameter is invalid")
	wantCode(t, "wrong legacy shop_id", f.call("GET", "/logistics/202309/warehouses", f.q("shop_id", "123"), ""), 200, 36009004, "`shop_id`")
	wantCode(t, "version differs from the path", f.call("GET", "/logistics/202309/warehouses", f.q("version", "202212"), ""), 200, 36009014, "version")

	req := f.newRequest("GET", "/logistics/202309/warehouses", f.q(), "")
	req.Header.Del("x-tts-access-token")
	wantCode(t, "no access token", f.do(req), 200, 36009004, "x-tts-access-token")
	req = f.newRequest("GET", "/logistics/202309/warehouses", f.q(), "")
	req.Header.Set("x-tts-access-token", "ROW_made-up")
	wantCode(t, "unknown access token", f.do(req), 200, 36009004, "x-tts-access-token")
}

func TestUnknownPathAndMethod(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	wantCode(t, "unknown path", f.call("GET", "/order/202309/nothing", f.q(), ""), 404, 36009009, "Invalid path")
	wantCode(t, "trailing slash", f.call("GET", "/logistics/202309/warehouses/", f.q(), ""), 404, 36009009, "Invalid path")
	wantCode(t, "GET on a POST path", f.call("GET", "/order/202309/orders/search", f.q("page_size", "5"), ""), 405, 36009010, "Invalid method")
}

func TestMalformedBodies(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	q := f.q("page_size", "10")
	wantCode(t, "not JSON", f.call("POST", "/order/202309/orders/search", q, `{"order_status":`), 200, 36009022, "not valid JSON")
	wantCode(t, "two objects", f.call("POST", "/order/202309/orders/search", q, `{}{}`), 200, 36009022, "after the JSON")
	wantCode(t, "an array", f.call("POST", "/order/202309/orders/search", q, `[]`), 200, 36009022, "JSON object")
	wantCode(t, "unknown filter", f.call("POST", "/order/202309/orders/search", q, `{"create_time_gte":1}`), 200, 36009004, "create_time_gte")
	wantCode(t, "time as a string", f.call("POST", "/order/202309/orders/search", q, `{"create_time_ge":"1"}`), 200, 36009004, "create_time_ge")
	wantCode(t, "unknown status", f.call("POST", "/order/202309/orders/search", q, `{"order_status":"PAID"}`), 200, 36009004, "order_status")
	req := f.newRequest("POST", "/order/202309/orders/search", q, `{}`)
	req.Header.Set("Content-Type", "text/plain")
	// The content type is part of what was signed, so sign again with it.
	rq := req.URL.Query()
	rq.Set("sign", tiktok.Sign(testSecret, req.URL.Path, rq, []byte(`{}`), "text/plain"))
	req.URL.RawQuery = rq.Encode()
	wantCode(t, "not application/json", f.do(req), 200, 36009022, "application/json")

	wantCode(t, "no page_size", f.call("POST", "/order/202309/orders/search", f.q(), `{}`), 200, 36009004, "page_size")
	wantCode(t, "page_size 101", f.call("POST", "/order/202309/orders/search", f.q("page_size", "101"), `{}`), 200, 36009004, "page_size")
	wantCode(t, "bad sort_order", f.call("POST", "/order/202309/orders/search", f.q("page_size", "5", "sort_order", "desc"), `{}`), 200, 36009004, "sort_order")
	wantCode(t, "garbage page_token", f.call("POST", "/order/202309/orders/search", f.q("page_size", "5", "page_token", "abc"), `{}`), 200, 36009004, "page_token")
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{RateLimit: 2, RateBurst: 2})
	get := func() resp { return f.call("GET", "/logistics/202309/warehouses", f.q(), "") }
	for i := range 2 {
		if r := get(); r.Code != 0 {
			t.Fatalf("request %d within the burst: code %d", i, r.Code)
		}
	}
	r := get()
	wantCode(t, "third request in the same instant", r, 429, 36009002, "Too many requests")
	if ra := r.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After = %q, want 1 (whole seconds)", ra)
	}
	// Another endpoint has its own bucket.
	if r := f.call("GET", "/event/202309/webhooks", f.q(), ""); r.Code != 0 {
		t.Errorf("another endpoint is limited too: code %d", r.Code)
	}
	f.clock.Add(500 * time.Millisecond) // one token back at 2/s
	if r := get(); r.Code != 0 {
		t.Errorf("after the wait: code %d", r.Code)
	}
	if st := f.sim.Stats(); st.RateLimited != 1 || st.RejectedByCode["36009002"] != 1 {
		t.Errorf("stats = %+v, want one rate-limited request", st)
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{AccessTokenTTL: time.Hour})
	get := func() resp { return f.call("GET", "/logistics/202309/warehouses", f.q(), "") }
	if r := get(); r.Code != 0 {
		t.Fatalf("fresh token: code %d", r.Code)
	}
	f.clock.Add(time.Hour)
	f.clock.Add(-time.Second)
	if r := get(); r.Code != 0 {
		t.Fatalf("token one second before expiry: code %d", r.Code)
	}
	f.clock.Add(time.Second)
	wantCode(t, "token past its TTL", get(), 200, 105002, "access token is expired, please refresh it")

	// Expired through the control API.
	f.token = f.sim.IssueToken().AccessToken
	if r := get(); r.Code != 0 {
		t.Fatalf("new token: code %d", r.Code)
	}
	var out struct{ Expired int }
	f.mustControl("POST", "/_sim/tokens/expire", map[string]string{"access_token": f.token}, &out)
	if out.Expired != 1 {
		t.Errorf("expired %d tokens, want 1", out.Expired)
	}
	wantCode(t, "token expired by the control API", get(), 200, 105002, "expired")
}

func TestTokenExchangeAndRefresh(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{AccessTokenTTL: time.Hour, RefreshTokenTTL: 48 * time.Hour})
	auth := func(path string, kv ...string) resp {
		q := url.Values{"app_key": {testKey}, "app_secret": {testSecret}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		req, _ := http.NewRequest("GET", f.srv.URL+path+"?"+q.Encode(), nil)
		return f.do(req)
	}
	type token struct {
		AccessToken          string   `json:"access_token"`
		AccessTokenExpireIn  int64    `json:"access_token_expire_in"`
		RefreshToken         string   `json:"refresh_token"`
		RefreshTokenExpireIn int64    `json:"refresh_token_expire_in"`
		OpenID               string   `json:"open_id"`
		SellerName           string   `json:"seller_name"`
		SellerBaseRegion     string   `json:"seller_base_region"`
		UserType             *int     `json:"user_type"`
		GrantedScopes        []string `json:"granted_scopes"`
	}
	decode := func(r resp) token {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("token call: code %d %q", r.Code, r.Message)
		}
		var tok token
		if err := jsonUnmarshal(r.Data, &tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := f.clock.Now().Unix()
	first := decode(auth("/api/v2/token/get", "auth_code", "code-1", "grant_type", "authorized_code"))
	if first.AccessTokenExpireIn != now+3600 || first.RefreshTokenExpireIn != now+48*3600 {
		t.Errorf("expiries %d, %d: want absolute unix times %d, %d", first.AccessTokenExpireIn, first.RefreshTokenExpireIn, now+3600, now+48*3600)
	}
	if first.OpenID == "" || first.SellerName != f.shop.Name || first.SellerBaseRegion != "GB" || first.UserType == nil || len(first.GrantedScopes) == 0 {
		t.Errorf("token data lacks seller fields: %+v", first)
	}
	wantCode(t, "the same auth code twice", auth("/api/v2/token/get", "auth_code", "code-1", "grant_type", "authorized_code"), 200, 36004004, "auth code")
	wantCode(t, "authorization_code instead of authorized_code", auth("/api/v2/token/get", "auth_code", "code-2", "grant_type", "authorization_code"), 200, 36009004, "grant_type")
	wantCode(t, "no auth code", auth("/api/v2/token/get", "grant_type", "authorized_code"), 200, 36004004, "auth code")
	wrongSecret, _ := http.NewRequest("GET", f.srv.URL+"/api/v2/token/get?app_key="+testKey+"&app_secret=nope&auth_code=x&grant_type=authorized_code", nil)
	wantCode(t, "wrong app secret", f.do(wrongSecret), 200, 36009004, "app_secret")

	f.token = first.AccessToken
	if r := f.call("GET", "/logistics/202309/warehouses", f.q(), ""); r.Code != 0 {
		t.Fatalf("exchanged token does not work: %d", r.Code)
	}

	f.clock.Add(2 * time.Hour) // the access token has expired
	wantCode(t, "expired", f.call("GET", "/logistics/202309/warehouses", f.q(), ""), 200, 105002, "expired")
	second := decode(auth("/api/v2/token/refresh", "refresh_token", first.RefreshToken, "grant_type", "refresh_token"))
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	f.token = second.AccessToken
	if r := f.call("GET", "/logistics/202309/warehouses", f.q(), ""); r.Code != 0 {
		t.Fatalf("refreshed token does not work: %d %s", r.Code, r.Message)
	}
	wantCode(t, "the old refresh token", auth("/api/v2/token/refresh", "refresh_token", first.RefreshToken, "grant_type", "refresh_token"), 200, 36004005, "auth record")
	wantCode(t, "a made-up refresh token", auth("/api/v2/token/refresh", "refresh_token", "nope", "grant_type", "refresh_token"), 200, 36004005, "auth record")
	f.clock.Add(49 * time.Hour)
	wantCode(t, "an expired refresh token", auth("/api/v2/token/refresh", "refresh_token", second.RefreshToken, "grant_type", "refresh_token"), 200, 36004001, "rt has expired")
}

func TestControlAPIErrors(t *testing.T) {
	f := newFixture(t, tiktoksim.Options{})
	var e struct{ Error string }
	if st := f.control("GET", "/_sim/nothing", nil, &e); st != 404 || e.Error == "" {
		t.Errorf("unknown control path: HTTP %d %q, want 404 with a message", st, e.Error)
	}
	if st := f.control("DELETE", "/_sim/stats", nil, &e); st != 405 {
		t.Errorf("wrong method: HTTP %d, want 405", st)
	}
	if st := f.control("POST", "/_sim/products", `{"products":[{"seller_sku":"A","stock":"ten","price":"1"}]}`, &e); st != 400 || !strings.Contains(e.Error, "stock") {
		t.Errorf("bad JSON: HTTP %d %q, want 400 naming the field", st, e.Error)
	}
	if st := f.control("POST", "/_sim/products", `{"product":[]}`, &e); st != 400 || !strings.Contains(e.Error, `unknown field "product"`) {
		t.Errorf("unknown field: HTTP %d %q", st, e.Error)
	}
	if st := f.control("POST", "/_sim/products", `{"products":[{"seller_sku":"A","stock":1,"price":"1.999"}]}`, &e); st != 400 || !strings.Contains(e.Error, "price") {
		t.Errorf("three decimals: HTTP %d %q", st, e.Error)
	}
	f.mustControl("POST", "/_sim/products", `{"products":[{"seller_sku":"A/1 x","stock":1,"price":"1"}]}`, nil)
	if st := f.control("POST", "/_sim/products", `{"products":[{"seller_sku":"A/1 x","stock":1,"price":"1"}]}`, &e); st != 409 {
		t.Errorf("duplicate seller_sku: HTTP %d, want 409", st)
	}
	var sku tiktoksim.SKUState
	f.mustControl("GET", "/_sim/skus/"+url.PathEscape("A/1 x"), nil, &sku)
	if sku.Stock != 1 {
		t.Errorf("escaped seller SKU: %+v", sku)
	}
	if st := f.control("GET", "/_sim/orders/123", nil, &e); st != 404 {
		t.Errorf("unknown order: HTTP %d", st)
	}
}
