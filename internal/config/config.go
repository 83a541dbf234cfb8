// Package config reads tiktokb1's configuration from environment variables
// and validates it at start. Secrets can also be read from files (NAME_FILE)
// and are held in Secret, which never prints its value.
//
// Values are trimmed of surrounding blanks, and a variable set to an empty or
// all-blank value counts as unset. Secret files are trimmed of trailing
// blanks and newlines.
package config

import (
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Log formats accepted in TIKTOKB1_LOG_FORMAT.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// Config is the validated configuration of tiktokb1. Build it with Load.
type Config struct {
	Server   Server
	Log      Log
	Database Database
	Workers  Workers
	TikTok   TikTok
	SAPB1    SAPB1
	Governor Governor
	// Inventory holds the inventory push's settings.
	Inventory Inventory
}

// Inventory holds the inventory push's settings (invariant 9).
type Inventory struct {
	// ConfirmShare: a push changing more than this share of a shop's
	// listings at once is held for `tiktokb1 inventory confirm`
	// (TIKTOKB1_INVENTORY_CONFIRM_SHARE, default 0.2, 0.01 to 1).
	ConfirmShare float64
	// ConfirmMinSKUs: a push changing fewer listings is never held
	// (TIKTOKB1_INVENTORY_CONFIRM_MIN_SKUS, default 10).
	ConfirmMinSKUs int
}

// Server holds the HTTP server and process settings.
type Server struct {
	// HTTPAddr is the host:port the HTTP server listens on
	// (TIKTOKB1_HTTP_ADDR, default "127.0.0.1:8080").
	HTTPAddr string
	// ShutdownTimeout is how long running work may take to finish when the
	// service stops (TIKTOKB1_SHUTDOWN_TIMEOUT, default 30s, 1s to 10m).
	ShutdownTimeout time.Duration
	// PublicURL is the address TikTok and sellers' browsers reach this
	// service at, without trailing slash: webhooks go to PublicURL +
	// "/webhooks/tiktok", the OAuth callback to PublicURL +
	// "/oauth/tiktok/callback" (TIKTOKB1_PUBLIC_URL, default unset; required
	// with TikTok).
	PublicURL string
}

// Log holds the logging settings.
type Log struct {
	// Level is the minimum level logged (TIKTOKB1_LOG_LEVEL, default
	// slog.LevelInfo).
	Level slog.Level
	// Format is LogFormatText or LogFormatJSON (TIKTOKB1_LOG_FORMAT, default
	// LogFormatText).
	Format string
}

// Database holds the PostgreSQL settings.
type Database struct {
	// URL is the connection URL or key=value string (DATABASE_URL or
	// DATABASE_URL_FILE). Default unset: the service runs a private local
	// Postgres in DataDir; see Local.
	URL Secret
	// DataDir is where the private local Postgres lives (TIKTOKB1_DATA_DIR,
	// default ".data").
	DataDir string
	// AppRole is the Postgres role the service uses (TIKTOKB1_APP_ROLE,
	// default "tiktokb1_app").
	AppRole string
	// AnalystRole is the Postgres role for analysts; never equal to AppRole
	// (TIKTOKB1_ANALYST_ROLE, default "analyst").
	AnalystRole string
	// MaxConns is the connection pool size (TIKTOKB1_DB_MAX_CONNS, default
	// 20, 2 to 1000).
	MaxConns int
	// SyncRunRetention is how long ops.sync_run rows are kept
	// (TIKTOKB1_SYNC_RUN_RETENTION, default 2160h = 90 days, at least 24h).
	SyncRunRetention time.Duration
	// PIIRetention is how long buyers' personal data (pii.order_recipient)
	// is kept after their order completed or was cancelled
	// (TIKTOKB1_PII_RETENTION, default 2160h = 90 days, at least 24h).
	PIIRetention time.Duration
}

// Local reports whether DATABASE_URL is unset, so the service runs its own
// private Postgres in DataDir.
func (d Database) Local() bool {
	return !d.URL.IsSet()
}

// Workers holds the River MaxWorkers of each queue (1 to 1000 each).
type Workers struct {
	// TikTokRead is for queue tiktok_read (TIKTOKB1_WORKERS_TIKTOK_READ,
	// default 10).
	TikTokRead int
	// SAPB1Read is for queue sapb1_read (TIKTOKB1_WORKERS_SAPB1_READ,
	// default 2).
	SAPB1Read int
	// SAPB1Write is for queue sapb1_write (TIKTOKB1_WORKERS_SAPB1_WRITE,
	// default 10).
	SAPB1Write int
	// TikTokWrite is for queue tiktok_write (TIKTOKB1_WORKERS_TIKTOK_WRITE,
	// default 5).
	TikTokWrite int
	// Priority is for queue priority (TIKTOKB1_WORKERS_PRIORITY, default 5).
	Priority int
	// Default is for queue default (TIKTOKB1_WORKERS_DEFAULT, default 5).
	Default int
	// JobTimeout is how long a job may run before its context is cancelled
	// and River retries it (TIKTOKB1_JOB_TIMEOUT, default 10m, 1s to 24h).
	JobTimeout time.Duration
	// RescueStuckJobsAfter: a job still running this long, its process
	// having died, is retried (TIKTOKB1_RESCUE_STUCK_JOBS_AFTER, default 1h,
	// more than JobTimeout, at most 24h).
	RescueStuckJobsAfter time.Duration
}

// ByQueue returns the worker counts keyed by River queue name: tiktok_read,
// sapb1_read, sapb1_write, tiktok_write, priority and default.
func (w Workers) ByQueue() map[string]int {
	return map[string]int{
		"tiktok_read":  w.TikTokRead,
		"sapb1_read":   w.SAPB1Read,
		"sapb1_write":  w.SAPB1Write,
		"tiktok_write": w.TikTokWrite,
		"priority":     w.Priority,
		"default":      w.Default,
	}
}

// TikTok holds the TikTok Shop settings. AppKey and AppSecret are set
// together or not at all; see Enabled.
type TikTok struct {
	// AppKey is the TikTok Shop app key (TIKTOK_APP_KEY, default unset).
	AppKey string
	// AppSecret is the TikTok Shop app secret (TIKTOK_APP_SECRET or
	// TIKTOK_APP_SECRET_FILE, default unset).
	AppSecret Secret
	// APIURL is the API base URL without trailing slash (TIKTOK_API_URL,
	// default "https://open-api.tiktokglobalshop.com").
	APIURL string
	// AuthURL is the authorization base URL without trailing slash
	// (TIKTOK_AUTH_URL, default "https://auth.tiktok-shops.com").
	AuthURL string
	// AuthorizeURL is the page sellers authorise the app on, without query
	// (TIKTOK_AUTHORIZE_URL, default
	// "https://services.tiktokshop.com/open/authorize").
	AuthorizeURL string
	// ServiceID is the app's service id from TikTok Shop Partner Center,
	// sent with AuthorizeURL (TIKTOK_SERVICE_ID, default unset; required with
	// TikTok).
	ServiceID string
	// TokenRefreshAhead is how long before its expiry an access token is
	// refreshed (TIKTOK_TOKEN_REFRESH_AHEAD, default 24h, 30m to 72h).
	TokenRefreshAhead time.Duration
	// RateLimit is this service's request rate per shop and endpoint, per
	// second (TIKTOK_RATE_LIMIT, default 10, 0.1 to 1000).
	RateLimit float64
	// RateLimits overrides RateLimit by endpoint name (TIKTOK_RATE_LIMITS,
	// default none), e.g. {"orders_search": 5}.
	RateLimits map[string]float64
	// OrdersPollInterval, OrdersPollLag and OrdersPollOverlap shape the
	// order poll (TIKTOK_ORDERS_POLL_INTERVAL, default 60s;
	// TIKTOK_ORDERS_POLL_LAG, default 2m; TIKTOK_ORDERS_POLL_OVERLAP,
	// default 10m).
	OrdersPollInterval time.Duration
	OrdersPollLag      time.Duration
	OrdersPollOverlap  time.Duration
	// TokenKey holds the 32 bytes (decoded, not the hex or base64 text) of the
	// AES-256 key the TikTok tokens are encrypted with in Postgres
	// (TIKTOKB1_TOKEN_KEY or TIKTOKB1_TOKEN_KEY_FILE, default unset; required
	// with TikTok).
	TokenKey Secret
}

// Enabled reports whether TikTok Shop credentials are configured.
func (t TikTok) Enabled() bool {
	return t.AppKey != ""
}

// SAPB1 holds the SAP Business One settings. ServiceLayerURL, CompanyDB, User
// and Password are set together or not at all; see Enabled.
type SAPB1 struct {
	// ServiceLayerURL is the Service Layer base URL without trailing slash,
	// e.g. "https://sap:50000/b1s/v1" (SAPB1_SERVICE_LAYER_URL, default
	// unset).
	ServiceLayerURL string
	// CompanyDB is the company database (SAPB1_COMPANY_DB, default unset).
	CompanyDB string
	// User is the Service Layer user (SAPB1_USER, default unset).
	User string
	// Password is User's password (SAPB1_PASSWORD or SAPB1_PASSWORD_FILE,
	// default unset).
	Password Secret
	// SQLDSN is an optional sqlserver:// URL to the company database
	// (SAPB1_SQL_DSN or SAPB1_SQL_DSN_FILE, default unset).
	SQLDSN Secret
	// SQLIsolation is read_committed or snapshot (SAPB1_SQL_ISOLATION,
	// default read_committed).
	SQLIsolation string
	// BufferUDF is "U_EcomBuffer" when OITM has that user field, read as
	// the e-commerce buffer (SAPB1_BUFFER_UDF, default unset: not read).
	BufferUDF string
	// TLSCAFile is a readable PEM file with the CA that signed the Service
	// Layer certificate (SAPB1_TLS_CA_FILE, default unset: system roots).
	TLSCAFile string
	// TLSInsecureSkipVerify disables certificate checks; true only when
	// explicitly set (SAPB1_TLS_INSECURE_SKIP_VERIFY, default false).
	TLSInsecureSkipVerify bool
}

// Enabled reports whether the SAP Business One connection is configured.
func (s SAPB1) Enabled() bool {
	return s.ServiceLayerURL != ""
}

// Governor holds the limits of the SAP Service Layer governor
// (internal/sapb1/governor), which every Service Layer request goes through.
type Governor struct {
	// MaxConcurrent is the cap on concurrent Service Layer requests across
	// every process (SAPB1_MAX_CONCURRENT, default 4, 1 to 100).
	MaxConcurrent int
	// PriorityReserved is how many of those slots the normal lane leaves
	// free for cancellations (SAPB1_PRIORITY_RESERVED, default 1, 0 to
	// MaxConcurrent-1).
	PriorityReserved int
	// RequestsPerSecond is how many Service Layer requests may start per
	// second across every process (SAPB1_REQUESTS_PER_SECOND, default 10,
	// 0.1 to 1000).
	RequestsPerSecond float64
	// RequestTimeout is the Service Layer request timeout; a slot's lease is
	// this plus 30s (SAPB1_REQUEST_TIMEOUT, default 60s, 5s to 10m).
	RequestTimeout time.Duration
	// SlowRequest is the latency above which an answer counts as a sign of
	// stress (SAPB1_SLOW_REQUEST, default 10s, 100ms to 10m, less than
	// RequestTimeout).
	SlowRequest time.Duration
	// BreakerFailures is how many requests in a row without an answer open
	// the circuit breaker (SAPB1_BREAKER_FAILURES, default 5, 1 to 1000).
	BreakerFailures int
	// BreakerCooldown is how long the open breaker pauses requests before
	// one probe (SAPB1_BREAKER_COOLDOWN, default 30s, 1s to 1h).
	BreakerCooldown time.Duration
}

// Problem is one invalid variable.
type Problem struct {
	// Var is the variable to fix, e.g. "SAPB1_PASSWORD_FILE".
	Var string
	// Message says what is wrong and what is expected. It never holds a
	// secret value.
	Message string
}

func (p Problem) String() string {
	return p.Var + ": " + p.Message
}

// Error lists every invalid variable found by Load.
type Error struct {
	Problems []Problem
}

// Error returns "invalid configuration:" followed by one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads configuration from the given lookup (os.LookupEnv in
// production, a map in tests) and returns every problem at once, as an
// *Error. A nil lookup means os.LookupEnv.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	l := &loader{lookup: lookup}
	var c Config

	c.Database.URL = l.secret(envDatabaseURL, "a postgres:// or postgresql:// URL, or a key=value string with host= or dbname=", validPostgres)
	c.Server.HTTPAddr = l.hostPort(envHTTPAddr)
	c.Log.Level = l.logLevel(envLogLevel)
	c.Log.Format = l.oneOf(envLogFormat, "log format", LogFormatText, LogFormatJSON)
	c.Database.DataDir = l.value(envDataDir)
	c.Database.AppRole = l.role(envAppRole)
	c.Database.AnalystRole = l.role(envAnalystRole)
	if c.Database.AppRole != "" && c.Database.AppRole == c.Database.AnalystRole {
		l.addf(envAnalystRole, "%q is also %s; expected a different role", c.Database.AnalystRole, envAppRole)
	}
	c.Database.MaxConns = l.wholeNumber(envDBMaxConns, 2, 1000)
	c.Server.ShutdownTimeout = l.duration(envShutdownTimeout, time.Second, 10*time.Minute, "1s to 10m, e.g. 30s or 2m")
	c.Database.SyncRunRetention = l.duration(envSyncRunRetention, 24*time.Hour, 0, "at least 24h, in hours, e.g. 2160h for 90 days")
	c.Database.PIIRetention = l.duration(envPIIRetention, 24*time.Hour, 0, "at least 24h, in hours, e.g. 2160h for 90 days")
	c.Workers = Workers{
		TikTokRead:  l.wholeNumber(envWorkersTTRead, 1, 1000),
		SAPB1Read:   l.wholeNumber(envWorkersSAPRead, 1, 1000),
		SAPB1Write:  l.wholeNumber(envWorkersSAPWrite, 1, 1000),
		TikTokWrite: l.wholeNumber(envWorkersTTWrite, 1, 1000),
		Priority:    l.wholeNumber(envWorkersPriority, 1, 1000),
		Default:     l.wholeNumber(envWorkersDefault, 1, 1000),
	}
	c.Workers.JobTimeout = l.duration(envJobTimeout, time.Second, 24*time.Hour, "1s to 24h, e.g. 10m")
	c.Workers.RescueStuckJobsAfter = l.duration(envRescueStuckJobs, time.Second, 24*time.Hour, "more than TIKTOKB1_JOB_TIMEOUT, at most 24h, e.g. 1h")
	if w := c.Workers; w.JobTimeout > 0 && w.RescueStuckJobsAfter > 0 && w.RescueStuckJobsAfter <= w.JobTimeout {
		l.addf(envRescueStuckJobs, "%q is not more than %s (%s): a job still running would be started again; expected more", l.value(envRescueStuckJobs), envJobTimeout, w.JobTimeout)
	}

	c.TikTok.AppKey = l.value(envTikTokAppKey)
	c.TikTok.AppSecret = l.secret(envTikTokAppSecret, "", nil)
	l.together(envTikTokAppKey, envTikTokAppSecret)
	c.TikTok.APIURL = l.httpURL(envTikTokAPIURL, "https://open-api.tiktokglobalshop.com")
	c.TikTok.AuthURL = l.httpURL(envTikTokAuthURL, "https://auth.tiktok-shops.com")
	c.TikTok.AuthorizeURL = l.httpURL(envTikTokAuthorizeURL, "https://services.tiktokshop.com/open/authorize")
	c.TikTok.ServiceID = l.value(envTikTokServiceID)
	c.TikTok.TokenRefreshAhead = l.duration(envTikTokRefreshAhead, 30*time.Minute, 72*time.Hour, "30m to 72h, e.g. 24h")
	c.TikTok.RateLimit = l.rate(envTikTokRateLimit, l.value(envTikTokRateLimit))
	c.TikTok.RateLimits = l.rateLimits(envTikTokRateLimits)
	c.TikTok.OrdersPollInterval = l.duration(envTikTokPollInterval, 5*time.Second, time.Hour, "5s to 1h, e.g. 60s")
	c.TikTok.OrdersPollLag = l.duration(envTikTokPollLag, 0, time.Hour, "0s to 1h, e.g. 2m")
	c.TikTok.OrdersPollOverlap = l.duration(envTikTokPollOverlap, 0, 24*time.Hour, "0s to 24h, e.g. 10m")
	c.Inventory.ConfirmShare = l.number(envInventoryShare, 0.01, 1, "(a share of the listings), e.g. 0.2")
	c.Inventory.ConfirmMinSKUs = l.wholeNumber(envInventoryMinSKUs, 1, 1000000)
	tokenKey := l.secret(envTokenKey, tokenKeyExpected, validTokenKey)
	if key, err := DecodeTokenKey(tokenKey.Reveal()); err == nil {
		c.TikTok.TokenKey = NewSecret(string(key))
	}
	c.Server.PublicURL = l.httpURL(envPublicURL, "https://tiktokb1.example.com")
	if c.TikTok.Enabled() {
		if !l.present[envTokenKey] {
			l.addf(envTokenKey, "required (or %s_FILE) because %s is set; expected the key the TikTok tokens are encrypted with in Postgres: %s", envTokenKey, envTikTokAppKey, tokenKeyExpected)
		}
		if !l.present[envPublicURL] {
			l.addf(envPublicURL, "required because %s is set; expected the address TikTok and sellers' browsers reach this service at, e.g. https://tiktokb1.example.com (webhooks go to /webhooks/tiktok)", envTikTokAppKey)
		}
		if !l.present[envTikTokServiceID] {
			l.addf(envTikTokServiceID, "required because %s is set; expected the app's service id from TikTok Shop Partner Center (it goes into the authorisation link)", envTikTokAppKey)
		}
	}

	c.SAPB1.ServiceLayerURL = l.httpURL(envSAPServiceLayer, "https://sap:50000/b1s/v1")
	c.SAPB1.CompanyDB = l.value(envSAPCompanyDB)
	c.SAPB1.User = l.value(envSAPUser)
	c.SAPB1.Password = l.secret(envSAPPassword, "", nil)
	l.together(envSAPServiceLayer, envSAPCompanyDB, envSAPUser, envSAPPassword)
	c.SAPB1.SQLDSN = l.secret(envSAPSQLDSN, "a sqlserver:// URL, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS", validSQLServer)
	c.SAPB1.SQLIsolation = l.oneOf(envSAPSQLIsolation, "transaction isolation level", "read_committed", "snapshot")
	if v := l.value(envSAPBufferUDF); v != "" && v != "U_EcomBuffer" {
		l.addf(envSAPBufferUDF, "%q is not a supported buffer field; expected U_EcomBuffer (or unset)", v)
	} else {
		c.SAPB1.BufferUDF = v
	}
	if c.SAPB1.BufferUDF != "" && !c.SAPB1.SQLDSN.IsSet() {
		l.addf(envSAPBufferUDF, "needs SAPB1_SQL_DSN: the field is read through SAP's SQL Server")
	}
	c.SAPB1.TLSCAFile = l.caFile(envSAPTLSCAFile)
	c.SAPB1.TLSInsecureSkipVerify = l.boolean(envSAPTLSInsecure)

	c.Governor = Governor{
		MaxConcurrent:     l.wholeNumber(envSAPMaxConcurrent, 1, 100),
		PriorityReserved:  l.wholeNumber(envSAPPriorityReserved, 0, 99),
		RequestsPerSecond: l.number(envSAPRequestsPerSecond, 0.1, 1000, "requests per second, e.g. 10 or 2.5"),
		RequestTimeout:    l.duration(envSAPRequestTimeout, 5*time.Second, 10*time.Minute, "5s to 10m, e.g. 60s"),
		SlowRequest:       l.duration(envSAPSlowRequest, 100*time.Millisecond, 10*time.Minute, "100ms to 10m, e.g. 10s"),
		BreakerFailures:   l.wholeNumber(envSAPBreakerFailures, 1, 1000),
		BreakerCooldown:   l.duration(envSAPBreakerCooldown, time.Second, time.Hour, "1s to 1h, e.g. 30s"),
	}
	if g := c.Governor; g.MaxConcurrent > 0 && g.PriorityReserved >= g.MaxConcurrent {
		l.addf(envSAPPriorityReserved, "%q is not less than %s (%d); expected 0 to %d slots kept free for cancellations",
			l.value(envSAPPriorityReserved), envSAPMaxConcurrent, g.MaxConcurrent, g.MaxConcurrent-1)
	}
	if g := c.Governor; g.SlowRequest > 0 && g.RequestTimeout > 0 && g.SlowRequest >= g.RequestTimeout {
		l.addf(envSAPSlowRequest, "%q is not shorter than %s (%s); expected a latency below the timeout, e.g. 10s",
			l.value(envSAPSlowRequest), envSAPRequestTimeout, l.value(envSAPRequestTimeout))
	}

	if len(l.problems) > 0 {
		return nil, &Error{Problems: l.problems}
	}
	return &c, nil
}

// maxSecretFileSize bounds what is read from a NAME_FILE secret file.
const maxSecretFileSize = 64 << 10

// maxCAFileSize bounds what is read from SAPB1_TLS_CA_FILE.
const maxCAFileSize = 10 << 20

type loader struct {
	lookup   func(string) (string, bool)
	problems []Problem
	// present records the variables that were set, directly or as a
	// NAME_FILE secret, for the "set together" rules.
	present map[string]bool
}

func (l *loader) addf(name, format string, args ...any) {
	l.problems = append(l.problems, Problem{Var: name, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) markPresent(name string) {
	if l.present == nil {
		l.present = map[string]bool{}
	}
	l.present[name] = true
}

// raw returns the trimmed value of name; "" when unset or blank.
func (l *loader) raw(name string) string {
	v, _ := l.lookup(name)
	v = strings.TrimSpace(v)
	if v != "" {
		l.markPresent(name)
	}
	return v
}

// value returns the trimmed value of name, or its default when unset.
func (l *loader) value(name string) string {
	return cmp.Or(l.raw(name), defaultOf(name))
}

// secret reads the secret name from the variable itself or from the file
// named by name_FILE. When validate is not nil and returns false, it reports
// that the value is not what (without showing the value).
func (l *loader) secret(name, what string, validate func(string) bool) Secret {
	fileVar := name + "_FILE"
	direct, _ := l.lookup(name)
	direct = strings.TrimSpace(direct)
	path := l.raw(fileVar)
	if direct != "" || path != "" {
		l.markPresent(name)
	}
	switch {
	case direct != "" && path != "":
		l.addf(name, "set %s or %s, not both", name, fileVar)
		return Secret{}
	case direct != "":
		if validate != nil && !validate(direct) {
			l.addf(name, "value (not shown) is not %s", what)
			return Secret{}
		}
		return NewSecret(direct)
	case path != "":
		data, err := readFile(path, maxSecretFileSize)
		if err != nil {
			l.addf(fileVar, "%v", err)
			return Secret{}
		}
		v := strings.TrimRight(string(data), " \t\r\n")
		if v == "" {
			l.addf(fileVar, "%s is empty; expected a file holding the value of %s", path, name)
			return Secret{}
		}
		if validate != nil && !validate(v) {
			l.addf(fileVar, "contents of %s (not shown) are not %s", path, what)
			return Secret{}
		}
		return NewSecret(v)
	}
	return Secret{}
}

// readFile reads at most limit bytes of path. Its errors name the path and
// the reason, never the contents.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, reason(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, reason(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d KiB; expected a small file", path, limit>>10)
	}
	return data, nil
}

// reason strips the operation and path from a file error, keeping e.g.
// "no such file or directory".
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// together reports each unset variable of names when any of them is set.
func (l *loader) together(names ...string) {
	var set, missing []string
	for _, n := range names {
		if l.present[n] {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(set) == 0 || len(missing) == 0 {
		return
	}
	verb := "is"
	if len(set) > 1 {
		verb = "are"
	}
	for _, n := range missing {
		orFile := ""
		if isSecret(n) {
			orFile = " (or " + n + "_FILE)"
		}
		l.addf(n, "required%s because %s %s set; expected %s to be set together", orFile, joinAnd(set), verb, joinAnd(names))
	}
}

func isSecret(name string) bool {
	for _, v := range variables {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

// joinAnd joins names as "A", "A and B" or "A, B and C".
func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (l *loader) wholeNumber(name string, lo, hi int) int {
	s := l.value(name)
	n, err := strconv.Atoi(s)
	if err != nil {
		l.addf(name, "%q is not a whole number; expected %d to %d", s, lo, hi)
		return 0
	}
	if n < lo || n > hi {
		l.addf(name, "%q is out of range; expected %d to %d", s, lo, hi)
		return 0
	}
	return n
}

// number parses a decimal number between lo and hi; unit says what it
// counts, with an example.
func (l *loader) number(name string, lo, hi float64, unit string) float64 {
	s := l.value(name)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		l.addf(name, "%q is not a number; expected %g to %g %s", s, lo, hi, unit)
		return 0
	}
	if n < lo || n > hi {
		l.addf(name, "%q is out of range; expected %g to %g %s", s, lo, hi, unit)
		return 0
	}
	return n
}

// duration parses a Go duration between lo and hi (hi 0: no upper bound).
func (l *loader) duration(name string, lo, hi time.Duration, expected string) time.Duration {
	s := l.value(name)
	d, err := time.ParseDuration(s)
	if err != nil {
		l.addf(name, "%q is not a duration; expected %s", s, expected)
		return 0
	}
	if d < lo {
		l.addf(name, "%q is too short; expected %s", s, expected)
		return 0
	}
	if hi > 0 && d > hi {
		l.addf(name, "%q is too long; expected %s", s, expected)
		return 0
	}
	return d
}

// rate reads a requests-per-second value from 0.1 to 1000.
func (l *loader) rate(name, s string) float64 {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(r) || r < 0.1 || r > 1000 {
		l.addf(name, "%q is not a rate; expected requests per second from 0.1 to 1000, e.g. 10", s)
		return 0
	}
	return r
}

// rateLimits reads endpoint=rate pairs, naming only endpoints the TikTok
// client calls.
func (l *loader) rateLimits(name string) map[string]float64 {
	s := l.value(name)
	if s == "" {
		return nil
	}
	known := map[string]bool{}
	for _, e := range tiktok.Endpoints {
		known[e.Name] = true
	}
	out := map[string]float64{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			l.addf(name, "%q is not endpoint=rate; expected e.g. orders_search=5,inventory_update=20", pair)
			return nil
		}
		if !known[k] {
			names := slices.Sorted(maps.Keys(known))
			l.addf(name, "unknown endpoint %q; expected one of %s", k, strings.Join(names, ", "))
			return nil
		}
		r := l.rate(name, v)
		if r == 0 {
			return nil
		}
		out[k] = r
	}
	return out
}

func (l *loader) hostPort(name string) string {
	s := l.value(name)
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		l.addf(name, "%q is not host:port; expected e.g. 127.0.0.1:8080, or :8080 for all interfaces", s)
		return ""
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		l.addf(name, "%q has no valid port; expected a port number 0 to 65535, e.g. 127.0.0.1:8080", s)
		return ""
	}
	return s
}

func (l *loader) logLevel(name string) slog.Level {
	s := l.value(name)
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	l.addf(name, "%q is not a log level; expected debug, info, warn or error", s)
	return slog.LevelInfo
}

// oneOf returns the lowercased value of name if it is one of allowed.
func (l *loader) oneOf(name, what string, allowed ...string) string {
	s := l.value(name)
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	l.addf(name, "%q is not a %s; expected %s", s, what, strings.Join(allowed, " or "))
	return ""
}

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// reservedRoles are role names Postgres refuses in CREATE ROLE.
var reservedRoles = map[string]bool{
	"public": true, "none": true, "current_role": true, "current_user": true, "session_user": true,
}

func (l *loader) role(name string) string {
	s := l.value(name)
	switch {
	case !roleName.MatchString(s):
		l.addf(name, "%q is not a valid role name; expected lowercase letters, digits and _, not starting with a digit, at most 63 characters", s)
	case strings.HasPrefix(s, "pg_"):
		l.addf(name, "%q starts with pg_, which Postgres reserves; expected another role name", s)
	case reservedRoles[s]:
		l.addf(name, "%q is reserved by Postgres; expected another role name", s)
	default:
		return s
	}
	return ""
}

// httpURL checks an absolute http(s) URL without query and returns it
// without trailing slash. Invalid values are echoed with any password
// hidden.
func (l *loader) httpURL(name, example string) string {
	s := l.value(name)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		l.addf(name, "%q is not an absolute http(s) URL; expected e.g. %s", RedactURL(s), example)
	case u.User != nil:
		l.addf(name, "%q holds a user name or password; expected just the address, e.g. %s", RedactURL(s), example)
	case u.RawQuery != "" || u.ForceQuery:
		l.addf(name, "%q has a query (?...); expected a URL without query, e.g. %s", RedactURL(s), example)
	case u.Fragment != "" || strings.Contains(s, "#"):
		l.addf(name, "%q has a fragment (#...); expected a URL without it, e.g. %s", RedactURL(s), example)
	default:
		return strings.TrimRight(s, "/")
	}
	return ""
}

func (l *loader) caFile(name string) string {
	path := l.raw(name)
	if path == "" {
		return ""
	}
	data, err := readFile(path, maxCAFileSize)
	if err != nil {
		l.addf(name, "%v", err)
		return ""
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		l.addf(name, "%s holds no PEM certificate; expected a file with -----BEGIN CERTIFICATE-----", path)
		return ""
	}
	return path
}

func (l *loader) boolean(name string) bool {
	s := l.value(name)
	b, err := strconv.ParseBool(s)
	if err != nil {
		l.addf(name, "%q is not true or false; expected true or false", s)
		return false
	}
	return b
}

// tokenKeyExpected says what TIKTOKB1_TOKEN_KEY must hold.
const tokenKeyExpected = "32 random bytes as 64 hex characters or base64; generate one with `openssl rand -hex 32`"

func validTokenKey(s string) bool {
	_, err := DecodeTokenKey(s)
	return err == nil
}

// DecodeTokenKey decodes an AES-256 key written as 64 hex characters or as
// base64 (standard or URL alphabet, padded or not). Its error never holds
// the value.
func DecodeTokenKey(s string) ([]byte, error) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("not " + tokenKeyExpected)
}

// keyValueDSN matches host= or dbname= as a key of a key=value string.
var keyValueDSN = regexp.MustCompile(`(^|\s)(host|dbname)\s*=`)

func validPostgres(s string) bool {
	if u, err := url.Parse(s); err == nil && strings.Contains(s, "://") {
		return (strings.EqualFold(u.Scheme, "postgres") || strings.EqualFold(u.Scheme, "postgresql")) && u.Opaque == ""
	}
	return !strings.Contains(s, "://") && keyValueDSN.MatchString(s)
}

func validSQLServer(s string) bool {
	u, err := url.Parse(s)
	return err == nil && strings.EqualFold(u.Scheme, "sqlserver") && u.Host != "" && u.Opaque == ""
}
