package tiktok_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Every documented webhook sample parses, with its ids exact.
func TestParseDocumentedWebhooks(t *testing.T) {
	files, _ := filepath.Glob("testdata/samples/Webhook-*.json")
	if len(files) < 10 {
		t.Fatalf("only %d webhook samples found", len(files))
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, err := tiktok.ParseWebhook(body)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if w.NotificationID == "" || w.ShopID == "" {
			t.Errorf("%s: no dedupe key or shop: %+v", f, w)
		}
		if _, err := w.Fields(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	body, _ := os.ReadFile("testdata/samples/Webhook-ProductStatusChangeEvent.json")
	w, _ := tiktok.ParseWebhook(body)
	d, _ := w.Fields()
	// The sample sends product_id as a JSON number past float precision.
	if d.ProductID != "576486316948490000" || w.Type != tiktok.WebhookProductStatusChange {
		t.Fatalf("product status change: type %d product %q", w.Type, d.ProductID)
	}
	if again, _ := tiktok.ParseWebhook(body); again.NotificationID != w.NotificationID {
		t.Fatal("a resent body without tts_notification_id got a different dedupe key")
	}
}

func TestParseWebhookLenientIDs(t *testing.T) {
	cases := map[string]string{
		"strings": `{"type":"1","tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507","timestamp":"1718305585","data":{"order_id":"576653688135258178","order_status":"UNPAID","update_time":1718305585}}`,
		"numbers": `{"type":1,"tts_notification_id":7380066284010030890,"shop_id":7495540735365777507,"timestamp":1718305585,"data":{"order_id":576653688135258178,"order_status":"UNPAID","update_time":"1718305585"}}`,
	}
	for name, body := range cases {
		w, err := tiktok.ParseWebhook([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := w.Fields()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w.NotificationID != "7380066284010030890" || w.ShopID != "7495540735365777507" || d.OrderID != "576653688135258178" || d.UpdateTime != 1718305585 || w.Timestamp != 1718305585 {
			t.Errorf("%s: ids or times not exact: %+v %+v", name, w, d)
		}
	}
}

func TestParseWebhookRejectsMalformedBodies(t *testing.T) {
	for name, body := range map[string]string{
		"empty":         ``,
		"not json":      `type=1`,
		"no type":       `{"tts_notification_id":"1","shop_id":"2","data":{}}`,
		"float id":      `{"type":1,"tts_notification_id":"1","shop_id":"2","data":{"order_id":1.5e3}}`,
		"object id":     `{"type":1,"tts_notification_id":{"a":1},"shop_id":"2","data":{}}`,
		"trailing data": `{"type":1,"tts_notification_id":"1","shop_id":"2","data":{}} {"type":2}`,
		"array":         `[1,2]`,
	} {
		w, err := tiktok.ParseWebhook([]byte(body))
		if err == nil {
			_, err = w.Fields()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	files, _ := filepath.Glob("testdata/samples/Webhook-*.json")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"type":1,"tts_notification_id":123,"data":{"order_id":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := tiktok.ParseWebhook(body)
		if err != nil {
			return
		}
		if w.Type <= 0 || w.NotificationID == "" {
			t.Fatalf("accepted a webhook without type or key: %+v", w)
		}
		_, _ = w.Fields()
	})
}
