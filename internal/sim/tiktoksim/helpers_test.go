package tiktoksim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

const (
	testKey    = "6a7b8c9d0e"
	testSecret = "f1e2d3c4b5a6"
)

// clock is a settable clock, so time stamps and the timestamp window are
// under the test's control.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a simulator behind a real HTTP server, with a token issued.
type fixture struct {
	t     *testing.T
	sim   *tiktoksim.Server
	srv   *httptest.Server
	clock *clock
	token string
	shop  tiktoksim.Shop
}

func newFixture(t *testing.T, opts tiktoksim.Options) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
	if opts.AppKey == "" {
		opts.AppKey, opts.AppSecret = testKey, testSecret
	}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = -1 // tests that want a limit set one
	}
	sim := tiktoksim.New(opts)
	srv := httptest.NewServer(sim)
	sim.Start()
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &fixture{t: t, sim: sim, srv: srv, clock: c, token: sim.IssueToken().AccessToken, shop: sim.Shop()}
}

// q returns shop-scoped query parameters (shop_cipher plus the pairs given).
func (f *fixture) q(kv ...string) url.Values {
	v := url.Values{"shop_cipher": {f.shop.Cipher}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// newRequest builds a request as a correct client does: app_key and
// timestamp added, the decoded query and the exact body signed, the query
// URL-encoded, the token in x-tts-access-token.
func (f *fixture) newRequest(method, path string, q url.Values, body string) *http.Request {
	f.t.Helper()
	q = cloneValues(q)
	if _, ok := q["app_key"]; !ok {
		q.Set("app_key", testKey)
	}
	if _, ok := q["timestamp"]; !ok {
		q.Set("timestamp", strconv.FormatInt(f.clock.Now().Unix(), 10))
	}
	q.Set("sign", tiktok.Sign(testSecret, path, q, []byte(body), "application/json"))
	req, err := http.NewRequest(method, f.srv.URL+path+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-tts-access-token", f.token)
	return req
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// resp is TikTok's envelope as a client reads it.
type resp struct {
	HTTPStatus int             `json:"-"`
	Header     http.Header     `json:"-"`
	Code       int             `json:"code"`
	Message    string          `json:"message"`
	RequestID  string          `json:"request_id"`
	Data       json.RawMessage `json:"data"`
}

func (f *fixture) do(req *http.Request) resp {
	f.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r resp
	if err := json.Unmarshal(b, &r); err != nil {
		f.t.Fatalf("%s %s: response is not TikTok's envelope: %v\n%s", req.Method, req.URL.Path, err, b)
	}
	r.HTTPStatus, r.Header = res.StatusCode, res.Header
	if r.RequestID == "" {
		f.t.Errorf("%s %s: no request_id in %s", req.Method, req.URL.Path, b)
	}
	return r
}

// call sends a correctly signed request.
func (f *fixture) call(method, path string, q url.Values, body string) resp {
	f.t.Helper()
	return f.do(f.newRequest(method, path, q, body))
}

// ok sends a signed request, wants code 0, and decodes data into out.
func (f *fixture) ok(method, path string, q url.Values, body string, out any) {
	f.t.Helper()
	r := f.call(method, path, q, body)
	if r.Code != 0 || r.HTTPStatus != 200 {
		f.t.Fatalf("%s %s: HTTP %d code %d %q, want success", method, path, r.HTTPStatus, r.Code, r.Message)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(r.Data))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			f.t.Fatalf("%s %s: data: %v\n%s", method, path, err, r.Data)
		}
	}
}

// wantCode asserts a rejection.
func wantCode(t *testing.T, what string, r resp, httpStatus, code int, msgPart string) {
	t.Helper()
	if r.HTTPStatus != httpStatus || r.Code != code || !strings.Contains(r.Message, msgPart) {
		t.Errorf("%s: got HTTP %d code %d %q; want HTTP %d code %d with %q", what, r.HTTPStatus, r.Code, r.Message, httpStatus, code, msgPart)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("%s: an error carries data %s", what, r.Data)
	}
}

// control sends a control API request and decodes the JSON answer.
func (f *fixture) control(method, path string, body any, out any) int {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	return res.StatusCode
}

// mustControl wants HTTP 200.
func (f *fixture) mustControl(method, path string, body any, out any) {
	f.t.Helper()
	var raw json.RawMessage
	if st := f.control(method, path, body, &raw); st != 200 {
		f.t.Fatalf("%s %s: HTTP %d %s", method, path, st, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) addProduct(sellerSKU string, stock int, price string) tiktoksim.CreatedSKU {
	f.t.Helper()
	created, err := f.sim.AddProducts([]tiktoksim.NewProduct{{SellerSKU: sellerSKU, Stock: stock, Price: price}})
	if err != nil {
		f.t.Fatal(err)
	}
	return created[0]
}

func (f *fixture) placeOrder(lines ...tiktoksim.NewOrderLine) string {
	f.t.Helper()
	id, err := f.sim.PlaceOrder(tiktoksim.NewOrder{Lines: lines})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) sku(sellerSKU string) tiktoksim.SKUState {
	f.t.Helper()
	st, err := f.sim.SKU(sellerSKU)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// Order and line as the service's client decodes them (ids and money as
// strings).
type apiOrder struct {
	ID               string                `json:"id"`
	Status           string                `json:"status"`
	CreateTime       int64                 `json:"create_time"`
	UpdateTime       int64                 `json:"update_time"`
	ShippingType     string                `json:"shipping_type"`
	FulfillmentType  string                `json:"fulfillment_type"`
	IsOnHoldOrder    bool                  `json:"is_on_hold_order"`
	IsBuyerReqCancel bool                  `json:"is_buyer_request_cancel"`
	Packages         []struct{ ID string } `json:"packages"`
	Payment          map[string]string     `json:"payment"`
	RecipientAddress map[string]any        `json:"recipient_address"`
	LineItems        []apiLine             `json:"line_items"`
}

type apiLine struct {
	ID               string `json:"id"`
	SKUID            string `json:"sku_id"`
	SellerSKU        string `json:"seller_sku"`
	OriginalPrice    string `json:"original_price"`
	SalePrice        string `json:"sale_price"`
	SellerDiscount   string `json:"seller_discount"`
	PlatformDiscount string `json:"platform_discount"`
	DisplayStatus    string `json:"display_status"`
	PackageID        string `json:"package_id"`
	IsGift           bool   `json:"is_gift"`
	CancelUser       string `json:"cancel_user"`
	ItemTax          []struct {
		TaxAmount string `json:"tax_amount"`
	} `json:"item_tax"`
}

type searchPage struct {
	Orders        []apiOrder  `json:"orders"`
	NextPageToken string      `json:"next_page_token"`
	TotalCount    json.Number `json:"total_count"`
}

// allOrders walks every page of an order search.
func (f *fixture) allOrders(q url.Values, body string) []apiOrder {
	f.t.Helper()
	var out []apiOrder
	token := ""
	for range 1000 {
		qq := cloneValues(q)
		if token != "" {
			qq.Set("page_token", token)
		}
		var page searchPage
		f.ok("POST", "/order/202309/orders/search", qq, body, &page)
		out = append(out, page.Orders...)
		if page.NextPageToken == "" {
			return out
		}
		token = page.NextPageToken
	}
	f.t.Fatal("paging never ends")
	return nil
}

// cents parses a decimal string of at most two decimals into cents.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		t.Fatalf("amount %q has more than two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

func nopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
