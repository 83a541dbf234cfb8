package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// `serve --sandbox` on a migrated database: the simulators answer, the shop
// is onboarded and configured, and an order placed on the TikTok simulator
// arrives by webhook and becomes a Sales Order in the SAP simulator.
func TestServeSandboxEndToEnd(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.NewURL(t)
	pcfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	sapDB := pcfg.Database + "_sandbox_sap"
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, testdb.AdminURL(t))
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{sapDB}.Sanitize()+" WITH (FORCE)")
	})

	httpAddr, ttAddr, slAddr, tdsAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary, "serve", "--sandbox", "--sandbox-demo=false", "--http-addr", httpAddr,
		"--sandbox-tiktok-addr", ttAddr, "--sandbox-sl-addr", slAddr, "--sandbox-tds-addr", tdsAddr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DATABASE_URL=" + dbURL, "TIKTOKB1_LOG_FORMAT=json"}
	var logs syncBuffer
	cmd.Stderr, cmd.Stdout = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	base := "http://" + httpAddr
	waitFor(t, 40*time.Second, &logs, "healthz 200", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, want := range []string{"http://" + ttAddr + "/_sim/", "http://" + slAddr + "/b1s/v1", "sqlserver://manager:manager@" + tdsAddr, "psql", "/riverui/"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start logs do not show %q", want)
		}
	}

	// The TikTok simulator, and the shop onboarded and configured.
	code, body := fetch(t, "http://"+ttAddr+"/_sim/shop")
	var shop struct {
		Shop struct {
			ID string `json:"id"`
		} `json:"shop"`
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &shop); code != 200 || err != nil {
		t.Fatalf("GET /_sim/shop: %d %s", code, body)
	}
	shopID := shop.Shop.ID + shop.ID
	pool, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	var shops, configs int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tiktok.shop WHERE id = $1), (SELECT count(*) FROM integration.shop_config WHERE shop_id = $1 AND card_code = 'C-TIKTOK')`, shopID).Scan(&shops, &configs); err != nil {
		t.Fatal(err)
	}
	if shopID == "" || shops != 1 || configs != 1 {
		t.Fatalf("shop %q: %d tiktok.shop rows, %d shop_config rows; want 1 and 1", shopID, shops, configs)
	}
	var whs []string
	rows, err := pool.Query(ctx, `SELECT whs_code FROM integration.warehouse_set WHERE shop_id = $1 ORDER BY whs_code`, shopID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w string
		_ = rows.Scan(&w)
		whs = append(whs, w)
	}
	if strings.Join(whs, ",") != "01,02" {
		t.Fatalf("the shop's TikTok warehouse counts SAP warehouses %v, want 01 and 02", whs)
	}

	// The SAP Service Layer.
	jar, _ := cookiejar.New(nil)
	sl := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := sl.Post("http://"+slAddr+"/b1s/v1/Login", "application/json", strings.NewReader(`{"CompanyDB":"SANDBOX","UserName":"manager","Password":"manager"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SAP login as manager/manager: %v %v", resp, err)
	}
	resp.Body.Close()

	// A buyer orders a demo SKU.
	resp, err = http.Post("http://"+ttAddr+"/_sim/orders", "application/json", strings.NewReader(`{"lines":[{"seller_sku":"MUG-WHT-350","quantity":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var placed struct {
		OrderID string `json:"order_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 && resp.StatusCode != 201 || placed.OrderID == "" {
		t.Fatalf("placing an order: %d %v %+v", resp.StatusCode, err, placed)
	}
	waitFor(t, 30*time.Second, &logs, "the order's webhook in tiktok.webhook_event", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM tiktok.webhook_event WHERE shop_id = $1 AND convert_from(body, 'UTF8') LIKE '%' || $2 || '%'`, shopID, placed.OrderID).Scan(&n)
		return err == nil && n > 0
	})
	filter := url.QueryEscape("NumAtCard eq '" + placed.OrderID + "'")
	waitFor(t, 45*time.Second, &logs, "a Sales Order in SAP with NumAtCard "+placed.OrderID, func() bool {
		resp, err := sl.Get("http://" + slAddr + "/b1s/v1/Orders?$select=DocEntry,NumAtCard&$filter=" + filter)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var page struct {
			Value []struct{ NumAtCard string } `json:"value"`
		}
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&page) == nil && len(page.Value) == 1
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve --sandbox exited with %v after SIGTERM; logs:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve --sandbox did not stop within 30 s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped cleanly"`) {
		t.Fatalf("no clean-stop log line:\n%s", logs.String())
	}
}

func TestServeSandboxRefusesRealSystemsSettings(t *testing.T) {
	r := tiktokb1(t, []string{"TIKTOK_APP_KEY=live-key", "SAPB1_SERVICE_LAYER_URL=https://sap:50000/b1s/v1"}, "serve", "--sandbox")
	if r.code != 2 || !strings.Contains(r.stderr, "TIKTOK_APP_KEY, SAPB1_SERVICE_LAYER_URL are set") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming both variables", r.code, r.stderr)
	}
	r = tiktokb1(t, nil, "serve", "--sandbox-demo=false")
	if r.code != 2 || !strings.Contains(r.stderr, "--sandbox-demo goes with --sandbox") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func waitFor(t *testing.T, d time.Duration, logs *syncBuffer, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; logs:\n%s", what, d, logs.String())
		}
	}
}

// syncBuffer is a bytes.Buffer the child's output and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
