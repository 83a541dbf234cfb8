// Package tiktok is the TikTok Shop Partner API client: request signing,
// tokens, the envelope and its errors, paging, per-shop rate limits, and
// webhook verification. Facts it follows: shared/reference/tiktok-shop-api.md.
package tiktok

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Client. Zero values take the defaults in the comments.
type Config struct {
	AppKey    string
	AppSecret string
	// APIURL is the API host; default https://open-api.tiktokglobalshop.com.
	APIURL string
	// AuthURL is the token host; default https://auth.tiktok-shops.com.
	AuthURL string
	// HTTPClient sends the requests; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Tokens supplies access tokens per shop and refreshes them.
	Tokens TokenSource
	// RateLimit is this client's request rate per shop and endpoint, per
	// second; default 10. RateLimits overrides it by Endpoint.Name.
	RateLimit  float64
	RateLimits map[string]float64
	// MaxLimitWait is the longest the client waits for its own rate limit
	// before returning a *LimitError instead; default 2 s.
	MaxLimitWait time.Duration
	// Now is the clock the timestamps are taken from; default time.Now.
	Now func() time.Time
}

// TokenSource is where the client gets a shop's access token.
type TokenSource interface {
	// AccessToken returns a valid access token for the shop.
	AccessToken(ctx context.Context, shopID string) (string, error)
	// RefreshAccessToken is called when TikTok answered 105002 (expired) for
	// rejected. It refreshes unless another caller already did, and returns
	// the token to retry with.
	RefreshAccessToken(ctx context.Context, shopID, rejected string) (string, error)
}

// Shop identifies the shop a shop-scoped request is for.
type Shop struct {
	ID     string
	Cipher string
}

// Request is one API call.
type Request struct {
	Endpoint Endpoint
	PathArgs []string
	Shop     Shop
	// AccessToken overrides Tokens (onboarding, before a shop is stored).
	AccessToken string
	// Query holds the endpoint's parameters; empty values are never sent.
	Query url.Values
	// Body is marshalled once and those bytes are both signed and sent; nil
	// sends no body.
	Body any
}

// Client calls the TikTok Shop API. It is safe for concurrent use.
type Client struct {
	cfg      Config
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = "https://open-api.tiktokglobalshop.com"
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = "https://auth.tiktok-shops.com"
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.AuthURL = strings.TrimRight(cfg.AuthURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 10
	}
	if cfg.MaxLimitWait <= 0 {
		cfg.MaxLimitWait = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, limiters: map[string]*rate.Limiter{}}
}

type envelope struct {
	Code      json.Number     `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

// Do sends req and decodes the envelope's data into out (nil to discard).
// An expired access token is refreshed through the TokenSource and the call
// retried once.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	if err := c.wait(ctx, req); err != nil {
		return err
	}
	token := req.AccessToken
	fromSource := token == ""
	if fromSource {
		if c.cfg.Tokens == nil {
			return fmt.Errorf("tiktok %s: no access token for shop %s (no token source configured)", req.Endpoint.Name, req.Shop.ID)
		}
		var err error
		if token, err = c.cfg.Tokens.AccessToken(ctx, req.Shop.ID); err != nil {
			return fmt.Errorf("tiktok %s: access token for shop %s: %w", req.Endpoint.Name, req.Shop.ID, err)
		}
	}
	data, err := c.send(ctx, req, token)
	if fromSource && errors.Is(err, ErrAccessTokenExpired) {
		if token, err = c.cfg.Tokens.RefreshAccessToken(ctx, req.Shop.ID, token); err != nil {
			return fmt.Errorf("tiktok %s: refreshing the access token of shop %s: %w", req.Endpoint.Name, req.Shop.ID, err)
		}
		data, err = c.send(ctx, req, token)
	}
	if err != nil {
		return err
	}
	return decodeData(req.Endpoint.Name, data, out)
}

func (c *Client) send(ctx context.Context, req Request, token string) (json.RawMessage, error) {
	ep := req.Endpoint
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = json.Marshal(req.Body); err != nil {
			return nil, fmt.Errorf("tiktok %s: encoding the request: %w", ep.Name, err)
		}
	}
	q := url.Values{}
	for k, vs := range req.Query {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	q.Set("app_key", c.cfg.AppKey)
	q.Set("timestamp", strconv.FormatInt(c.cfg.Now().Unix(), 10))
	if ep.ShopScoped {
		if req.Shop.Cipher == "" {
			return nil, fmt.Errorf("tiktok %s: shop %s has no shop_cipher stored; onboard it again", ep.Name, req.Shop.ID)
		}
		q.Set("shop_cipher", req.Shop.Cipher)
	}
	path := ep.Path(req.PathArgs...)
	q.Set("sign", Sign(c.cfg.AppSecret, path, q, body, "application/json"))

	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, ep.Method, c.cfg.APIURL+path+"?"+q.Encode(), rdr)
	if err != nil {
		return nil, fmt.Errorf("tiktok %s: %w", ep.Name, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("x-tts-access-token", token)
	return c.roundTrip(hreq, ep.Name)
}

// roundTrip sends hreq and unwraps TikTok's envelope. Transport errors are
// reported without the URL, which may carry the app secret (token calls).
func (c *Client) roundTrip(hreq *http.Request, name string) (json.RawMessage, error) {
	resp, err := c.cfg.HTTPClient.Do(hreq)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("tiktok %s: %s %s: %w", name, hreq.Method, hreq.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("tiktok %s: reading the answer: %w", name, err)
	}
	env, perr := parseEnvelope(raw)
	if perr != nil || resp.StatusCode/100 != 2 {
		apiErr := &APIError{Endpoint: name, HTTPStatus: resp.StatusCode, Message: strings.TrimSpace(string(truncate(raw, 200)))}
		if perr == nil {
			apiErr.Code, apiErr.Message, apiErr.RequestID = env.code(), env.Message, env.RequestID
		} else if resp.StatusCode/100 == 2 {
			return nil, fmt.Errorf("tiktok %s: answer is not TikTok's envelope: %w", name, perr)
		}
		if apiErr.Is(ErrRateLimited) {
			apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
		}
		return nil, apiErr
	}
	if env.code() != CodeOK {
		apiErr := &APIError{Endpoint: name, HTTPStatus: resp.StatusCode, Code: env.code(), Message: env.Message, RequestID: env.RequestID}
		if apiErr.Is(ErrRateLimited) {
			apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
		}
		return nil, apiErr
	}
	return env.Data, nil
}

// parseEnvelope decodes TikTok's envelope; numbers stay exact.
func parseEnvelope(raw []byte) (envelope, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return env, err
	}
	if env.Code == "" {
		return env, errors.New("no code field")
	}
	if _, err := env.Code.Int64(); err != nil {
		return env, fmt.Errorf("code %q is not an integer", env.Code)
	}
	return env, nil
}

func (e envelope) code() int64 {
	n, _ := e.Code.Int64()
	return n
}

func decodeData(name string, data json.RawMessage, out any) error {
	if out == nil || len(data) == 0 || string(data) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("tiktok %s: decoding data: %w", name, err)
	}
	return nil
}

// wait applies this client's rate limit for the shop and endpoint.
func (c *Client) wait(ctx context.Context, req Request) error {
	key := req.Shop.ID + "\x00" + req.Endpoint.Name
	c.mu.Lock()
	lim, ok := c.limiters[key]
	if !ok {
		r := c.cfg.RateLimit
		if v, ok := c.cfg.RateLimits[req.Endpoint.Name]; ok && v > 0 {
			r = v
		}
		burst := int(r)
		if burst < 1 {
			burst = 1
		}
		lim = rate.NewLimiter(rate.Limit(r), burst)
		c.limiters[key] = lim
	}
	c.mu.Unlock()
	res := lim.Reserve()
	d := res.Delay()
	if d > c.cfg.MaxLimitWait {
		res.Cancel()
		return &LimitError{Endpoint: req.Endpoint.Name, ShopID: req.Shop.ID, Wait: d}
	}
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		res.Cancel()
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
