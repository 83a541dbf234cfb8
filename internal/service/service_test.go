package service_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/service"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// With TikTok configured, serve wires onboarding and the webhook endpoint to
// the database and River; without it, neither route exists.
func TestServeWiresTikTokWhenConfigured(t *testing.T) {
	for _, withTikTok := range []bool{true, false} {
		addr := freeAddr(t)
		env := map[string]string{"DATABASE_URL": testdb.NewURL(t), "TIKTOKB1_HTTP_ADDR": addr}
		if withTikTok {
			for k, v := range map[string]string{
				"TIKTOK_APP_KEY": "k", "TIKTOK_APP_SECRET": "s", "TIKTOK_SERVICE_ID": "svc",
				"TIKTOKB1_PUBLIC_URL": "https://tiktokb1.example.com",
				"TIKTOKB1_TOKEN_KEY":  strings.Repeat("ab", 32),
				"TIKTOK_API_URL":      "http://127.0.0.1:1", "TIKTOK_AUTH_URL": "http://127.0.0.1:1",
			} {
				env[k] = v
			}
		}
		cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		logger := slog.New(slog.DiscardHandler)
		pool, err := service.OpenPool(ctx, cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- service.Serve(ctx, cfg, pool, logger) }()

		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if resp, err = client.Get("http://" + addr + "/oauth/tiktok/start"); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("serve did not answer: %v", err)
		}
		resp.Body.Close()
		body := `{"type":1,"tts_notification_id":"n1","shop_id":"1","timestamp":1718305585,"data":{}}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/tiktok", strings.NewReader(body))
		req.Header.Set("Authorization", tiktok.SignWebhook("k", "s", []byte(body)))
		hook, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		hook.Body.Close()

		if withTikTok {
			if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "service_id=svc") {
				t.Errorf("with TikTok: /oauth/tiktok/start = %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if hook.StatusCode != http.StatusOK {
				t.Errorf("with TikTok: webhook = %d", hook.StatusCode)
			}
		} else if resp.StatusCode != http.StatusNotFound || hook.StatusCode != http.StatusNotFound {
			t.Errorf("without TikTok: start %d, webhook %d; want 404s", resp.StatusCode, hook.StatusCode)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		pool.Close()
	}
}
