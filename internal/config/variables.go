package config

import "slices"

// Environment variable names.
const (
	envDatabaseURL        = "DATABASE_URL"
	envHTTPAddr           = "TIKTOKB1_HTTP_ADDR"
	envLogLevel           = "TIKTOKB1_LOG_LEVEL"
	envLogFormat          = "TIKTOKB1_LOG_FORMAT"
	envDataDir            = "TIKTOKB1_DATA_DIR"
	envAppRole            = "TIKTOKB1_APP_ROLE"
	envAnalystRole        = "TIKTOKB1_ANALYST_ROLE"
	envDBMaxConns         = "TIKTOKB1_DB_MAX_CONNS"
	envShutdownTimeout    = "TIKTOKB1_SHUTDOWN_TIMEOUT"
	envSyncRunRetention   = "TIKTOKB1_SYNC_RUN_RETENTION"
	envPIIRetention       = "TIKTOKB1_PII_RETENTION"
	envWorkersTTRead      = "TIKTOKB1_WORKERS_TIKTOK_READ"
	envWorkersSAPRead     = "TIKTOKB1_WORKERS_SAPB1_READ"
	envWorkersSAPWrite    = "TIKTOKB1_WORKERS_SAPB1_WRITE"
	envWorkersTTWrite     = "TIKTOKB1_WORKERS_TIKTOK_WRITE"
	envWorkersPriority    = "TIKTOKB1_WORKERS_PRIORITY"
	envWorkersDefault     = "TIKTOKB1_WORKERS_DEFAULT"
	envJobTimeout         = "TIKTOKB1_JOB_TIMEOUT"
	envRescueStuckJobs    = "TIKTOKB1_RESCUE_STUCK_JOBS_AFTER"
	envTikTokAppKey       = "TIKTOK_APP_KEY"
	envTikTokAppSecret    = "TIKTOK_APP_SECRET"
	envTikTokAPIURL       = "TIKTOK_API_URL"
	envTikTokAuthURL      = "TIKTOK_AUTH_URL"
	envTikTokAuthorizeURL = "TIKTOK_AUTHORIZE_URL"
	envTikTokServiceID    = "TIKTOK_SERVICE_ID"
	envTikTokRefreshAhead = "TIKTOK_TOKEN_REFRESH_AHEAD"
	envTikTokRateLimit    = "TIKTOK_RATE_LIMIT"
	envTikTokRateLimits   = "TIKTOK_RATE_LIMITS"
	envTikTokPollInterval = "TIKTOK_ORDERS_POLL_INTERVAL"
	envTikTokPollLag      = "TIKTOK_ORDERS_POLL_LAG"
	envTikTokPollOverlap  = "TIKTOK_ORDERS_POLL_OVERLAP"
	envInventoryShare     = "TIKTOKB1_INVENTORY_CONFIRM_SHARE"
	envInventoryMinSKUs   = "TIKTOKB1_INVENTORY_CONFIRM_MIN_SKUS"
	envTokenKey           = "TIKTOKB1_TOKEN_KEY"
	envPublicURL          = "TIKTOKB1_PUBLIC_URL"
	envSAPServiceLayer    = "SAPB1_SERVICE_LAYER_URL"
	envSAPCompanyDB       = "SAPB1_COMPANY_DB"
	envSAPUser            = "SAPB1_USER"
	envSAPPassword        = "SAPB1_PASSWORD"
	envSAPSQLDSN          = "SAPB1_SQL_DSN"
	envSAPSQLIsolation    = "SAPB1_SQL_ISOLATION"
	envSAPBufferUDF       = "SAPB1_BUFFER_UDF"
	envSAPTLSCAFile       = "SAPB1_TLS_CA_FILE"
	envSAPTLSInsecure     = "SAPB1_TLS_INSECURE_SKIP_VERIFY"
)

// Environment variable names of the SAP Service Layer governor.
const (
	envSAPMaxConcurrent     = "SAPB1_MAX_CONCURRENT"
	envSAPPriorityReserved  = "SAPB1_PRIORITY_RESERVED"
	envSAPRequestsPerSecond = "SAPB1_REQUESTS_PER_SECOND"
	envSAPRequestTimeout    = "SAPB1_REQUEST_TIMEOUT"
	envSAPSlowRequest       = "SAPB1_SLOW_REQUEST"
	envSAPBreakerFailures   = "SAPB1_BREAKER_FAILURES"
	envSAPBreakerCooldown   = "SAPB1_BREAKER_COOLDOWN"
)

// Var describes one environment variable, for the README's configuration
// table and `tiktokb1 serve --help`.
type Var struct {
	Name string
	// Default is the value used when the variable is unset; "" means the
	// variable has no default (what unset means is in Description).
	Default string
	// Secret variables are never printed, and can instead be read from the
	// file named by Name+"_FILE" (e.g. SAPB1_PASSWORD_FILE=/run/secrets/sap).
	Secret      bool
	Description string
}

// variables is the single list of every variable; Load takes its defaults
// from here.
var variables = []Var{
	{Name: envDatabaseURL, Secret: true,
		Description: "PostgreSQL connection, e.g. postgres://user:password@host:5432/tiktokb1. Leave unset to run a private local Postgres in TIKTOKB1_DATA_DIR."},
	{Name: envHTTPAddr, Default: "127.0.0.1:8080",
		Description: "Address (host:port) the HTTP server listens on. Use :8080 to listen on all network interfaces."},
	{Name: envLogLevel, Default: "info",
		Description: "Log detail: debug, info, warn or error."},
	{Name: envLogFormat, Default: LogFormatText,
		Description: "Log line format: text or json."},
	{Name: envDataDir, Default: ".data",
		Description: "Folder for local data, including the private Postgres used when DATABASE_URL is unset."},
	{Name: envAppRole, Default: "tiktokb1_app",
		Description: "Postgres role the service itself uses. Lowercase letters, digits and _."},
	{Name: envAnalystRole, Default: "analyst",
		Description: "Postgres role for analysts and reporting tools. Must differ from TIKTOKB1_APP_ROLE."},
	{Name: envDBMaxConns, Default: "20",
		Description: "Maximum number of open database connections (2 to 1000)."},
	{Name: envShutdownTimeout, Default: "30s",
		Description: "How long to let running work finish when stopping (1s to 10m)."},
	{Name: envSyncRunRetention, Default: "2160h",
		Description: "How long sync history (ops.sync_run) is kept; at least 24h. In hours: 2160h is 90 days."},
	{Name: envPIIRetention, Default: "2160h",
		Description: "How long buyers' personal data (pii.order_recipient) is kept after the order completed or was cancelled; at least 24h. In hours: 2160h is 90 days."},
	{Name: envWorkersTTRead, Default: "10",
		Description: "How many jobs that read from TikTok Shop run at once (1 to 1000)."},
	{Name: envWorkersSAPRead, Default: "2",
		Description: "How many jobs that read from SAP Business One run at once (1 to 1000)."},
	{Name: envWorkersSAPWrite, Default: "10",
		Description: "How many jobs that write to SAP Business One run at once (1 to 1000)."},
	{Name: envWorkersTTWrite, Default: "5",
		Description: "How many jobs that write to TikTok Shop run at once (1 to 1000)."},
	{Name: envWorkersPriority, Default: "5",
		Description: "How many urgent jobs (priority queue) run at once (1 to 1000)."},
	{Name: envWorkersDefault, Default: "5",
		Description: "How many other jobs (default queue) run at once (1 to 1000)."},
	{Name: envJobTimeout, Default: "10m",
		Description: "How long a job may run before it is cancelled and retried (1s to 24h); the TikTok order poll keeps its own 30m."},
	{Name: envRescueStuckJobs, Default: "1h",
		Description: "A job still marked running this long (its process died) is retried; more than TIKTOKB1_JOB_TIMEOUT, at most 24h."},
	{Name: envTikTokAppKey,
		Description: "TikTok Shop app key. Leave it and TIKTOK_APP_SECRET unset to run without TikTok Shop."},
	{Name: envTikTokAppSecret, Secret: true,
		Description: "TikTok Shop app secret. Required when TIKTOK_APP_KEY is set."},
	{Name: envTikTokAPIURL, Default: "https://open-api.tiktokglobalshop.com",
		Description: "TikTok Shop API address."},
	{Name: envTikTokAuthURL, Default: "https://auth.tiktok-shops.com",
		Description: "TikTok Shop authorization address."},
	{Name: envTikTokAuthorizeURL, Default: "https://services.tiktokshop.com/open/authorize",
		Description: "Page where sellers authorise the app (US sellers: https://services.us.tiktokshop.com/open/authorize)."},
	{Name: envTikTokServiceID,
		Description: "Service id of the app in TikTok Shop Partner Center, for the authorisation link. Required with TIKTOK_APP_KEY."},
	{Name: envTikTokRefreshAhead, Default: "24h",
		Description: "Refresh a TikTok access token when it expires within this (30m to 72h)."},
	{Name: envTikTokRateLimit, Default: "10",
		Description: "Requests per second this service sends per shop and TikTok endpoint (0.1 to 1000); a job over it snoozes instead of waiting."},
	{Name: envTikTokRateLimits,
		Description: "Per-endpoint exceptions to TIKTOK_RATE_LIMIT, e.g. orders_search=5,inventory_update=20 (names: tiktokb1's endpoint table)."},
	{Name: envTikTokPollInterval, Default: "60s",
		Description: "How often each shop's orders are polled, so a lost webhook costs minutes, not an order (5s to 1h)."},
	{Name: envTikTokPollLag, Default: "2m",
		Description: "The poll reads up to now minus this: TikTok's search trails its writes (0s to 1h)."},
	{Name: envTikTokPollOverlap, Default: "10m",
		Description: "Each poll re-reads this much before the last one's watermark (0s to 24h)."},
	{Name: envInventoryShare, Default: "0.2",
		Description: "An inventory push that would change more than this share of a shop's TikTok listings at once is held until `tiktokb1 inventory confirm` (0.01 to 1)."},
	{Name: envInventoryMinSKUs, Default: "10",
		Description: "An inventory push changing fewer listings than this is never held, whatever the share (1 to 1000000)."},
	{Name: envTokenKey, Secret: true,
		Description: "Key the TikTok tokens are encrypted with in Postgres: 32 bytes as 64 hex characters or base64 (openssl rand -hex 32). Required with TIKTOK_APP_KEY."},
	{Name: envPublicURL,
		Description: "Address TikTok and sellers reach this service at, e.g. https://tiktokb1.example.com; webhooks go to /webhooks/tiktok. Required with TIKTOK_APP_KEY."},
	{Name: envSAPServiceLayer,
		Description: "SAP Business One Service Layer address, e.g. https://sap:50000/b1s/v1. Leave all four SAP connection settings unset to run without SAP."},
	{Name: envSAPCompanyDB,
		Description: "SAP Business One company database, e.g. SBODEMOUS. Required with SAPB1_SERVICE_LAYER_URL."},
	{Name: envSAPUser,
		Description: "SAP Business One user name. Required with SAPB1_SERVICE_LAYER_URL."},
	{Name: envSAPPassword, Secret: true,
		Description: "Password of SAPB1_USER. Required with SAPB1_SERVICE_LAYER_URL."},
	{Name: envSAPSQLDSN, Secret: true,
		Description: "Optional direct SQL Server connection to the SAP company database, e.g. sqlserver://user:password@host:1433?database=SBODEMOUS."},
	{Name: envSAPSQLIsolation, Default: "read_committed",
		Description: "How stock and watermark reads see SAP's writes: read_committed (waits up to 5 s for locks) or snapshot (needs ALLOW_SNAPSHOT_ISOLATION)."},
	{Name: envSAPBufferUDF,
		Description: "U_EcomBuffer where OITM has that field: read with each stock snapshot as the item's e-commerce buffer (integration.stock_buffer wins). Needs SAPB1_SQL_DSN."},
	{Name: envSAPTLSCAFile,
		Description: "PEM file with the CA certificate the Service Layer's certificate is signed with (for self-signed setups)."},
	{Name: envSAPTLSInsecure, Default: "false",
		Description: "Set to true to skip checking the Service Layer's certificate. For testing only."},
	{Name: envSAPMaxConcurrent, Default: "4",
		Description: "Cap on concurrent SAP Service Layer requests across all processes (1 to 100). SAP copes best with few per company."},
	{Name: envSAPPriorityReserved, Default: "1",
		Description: "Slots of SAPB1_MAX_CONCURRENT kept free for cancellations (0 to SAPB1_MAX_CONCURRENT - 1)."},
	{Name: envSAPRequestsPerSecond, Default: "10",
		Description: "Service Layer requests that may start per second across all processes (0.1 to 1000)."},
	{Name: envSAPRequestTimeout, Default: "60s",
		Description: "Service Layer request timeout (5s to 10m). A stopped process's slots free themselves 30s after it."},
	{Name: envSAPSlowRequest, Default: "10s",
		Description: "Answers slower than this halve the concurrency cap for a while (100ms to 10m, below SAPB1_REQUEST_TIMEOUT)."},
	{Name: envSAPBreakerFailures, Default: "5",
		Description: "Requests in a row without an answer from SAP that pause all requests for SAPB1_BREAKER_COOLDOWN (1 to 1000)."},
	{Name: envSAPBreakerCooldown, Default: "30s",
		Description: "How long requests pause once SAP looks down, before one probe request is let through (1s to 1h)."},
}

// Variables describes every environment variable Load reads, in the order of
// the README's configuration table.
func Variables() []Var {
	return slices.Clone(variables)
}

// defaultOf returns the default of the named variable.
func defaultOf(name string) string {
	i := slices.IndexFunc(variables, func(v Var) bool { return v.Name == name })
	if i < 0 {
		panic("config: unknown variable " + name)
	}
	return variables[i].Default
}
