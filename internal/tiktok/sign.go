package tiktok

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

// Sign computes TikTok Shop's request signature: every query parameter but
// sign and access_token, sorted by key, as key+value with no separators,
// after the path; then the body bytes exactly as sent (unless the request is
// multipart); wrapped in the app secret on both sides; HMAC-SHA256 keyed by
// the app secret; lower-case hex. Values are signed decoded.
func Sign(appSecret, path string, query url.Values, body []byte, contentType string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		if k == "sign" || k == "access_token" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(appSecret)
	b.WriteString(path)
	for _, k := range keys {
		for _, v := range query[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	if len(body) > 0 && !strings.HasPrefix(strings.ToLower(contentType), "multipart/form-data") {
		b.Write(body)
	}
	b.WriteString(appSecret)
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(b.String()))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignWebhook computes the Authorization header TikTok sends with a webhook:
// lower-case hex HMAC-SHA256 of app key + raw body, keyed by the app secret.
func SignWebhook(appKey, appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(appKey))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook reports whether authorization is the signature of body, in
// constant time. An upper-case or otherwise different hex string fails.
func VerifyWebhook(appKey, appSecret string, body []byte, authorization string) bool {
	want := SignWebhook(appKey, appSecret, body)
	return hmac.Equal([]byte(want), []byte(authorization))
}
