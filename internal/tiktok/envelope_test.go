package tiktok

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"code":0,"message":"Success","request_id":"x","data":{"orders":[]}}`))
	f.Add([]byte(`{"code":36009002,"message":"Too many requests"}`))
	f.Add([]byte(`{"code":"105002"}`))
	f.Add([]byte(`{"code":1e3}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := parseEnvelope(raw)
		if err != nil {
			return
		}
		if _, err := env.Code.Int64(); err != nil {
			t.Fatalf("accepted a non-integer code %q", env.Code)
		}
	})
}

// answer returns a client whose every call gets status, headers and body.
func answer(t *testing.T, status int, header http.Header, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return New(Config{AppKey: "k", AppSecret: "s", APIURL: srv.URL, AuthURL: srv.URL})
}

func TestErrorsAreTyped(t *testing.T) {
	shop := Shop{ID: "1", Cipher: "c"}
	cases := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		is        error
		temporary bool
		wait      time.Duration
	}{
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"code":36009002,"message":"Too many requests"}`, ErrRateLimited, true, 7 * time.Second},
		{"rate code in a 200", 200, nil, `{"code":36009002,"message":"Too many requests"}`, ErrRateLimited, true, 0},
		{"429 without envelope", 429, nil, `rate limited`, ErrRateLimited, true, 0},
		{"expired token", 200, nil, `{"code":105002,"message":"access token is expired, please refresh it"}`, ErrAccessTokenExpired, false, 0},
		{"missing scope", 200, nil, `{"code":105005,"message":"you should apply auth pkg for this api"}`, ErrMissingScope, false, 0},
		{"invalid sign", 200, nil, `{"code":106001,"message":"invalid sign"}`, ErrInvalidSign, false, 0},
		{"cipher missing", 200, nil, `{"code":106013,"message":"shop_cipher is missing"}`, ErrShopCipherMissing, false, 0},
		{"internal", 200, nil, `{"code":36009003,"message":"internal error"}`, nil, true, 0},
		{"gateway 503", 503, nil, `<html>busy</html>`, nil, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := answer(t, c.status, c.header, c.body)
			err := cl.Do(context.Background(), Request{Endpoint: GetWarehouses, Shop: shop, AccessToken: "t"}, nil)
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("%v is not %v", err, c.is)
			}
			if api.Temporary() != c.temporary {
				t.Errorf("Temporary() = %v, want %v", api.Temporary(), c.temporary)
			}
			if d, ok := RetryAfter(err); c.is == ErrRateLimited && (!ok || d != c.wait) {
				t.Errorf("RetryAfter = %v, %v; want %v", d, ok, c.wait)
			}
		})
	}
}

func TestSuccessWithoutEnvelopeIsAnError(t *testing.T) {
	cl := answer(t, 200, nil, `<html>captive portal</html>`)
	err := cl.Do(context.Background(), Request{Endpoint: GetWarehouses, Shop: Shop{ID: "1", Cipher: "c"}, AccessToken: "t"}, nil)
	if err == nil || !strings.Contains(err.Error(), "not TikTok's envelope") {
		t.Fatalf("err = %v", err)
	}
}

// The token endpoints carry the app secret in the query; a transport error
// must not repeat it.
func TestTokenErrorsNeverShowTheSecret(t *testing.T) {
	cl := New(Config{AppKey: "k", AppSecret: "very-secret-value", AuthURL: "http://127.0.0.1:1"})
	_, err := cl.RefreshToken(context.Background(), "refresh-token-value")
	if err == nil {
		t.Fatal("no error from an unreachable host")
	}
	for _, secret := range []string{"very-secret-value", "refresh-token-value"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows a secret: %v", err)
		}
	}
}

func TestOwnRateLimitReturnsLimitErrorInsteadOfWaitingLong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":0,"data":{}}`))
	}))
	defer srv.Close()
	cl := New(Config{AppKey: "k", AppSecret: "s", APIURL: srv.URL, RateLimits: map[string]float64{"warehouses": 0.1}, MaxLimitWait: 100 * time.Millisecond})
	req := Request{Endpoint: GetWarehouses, Shop: Shop{ID: "1", Cipher: "c"}, AccessToken: "t"}
	if err := cl.Do(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	err := cl.Do(context.Background(), req, nil)
	d, ok := RetryAfter(err)
	if !errors.Is(err, ErrRateLimited) || !ok || d < 5*time.Second {
		t.Fatalf("second call at 0.1/s: %v (wait %v)", err, d)
	}
	// Another shop has its own budget.
	req.Shop.ID = "2"
	if err := cl.Do(context.Background(), req, nil); err != nil {
		t.Fatalf("another shop was limited too: %v", err)
	}
}

// One order without an id does not fail its page: it comes back with its raw
// bytes for landing to store and report.
func TestOrderWithoutIDKeepsThePage(t *testing.T) {
	cl := answer(t, 200, nil, `{"code":0,"data":{"orders":[{"status":"UNPAID","update_time":5},{"id":"576461413038785752","status":"UNPAID"}],"next_page_token":""}}`)
	cl.cfg.Tokens = staticToken("t")
	var got []Order
	err := cl.SearchOrders(context.Background(), Shop{ID: "1", Cipher: "c"}, OrderFilter{}, 50, func(p []Order) error {
		got = append(got, p...)
		return nil
	})
	if err != nil || len(got) != 2 || got[0].ID != "" || got[0].UpdateTime != 5 || len(got[0].Raw) == 0 || got[1].ID != "576461413038785752" {
		t.Fatalf("page = %+v, %v", got, err)
	}
}

type staticToken string

func (s staticToken) AccessToken(context.Context, string) (string, error) { return string(s), nil }

func (s staticToken) RefreshAccessToken(context.Context, string, string) (string, error) {
	return string(s), nil
}
