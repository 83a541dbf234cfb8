package tiktok_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

const (
	appKey    = "sandbox-app"
	appSecret = "sandbox-secret"
)

// memTokens is a TokenSource over one authorisation, counting refreshes.
type memTokens struct {
	client    *tiktok.Client
	mu        sync.Mutex
	tok       tiktok.Token
	refreshes atomic.Int32
}

func (m *memTokens) AccessToken(context.Context, string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok.AccessToken, nil
}

func (m *memTokens) RefreshAccessToken(ctx context.Context, _, rejected string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok.AccessToken != rejected {
		return m.tok.AccessToken, nil
	}
	t, err := m.client.RefreshToken(ctx, m.tok.RefreshToken)
	if err != nil {
		return "", err
	}
	m.refreshes.Add(1)
	m.tok = t
	return t.AccessToken, nil
}

type sandbox struct {
	sim    *tiktoksim.Server
	url    string
	client *tiktok.Client
	tokens *memTokens
	shop   tiktok.Shop
}

// newSandbox starts a simulator and a client onboarded to its shop.
func newSandbox(t *testing.T, opts tiktoksim.Options, cfg tiktok.Config) *sandbox {
	t.Helper()
	opts.AppKey, opts.AppSecret = appKey, appSecret
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	sim := tiktoksim.New(opts)
	sim.Start()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })

	tokens := &memTokens{}
	if cfg.AppKey == "" {
		cfg.AppKey, cfg.AppSecret = appKey, appSecret
	}
	cfg.APIURL, cfg.AuthURL, cfg.Tokens = srv.URL, srv.URL, tokens
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 1000
	}
	client := tiktok.New(cfg)
	tokens.client = client
	ctx := context.Background()
	tok, err := tiktok.New(tiktok.Config{AppKey: appKey, AppSecret: appSecret, AuthURL: srv.URL}).GetToken(ctx, "code-from-the-consent-screen")
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	tokens.tok = tok
	shops, err := client.AuthorizedShops(ctx, tok.AccessToken)
	if err != nil || len(shops) != 1 || shops[0].Cipher == "" {
		t.Fatalf("authorized shops = %+v, %v", shops, err)
	}
	return &sandbox{sim: sim, url: srv.URL, client: client, tokens: tokens, shop: tiktok.Shop{ID: string(shops[0].ID), Cipher: shops[0].Cipher}}
}

// control calls the simulator's control API.
func (s *sandbox) control(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		_ = json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, s.url+path, &body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

type listing struct {
	ProductID string `json:"product_id"`
	SKUID     string `json:"sku_id"`
	SellerSKU string `json:"seller_sku"`
}

func (s *sandbox) list(t *testing.T, skus map[string]int) map[string]listing {
	t.Helper()
	type p struct {
		SellerSKU string `json:"seller_sku"`
		Stock     int    `json:"stock"`
		Price     string `json:"price"`
	}
	var in struct {
		Products []p `json:"products"`
	}
	for sku, stock := range skus {
		in.Products = append(in.Products, p{sku, stock, "19.99"})
	}
	var out struct {
		Products []listing `json:"products"`
	}
	if code := s.control(t, "POST", "/_sim/products", in, &out); code != 200 && code != 201 {
		t.Fatalf("create products: HTTP %d", code)
	}
	m := map[string]listing{}
	for _, l := range out.Products {
		m[l.SellerSKU] = l
	}
	return m
}

func (s *sandbox) buy(t *testing.T, sku string, qty int) string {
	t.Helper()
	var out struct {
		OrderID string `json:"order_id"`
	}
	in := map[string]any{"lines": []map[string]any{{"seller_sku": sku, "quantity": qty}}}
	if code := s.control(t, "POST", "/_sim/orders", in, &out); code/100 != 2 || out.OrderID == "" {
		t.Fatalf("buy %d × %s: HTTP %d", qty, sku, code)
	}
	return out.OrderID
}

type skuState struct {
	Stock            int `json:"stock"`
	Committed        int `json:"committed"`
	InventoryUpdates int `json:"inventory_updates"`
}

func (s *sandbox) sku(t *testing.T, sellerSKU string) skuState {
	t.Helper()
	var st skuState
	if code := s.control(t, "GET", "/_sim/skus/"+sellerSKU, nil, &st); code != 200 {
		t.Fatalf("sku %s: HTTP %d", sellerSKU, code)
	}
	return st
}

func TestEveryEndpointAgainstTheSimulator(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{}, tiktok.Config{})
	listed := s.list(t, map[string]int{"S1": 10, "S2": 5})

	whs, err := s.client.Warehouses(ctx, s.shop)
	if err != nil || len(whs) == 0 {
		t.Fatalf("warehouses = %v, %v", whs, err)
	}

	products, err := s.client.SearchProducts(ctx, s.shop, []string{"S1", "S2", "NOPE-1", "NOPE-2", "NOPE-3", "NOPE-4", "NOPE-5", "NOPE-6", "NOPE-7", "NOPE-8", "NOPE-9"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, p := range products {
		for _, k := range p.SKUs {
			found[k.SellerSKU] = string(k.ID)
		}
	}
	if found["S1"] != listed["S1"].SKUID || found["S2"] != listed["S2"].SKUID || len(found) != 2 {
		t.Fatalf("product search over two batches found %v, want S1 and S2 with their sku ids", found)
	}

	orderID := s.buy(t, "S1", 2)
	var seen []tiktok.Order
	err = s.client.SearchOrders(ctx, s.shop, tiktok.OrderFilter{UpdateTimeGE: time.Now().Add(-time.Hour).Unix(), UpdateTimeLT: time.Now().Add(time.Hour).Unix()}, 50,
		func(page []tiktok.Order) error { seen = append(seen, page...); return nil })
	if err != nil || len(seen) != 1 || seen[0].ID != orderID {
		t.Fatalf("order search = %d orders, %v; want the one placed", len(seen), err)
	}
	detail, err := s.client.OrderDetails(ctx, s.shop, []string{orderID})
	if err != nil || len(detail) != 1 {
		t.Fatalf("order detail = %v, %v", detail, err)
	}
	var raw struct {
		LineItems []struct {
			SKUID string `json:"sku_id"`
		} `json:"line_items"`
	}
	if err := json.Unmarshal(detail[0].Raw, &raw); err != nil || len(raw.LineItems) != 2 {
		t.Fatalf("two units should be two line items: %s", detail[0].Raw)
	}

	stock, err := s.client.SearchInventory(ctx, s.shop, []string{listed["S1"].SKUID})
	if err != nil || len(stock) != 1 || stock[0].Available != 8 || stock[0].Committed != 2 {
		t.Fatalf("inventory after a sale of 2 of 10 = %+v, %v", stock, err)
	}

	refused, err := s.client.UpdateInventory(ctx, s.shop, listed["S1"].ProductID, []tiktok.StockUpdate{{SKUID: listed["S1"].SKUID, Quantity: 20}})
	if err != nil || len(refused) != 0 {
		t.Fatalf("inventory update = %v, %v", refused, err)
	}
	if st := s.sku(t, "S1"); st.Stock != 20 || st.Committed != 2 || st.InventoryUpdates != 1 {
		t.Fatalf("after setting 20: %+v", st)
	}
	// A campaign locks 15: setting 5 is refused for that SKU alone.
	if code := s.control(t, "POST", "/_sim/skus/S1/lock", map[string]int{"quantity": 15}, nil); code/100 != 2 {
		t.Fatalf("lock: HTTP %d", code)
	}
	refused, err = s.client.UpdateInventory(ctx, s.shop, listed["S1"].ProductID, []tiktok.StockUpdate{{SKUID: listed["S1"].SKUID, Quantity: 5}})
	if err != nil || len(refused) != 1 || refused[0].SKUID != listed["S1"].SKUID {
		t.Fatalf("update below the campaign lock = %v, %v; want one refused SKU", refused, err)
	}
	if st := s.sku(t, "S1"); st.Stock != 20 {
		t.Fatalf("a refused update changed stock: %+v", st)
	}

	if code := s.control(t, "POST", "/_sim/orders/"+orderID+"/cancel", nil, nil); code/100 != 2 {
		t.Fatalf("cancel: HTTP %d", code)
	}
	var cancels []tiktok.Cancellation
	err = s.client.SearchCancellations(ctx, s.shop, tiktok.CancellationFilter{OrderIDs: []string{orderID}}, func(p []tiktok.Cancellation) error {
		cancels = append(cancels, p...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cancels {
		if c.OrderID != orderID {
			t.Fatalf("cancellation search by order returned another order: %+v", c)
		}
	}

	if err := s.client.SubscribeWebhook(ctx, s.shop, "ORDER_STATUS_CHANGE", "https://example.test/webhooks/tiktok"); err != nil {
		t.Fatal(err)
	}
	subs, err := s.client.Webhooks(ctx, s.shop)
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	for _, w := range subs {
		ok = ok || (w.EventType == "ORDER_STATUS_CHANGE" && w.Address == "https://example.test/webhooks/tiktok")
	}
	if !ok {
		t.Fatalf("subscription not listed: %+v", subs)
	}
	if err := s.client.UnsubscribeWebhook(ctx, s.shop, "ORDER_STATUS_CHANGE"); err != nil {
		t.Fatal(err)
	}
}

func TestOrderDetailsInBatchesOf50(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{}, tiktok.Config{})
	s.list(t, map[string]int{"BULK": 1000})
	var ids []string
	for range 120 {
		ids = append(ids, s.buy(t, "BULK", 1))
	}
	orders, err := s.client.OrderDetails(ctx, s.shop, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range orders {
		got[o.ID] = true
	}
	for _, id := range ids {
		if !got[id] {
			t.Fatalf("order %s missing from 120 fetched in batches (got %d)", id, len(orders))
		}
	}
}

// Paging walks every order that existed when it started exactly once, while
// buyers keep placing new ones.
func TestPagingWhileNewOrdersArrive(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{RateLimit: -1}, tiktok.Config{})
	s.list(t, map[string]int{"P": 10000})
	before := map[string]int{}
	for range 230 {
		before[s.buy(t, "P", 1)] = 0
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			select {
			case <-stop:
				return
			default:
				s.buy(t, "P", 1)
				time.Sleep(time.Millisecond)
			}
		}
	}()
	pages := 0
	err := s.client.SearchOrders(ctx, s.shop, tiktok.OrderFilter{UpdateTimeGE: time.Now().Add(-time.Hour).Unix(), UpdateTimeLT: time.Now().Add(time.Hour).Unix()}, 20,
		func(page []tiktok.Order) error {
			pages++
			for _, o := range page {
				if _, ok := before[o.ID]; ok {
					before[o.ID]++
				}
			}
			time.Sleep(5 * time.Millisecond) // let buyers in between pages
			return nil
		})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if pages < 12 {
		t.Fatalf("only %d pages of 20 for 230+ orders", pages)
	}
	for id, n := range before {
		if n != 1 {
			t.Fatalf("order %s seen %d times while paging", id, n)
		}
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{RateLimit: 1, RateBurst: 1}, tiktok.Config{})
	var err error
	for range 3 {
		if _, err = s.client.Warehouses(ctx, s.shop); err != nil {
			break
		}
	}
	wait, ok := tiktok.RetryAfter(err)
	if !errors.Is(err, tiktok.ErrRateLimited) || !ok || wait < time.Second {
		t.Fatalf("over TikTok's rate: %v (Retry-After %v)", err, wait)
	}
	time.Sleep(wait)
	if _, err := s.client.Warehouses(ctx, s.shop); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestRequestsTikTokRejects(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{}, tiktok.Config{})
	wrongSecret := tiktok.New(tiktok.Config{AppKey: appKey, AppSecret: "not-the-secret", APIURL: s.url, Tokens: s.tokens})
	if _, err := wrongSecret.Warehouses(ctx, s.shop); !errors.Is(err, tiktok.ErrInvalidSign) {
		t.Errorf("wrong secret: %v, want invalid sign", err)
	}
	for name, skew := range map[string]time.Duration{"10 min behind": -10 * time.Minute, "1 min ahead": time.Minute} {
		skewed := tiktok.New(tiktok.Config{AppKey: appKey, AppSecret: appSecret, APIURL: s.url, Tokens: s.tokens, Now: func() time.Time { return time.Now().Add(skew) }})
		_, err := skewed.Warehouses(ctx, s.shop)
		var api *tiktok.APIError
		if !errors.As(err, &api) || api.Code != tiktok.CodeGatewayRejected {
			t.Errorf("clock %s: %v, want 36009004", name, err)
		}
	}
	if _, err := s.client.Warehouses(ctx, tiktok.Shop{ID: s.shop.ID, Cipher: "ROW_not-a-cipher"}); err == nil {
		t.Error("an unknown shop_cipher was accepted")
	}
}

func TestExpiredTokenIsRefreshedOnceAndTheCallRetried(t *testing.T) {
	ctx := context.Background()
	s := newSandbox(t, tiktoksim.Options{}, tiktok.Config{})
	old := s.tokens.tok
	if code := s.control(t, "POST", "/_sim/tokens/expire", map[string]string{"access_token": old.AccessToken}, nil); code/100 != 2 {
		t.Fatalf("expire: HTTP %d", code)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.client.Warehouses(ctx, s.shop)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call after expiry failed: %v", err)
		}
	}
	if n := s.tokens.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes for 8 concurrent calls, want 1", n)
	}
	if s.tokens.tok.RefreshToken == old.RefreshToken {
		t.Fatal("refresh token not rotated")
	}
	if _, err := s.client.RefreshToken(ctx, old.RefreshToken); !errors.Is(err, tiktok.ErrRefreshTokenExpired) {
		t.Fatalf("the rotated-out refresh token: %v, want refresh token expired", err)
	}
}
