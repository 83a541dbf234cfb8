package main

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
)

// serveSAPB1TDS serves the SAP simulator's SQL Server endpoint (the
// --tds-addr listener ln) over the company sl keeps: SQL Server clients log
// in to companyDB with user and password and read the company's tables
// with the T-SQL subset of internal/sim/tds/tsql. TLS is offered with a
// self-signed certificate (clients set TrustServerCertificate); loc is the
// company's time zone, for GETDATE(). It runs until ctx ends (then nil) or
// the listener fails.
func serveSAPB1TDS(ctx context.Context, ln net.Listener, sl *sapb1sim.Server, companyDB, user, password string, loc *time.Location, logger *slog.Logger) error {
	srv, err := tds.NewServer(tds.Options{
		Pool: sl.Pool(), Schema: sl.Schema(), Database: companyDB,
		User: user, Password: password, Location: loc, Logger: logger,
	})
	if err != nil {
		return err
	}
	logger.Info("sapb1 SQL Server endpoint listening", "addr", ln.Addr().String(), "database", companyDB,
		"dsn", "sqlserver://"+user+":…@"+ln.Addr().String()+"?database="+companyDB+"&encrypt=disable")
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	err = srv.Serve(ln)
	srv.Close()
	return err
}
