package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/localpg"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
)

const simSAPB1Usage = `sim sapb1 --company-db DB --user U --password P [flags]

Serves the SAP Business One Service Layer under /b1s/v1 (Login/Logout with
B1SESSION and ROUTEID cookies, SAP's error envelope and codes, Orders,
DeliveryNotes, Invoices, CreditNotes, Items, Warehouses, PriceLists,
ProductTrees, BusinessPartners, UserFieldsMD, $filter/$select/$orderby/$top/
$skip, paging, $batch) over a company kept in Postgres tables with SAP's
names, in the schema sbo_<company-db>. Stock moves as SAP moves it; document
writes are limited to a rate that stays flat as concurrency rises; past the
proxy timeout the client gets a 502 while the document may still commit.
The company starts empty: create warehouses, items, price lists and
customers through the API. Runs until interrupted.

With --tds-addr, a SQL Server (TDS) endpoint serves the same company: SQL
Server clients log in with --user/--password to database --company-db and
read OITM, OITW, OWHS, OITT, ITT1, ITM1, OPLN, ORDR, RDR1, ODLN, DLN1, OINV,
INV1, ORIN, RIN1, OIVL, OCRD with a read-only T-SQL subset (SELECT with
joins, WHERE, ORDER BY, TOP, parameters); anything else is a SQL Server error.

Control API on the same address:
  POST /_sim/stock            {"item_code":"A","warehouse":"01","quantity":"10"}
                              goods receipt (> 0) or issue (< 0), written to OIVL
  GET  /_sim/stats            documents, peak_concurrent_writes, http_502,
                              deadlocks, logins, requests
  POST /_sim/reset-stats
  GET  /_sim/faults, POST /_sim/faults
                              {"outage":true,"slow_login":"2s","commit_delay":"1s",
                               "proxy_timeout":"5s","docs_per_second":5,"deadlock_rate":0.05}
  POST /_sim/expire-sessions`

// runSimSAPB1 runs `tiktokb1 sim sapb1`.
func runSimSAPB1(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim sapb1", simSAPB1Usage, stdout, stderr, nil)
	addr := fs.String("sl-addr", "127.0.0.1:50000", "address of the Service Layer and the control API, HOST:PORT")
	tdsAddr := fs.String("tds-addr", "", "address of the SQL Server (TDS) endpoint over the same company, HOST:PORT, e.g. 127.0.0.1:1433 (default: none); SQL clients log in with --user and --password")
	companyDB := fs.String("company-db", "", "company database name clients log in to (required; letters, digits, _)")
	user := fs.String("user", "", "the B1 user name clients log in with (required)")
	password := fs.String("password", "", "the B1 user's password (required)")
	databaseURL := fs.String("database-url", "", "Postgres the company lives in (default: database sapb1sim on the local Postgres, started under TIKTOKB1_DATA_DIR if none runs)")
	sessionTimeout := fs.Duration("session-timeout", 30*time.Minute, "idle time after which a session ends (401, code 301)")
	docsPerSecond := fs.Float64("docs-per-second", 5, "document writes per second SAP can take; 0 = unlimited")
	proxyTimeout := fs.Duration("proxy-timeout", 60*time.Second, "time after which the proxy answers 502 while the request goes on; 0 = none")
	deadlockRate := fs.Float64("deadlock-rate", 0, "probability (0-1) that a document write loses a deadlock while another is in flight")
	currency := fs.String("currency", "USD", "the company's local currency")
	location := fs.String("location", "UTC", "the company's time zone (SAP stamps UpdateDate/UpdateTS in local time), e.g. Europe/Berlin")
	reset := fs.Bool("reset", false, "drop the company and start with an empty one")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *companyDB == "" || *user == "" || *password == "" {
		return usageError(fs, stderr, "--company-db, --user and --password are required")
	}
	if *docsPerSecond < 0 || *proxyTimeout < 0 || *sessionTimeout <= 0 {
		return usageError(fs, stderr, "--docs-per-second and --proxy-timeout must not be negative, --session-timeout must be positive")
	}
	if *deadlockRate < 0 || *deadlockRate > 1 {
		return usageError(fs, stderr, "--deadlock-rate must be between 0 and 1")
	}
	loc, err := time.LoadLocation(*location)
	if err != nil {
		return usageError(fs, stderr, "--location: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	url := *databaseURL
	if url == "" {
		url, err = localpg.Ensure(ctx, localpg.Options{
			DataDir:  os.Getenv("TIKTOKB1_DATA_DIR"),
			Database: "sapb1sim",
			Logf:     func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
		})
		if err != nil {
			return err
		}
	}
	// The package's zero means "default"; on the command line 0 means none.
	rate, timeout := *docsPerSecond, *proxyTimeout
	if rate == 0 {
		rate = -1
	}
	if timeout == 0 {
		timeout = -1
	}
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{
		DatabaseURL: url, CompanyDB: *companyDB, User: *user, Password: *password,
		Currency: *currency, Location: loc, Reset: *reset,
		SessionTimeout: *sessionTimeout, DocsPerSecond: rate, ProxyTimeout: timeout, DeadlockRate: *deadlockRate,
		Logger: logger,
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("sapb1 simulator listening", "addr", ln.Addr().String(), "service_layer", "http://"+ln.Addr().String()+"/b1s/v1",
		"company_db", *companyDB, "schema", sim.Schema(), "control_api", "http://"+ln.Addr().String()+"/_sim/",
		"docs_per_second", *docsPerSecond, "proxy_timeout", proxyTimeout.String())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if *tdsAddr != "" {
		tdsLn, err := net.Listen("tcp", *tdsAddr)
		if err != nil {
			return err
		}
		go func() { errc <- serveSAPB1TDS(ctx, tdsLn, sim, *companyDB, *user, *password, loc, logger) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
