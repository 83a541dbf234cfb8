package web_test

import (
	"context"
	"encoding/json"
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
