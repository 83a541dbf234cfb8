package tiktoksim_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// FuzzRequestParsing drives the request-parsing path (query paging
// parameters, page tokens, JSON bodies) of the searches and the inventory
// update with correctly signed requests. Whatever arrives, the answer is
// TikTok's envelope with a known HTTP status, never a panic.
//
//	go test -fuzz FuzzRequestParsing ./internal/sim/tiktoksim/
func FuzzRequestParsing(f *testing.F) {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	sim := tiktoksim.New(tiktoksim.Options{AppKey: testKey, AppSecret: testSecret, Demo: true, RateLimit: -1, Now: func() time.Time { return at }})
	defer sim.Close()
	token := sim.IssueToken().AccessToken
	shop := sim.Shop()
	product := sim.SKUs()[0]
	paths := []string{
		"/order/202309/orders/search",
		"/return_refund/202309/cancellations/search",
		"/product/202309/products/search",
		"/product/202309/inventory/search",
		"/product/202309/products/" + product.ProductID + "/inventory/update",
		"/order/202309/orders",
	}
	// A real page token as a seed, so mutations start from a valid one.
	rec := httptest.NewRecorder()
	q := url.Values{"app_key": {testKey}, "timestamp": {strconv.FormatInt(at.Unix(), 10)}, "shop_cipher": {shop.Cipher}, "page_size": {"2"}}
	q.Set("sign", tiktok.Sign(testSecret, paths[0], q, []byte(`{}`), "application/json"))
	req := httptest.NewRequest("POST", paths[0]+"?"+q.Encode(), bytes.NewReader([]byte(`{}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-tts-access-token", token)
	sim.ServeHTTP(rec, req)
	var first struct {
		Data struct {
			NextPageToken string `json:"next_page_token"`
		} `json:"data"`
	}
	json.Unmarshal(rec.Body.Bytes(), &first)

	f.Add(uint8(0), "page_size=20&sort_field=update_time&sort_order=ASC", []byte(`{"order_status":"UNPAID","create_time_ge":1,"update_time_lt":99999999999}`))
	f.Add(uint8(0), "page_size=2&page_token="+url.QueryEscape(first.Data.NextPageToken), []byte(`{}`))
	f.Add(uint8(0), "page_size=100", []byte(`{"warehouse_ids":["1"],"is_buyer_request_cancel":true,"buyer_user_id":"7"}`))
	f.Add(uint8(0), "page_size=0", []byte(`{"create_time_ge":-1}`))
	f.Add(uint8(0), "page_size=5", []byte(`{"create_time_ge":1e99}`))
	f.Add(uint8(1), "page_size=50", []byte(`{"cancel_status":["CANCELLATION_REQUEST_PENDING"],"order_ids":["1"]}`))
	f.Add(uint8(2), "page_size=10", []byte(`{"seller_skus":["TEE-BLK-M"],"status":"ALL","create_time_le":5}`))
	f.Add(uint8(3), "", []byte(`{"product_ids":["`+product.ProductID+`"],"sku_ids":["x"]}`))
	f.Add(uint8(4), "", []byte(`{"skus":[{"id":"`+product.SKUID+`","inventory":[{"quantity":5}]}]}`))
	f.Add(uint8(4), "", []byte(`{"skus":[{"id":"`+product.SKUID+`","inventory":[{"quantity":1.5e3,"warehouse_id":""}]}]}`))
	f.Add(uint8(5), "ids=1,2,,3", []byte(nil))
	f.Add(uint8(0), "page_size=3", []byte(`{"order_status":null}`))
	f.Add(uint8(0), "page_size=3", []byte("\xff\xfe{"))

	f.Fuzz(func(t *testing.T, which uint8, rawQuery string, body []byte) {
		path := paths[int(which)%len(paths)]
		method := "POST"
		if path == "/order/202309/orders" {
			method = "GET"
		}
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			q = url.Values{}
		}
		q.Set("app_key", testKey)
		q.Set("timestamp", strconv.FormatInt(at.Unix(), 10))
		q.Set("shop_cipher", shop.Cipher)
		q.Del("sign")
		q.Set("sign", tiktok.Sign(testSecret, path, q, body, "application/json"))
		req := httptest.NewRequest(method, path+"?"+q.Encode(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-tts-access-token", token)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		var env struct {
			Code      *int             `json:"code"`
			Message   string           `json:"message"`
			RequestID string           `json:"request_id"`
			Data      *json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil || env.RequestID == "" {
			t.Fatalf("%s %s: not an envelope: %v\n%s", method, path, err, rec.Body.Bytes())
		}
		switch {
		case rec.Code == 200 && *env.Code == 0 && env.Data != nil:
		case rec.Code == 200 && *env.Code != 0 && env.Data == nil && env.Message != "":
		default:
			t.Fatalf("%s %s?%s %q: HTTP %d code %d %s", method, path, q.Encode(), body, rec.Code, *env.Code, rec.Body.Bytes())
		}
	})
}
