package tiktok_test

import (
	"net/url"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// The official example of TikTok's signing page.
func TestSignOfficialVector(t *testing.T) {
	q := url.Values{"app_key": {"29a39d"}, "timestamp": {"1623812664"}}
	got := tiktok.Sign("e59af819cc", "/authorization/202309/shops", q, nil, "application/json")
	const want = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
	if got != want {
		t.Fatalf("sign = %s, want %s", got, want)
	}
	// sign and access_token never take part; adding them changes nothing.
	q.Set("sign", "whatever")
	q.Set("access_token", "tok")
	if again := tiktok.Sign("e59af819cc", "/authorization/202309/shops", q, nil, "application/json"); again != want {
		t.Fatalf("sign with sign/access_token in the query = %s, want %s", again, want)
	}
}

// The official webhook example.
func TestWebhookSignatureOfficialVector(t *testing.T) {
	body := []byte(`{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507","timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178","order_status":"UNPAID","update_time":1718305585}}`)
	const want = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
	if got := tiktok.SignWebhook("abcdef", "123", body); got != want {
		t.Fatalf("webhook sign = %s, want %s", got, want)
	}
	if !tiktok.VerifyWebhook("abcdef", "123", body, want) {
		t.Fatal("the official signature does not verify")
	}
	for name, bad := range map[string]string{
		"upper-case": "5DEC0F11EC2F6783B8DEEE53C9FFBF8D024302F7C7E7FA55A35D17629031AC05",
		"bearer":     "Bearer " + want,
		"empty":      "",
		"truncated":  want[:63],
	} {
		if tiktok.VerifyWebhook("abcdef", "123", body, bad) {
			t.Errorf("%s signature verified", name)
		}
	}
	changed := append([]byte(nil), body...)
	changed = append(changed, ' ')
	if tiktok.VerifyWebhook("abcdef", "123", changed, want) {
		t.Error("a body changed after signing (one space) verified")
	}
}

// The documented body example: the body bytes follow the sorted parameters.
func TestSignIncludesTheExactBodyBytes(t *testing.T) {
	q := url.Values{"app_key": {"68xu9ks5p4i8"}, "shop_cipher": {"ROW_xkMbgAAAeVAQra0eZWebFQq5aIKt"}, "timestamp": {"1696909648"}}
	body := []byte(`{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}`)
	withBody := tiktok.Sign("s", "/event/202309/webhooks", q, body, "application/json")
	spaced := tiktok.Sign("s", "/event/202309/webhooks", q, []byte(`{"address": "https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}`), "application/json")
	if withBody == spaced {
		t.Fatal("whitespace in the body did not change the signature")
	}
	if multipart := tiktok.Sign("s", "/event/202309/webhooks", q, body, "multipart/form-data; boundary=x"); multipart != tiktok.Sign("s", "/event/202309/webhooks", q, nil, "") {
		t.Fatal("a multipart body took part in the signature")
	}
	// Values are signed decoded: a page_token with + and / signs as itself.
	q2 := url.Values{"page_token": {"a+b/c=="}}
	enc, _ := url.ParseQuery(q2.Encode())
	if tiktok.Sign("s", "/p", q2, nil, "") != tiktok.Sign("s", "/p", enc, nil, "") {
		t.Fatal("signature depends on URL encoding")
	}
}
