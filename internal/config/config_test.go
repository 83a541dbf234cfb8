package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env returns a lookup over m.
func env(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// problems runs Load and returns its problems as "VAR: message" lines.
func problems(t *testing.T, m map[string]string) []string {
	t.Helper()
	cfg, err := Load(env(m))
	if err == nil {
		t.Fatalf("Load succeeded, want an error; config: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Load returned a config with an error")
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	var lines []string
	for _, p := range cerr.Problems {
		lines = append(lines, p.String())
	}
	return lines
}

// writeFile writes content to a new file in a temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// caPEM returns a self-signed CA certificate in PEM form.
func caPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func defaultConfig() Config {
	return Config{
		Server: Server{HTTPAddr: "127.0.0.1:8080", ShutdownTimeout: 30 * time.Second},
		Log:    Log{Level: slog.LevelInfo, Format: LogFormatText},
		Database: Database{
			DataDir:          ".data",
			AppRole:          "tiktokb1_app",
			AnalystRole:      "analyst",
			MaxConns:         20,
			SyncRunRetention: 2160 * time.Hour,
			PIIRetention:     2160 * time.Hour,
		},
		Workers: Workers{TikTokRead: 10, SAPB1Read: 2, SAPB1Write: 10, TikTokWrite: 5, Priority: 5, Default: 5,
			JobTimeout: 10 * time.Minute, RescueStuckJobsAfter: time.Hour},
		TikTok: TikTok{
			APIURL:             "https://open-api.tiktokglobalshop.com",
			AuthURL:            "https://auth.tiktok-shops.com",
			AuthorizeURL:       "https://services.tiktokshop.com/open/authorize",
			TokenRefreshAhead:  24 * time.Hour,
			RateLimit:          10,
			OrdersPollInterval: time.Minute,
			OrdersPollLag:      2 * time.Minute,
			OrdersPollOverlap:  10 * time.Minute,
		},
		SAPB1:     SAPB1{SQLIsolation: "read_committed"},
		Governor:  defaultGovernor,
		Inventory: Inventory{ConfirmShare: 0.2, ConfirmMinSKUs: 10},
	}
}

// defaultGovernor is the governor's configuration with nothing set.
var defaultGovernor = Governor{
	MaxConcurrent:     4,
	PriorityReserved:  1,
	RequestsPerSecond: 10,
	RequestTimeout:    60 * time.Second,
	SlowRequest:       10 * time.Second,
	BreakerFailures:   5,
	BreakerCooldown:   30 * time.Second,
}

// testTokenKey is a valid TIKTOKB1_TOKEN_KEY (64 hex characters).
const testTokenKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// withTikTok returns m plus every variable TikTok requires besides the app
// key and secret.
func withTikTok(m map[string]string) map[string]string {
	out := map[string]string{
		envTokenKey:        testTokenKey,
		envPublicURL:       "https://tiktokb1.example.com",
		envTikTokServiceID: "7123",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		// Blank values count as unset.
		{envHTTPAddr: "", envDataDir: "  ", envDatabaseURL: "", envDatabaseURL + "_FILE": "", envSAPUser: " "},
	} {
		cfg, err := Load(env(m))
		if err != nil {
			t.Fatalf("Load(%v): %v", m, err)
		}
		if want := defaultConfig(); !reflect.DeepEqual(*cfg, want) {
			t.Errorf("Load(%v) =\n%+v\nwant\n%+v", m, *cfg, want)
		}
		if !cfg.Database.Local() {
			t.Error("Database.Local() = false with DATABASE_URL unset")
		}
		if cfg.TikTok.Enabled() || cfg.SAPB1.Enabled() {
			t.Error("TikTok or SAPB1 enabled with nothing set")
		}
	}
}

// TestVariablesDefaults checks that Variables shows the defaults Load uses.
func TestVariablesDefaults(t *testing.T) {
	m := map[string]string{}
	for _, v := range Variables() {
		if v.Default != "" {
			m[v.Name] = v.Default
		}
	}
	cfg, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load(Variables defaults) =\n%+v\nwant\n%+v", *cfg, want)
	}
}

// TestVariablesComplete checks that Variables lists exactly the variables
// Load reads, and that secrets are also read from NAME_FILE.
func TestVariablesComplete(t *testing.T) {
	read := map[string]bool{}
	if _, err := Load(func(name string) (string, bool) {
		read[name] = true
		return "", false
	}); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, v := range Variables() {
		listed[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is listed but not read", v.Name)
		}
		if v.Secret && !read[v.Name+"_FILE"] {
			t.Errorf("%s is secret but %s_FILE is not read", v.Name, v.Name)
		}
		if !v.Secret && read[v.Name+"_FILE"] {
			t.Errorf("%s is not secret but %s_FILE is read", v.Name, v.Name)
		}
		if v.Description == "" || len(v.Description) > 160 {
			t.Errorf("%s: description has %d characters, want 1 to 160", v.Name, len(v.Description))
		}
	}
	for name := range read {
		if !listed[name] && !listed[strings.TrimSuffix(name, "_FILE")] {
			t.Errorf("%s is read but not listed by Variables", name)
		}
	}
	if len(listed) != len(Variables()) {
		t.Error("Variables lists a name twice")
	}
	// The returned slice is a copy.
	vs := Variables()
	vs[0].Name = "CHANGED"
	if Variables()[0].Name == "CHANGED" {
		t.Error("Variables returns its internal slice")
	}
}

func TestLoadAllSet(t *testing.T) {
	caFile := writeFile(t, "ca.pem", string(caPEM(t)))
	m := map[string]string{
		envDatabaseURL:        "postgres://app:pw@db:5432/tiktokb1?sslmode=require",
		envHTTPAddr:           ":9090",
		envLogLevel:           "DEBUG",
		envLogFormat:          "JSON",
		envDataDir:            "/var/lib/tiktokb1",
		envAppRole:            "svc",
		envAnalystRole:        "_reports1",
		envDBMaxConns:         "2",
		envShutdownTimeout:    "10m",
		envSyncRunRetention:   "24h",
		envPIIRetention:       "720h",
		envWorkersTTRead:      "1",
		envWorkersSAPRead:     "1000",
		envWorkersSAPWrite:    " 3 ",
		envWorkersTTWrite:     "4",
		envWorkersPriority:    "6",
		envWorkersDefault:     "7",
		envJobTimeout:         "5s",
		envRescueStuckJobs:    "6s",
		envTikTokAppKey:       "key123",
		envTikTokAppSecret:    "tt-secret",
		envTikTokAPIURL:       "http://localhost:8081/",
		envTikTokAuthURL:      "https://auth.example.com/v2",
		envTikTokAuthorizeURL: "https://services.us.tiktokshop.com/open/authorize/",
		envTikTokServiceID:    "7310000000000000001",
		envTikTokRefreshAhead: "72h",
		envTokenKey:           " " + testTokenKey + "\n",
		envPublicURL:          "https://tiktokb1.example.com/base/",
		envSAPServiceLayer:    "https://sap:50000/b1s/v1/",
		envSAPCompanyDB:       "SBODEMOUS",
		envSAPUser:            "manager",
		envSAPPassword:        "sap-pw",
		envSAPSQLDSN:          "sqlserver://sa:pw@sap:1433?database=SBODEMOUS",
		envSAPTLSCAFile:       caFile,
		envSAPTLSInsecure:     "true",
		envSAPSQLIsolation:    "SNAPSHOT",

		// The governor's limits.
		envSAPMaxConcurrent:     "8",
		envSAPPriorityReserved:  "2",
		envSAPRequestsPerSecond: "2.5",
		envSAPRequestTimeout:    "2m",
		envSAPSlowRequest:       "1500ms",
		envSAPBreakerFailures:   "3",
		envSAPBreakerCooldown:   "1m",

		envInventoryShare:   "0.05",
		envInventoryMinSKUs: "50",
	}
	cfg, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	// Secrets are compared by value, then cleared for the DeepEqual below.
	for name, got := range map[string]Secret{
		envDatabaseURL:     cfg.Database.URL,
		envTikTokAppSecret: cfg.TikTok.AppSecret,
		envSAPPassword:     cfg.SAPB1.Password,
		envSAPSQLDSN:       cfg.SAPB1.SQLDSN,
	} {
		if got.Reveal() != m[name] {
			t.Errorf("%s: got %q, want %q", name, got.Reveal(), m[name])
		}
	}
	// The token key is held decoded.
	if got := []byte(cfg.TikTok.TokenKey.Reveal()); len(got) != 32 || got[0] != 0 || got[31] != 31 {
		t.Errorf("TokenKey = %x, want the 32 bytes of %s", got, testTokenKey)
	}
	cfg.Database.URL, cfg.TikTok.AppSecret, cfg.SAPB1.Password, cfg.SAPB1.SQLDSN = Secret{}, Secret{}, Secret{}, Secret{}
	cfg.TikTok.TokenKey = Secret{}
	want := Config{
		Server: Server{HTTPAddr: ":9090", ShutdownTimeout: 10 * time.Minute, PublicURL: "https://tiktokb1.example.com/base"},
		Log:    Log{Level: slog.LevelDebug, Format: LogFormatJSON},
		Database: Database{
			DataDir:          "/var/lib/tiktokb1",
			AppRole:          "svc",
			AnalystRole:      "_reports1",
			MaxConns:         2,
			SyncRunRetention: 24 * time.Hour,
			PIIRetention:     720 * time.Hour,
		},
		Workers: Workers{TikTokRead: 1, SAPB1Read: 1000, SAPB1Write: 3, TikTokWrite: 4, Priority: 6, Default: 7,
			JobTimeout: 5 * time.Second, RescueStuckJobsAfter: 6 * time.Second},
		TikTok: TikTok{
			AppKey:             "key123",
			APIURL:             "http://localhost:8081",
			AuthURL:            "https://auth.example.com/v2",
			AuthorizeURL:       "https://services.us.tiktokshop.com/open/authorize",
			ServiceID:          "7310000000000000001",
			TokenRefreshAhead:  72 * time.Hour,
			RateLimit:          10,
			OrdersPollInterval: time.Minute,
			OrdersPollLag:      2 * time.Minute,
			OrdersPollOverlap:  10 * time.Minute,
		},
		SAPB1: SAPB1{
			ServiceLayerURL:       "https://sap:50000/b1s/v1",
			CompanyDB:             "SBODEMOUS",
			User:                  "manager",
			TLSCAFile:             caFile,
			TLSInsecureSkipVerify: true,
			SQLIsolation:          "snapshot",
		},
		Governor: Governor{
			MaxConcurrent:     8,
			PriorityReserved:  2,
			RequestsPerSecond: 2.5,
			RequestTimeout:    2 * time.Minute,
			SlowRequest:       1500 * time.Millisecond,
			BreakerFailures:   3,
			BreakerCooldown:   time.Minute,
		},
		Inventory: Inventory{ConfirmShare: 0.05, ConfirmMinSKUs: 50},
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("got\n%+v\nwant\n%+v", *cfg, want)
	}
}

func TestLoadValidValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"postgresql URL", map[string]string{envDatabaseURL: "postgresql://db/x"},
			func(c *Config) bool { return !c.Database.Local() }},
		{"postgres URL via unix socket", map[string]string{envDatabaseURL: "postgres:///tiktokb1?host=/run/postgresql"},
			func(c *Config) bool { return !c.Database.Local() }},
		{"key=value with host", map[string]string{envDatabaseURL: "host=db user=app password='a b' dbname=x"},
			func(c *Config) bool { return c.Database.URL.Reveal() == "host=db user=app password='a b' dbname=x" }},
		{"key=value with dbname only", map[string]string{envDatabaseURL: "dbname=tiktokb1"},
			func(c *Config) bool { return c.Database.URL.IsSet() }},
		{"IPv6 address", map[string]string{envHTTPAddr: "[::1]:0"},
			func(c *Config) bool { return c.Server.HTTPAddr == "[::1]:0" }},
		{"log level warn", map[string]string{envLogLevel: "Warn"},
			func(c *Config) bool { return c.Log.Level == slog.LevelWarn }},
		{"log level error", map[string]string{envLogLevel: "error"},
			func(c *Config) bool { return c.Log.Level == slog.LevelError }},
		{"role of 63 characters", map[string]string{envAppRole: strings.Repeat("a", 63)},
			func(c *Config) bool { return c.Database.AppRole == strings.Repeat("a", 63) }},
		{"shutdown 1s", map[string]string{envShutdownTimeout: "1s"},
			func(c *Config) bool { return c.Server.ShutdownTimeout == time.Second }},
		{"job timeout and rescue by default", map[string]string{},
			func(c *Config) bool {
				return c.Workers.JobTimeout == 10*time.Minute && c.Workers.RescueStuckJobsAfter == time.Hour
			}},
		{"long job timeout with a longer rescue", map[string]string{envJobTimeout: "2h", envRescueStuckJobs: "3h"},
			func(c *Config) bool {
				return c.Workers.JobTimeout == 2*time.Hour && c.Workers.RescueStuckJobsAfter == 3*time.Hour
			}},
		{"retention in minutes", map[string]string{envSyncRunRetention: "1500m"},
			func(c *Config) bool { return c.Database.SyncRunRetention == 25*time.Hour }},
		{"personal data for a year", map[string]string{envPIIRetention: "8760h"},
			func(c *Config) bool { return c.Database.PIIRetention == 365*24*time.Hour }},
		{"insecure false", map[string]string{envSAPTLSInsecure: "0"},
			func(c *Config) bool { return !c.SAPB1.TLSInsecureSkipVerify }},
		{"SQL DSN alone", map[string]string{envSAPSQLDSN: "sqlserver://sa:pw@sap?database=X"},
			func(c *Config) bool { return c.SAPB1.SQLDSN.IsSet() && !c.SAPB1.Enabled() }},
		{"TikTok enabled", withTikTok(map[string]string{envTikTokAppKey: "k", envTikTokAppSecret: "s"}),
			func(c *Config) bool {
				return c.TikTok.Enabled() && c.Server.PublicURL == "https://tiktokb1.example.com" && c.TikTok.ServiceID == "7123"
			}},
		{"token key in base64", map[string]string{envTokenKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
			func(c *Config) bool {
				return len(c.TikTok.TokenKey.Reveal()) == 32 && c.TikTok.TokenKey.Reveal()[31] == 31
			}},
		{"token key in unpadded URL base64", map[string]string{envTokenKey: "_-_-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw"},
			func(c *Config) bool {
				return len(c.TikTok.TokenKey.Reveal()) == 32 && c.TikTok.TokenKey.Reveal()[0] == 0xff
			}},
		{"token key in upper-case hex", map[string]string{envTokenKey: strings.ToUpper(testTokenKey)},
			func(c *Config) bool { return c.TikTok.TokenKey.Reveal()[10] == 10 }},
		{"token key alone, without TikTok", map[string]string{envTokenKey: testTokenKey},
			func(c *Config) bool { return !c.TikTok.Enabled() && c.TikTok.TokenKey.IsSet() }},
		{"refresh ahead 30m", map[string]string{envTikTokRefreshAhead: "30m"},
			func(c *Config) bool { return c.TikTok.TokenRefreshAhead == 30*time.Minute }},
		{"public URL over http with a path", map[string]string{envPublicURL: "http://10.0.0.5:8080/tiktokb1"},
			func(c *Config) bool { return c.Server.PublicURL == "http://10.0.0.5:8080/tiktokb1" }},
		{"SAP enabled", map[string]string{envSAPServiceLayer: "http://sap:50001/b1s/v2", envSAPCompanyDB: "DB", envSAPUser: "u", envSAPPassword: "p"},
			func(c *Config) bool { return c.SAPB1.Enabled() && c.SAPB1.ServiceLayerURL == "http://sap:50001/b1s/v2" }},
		{"secret taken as set, blanks trimmed", map[string]string{envSAPSQLDSN: " sqlserver://sa:pw@sap \r\n"},
			func(c *Config) bool { return c.SAPB1.SQLDSN.Reveal() == "sqlserver://sa:pw@sap" }},
		{"governor with nothing reserved and one request per ten seconds", map[string]string{envSAPMaxConcurrent: "1", envSAPPriorityReserved: "0", envSAPRequestsPerSecond: "0.1"},
			func(c *Config) bool {
				return c.Governor.MaxConcurrent == 1 && c.Governor.PriorityReserved == 0 && c.Governor.RequestsPerSecond == 0.1
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config %+v", *cfg)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	dir := t.TempDir()
	notPEM := writeFile(t, "ca.txt", "not a certificate\n")
	const sapAll = "SAPB1_SERVICE_LAYER_URL, SAPB1_COMPANY_DB, SAPB1_USER and SAPB1_PASSWORD"
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"database URL of another scheme", map[string]string{envDatabaseURL: "mysql://app:hunter2@db/x"},
			[]string{"DATABASE_URL: value (not shown) is not a postgres:// or postgresql:// URL, or a key=value string with host= or dbname="}},
		{"database URL that is neither URL nor key=value", map[string]string{envDatabaseURL: "hunter2"},
			[]string{"DATABASE_URL: value (not shown) is not a postgres:// or postgresql:// URL, or a key=value string with host= or dbname="}},
		{"database URL that does not parse", map[string]string{envDatabaseURL: "postgres://app:hun#ter2/x@db/x"},
			[]string{"DATABASE_URL: value (not shown) is not a postgres:// or postgresql:// URL, or a key=value string with host= or dbname="}},
		{"HTTP address without port", map[string]string{envHTTPAddr: "localhost"},
			[]string{`TIKTOKB1_HTTP_ADDR: "localhost" is not host:port; expected e.g. 127.0.0.1:8080, or :8080 for all interfaces`}},
		{"HTTP address with named port", map[string]string{envHTTPAddr: "localhost:http"},
			[]string{`TIKTOKB1_HTTP_ADDR: "localhost:http" has no valid port; expected a port number 0 to 65535, e.g. 127.0.0.1:8080`}},
		{"HTTP address with port out of range", map[string]string{envHTTPAddr: ":65536"},
			[]string{`TIKTOKB1_HTTP_ADDR: ":65536" has no valid port; expected a port number 0 to 65535, e.g. 127.0.0.1:8080`}},
		{"orders poll interval too short", map[string]string{envTikTokPollInterval: "1s"},
			[]string{`TIKTOK_ORDERS_POLL_INTERVAL: "1s" is too short; expected 5s to 1h, e.g. 60s`}},
		{"orders poll lag not a duration", map[string]string{envTikTokPollLag: "two minutes"},
			[]string{`TIKTOK_ORDERS_POLL_LAG: "two minutes" is not a duration; expected 0s to 1h, e.g. 2m`}},
		{"orders poll overlap too long", map[string]string{envTikTokPollOverlap: "48h"},
			[]string{`TIKTOK_ORDERS_POLL_OVERLAP: "48h" is too long; expected 0s to 24h, e.g. 10m`}},
		{"TikTok rate not a number", map[string]string{envTikTokRateLimit: "fast"},
			[]string{`TIKTOK_RATE_LIMIT: "fast" is not a rate; expected requests per second from 0.1 to 1000, e.g. 10`}},
		{"TikTok rate zero", map[string]string{envTikTokRateLimit: "0"},
			[]string{`TIKTOK_RATE_LIMIT: "0" is not a rate; expected requests per second from 0.1 to 1000, e.g. 10`}},
		{"TikTok rate limits without =", map[string]string{envTikTokRateLimits: "orders_search:5"},
			[]string{`TIKTOK_RATE_LIMITS: "orders_search:5" is not endpoint=rate; expected e.g. orders_search=5,inventory_update=20`}},
		{"TikTok rate limits for an unknown endpoint", map[string]string{envTikTokRateLimits: "orders=5"},
			[]string{`TIKTOK_RATE_LIMITS: unknown endpoint "orders"; expected one of authorized_shops, cancellations_search, inventory_search, inventory_update, orders_detail, orders_search, prices_update, products_search, warehouses, webhooks_delete, webhooks_get, webhooks_update`}},
		{"TikTok rate limits with a bad rate", map[string]string{envTikTokRateLimits: "orders_search=5,inventory_update=-1"},
			[]string{`TIKTOK_RATE_LIMITS: "-1" is not a rate; expected requests per second from 0.1 to 1000, e.g. 10`}},
		{"log level", map[string]string{envLogLevel: "verbose"},
			[]string{`TIKTOKB1_LOG_LEVEL: "verbose" is not a log level; expected debug, info, warn or error`}},
		{"log format", map[string]string{envLogFormat: "xml"},
			[]string{`TIKTOKB1_LOG_FORMAT: "xml" is not a log format; expected text or json`}},
		{"app role with capitals and dash", map[string]string{envAppRole: "Bad-Role"},
			[]string{`TIKTOKB1_APP_ROLE: "Bad-Role" is not a valid role name; expected lowercase letters, digits and _, not starting with a digit, at most 63 characters`}},
		{"app role starting with a digit", map[string]string{envAppRole: "1app"},
			[]string{`TIKTOKB1_APP_ROLE: "1app" is not a valid role name; expected lowercase letters, digits and _, not starting with a digit, at most 63 characters`}},
		{"analyst role too long", map[string]string{envAnalystRole: strings.Repeat("a", 64)},
			[]string{`TIKTOKB1_ANALYST_ROLE: "` + strings.Repeat("a", 64) + `" is not a valid role name; expected lowercase letters, digits and _, not starting with a digit, at most 63 characters`}},
		{"role with pg_ prefix", map[string]string{envAppRole: "pg_app"},
			[]string{`TIKTOKB1_APP_ROLE: "pg_app" starts with pg_, which Postgres reserves; expected another role name`}},
		{"reserved role", map[string]string{envAnalystRole: "public"},
			[]string{`TIKTOKB1_ANALYST_ROLE: "public" is reserved by Postgres; expected another role name`}},
		{"analyst role equal to app role", map[string]string{envAppRole: "app", envAnalystRole: "app"},
			[]string{`TIKTOKB1_ANALYST_ROLE: "app" is also TIKTOKB1_APP_ROLE; expected a different role`}},
		{"analyst role equal to default app role", map[string]string{envAnalystRole: "tiktokb1_app"},
			[]string{`TIKTOKB1_ANALYST_ROLE: "tiktokb1_app" is also TIKTOKB1_APP_ROLE; expected a different role`}},
		{"max conns not a number", map[string]string{envDBMaxConns: "many"},
			[]string{`TIKTOKB1_DB_MAX_CONNS: "many" is not a whole number; expected 2 to 1000`}},
		{"max conns too low", map[string]string{envDBMaxConns: "1"},
			[]string{`TIKTOKB1_DB_MAX_CONNS: "1" is out of range; expected 2 to 1000`}},
		{"max conns too high", map[string]string{envDBMaxConns: "1001"},
			[]string{`TIKTOKB1_DB_MAX_CONNS: "1001" is out of range; expected 2 to 1000`}},
		{"shutdown timeout without unit", map[string]string{envShutdownTimeout: "30"},
			[]string{`TIKTOKB1_SHUTDOWN_TIMEOUT: "30" is not a duration; expected 1s to 10m, e.g. 30s or 2m`}},
		{"shutdown timeout too short", map[string]string{envShutdownTimeout: "500ms"},
			[]string{`TIKTOKB1_SHUTDOWN_TIMEOUT: "500ms" is too short; expected 1s to 10m, e.g. 30s or 2m`}},
		{"shutdown timeout too long", map[string]string{envShutdownTimeout: "11m"},
			[]string{`TIKTOKB1_SHUTDOWN_TIMEOUT: "11m" is too long; expected 1s to 10m, e.g. 30s or 2m`}},
		{"job timeout too short", map[string]string{envJobTimeout: "500ms"},
			[]string{`TIKTOKB1_JOB_TIMEOUT: "500ms" is too short; expected 1s to 24h, e.g. 10m`}},
		{"rescue not after the job timeout", map[string]string{envJobTimeout: "2h", envRescueStuckJobs: "2h"},
			[]string{`TIKTOKB1_RESCUE_STUCK_JOBS_AFTER: "2h" is not more than TIKTOKB1_JOB_TIMEOUT (2h0m0s): a job still running would be started again; expected more`}},
		{"rescue before the default job timeout", map[string]string{envRescueStuckJobs: "5m"},
			[]string{`TIKTOKB1_RESCUE_STUCK_JOBS_AFTER: "5m" is not more than TIKTOKB1_JOB_TIMEOUT (10m0s): a job still running would be started again; expected more`}},
		{"rescue too late", map[string]string{envRescueStuckJobs: "25h"},
			[]string{`TIKTOKB1_RESCUE_STUCK_JOBS_AFTER: "25h" is too long; expected more than TIKTOKB1_JOB_TIMEOUT, at most 24h, e.g. 1h`}},
		{"retention in days", map[string]string{envSyncRunRetention: "90d"},
			[]string{`TIKTOKB1_SYNC_RUN_RETENTION: "90d" is not a duration; expected at least 24h, in hours, e.g. 2160h for 90 days`}},
		{"retention too short", map[string]string{envSyncRunRetention: "23h59m"},
			[]string{`TIKTOKB1_SYNC_RUN_RETENTION: "23h59m" is too short; expected at least 24h, in hours, e.g. 2160h for 90 days`}},
		{"personal data kept too briefly", map[string]string{envPIIRetention: "12h"},
			[]string{`TIKTOKB1_PII_RETENTION: "12h" is too short; expected at least 24h, in hours, e.g. 2160h for 90 days`}},
		{"workers not a number", map[string]string{envWorkersSAPWrite: "abc"},
			[]string{`TIKTOKB1_WORKERS_SAPB1_WRITE: "abc" is not a whole number; expected 1 to 1000`}},
		{"workers zero and too many", map[string]string{envWorkersTTRead: "0", envWorkersDefault: "1001"},
			[]string{
				`TIKTOKB1_WORKERS_TIKTOK_READ: "0" is out of range; expected 1 to 1000`,
				`TIKTOKB1_WORKERS_DEFAULT: "1001" is out of range; expected 1 to 1000`,
			}},
		{"every worker count", map[string]string{
			envWorkersTTRead: "-1", envWorkersSAPRead: "-1", envWorkersSAPWrite: "-1",
			envWorkersTTWrite: "-1", envWorkersPriority: "-1", envWorkersDefault: "2.5",
		}, []string{
			`TIKTOKB1_WORKERS_TIKTOK_READ: "-1" is out of range; expected 1 to 1000`,
			`TIKTOKB1_WORKERS_SAPB1_READ: "-1" is out of range; expected 1 to 1000`,
			`TIKTOKB1_WORKERS_SAPB1_WRITE: "-1" is out of range; expected 1 to 1000`,
			`TIKTOKB1_WORKERS_TIKTOK_WRITE: "-1" is out of range; expected 1 to 1000`,
			`TIKTOKB1_WORKERS_PRIORITY: "-1" is out of range; expected 1 to 1000`,
			`TIKTOKB1_WORKERS_DEFAULT: "2.5" is not a whole number; expected 1 to 1000`,
		}},
		{"TikTok key without secret", withTikTok(map[string]string{envTikTokAppKey: "k"}),
			[]string{"TIKTOK_APP_SECRET: required (or TIKTOK_APP_SECRET_FILE) because TIKTOK_APP_KEY is set; expected TIKTOK_APP_KEY and TIKTOK_APP_SECRET to be set together"}},
		{"TikTok secret without key", map[string]string{envTikTokAppSecret: "s"},
			[]string{"TIKTOK_APP_KEY: required because TIKTOK_APP_SECRET is set; expected TIKTOK_APP_KEY and TIKTOK_APP_SECRET to be set together"}},
		{"TikTok without token key, public URL and service id", map[string]string{envTikTokAppKey: "k", envTikTokAppSecret: "s"}, []string{
			"TIKTOKB1_TOKEN_KEY: required (or TIKTOKB1_TOKEN_KEY_FILE) because TIKTOK_APP_KEY is set; expected the key the TikTok tokens are encrypted with in Postgres: 32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`",
			"TIKTOKB1_PUBLIC_URL: required because TIKTOK_APP_KEY is set; expected the address TikTok and sellers' browsers reach this service at, e.g. https://tiktokb1.example.com (webhooks go to /webhooks/tiktok)",
			"TIKTOK_SERVICE_ID: required because TIKTOK_APP_KEY is set; expected the app's service id from TikTok Shop Partner Center (it goes into the authorisation link)",
		}},
		{"token key too short", withTikTok(map[string]string{envTikTokAppKey: "k", envTikTokAppSecret: "s", envTokenKey: "hunter2" + testTokenKey[:50]}),
			[]string{"TIKTOKB1_TOKEN_KEY: value (not shown) is not 32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`"}},
		{"token key of 64 characters that are not hex", map[string]string{envTokenKey: "hunter2" + testTokenKey[7:63] + "g"},
			[]string{"TIKTOKB1_TOKEN_KEY: value (not shown) is not 32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`"}},
		{"token key in base64 of 16 bytes", map[string]string{envTokenKey: "aHVudGVyMmh1bnRlcjJodQ=="},
			[]string{"TIKTOKB1_TOKEN_KEY: value (not shown) is not 32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`"}},
		{"public URL without scheme", map[string]string{envPublicURL: "tiktokb1.example.com"},
			[]string{`TIKTOKB1_PUBLIC_URL: "tiktokb1.example.com" is not an absolute http(s) URL; expected e.g. https://tiktokb1.example.com`}},
		{"public URL with query", map[string]string{envPublicURL: "https://tiktokb1.example.com/?a=b"},
			[]string{`TIKTOKB1_PUBLIC_URL: "https://tiktokb1.example.com/?a=b" has a query (?...); expected a URL without query, e.g. https://tiktokb1.example.com`}},
		{"authorize URL with query", map[string]string{envTikTokAuthorizeURL: "https://services.tiktokshop.com/open/authorize?service_id=1"},
			[]string{`TIKTOK_AUTHORIZE_URL: "https://services.tiktokshop.com/open/authorize?service_id=1" has a query (?...); expected a URL without query, e.g. https://services.tiktokshop.com/open/authorize`}},
		{"refresh ahead without unit", map[string]string{envTikTokRefreshAhead: "24"},
			[]string{`TIKTOK_TOKEN_REFRESH_AHEAD: "24" is not a duration; expected 30m to 72h, e.g. 24h`}},
		{"refresh ahead too short", map[string]string{envTikTokRefreshAhead: "15m"},
			[]string{`TIKTOK_TOKEN_REFRESH_AHEAD: "15m" is too short; expected 30m to 72h, e.g. 24h`}},
		{"refresh ahead too long", map[string]string{envTikTokRefreshAhead: "168h"},
			[]string{`TIKTOK_TOKEN_REFRESH_AHEAD: "168h" is too long; expected 30m to 72h, e.g. 24h`}},
		{"TikTok API URL of another scheme", map[string]string{envTikTokAPIURL: "ftp://open-api.tiktokglobalshop.com"},
			[]string{`TIKTOK_API_URL: "ftp://open-api.tiktokglobalshop.com" is not an absolute http(s) URL; expected e.g. https://open-api.tiktokglobalshop.com`}},
		{"TikTok API URL without scheme", map[string]string{envTikTokAPIURL: "open-api.tiktokglobalshop.com"},
			[]string{`TIKTOK_API_URL: "open-api.tiktokglobalshop.com" is not an absolute http(s) URL; expected e.g. https://open-api.tiktokglobalshop.com`}},
		{"TikTok API URL with query", map[string]string{envTikTokAPIURL: "https://open-api.tiktokglobalshop.com?x=1"},
			[]string{`TIKTOK_API_URL: "https://open-api.tiktokglobalshop.com?x=1" has a query (?...); expected a URL without query, e.g. https://open-api.tiktokglobalshop.com`}},
		{"TikTok auth URL relative", map[string]string{envTikTokAuthURL: "/oauth"},
			[]string{`TIKTOK_AUTH_URL: "/oauth" is not an absolute http(s) URL; expected e.g. https://auth.tiktok-shops.com`}},
		{"TikTok auth URL with empty query", map[string]string{envTikTokAuthURL: "https://auth.tiktok-shops.com/?"},
			[]string{`TIKTOK_AUTH_URL: "https://auth.tiktok-shops.com/?" has a query (?...); expected a URL without query, e.g. https://auth.tiktok-shops.com`}},
		{"TikTok auth URL with fragment", map[string]string{envTikTokAuthURL: "https://auth.tiktok-shops.com/#x"},
			[]string{`TIKTOK_AUTH_URL: "https://auth.tiktok-shops.com/#x" has a fragment (#...); expected a URL without it, e.g. https://auth.tiktok-shops.com`}},
		{"SAP URL only", map[string]string{envSAPServiceLayer: "https://sap:50000/b1s/v1"}, []string{
			"SAPB1_COMPANY_DB: required because SAPB1_SERVICE_LAYER_URL is set; expected " + sapAll + " to be set together",
			"SAPB1_USER: required because SAPB1_SERVICE_LAYER_URL is set; expected " + sapAll + " to be set together",
			"SAPB1_PASSWORD: required (or SAPB1_PASSWORD_FILE) because SAPB1_SERVICE_LAYER_URL is set; expected " + sapAll + " to be set together",
		}},
		{"SAP without URL", map[string]string{envSAPCompanyDB: "DB", envSAPUser: "u", envSAPPassword + "_FILE": writeFile(t, "pw", "p")}, []string{
			"SAPB1_SERVICE_LAYER_URL: required because SAPB1_COMPANY_DB, SAPB1_USER and SAPB1_PASSWORD are set; expected " + sapAll + " to be set together",
		}},
		{"SAP URL without scheme", map[string]string{envSAPServiceLayer: "sap:50000", envSAPCompanyDB: "DB", envSAPUser: "u", envSAPPassword: "p"},
			[]string{`SAPB1_SERVICE_LAYER_URL: "sap:50000" is not an absolute http(s) URL; expected e.g. https://sap:50000/b1s/v1`}},
		{"SAP URL with password", map[string]string{envSAPServiceLayer: "https://manager:hunter2@sap:50000/b1s/v1", envSAPCompanyDB: "DB", envSAPUser: "u", envSAPPassword: "p"},
			[]string{`SAPB1_SERVICE_LAYER_URL: "https://manager:xxxxx@sap:50000/b1s/v1" holds a user name or password; expected just the address, e.g. https://sap:50000/b1s/v1`}},
		{"SQL DSN of another scheme", map[string]string{envSAPSQLDSN: "postgres://sa:hunter2@sap/x"},
			[]string{"SAPB1_SQL_DSN: value (not shown) is not a sqlserver:// URL, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS"}},
		{"SQL DSN in ADO form", map[string]string{envSAPSQLDSN: "Server=sap;User Id=sa;Password=hunter2"},
			[]string{"SAPB1_SQL_DSN: value (not shown) is not a sqlserver:// URL, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS"}},
		{"SQL DSN without host", map[string]string{envSAPSQLDSN: "sqlserver:///x"},
			[]string{"SAPB1_SQL_DSN: value (not shown) is not a sqlserver:// URL, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS"}},
		{"CA file missing", map[string]string{envSAPTLSCAFile: filepath.Join(dir, "missing.pem")},
			[]string{"SAPB1_TLS_CA_FILE: cannot read " + filepath.Join(dir, "missing.pem") + ": no such file or directory"}},
		{"CA file is a folder", map[string]string{envSAPTLSCAFile: dir},
			[]string{"SAPB1_TLS_CA_FILE: cannot read " + dir + ": is a directory"}},
		{"CA file without certificate", map[string]string{envSAPTLSCAFile: notPEM},
			[]string{"SAPB1_TLS_CA_FILE: " + notPEM + " holds no PEM certificate; expected a file with -----BEGIN CERTIFICATE-----"}},
		{"SQL isolation", map[string]string{envSAPSQLIsolation: "nolock"},
			[]string{`SAPB1_SQL_ISOLATION: "nolock" is not a transaction isolation level; expected read_committed or snapshot`}},
		{"buffer UDF unsupported", map[string]string{envSAPBufferUDF: "U_Other"},
			[]string{`SAPB1_BUFFER_UDF: "U_Other" is not a supported buffer field; expected U_EcomBuffer (or unset)`}},
		{"insecure not a boolean", map[string]string{envSAPTLSInsecure: "yes"},
			[]string{`SAPB1_TLS_INSECURE_SKIP_VERIFY: "yes" is not true or false; expected true or false`}},
		{"governor cap zero", map[string]string{envSAPMaxConcurrent: "0"},
			[]string{`SAPB1_MAX_CONCURRENT: "0" is out of range; expected 1 to 100`}},
		{"governor cap not a number", map[string]string{envSAPMaxConcurrent: "four"},
			[]string{`SAPB1_MAX_CONCURRENT: "four" is not a whole number; expected 1 to 100`}},
		{"priority reserved negative", map[string]string{envSAPPriorityReserved: "-1"},
			[]string{`SAPB1_PRIORITY_RESERVED: "-1" is out of range; expected 0 to 99`}},
		{"priority reserved the whole cap", map[string]string{envSAPMaxConcurrent: "3", envSAPPriorityReserved: "3"},
			[]string{`SAPB1_PRIORITY_RESERVED: "3" is not less than SAPB1_MAX_CONCURRENT (3); expected 0 to 2 slots kept free for cancellations`}},
		{"priority reserved above the default cap", map[string]string{envSAPPriorityReserved: "5"},
			[]string{`SAPB1_PRIORITY_RESERVED: "5" is not less than SAPB1_MAX_CONCURRENT (4); expected 0 to 3 slots kept free for cancellations`}},
		{"inventory confirm share zero", map[string]string{envInventoryShare: "0"},
			[]string{`TIKTOKB1_INVENTORY_CONFIRM_SHARE: "0" is out of range; expected 0.01 to 1 (a share of the listings), e.g. 0.2`}},
		{"inventory confirm share a percentage", map[string]string{envInventoryShare: "20%"},
			[]string{`TIKTOKB1_INVENTORY_CONFIRM_SHARE: "20%" is not a number; expected 0.01 to 1 (a share of the listings), e.g. 0.2`}},
		{"inventory confirm minimum zero", map[string]string{envInventoryMinSKUs: "0"},
			[]string{`TIKTOKB1_INVENTORY_CONFIRM_MIN_SKUS: "0" is out of range; expected 1 to 1000000`}},
		{"request rate zero", map[string]string{envSAPRequestsPerSecond: "0"},
			[]string{`SAPB1_REQUESTS_PER_SECOND: "0" is out of range; expected 0.1 to 1000 requests per second, e.g. 10 or 2.5`}},
		{"request rate not a number", map[string]string{envSAPRequestsPerSecond: "10/s"},
			[]string{`SAPB1_REQUESTS_PER_SECOND: "10/s" is not a number; expected 0.1 to 1000 requests per second, e.g. 10 or 2.5`}},
		{"request rate NaN", map[string]string{envSAPRequestsPerSecond: "NaN"},
			[]string{`SAPB1_REQUESTS_PER_SECOND: "NaN" is not a number; expected 0.1 to 1000 requests per second, e.g. 10 or 2.5`}},
		{"request timeout without unit", map[string]string{envSAPRequestTimeout: "60"},
			[]string{`SAPB1_REQUEST_TIMEOUT: "60" is not a duration; expected 5s to 10m, e.g. 60s`}},
		{"request timeout too short", map[string]string{envSAPRequestTimeout: "1s"},
			[]string{`SAPB1_REQUEST_TIMEOUT: "1s" is too short; expected 5s to 10m, e.g. 60s`}},
		{"slow request too short", map[string]string{envSAPSlowRequest: "10ms"},
			[]string{`SAPB1_SLOW_REQUEST: "10ms" is too short; expected 100ms to 10m, e.g. 10s`}},
		{"slow request not below the timeout", map[string]string{envSAPSlowRequest: "30s", envSAPRequestTimeout: "30s"},
			[]string{`SAPB1_SLOW_REQUEST: "30s" is not shorter than SAPB1_REQUEST_TIMEOUT (30s); expected a latency below the timeout, e.g. 10s`}},
		{"slow request above the default timeout", map[string]string{envSAPSlowRequest: "2m"},
			[]string{`SAPB1_SLOW_REQUEST: "2m" is not shorter than SAPB1_REQUEST_TIMEOUT (60s); expected a latency below the timeout, e.g. 10s`}},
		{"breaker failures zero", map[string]string{envSAPBreakerFailures: "0"},
			[]string{`SAPB1_BREAKER_FAILURES: "0" is out of range; expected 1 to 1000`}},
		{"breaker cooldown too long", map[string]string{envSAPBreakerCooldown: "2h"},
			[]string{`SAPB1_BREAKER_COOLDOWN: "2h" is too long; expected 1s to 1h, e.g. 30s`}},
		{"breaker cooldown too short", map[string]string{envSAPBreakerCooldown: "500ms"},
			[]string{`SAPB1_BREAKER_COOLDOWN: "500ms" is too short; expected 1s to 1h, e.g. 30s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.env)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// No secret used in these cases may leak.
			_, err := Load(env(tt.env))
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestLoadSeveralProblems(t *testing.T) {
	_, err := Load(env(map[string]string{
		envDatabaseURL:     "mysql://db",
		envLogLevel:        "loud",
		envDBMaxConns:      "0",
		envWorkersSAPWrite: "abc",
		envTikTokAppKey:    "k",
		envSAPTLSInsecure:  "maybe",
	}))
	want := `invalid configuration:
  DATABASE_URL: value (not shown) is not a postgres:// or postgresql:// URL, or a key=value string with host= or dbname=
  TIKTOKB1_LOG_LEVEL: "loud" is not a log level; expected debug, info, warn or error
  TIKTOKB1_DB_MAX_CONNS: "0" is out of range; expected 2 to 1000
  TIKTOKB1_WORKERS_SAPB1_WRITE: "abc" is not a whole number; expected 1 to 1000
  TIKTOK_APP_SECRET: required (or TIKTOK_APP_SECRET_FILE) because TIKTOK_APP_KEY is set; expected TIKTOK_APP_KEY and TIKTOK_APP_SECRET to be set together
  TIKTOKB1_TOKEN_KEY: required (or TIKTOKB1_TOKEN_KEY_FILE) because TIKTOK_APP_KEY is set; expected the key the TikTok tokens are encrypted with in Postgres: 32 random bytes as 64 hex characters or base64; generate one with ` + "`openssl rand -hex 32`" + `
  TIKTOKB1_PUBLIC_URL: required because TIKTOK_APP_KEY is set; expected the address TikTok and sellers' browsers reach this service at, e.g. https://tiktokb1.example.com (webhooks go to /webhooks/tiktok)
  TIKTOK_SERVICE_ID: required because TIKTOK_APP_KEY is set; expected the app's service id from TikTok Shop Partner Center (it goes into the authorisation link)
  SAPB1_TLS_INSECURE_SKIP_VERIFY: "maybe" is not true or false; expected true or false`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 9 || cerr.Problems[3].Var != envWorkersSAPWrite {
		t.Errorf("problems: %+v", cerr)
	}
}

func TestLoadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	const secret = "S3cr3t-Do-Not-Print"
	withNewline := writeFile(t, "pw", secret+" \r\n\n")
	empty := writeFile(t, "empty", " \n")
	big := writeFile(t, "big", strings.Repeat("x", maxSecretFileSize+1))
	badDSN := writeFile(t, "dsn", "mysql://app:"+secret+"@db/x\n")
	missing := filepath.Join(dir, "missing")

	t.Run("value read and trimmed", func(t *testing.T) {
		dsn := writeFile(t, "db", "postgres://app:"+secret+"@db/x\n")
		keyFile := writeFile(t, "key", testTokenKey+"\n")
		cfg, err := Load(env(withTikTok(map[string]string{
			envTikTokAppKey: "k", envTikTokAppSecret + "_FILE": withNewline,
			envDatabaseURL + "_FILE": " " + dsn + " ",
			envTokenKey + "_FILE":    keyFile,
			envTokenKey:              "",
		})))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.TikTok.AppSecret.Reveal(); got != secret {
			t.Errorf("TikTok.AppSecret = %q, want %q", got, secret)
		}
		if got := cfg.Database.URL.Reveal(); got != "postgres://app:"+secret+"@db/x" {
			t.Errorf("Database.URL = %q", got)
		}
		if got := []byte(cfg.TikTok.TokenKey.Reveal()); len(got) != 32 || got[31] != 31 {
			t.Errorf("TikTok.TokenKey = %x", got)
		}
	})

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"both set", map[string]string{envDatabaseURL: "postgres://db/x", envDatabaseURL + "_FILE": withNewline},
			[]string{"DATABASE_URL: set DATABASE_URL or DATABASE_URL_FILE, not both"}},
		{"empty file", map[string]string{envSAPPassword + "_FILE": empty, envSAPServiceLayer: "https://sap", envSAPCompanyDB: "DB", envSAPUser: "u"},
			[]string{"SAPB1_PASSWORD_FILE: " + empty + " is empty; expected a file holding the value of SAPB1_PASSWORD"}},
		{"missing file", map[string]string{envSAPPassword + "_FILE": missing, envSAPServiceLayer: "https://sap", envSAPCompanyDB: "DB", envSAPUser: "u"},
			[]string{"SAPB1_PASSWORD_FILE: cannot read " + missing + ": no such file or directory"}},
		{"folder", map[string]string{envSAPSQLDSN + "_FILE": dir},
			[]string{"SAPB1_SQL_DSN_FILE: cannot read " + dir + ": is a directory"}},
		{"file too large", withTikTok(map[string]string{envTikTokAppSecret + "_FILE": big, envTikTokAppKey: "k"}),
			[]string{"TIKTOK_APP_SECRET_FILE: " + big + " is larger than 64 KiB; expected a small file"}},
		{"token key file holding no key", map[string]string{envTokenKey + "_FILE": badDSN},
			[]string{"TIKTOKB1_TOKEN_KEY_FILE: contents of " + badDSN + " (not shown) are not 32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`"}},
		{"invalid contents", map[string]string{envDatabaseURL + "_FILE": badDSN},
			[]string{"DATABASE_URL_FILE: contents of " + badDSN + " (not shown) are not a postgres:// or postgresql:// URL, or a key=value string with host= or dbname="}},
		{"missing file still counts as set", map[string]string{envTikTokAppSecret + "_FILE": missing},
			[]string{
				"TIKTOK_APP_SECRET_FILE: cannot read " + missing + ": no such file or directory",
				"TIKTOK_APP_KEY: required because TIKTOK_APP_SECRET is set; expected TIKTOK_APP_KEY and TIKTOK_APP_SECRET to be set together",
			}},
		{"secret next to invalid settings", map[string]string{
			envTikTokAppSecret + "_FILE": withNewline, // valid, but the key is missing
			envSAPSQLDSN:                 "odbc://sa:" + secret + "@sap",
			envSAPPassword:               secret,
			envSAPServiceLayer:           "https://manager:" + secret + "@sap/b1s/v1",
			envDatabaseURL:               "postgres://app:" + secret + "@db/x",
			envDatabaseURL + "_FILE":     withNewline,
		}, []string{
			"DATABASE_URL: set DATABASE_URL or DATABASE_URL_FILE, not both",
			"TIKTOK_APP_KEY: required because TIKTOK_APP_SECRET is set; expected TIKTOK_APP_KEY and TIKTOK_APP_SECRET to be set together",
			`SAPB1_SERVICE_LAYER_URL: "https://manager:xxxxx@sap/b1s/v1" holds a user name or password; expected just the address, e.g. https://sap:50000/b1s/v1`,
			"SAPB1_COMPANY_DB: required because SAPB1_SERVICE_LAYER_URL and SAPB1_PASSWORD are set; expected SAPB1_SERVICE_LAYER_URL, SAPB1_COMPANY_DB, SAPB1_USER and SAPB1_PASSWORD to be set together",
			"SAPB1_USER: required because SAPB1_SERVICE_LAYER_URL and SAPB1_PASSWORD are set; expected SAPB1_SERVICE_LAYER_URL, SAPB1_COMPANY_DB, SAPB1_USER and SAPB1_PASSWORD to be set together",
			"SAPB1_SQL_DSN: value (not shown) is not a sqlserver:// URL, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.env)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			_, err := Load(env(tt.env))
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "S3cr3t") {
				t.Errorf("error shows the secret:\n%v", err)
			}
		})
	}
}

func TestTikTokRateLimits(t *testing.T) {
	cfg, err := Load(env(map[string]string{envTikTokRateLimit: "2.5", envTikTokRateLimits: "orders_search=5, inventory_update=20"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TikTok.RateLimit != 2.5 || cfg.TikTok.RateLimits["orders_search"] != 5 || cfg.TikTok.RateLimits["inventory_update"] != 20 || len(cfg.TikTok.RateLimits) != 2 {
		t.Fatalf("rate %v, limits %v", cfg.TikTok.RateLimit, cfg.TikTok.RateLimits)
	}
}

func TestWorkersByQueue(t *testing.T) {
	w := Workers{TikTokRead: 1, SAPB1Read: 2, SAPB1Write: 3, TikTokWrite: 4, Priority: 5, Default: 6}
	want := map[string]int{"tiktok_read": 1, "sapb1_read": 2, "sapb1_write": 3, "tiktok_write": 4, "priority": 5, "default": 6}
	if got := w.ByQueue(); !reflect.DeepEqual(got, want) {
		t.Errorf("ByQueue() = %v, want %v", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Problems: []Problem{{Var: "A", Message: "bad"}, {Var: "B", Message: "worse"}}}
	if got, want := e.Error(), "invalid configuration:\n  A: bad\n  B: worse"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
