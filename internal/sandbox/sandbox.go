// Package sandbox runs `tiktokb1 serve --sandbox`: the TikTok Shop and SAP
// Business One simulators in the service's own process, seeded with a demo
// company and shop, and a *config.Config that points the service at them.
//
// The SAP company lives in the database "<service database>_sandbox_sap" on
// the service's Postgres (tiktokb1_sandbox_sap for the default database
// tiktokb1), beside the sandbox's own settings (the token key, a start
// counter). Seeding is idempotent: a restart keeps the company, its stock
// and documents, and the shop's configuration.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/config"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
)

// The fixed defaults a user (and any test) can rely on.
const (
	AppKey       = "sandbox-key"
	AppSecret    = "sandbox-secret"
	ServiceID    = "sandbox-service"
	CompanyDB    = "SANDBOX"
	SAPUser      = "manager"
	SAPPassword  = "manager"
	Customer     = "C-TIKTOK"
	ShippingItem = "SHIPPING"
	Currency     = "GBP"
	// Seed is the TikTok simulator's seed on a fresh sandbox; the shop's id
	// always comes from it. Each later start adds one, so orders placed
	// after a restart never reuse an earlier order's id.
	Seed = 1
	// DocsPerSecond is the SAP simulator's document-write capacity.
	DocsPerSecond = 20
)

// Item is a demo item: an SAP item with stock in 01 and 02 and a TikTok
// listing with seller_sku = ItemCode.
type Item struct {
	Code, Name, Price string
	Stock             int // in each of 01 and 02; the listing shows Stock
}

// Items are the demo items; they are the TikTok simulator's demo listings.
var Items = []Item{
	{"TEE-BLK-M", "Classic Tee Black / M", "12.99", 40},
	{"TEE-BLK-L", "Classic Tee Black / L", "12.99", 35},
	{"MUG-WHT-350", "Enamel Mug 350 ml White", "8.50", 120},
	{"SOCK-3PK", "Bamboo Socks 3-pack", "4.00", 90},
	{"CANDLE-VAN", "Vanilla Candle", "15.00", 25},
	{"KEYRING-GIFT", "Logo Keyring", "2.00", 300},
	{"SERUM-30ML", "Vitamin C Serum 30 ml", "24.99", 60},
	{"BOTTLE-750", "Steel Bottle 750 ml", "19.99", 18},
	{"LAMP-DESK", "Desk Lamp", "19.99", 0},
}

// Options configure Start. Zero values take the defaults in the comments.
type Options struct {
	// TikTokAddr is where the TikTok simulator listens; default
	// 127.0.0.1:8081. SLAddr is the SAP Service Layer's; default
	// 127.0.0.1:8082. TDSAddr is SAP's SQL Server endpoint; default
	// 127.0.0.1:1433. An address in use is replaced by a free port on the
	// same host, with a warning in the log.
	TikTokAddr, SLAddr, TDSAddr string
	// Demo seeds the TikTok simulator's demo orders and places a demo order
	// every OrderEvery (plus up to half of it, at random) until a listing's
	// stock runs low. Default false.
	Demo bool
	// OrderEvery is the demo trickle's period; default 20s.
	OrderEvery time.Duration
	// Logger gets the sandbox's log lines; default slog.Default().
	Logger *slog.Logger
}

// Sandbox is a running sandbox. Config is what the service must run with.
type Sandbox struct {
	// Config is a copy of the service's configuration pointing at the
	// simulators.
	Config *config.Config
	// TikTok and SAP are the simulators.
	TikTok *tiktoksim.Server
	SAP    *sapb1sim.Server
	// TikTokURL and ServiceLayerURL are the simulators' base URLs
	// (ServiceLayerURL ends in /b1s/v1); TDSDSN is the SQL Server DSN.
	TikTokURL, SLURL, ServiceLayerURL, TDSDSN string
	// SAPDatabase is the Postgres database the SAP company lives in.
	SAPDatabase string

	log     *slog.Logger
	sapPool *pgxpool.Pool
	servers []*http.Server
	tds     *tds.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Variables are the environment variables the sandbox sets itself; Start's
// caller refuses to run when one of them is set (CheckEnv).
var Variables = []string{
	"TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_APP_SECRET_FILE", "TIKTOK_API_URL", "TIKTOK_AUTH_URL",
	"TIKTOK_AUTHORIZE_URL", "TIKTOK_SERVICE_ID", "TIKTOKB1_TOKEN_KEY", "TIKTOKB1_TOKEN_KEY_FILE", "TIKTOKB1_PUBLIC_URL",
	"SAPB1_SERVICE_LAYER_URL", "SAPB1_COMPANY_DB", "SAPB1_USER", "SAPB1_PASSWORD", "SAPB1_PASSWORD_FILE",
	"SAPB1_SQL_DSN", "SAPB1_SQL_DSN_FILE", "SAPB1_TLS_CA_FILE", "SAPB1_TLS_INSECURE_SKIP_VERIFY",
}

// CheckEnv returns an error naming every variable of Variables that lookup
// (os.LookupEnv when nil) has set to a non-blank value: the sandbox points
// the service at its simulators, and must never look as if it talked to a
// real TikTok Shop or SAP.
func CheckEnv(lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var set []string
	for _, name := range Variables {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			set = append(set, name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("--sandbox connects to the built-in TikTok Shop and SAP simulators, but %s %s set: unset %s to use the sandbox, or run without --sandbox to use the systems configured",
		strings.Join(set, ", "), map[bool]string{true: "is", false: "are"}[len(set) == 1], map[bool]string{true: "it", false: "them"}[len(set) == 1])
}

// Start starts both simulators on their addresses, seeds them, onboards
// the shop in the service database (pool), stores its configuration, and
// returns the sandbox with the configuration the service must run with (cfg
// is not changed). cfg.Server.HTTPAddr must be the address the service will
// listen on: webhooks and TIKTOKB1_PUBLIC_URL go there. Close stops it.
func Start(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, opts Options) (_ *Sandbox, err error) {
	if opts.TikTokAddr == "" {
		opts.TikTokAddr = "127.0.0.1:8081"
	}
	if opts.SLAddr == "" {
		opts.SLAddr = "127.0.0.1:8082"
	}
	if opts.TDSAddr == "" {
		opts.TDSAddr = "127.0.0.1:1433"
	}
	if opts.OrderEvery <= 0 {
		opts.OrderEvery = 20 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	sb := &Sandbox{log: opts.Logger.With("component", "sandbox")}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()

	sb.sapPool, sb.SAPDatabase, err = openSAPDatabase(ctx, pool)
	if err != nil {
		return nil, err
	}
	tokenKey, starts, err := settings(ctx, sb.sapPool)
	if err != nil {
		return nil, err
	}

	ttLn, err := sb.listen(opts.TikTokAddr, "--sandbox-tiktok-addr")
	if err != nil {
		return nil, err
	}
	slLn, err := sb.listen(opts.SLAddr, "--sandbox-sl-addr")
	if err != nil {
		ttLn.Close()
		return nil, err
	}
	tdsLn, err := sb.listen(opts.TDSAddr, "--sandbox-tds-addr")
	if err != nil {
		ttLn.Close()
		slLn.Close()
		return nil, err
	}
	sb.TikTokURL = "http://" + ttLn.Addr().String()
	sb.SLURL = "http://" + slLn.Addr().String()
	sb.ServiceLayerURL = sb.SLURL + "/b1s/v1"
	sb.TDSDSN = "sqlserver://" + SAPUser + ":" + SAPPassword + "@" + tdsLn.Addr().String() + "?database=" + CompanyDB + "&encrypt=disable"
	publicURL := "http://" + cfg.Server.HTTPAddr

	sb.SAP, err = sapb1sim.New(ctx, sapb1sim.Options{
		Pool: sb.sapPool, CompanyDB: CompanyDB, User: SAPUser, Password: SAPPassword,
		CompanyName: "Sandbox company", Currency: Currency, DocsPerSecond: DocsPerSecond,
		Logger: opts.Logger.With("component", "sapb1sim"),
	})
	if err != nil {
		ttLn.Close()
		slLn.Close()
		tdsLn.Close()
		return nil, err
	}
	sb.tds, err = tds.NewServer(tds.Options{
		Pool: sb.SAP.Pool(), Schema: sb.SAP.Schema(), Database: CompanyDB, User: SAPUser, Password: SAPPassword,
		Location: time.UTC, Logger: opts.Logger.With("component", "sapb1sim-tds"),
	})
	if err != nil {
		ttLn.Close()
		slLn.Close()
		tdsLn.Close()
		return nil, err
	}

	// The shop keeps the id of seed 1 on every start; the seed itself moves
	// on, so a restarted simulator never hands out an earlier order id.
	first := tiktoksim.New(tiktoksim.Options{AppKey: AppKey, AppSecret: AppSecret, Seed: Seed})
	shopID := first.Shop().ID
	first.Close()
	sb.TikTok = tiktoksim.New(tiktoksim.Options{
		AppKey: AppKey, AppSecret: AppSecret, Seed: Seed + uint64(starts-1), ShopID: shopID, ShopName: "Sandbox Shop",
		Currency: Currency, Demo: opts.Demo, WebhookURL: publicURL + "/webhooks/tiktok",
		WebhookRetryDelays: []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute},
		Logger:             opts.Logger.With("component", "tiktoksim"),
	})
	sb.TikTok.Start()

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sb.cancel = cancel
	sb.serve(ttLn, sb.TikTok)
	sb.serve(slLn, sb.SAP)
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		if err := sb.tds.Serve(tdsLn); err != nil && runCtx.Err() == nil {
			sb.log.Warn("the SAP simulator's SQL Server endpoint stopped", "err", err)
		}
	}()

	if err := seedSAP(ctx, sb.SAP); err != nil {
		return nil, err
	}
	if !opts.Demo {
		if err := seedListings(sb.TikTok); err != nil {
			return nil, err
		}
	}

	c := *cfg
	c.Server.PublicURL = publicURL
	c.TikTok.AppKey = AppKey
	c.TikTok.AppSecret = config.NewSecret(AppSecret)
	c.TikTok.APIURL = sb.TikTokURL
	c.TikTok.AuthURL = sb.TikTokURL
	// The simulator has no consent page: the sandbox onboards the shop itself.
	c.TikTok.AuthorizeURL = sb.TikTokURL + "/oauth/authorize"
	c.TikTok.ServiceID = ServiceID
	c.TikTok.TokenKey = config.NewSecret(string(tokenKey))
	// Seconds scale, so a person watching the sandbox sees the poll work.
	c.TikTok.OrdersPollInterval, c.TikTok.OrdersPollLag, c.TikTok.OrdersPollOverlap = 10*time.Second, 2*time.Second, time.Minute
	c.SAPB1 = config.SAPB1{
		ServiceLayerURL: sb.ServiceLayerURL, CompanyDB: CompanyDB, User: SAPUser,
		Password: config.NewSecret(SAPPassword), SQLDSN: config.NewSecret(sb.TDSDSN), SQLIsolation: cmpOr(cfg.SAPB1.SQLIsolation, "read_committed"),
	}
	sb.Config = &c

	if err := onboard(ctx, &c, pool, shopID); err != nil {
		return nil, err
	}
	if err := configureShop(ctx, pool, shopID, sb.TikTok.DefaultWarehouseID()); err != nil {
		return nil, err
	}
	if opts.Demo {
		sb.wg.Add(1)
		go func() {
			defer sb.wg.Done()
			sb.trickle(runCtx, opts.OrderEvery)
		}()
	}
	return sb, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// listen listens on addr or, when it is in use, on a free port of its host.
func (sb *Sandbox) listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("sandbox: listening on %s (%s): %w", addr, flag, err)
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, fmt.Errorf("sandbox: listening on %s (%s): %w", addr, flag, err)
	}
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, fmt.Errorf("sandbox: listening on %s (%s): %w", addr, flag, err)
	}
	sb.log.Warn("address in use: listening on a free port instead", "flag", flag, "wanted", addr, "using", ln.Addr().String())
	return ln, nil
}

func (sb *Sandbox) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sb.servers = append(sb.servers, srv)
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sb.log.Warn("a sandbox simulator stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Close stops the demo orders and both simulators and closes the SAP
// company's pool.
func (sb *Sandbox) Close() {
	if sb.cancel != nil {
		sb.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range sb.servers {
		_ = srv.Shutdown(ctx)
	}
	if sb.tds != nil {
		sb.tds.Close()
	}
	if sb.TikTok != nil {
		sb.TikTok.Close()
	}
	sb.wg.Wait()
	if sb.SAP != nil {
		sb.SAP.Close()
	}
	if sb.sapPool != nil {
		sb.sapPool.Close()
	}
}

// LogURLs logs where everything is, for a person to read.
func (sb *Sandbox) LogURLs(logger *slog.Logger, serviceDatabaseURL string) {
	svc := sb.Config.Server.PublicURL
	logger.Info("sandbox: the service", "healthz", svc+"/healthz", "metrics", svc+"/metrics", "river_ui", svc+"/riverui/")
	logger.Info("sandbox: TikTok Shop simulator", "api", sb.TikTokURL, "control_api", sb.TikTokURL+tiktoksim.ControlBase,
		"app_key", AppKey, "app_secret", AppSecret, "shop_id", sb.TikTok.Shop().ID)
	logger.Info("sandbox: SAP Business One simulator", "service_layer", sb.ServiceLayerURL, "control_api", sb.SLURL+"/_sim/",
		"company_db", CompanyDB, "user", SAPUser, "password", SAPPassword, "postgres_database", sb.SAPDatabase)
	logger.Info("sandbox: SAP's SQL Server endpoint", "dsn", sb.TDSDSN)
	logger.Info("sandbox: the service database", "psql", "psql '"+serviceDatabaseURL+"'")
}

// openSAPDatabase creates (once) the database of the SAP company beside the
// service's and opens a pool on it.
func openSAPDatabase(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, string, error) {
	pcfg := pool.Config()
	name := pcfg.ConnConfig.Database + "_sandbox_sap"
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return nil, "", fmt.Errorf("sandbox: looking for database %s: %w", name, err)
	}
	if !exists {
		_, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		var pgErr interface{ SQLState() string }
		if err != nil && !(errors.As(err, &pgErr) && pgErr.SQLState() == "42P04") { // created meanwhile
			return nil, "", fmt.Errorf("sandbox: creating database %s for the SAP simulator (the service's Postgres role needs CREATEDB, or create it by hand): %w", name, err)
		}
	}
	pcfg.ConnConfig.Database = name
	pcfg.MaxConns = 10
	pcfg.ConnConfig.RuntimeParams["application_name"] = "tiktokb1-sandbox"
	sapPool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, "", fmt.Errorf("sandbox: connecting to database %s: %w", name, err)
	}
	return sapPool, name, nil
}

// settings returns the sandbox's token key (generated once) and how many
// times the sandbox has started, this start included.
func settings(ctx context.Context, p *pgxpool.Pool) ([]byte, int, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, 0, err
	}
	var key string
	var starts int
	err := pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS tiktokb1_sandbox;
CREATE TABLE IF NOT EXISTS tiktokb1_sandbox.setting (name text PRIMARY KEY, value text NOT NULL)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tiktokb1_sandbox.setting VALUES ('token_key', $1) ON CONFLICT DO NOTHING`, hex.EncodeToString(b)); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT value FROM tiktokb1_sandbox.setting WHERE name = 'token_key'`).Scan(&key); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO tiktokb1_sandbox.setting VALUES ('starts', '1')
ON CONFLICT (name) DO UPDATE SET value = (tiktokb1_sandbox.setting.value::int + 1)::text RETURNING value::int`).Scan(&starts)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sandbox: reading its settings: %w", err)
	}
	raw, err := config.DecodeTokenKey(key)
	if err != nil {
		return nil, 0, fmt.Errorf("sandbox: the stored token key: %w", err)
	}
	return raw, starts, nil
}

// randomBetween returns a duration in [d, 1.5d).
func randomBetween(d time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d/2)+1))
	if err != nil {
		return d
	}
	return d + time.Duration(n.Int64())
}

// trickle places a demo order of one random demo SKU every period or so
// until every listing is low on stock or ctx ends.
func (sb *Sandbox) trickle(ctx context.Context, period time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(randomBetween(period)):
		}
		var candidates []string
		for _, s := range sb.TikTok.SKUs() {
			if s.Stock > 5 {
				candidates = append(candidates, s.SellerSKU)
			}
		}
		if len(candidates) == 0 {
			sb.log.Info("sandbox: demo orders stop: every listing is low on stock")
			return
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(candidates))))
		q, _ := rand.Int(rand.Reader, big.NewInt(2))
		sku := candidates[n.Int64()]
		id, err := sb.TikTok.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: sku, Quantity: 1 + int(q.Int64())}}})
		if err != nil {
			sb.log.Warn("sandbox: placing a demo order failed", "sku", sku, "err", err)
			continue
		}
		sb.log.Info("sandbox: a buyer placed a demo order", "order_id", id, "sku", sku)
	}
}

// seedListings lists the demo items on TikTok (when the simulator's own
// demo data is off); listings that exist are kept.
func seedListings(tt *tiktoksim.Server) error {
	for _, it := range Items {
		if _, err := tt.SKU(it.Code); err == nil {
			continue
		}
		p := tiktoksim.NewProduct{SellerSKU: it.Code, Stock: it.Stock, Price: it.Price, Product: it.Name}
		if it.Stock == 0 {
			p.Status = "SELLER_DEACTIVATED"
		}
		if _, err := tt.AddProducts([]tiktoksim.NewProduct{p}); err != nil && !errors.Is(err, tiktoksim.ErrConflict) {
			return fmt.Errorf("sandbox: listing %s on TikTok: %w", it.Code, err)
		}
	}
	return nil
}

// seedSAP creates what the sandbox company needs, once: warehouses 01 and
// 02, the price list, the customer, the shipping item, the orders flow's
// UDFs, and the demo items with stock in both warehouses.
func seedSAP(ctx context.Context, sap *sapb1sim.Server) error {
	for _, c := range [][2]string{
		{"Warehouses", `{"WarehouseCode":"01","WarehouseName":"Main"}`},
		{"Warehouses", `{"WarehouseCode":"02","WarehouseName":"Overflow"}`},
		{"BusinessPartners", `{"CardCode":"` + Customer + `","CardName":"TikTok Shop customer","CardType":"cCustomer","Currency":"` + Currency + `"}`},
		{"Items", `{"ItemCode":"` + ShippingItem + `","ItemName":"Shipping","InventoryItem":"tNO","SalesItem":"tYES"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokOrderId","Type":"db_Alpha","Size":30,"Description":"TikTok order id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokShopId","Type":"db_Alpha","Size":30,"Description":"TikTok shop id"}`},
		{"UserFieldsMD", `{"TableName":"RDR1","Name":"TikTokPackageId","Type":"db_Alpha","Size":30,"Description":"TikTok package id"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokRelease","Type":"db_Alpha","Size":1,"Description":"Released to the warehouse (Y/N)"}`},
	} {
		if _, err := create(ctx, sap, c[0], c[1]); err != nil {
			return err
		}
	}
	var lists struct {
		Value []json.RawMessage `json:"value"`
	}
	if status, body := sap.Call(ctx, "GET", "PriceLists?$top=1", nil); status != 200 || json.Unmarshal(body, &lists) != nil {
		return fmt.Errorf("sandbox: reading SAP's price lists: %d %s", status, body)
	}
	if len(lists.Value) == 0 {
		if _, err := create(ctx, sap, "PriceLists", `{"PriceListName":"TikTok","DefaultPrimeCurrency":"`+Currency+`"}`); err != nil {
			return err
		}
	}
	for _, it := range Items {
		created, err := create(ctx, sap, "Items", fmt.Sprintf(`{"ItemCode":%q,"ItemName":%q,"InventoryItem":"tYES","SalesItem":"tYES","ItemPrices":[{"PriceList":1,"Price":%q}]}`,
			it.Code, it.Name, it.Price))
		if err != nil {
			return err
		}
		if !created || it.Stock == 0 {
			continue // a restart keeps the stock SAP has now
		}
		for _, whs := range []string{"01", "02"} {
			if _, err := sap.ReceiveStock(ctx, it.Code, whs, decimal.NewFromInt(int64(it.Stock))); err != nil {
				return fmt.Errorf("sandbox: receiving stock of %s in %s: %w", it.Code, whs, err)
			}
		}
	}
	return nil
}

// create POSTs an entity; false when it exists already.
func create(ctx context.Context, sap *sapb1sim.Server, entity, body string) (bool, error) {
	status, out := sap.Call(ctx, "POST", entity, []byte(body))
	switch {
	case status == http.StatusCreated || status == http.StatusNoContent:
		return true, nil
	case status == http.StatusBadRequest && (strings.Contains(string(out), "-2035") || strings.Contains(strings.ToLower(string(out)), "already")):
		return false, nil
	}
	return false, fmt.Errorf("sandbox: creating %s in SAP: %d %s", entity, status, out)
}

// onboard connects the simulator's shop the way a seller would: an
// authorisation link's state, then the callback with a code (the simulator
// takes any). The tokens are stored encrypted with the sandbox's key.
func onboard(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, shopID string) error {
	ob, err := newOnboarding(cfg, pool)
	if err != nil {
		return err
	}
	start, err := ob.StartURL(ctx)
	if err != nil {
		return err
	}
	u, err := url.Parse(start)
	if err != nil {
		return fmt.Errorf("sandbox: the onboarding link: %w", err)
	}
	got, err := ob.Complete(ctx, "sandbox-"+randomHexString(8), u.Query().Get("state"))
	if err != nil {
		return fmt.Errorf("sandbox: onboarding the simulator's shop: %w", err)
	}
	for _, s := range got.Shops {
		if s.ID == shopID {
			return nil
		}
	}
	return fmt.Errorf("sandbox: onboarding did not store shop %s", shopID)
}

func randomHexString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
