package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/web"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthzFollowsTheDatabase(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m := metrics.New("test")
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: pool, Metrics: m}))
	defer srv.Close()

	code, body := get(t, srv, "/healthz")
	var h struct{ Status, Database string }
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("healthz body %q: %v", body, err)
	}
	if code != http.StatusOK || h.Status != "ok" || h.Database != "ok" {
		t.Fatalf("healthz with the database up = %d %s", code, body)
	}

	// Take the database away under the running pool.
	admin, err := pgx.Connect(ctx, testdb.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var name string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, srv, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"unavailable"`) {
		t.Fatalf("healthz with the database gone = %d %s, want 503 unavailable", code, body)
	}
	if strings.Contains(body, name) || strings.Contains(body, "127.0.0.1") {
		t.Fatalf("healthz leaks connection details to an unauthenticated caller: %s", body)
	}

	_, metricsText := get(t, srv, "/metrics")
	for _, want := range []string{
		`tiktokb1_http_requests_total{code="200",route="healthz"} 1`,
		`tiktokb1_http_requests_total{code="503",route="healthz"} 1`,
		`tiktokb1_build_info{version="test"} 1`,
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestOpenExceptionsAreExported(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO ops.exception (kind, owner_team, severity, sku, message) VALUES
		  ('unmapped_sku', 'operations', 'error', 'A', 'SKU A has no SAP item'),
		  ('unmapped_sku', 'operations', 'error', 'B', 'SKU B has no SAP item');
		INSERT INTO ops.exception (kind, owner_team, message, status, resolved_at) VALUES
		  ('unmapped_sku', 'operations', 'SKU C has no SAP item', 'resolved', now())`)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New("test")
	m.WatchExceptions(pool)
	m.WatchPool(pool)
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: pool, Metrics: m}))
	defer srv.Close()
	_, text := get(t, srv, "/metrics")
	for _, want := range []string{
		`tiktokb1_exceptions_open{kind="unmapped_sku",owner_team="operations",severity="error"} 2`,
		`tiktokb1_db_pool_connections{state="max"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestInventoryStateIsExported(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	// Shop S1: A in sync, B due for 2 minutes, C refused, D held, E on
	// TikTok above what SAP allows, X not on TikTok (not counted).
	_, err := pool.Exec(ctx, `
		INSERT INTO integration.tiktok_sku (shop_id, seller_sku, product_id, sku_id) VALUES
		  ('S1', 'A', 'p', 'a'), ('S1', 'B', 'p', 'b'), ('S1', 'C', 'p', 'c'), ('S1', 'D', 'p', 'd'), ('S1', 'E', 'p', 'e'),
		  ('S1', 'X', NULL, NULL);
		INSERT INTO integration.inventory_push (shop_id, tiktok_warehouse_id, seller_sku, computed_quantity, computed_at, sent_quantity, basis_quantity, result) VALUES
		  ('S1', 'W', 'A', 5, now() - interval '1 hour', 5, 5, 'ok'),
		  ('S1', 'W', 'B', 7, now() - interval '2 minutes', 3, 3, 'ok'),
		  ('S1', 'W', 'C', 4, now() - interval '3 hours', NULL, 4, 'failed'),
		  ('S1', 'W', 'D', 9, now() - interval '10 seconds', NULL, NULL, 'held'),
		  ('S1', 'W', 'E', 2, now() - interval '1 hour', 2, 2, 'ok'),
		  ('S1', 'W', 'X', 8, now() - interval '5 hours', NULL, NULL, NULL);
		INSERT INTO tiktok.sku_stock (shop_id, sku_id, tiktok_warehouse_id, product_id, seller_sku, available_quantity, committed_quantity, read_at) VALUES
		  ('S1', 'a', 'W', 'p', 'A', 5, 0, now()), ('S1', 'e', 'W', 'p', 'E', 6, 0, now())`)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New("test")
	m.WatchInventory(pool)
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: pool, Metrics: m}))
	defer srv.Close()
	_, text := get(t, srv, "/metrics")
	for _, want := range []string{
		`tiktokb1_inventory_listings{shop_id="S1",state="in_sync"} 2`,
		`tiktokb1_inventory_listings{shop_id="S1",state="due"} 1`,
		`tiktokb1_inventory_listings{shop_id="S1",state="refused"} 1`,
		`tiktokb1_inventory_listings{shop_id="S1",state="held"} 1`,
		`tiktokb1_inventory_tiktok_above_ats{shop_id="S1"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// B waited 2 minutes (D, held, waits less; C, refused, is not waiting).
	var age float64
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, `tiktokb1_inventory_oldest_due_seconds{shop_id="S1"} `); ok {
			if _, err := fmt.Sscan(v, &age); err != nil {
				t.Fatal(err)
			}
		}
	}
	if age < 119 || age > 180 {
		t.Fatalf("oldest due: %v s, want about 120", age)
	}
}
