package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/microsoft/go-mssqldb"

	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tiktokb1-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tiktokb1")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		panic("building tiktokb1: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// tiktokb1 runs the binary with only the given environment (plus PATH and
// HOME), so the developer's own settings never leak into a test.
func tiktokb1(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"serve", "--help"}, {"migrate", "--help"}, {"migrate", "up", "--help"},
		{"version", "--help"}, {"help", "migrate"}, {"serve", "-h"}, {"local-db", "--help"},
		{"sim", "--help"}, {"sim", "tiktok", "--help"}, {"sim", "sapb1", "--help"},
		{"mapping", "--help"}, {"doctor", "--help"},
	} {
		r := tiktokb1(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: tiktokb1") {
			t.Errorf("tiktokb1 %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	r := tiktokb1(t, nil, "serve", "--help")
	for _, want := range []string{"--http-addr", "127.0.0.1:8080", "DATABASE_URL", "TIKTOKB1_WORKERS_SAPB1_WRITE", "SAPB1_PASSWORD"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--http-adr", "x"}, "flag provided but not defined: -http-adr"},
		{[]string{"migrate"}, "expected one action: up, down or status"},
		{[]string{"migrate", "sideways"}, `unknown action "sideways"`},
		{[]string{"migrate", "up", "--to", "3"}, "--to goes with down only"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		r := tiktokb1(t, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("tiktokb1 %v: exit %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestInvalidConfigurationStopsWithTheVariableNamed(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "missing-secret")
	r := tiktokb1(t, []string{
		"TIKTOKB1_WORKERS_SAPB1_WRITE=abc",
		"DATABASE_URL_FILE=" + secretFile,
		"SAPB1_PASSWORD=hunter2-very-secret",
	}, "serve")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"TIKTOKB1_WORKERS_SAPB1_WRITE", "DATABASE_URL_FILE", secretFile, "SAPB1_SERVICE_LAYER_URL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("a secret reached the error output:\n%s", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := tiktokb1(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "tiktokb1 ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("version: exit %d, %q", r.code, r.stdout)
	}
}

func TestMigrateUpCreatesSchemasAndAnalystRole(t *testing.T) {
	ctx := context.Background()
	analyst := "tkb_cli_analyst_" + randomHex(4)
	app := "tkb_cli_app_" + randomHex(4)
	admin, err := pgx.Connect(ctx, testdb.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range []string{app, analyst} {
			_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
		}
		admin.Close(context.Background())
	})
	dbURL := testdb.NewEmptyURL(t)
	env := []string{"DATABASE_URL=" + dbURL, "TIKTOKB1_APP_ROLE=" + app, "TIKTOKB1_ANALYST_ROLE=" + analyst}

	r := tiktokb1(t, env, "migrate", "up")
	if r.code != 0 || !strings.Contains(r.stdout, "schema: applied 1, 2") || !strings.Contains(r.stdout, analyst) {
		t.Fatalf("migrate up: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var nSchemas int
	var hasAnalyst bool
	err = conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pg_namespace WHERE nspname IN ('tiktok','sapb1','integration','ops','report')),
		EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, analyst).Scan(&nSchemas, &hasAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	if nSchemas != 5 || !hasAnalyst {
		t.Fatalf("after migrate up: %d of 5 schemas, analyst role present %v", nSchemas, hasAnalyst)
	}

	r = tiktokb1(t, env, "migrate", "status")
	if r.code != 0 || strings.Contains(r.stdout, "pending") || !strings.Contains(r.stdout, "River's tables") {
		t.Fatalf("migrate status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tiktokb1(t, env, "migrate", "up")
	if r.code != 0 || !strings.Contains(r.stdout, "schema: up to date") {
		t.Fatalf("second migrate up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tiktokb1(t, env, "migrate", "down", "--to", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Fatalf("migrate down --to 0: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname IN ('tiktok','sapb1','integration','ops','report','river')`).Scan(&nSchemas); err != nil || nSchemas != 0 {
		t.Fatalf("after down --to 0: %d schemas left (%v)", nSchemas, err)
	}
}

func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	r := tiktokb1(t, []string{"DATABASE_URL=" + testdb.NewEmptyURL(t)}, "serve", "--http-addr", freeAddr(t))
	if r.code != 1 || !strings.Contains(r.stderr, "run `tiktokb1 migrate up`") {
		t.Fatalf("serve on an empty database: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestServeAnswersAndStopsOnSIGTERM(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--http-addr", addr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + testdb.NewURL(t), "TIKTOKB1_LOG_FORMAT=json"}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became healthy; logs:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks := []struct{ path, want string }{
		{"/riverui/", "<title>River"},
		{"/riverui/api/queues", `"name":"sapb1_write"`},
		{"/metrics", "tiktokb1_build_info"},
	}
	for _, c := range checks {
		code, body := fetch(t, base+c.path)
		if code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d, body lacks %q", c.path, code, c.want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped cleanly"`) {
		t.Fatalf("no clean-stop log line:\n%s", logs.String())
	}
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// The simulator is usable by a person from the command line.
func TestSimTikTokServesUntilSIGTERM(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(binary, "sim", "tiktok", "--addr", addr, "--app-key", "k", "--app-secret", "s", "--demo")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	cmd.Stdout = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var code int
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/_sim/orders"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(b)
			break
		}
	}
	if code != http.StatusOK || !strings.Contains(body, "order") {
		t.Fatalf("GET /_sim/orders on the demo shop: %d %s\nlogs:\n%s", code, body, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sim exited with %v; logs:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sim did not stop on SIGTERM")
	}
}

func TestMappingImportAndExportFromTheCommandLine(t *testing.T) {
	env := []string{"DATABASE_URL=" + testdb.NewURL(t)}
	file := filepath.Join(t.TempDir(), "skus.csv")
	if err := os.WriteFile(file, []byte("shop_id,seller_sku,item_code\n,MUG-RED,A00001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := tiktokb1(t, env, "mapping", "import", "skus", file)
	if r.code != 0 || !strings.Contains(r.stdout, "skus: 1 row(s) added or changed") {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tiktokb1(t, env, "mapping", "export", "skus")
	if r.code != 0 || r.stdout != "shop_id,seller_sku,item_code\n,MUG-RED,A00001\n" {
		t.Fatalf("export: exit %d\n%q%s", r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(file, []byte("shop_id,seller_sku,item_code\n,MUG-RED,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = tiktokb1(t, env, "mapping", "import", "skus", file)
	if r.code != 1 || !strings.Contains(r.stderr, "line 2, item_code: required") || !strings.Contains(r.stderr, "nothing imported") {
		t.Fatalf("bad file: exit %d\n%s", r.code, r.stderr)
	}
	r = tiktokb1(t, env, "mapping", "import", "colours", file)
	if r.code != 2 || !strings.Contains(r.stderr, `unknown kind "colours"`) {
		t.Fatalf("unknown kind: exit %d\n%s", r.code, r.stderr)
	}
}

// An import that changes what TikTok may sell recomputes it at once: the
// running service's next push sends it, without waiting for SAP's stock to
// move.
func TestMappingImportRecomputesAvailableToSell(t *testing.T) {
	url := testdb.NewURL(t)
	env := []string{"DATABASE_URL=" + url}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `
		INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen) VALUES ('A', true, true, true, false);
		INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, read_from) VALUES ('A', '01', 10, 0, now())`); err != nil {
		t.Fatal(err)
	}
	computed := func() int64 {
		var q int64
		if err := pool.QueryRow(context.Background(), `SELECT computed_quantity FROM integration.inventory_push WHERE shop_id = 'S1' AND seller_sku = 'A'`).Scan(&q); err != nil {
			t.Fatal(err)
		}
		return q
	}
	dir := t.TempDir()
	for _, step := range []struct{ kind, csv, out string }{
		{"warehouse-sets", "shop_id,tiktok_warehouse_id,whs_code\nS1,TW1,01\n", "available-to-sell recomputed: 1 listing(s) changed"},
		{"allocations", "shop_id,seller_sku,share\nS1,A,0.5\n", "available-to-sell recomputed: 1 listing(s) changed"},
	} {
		file := filepath.Join(dir, step.kind+".csv")
		if err := os.WriteFile(file, []byte(step.csv), 0o600); err != nil {
			t.Fatal(err)
		}
		r := tiktokb1(t, env, "mapping", "import", step.kind, file)
		if r.code != 0 || !strings.Contains(r.stdout, step.out) {
			t.Fatalf("import %s: exit %d\n%s%s", step.kind, r.code, r.stdout, r.stderr)
		}
		if step.kind == "warehouse-sets" && computed() != 10 {
			t.Fatalf("after the warehouse set: A = %d, want 10", computed())
		}
	}
	if got := computed(); got != 5 {
		t.Fatalf("after a 0.5 allocation: A = %d, want 5", got)
	}
}

// The SAP simulator from the command line: the Service Layer and the SQL
// Server endpoint serve one company.
func TestSimSAPB1ServesTheServiceLayerAndSQLServer(t *testing.T) {
	slAddr, tdsAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary, "sim", "sapb1", "--sl-addr", slAddr, "--tds-addr", tdsAddr,
		"--company-db", "SBOCLI", "--user", "manager", "--password", "s3cret", "--database-url", testdb.NewURL(t), "--docs-per-second", "0")
	var logs bytes.Buffer
	cmd.Stderr, cmd.Stdout = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err = client.Post("http://"+slAddr+"/b1s/v1/Login", "application/json", strings.NewReader(`{"CompanyDB":"SBOCLI","UserName":"manager","Password":"s3cret"}`))
		if err == nil {
			break
		}
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %v %v\n%s", resp, err, logs.String())
	}
	resp.Body.Close()
	resp, err = client.Post("http://"+slAddr+"/b1s/v1/Warehouses", "application/json", strings.NewReader(`{"WarehouseCode":"W7","WarehouseName":"Seventh"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create warehouse: %v %v", resp, err)
	}
	resp.Body.Close()

	db, err := sql.Open("sqlserver", "sqlserver://manager:s3cret@"+tdsAddr+"?database=SBOCLI&encrypt=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRow("SELECT WhsName FROM OWHS WITH (NOLOCK) WHERE WhsCode = @p1", "W7").Scan(&name); err != nil || name != "Seventh" {
		t.Fatalf("reading through the SQL Server endpoint: %q, %v\n%s", name, err, logs.String())
	}
	if _, err := db.Exec("DELETE FROM OWHS"); err == nil || !strings.Contains(err.Error(), "229") && !strings.Contains(strings.ToLower(err.Error()), "denied") {
		t.Fatalf("a write through the read-only endpoint: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("sim sapb1 did not stop on SIGTERM")
	}
}

// doctor finds the missing SAP user fields, creates them only with --fix,
// and is satisfied afterwards.
func TestDoctorChecksAndFixesSAPUserFields(t *testing.T) {
	ctx := context.Background()
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{DatabaseURL: testdb.NewURL(t), CompanyDB: "SBODOC", User: "manager", Password: "s3cret", DocsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	env := []string{"DATABASE_URL=" + testdb.NewURL(t), "SAPB1_SERVICE_LAYER_URL=" + srv.URL + "/b1s/v1",
		"SAPB1_COMPANY_DB=SBODOC", "SAPB1_USER=manager", "SAPB1_PASSWORD=s3cret"}

	r := tiktokb1(t, env, "doctor")
	if r.code != 1 || strings.Count(r.stdout, "missing: run `tiktokb1 doctor --fix`") != 4 || !strings.Contains(r.stdout, "ok    Postgres") {
		t.Fatalf("doctor on a company without the fields: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tiktokb1(t, env, "doctor", "--fix")
	if r.code != 0 || strings.Count(r.stdout, "created: restart the Service Layer") != 4 {
		t.Fatalf("doctor --fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = tiktokb1(t, env, "doctor")
	if r.code != 0 || strings.Count(r.stdout, "present") != 4 {
		t.Fatalf("doctor after --fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
