package tds_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
)

func TestLoginAndProbes(t *testing.T) {
	c := newCompany(t, nil)
	db := c.db("")
	if err := db.PingContext(ctx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	var v string
	if err := db.QueryRowContext(ctx(t), "SELECT @@VERSION").Scan(&v); err != nil {
		t.Fatalf("@@VERSION: %v", err)
	}
	if !strings.HasPrefix(v, "Microsoft SQL Server 2022") {
		t.Errorf("@@VERSION = %q", v)
	}
	var spid, trancount int
	var dbName, product string
	if err := db.QueryRowContext(ctx(t), "SELECT @@SPID, @@TRANCOUNT, DB_NAME(), SERVERPROPERTY('ProductVersion')").Scan(&spid, &trancount, &dbName, &product); err != nil {
		t.Fatal(err)
	}
	if spid < 51 || trancount != 0 || dbName != c.name || product != "16.0.1000.6" {
		t.Errorf("spid %d trancount %d db %q version %q", spid, trancount, dbName, product)
	}
	// The database name is case-insensitive, as on SQL Server.
	lower := c.db("database=" + strings.ToLower(c.name))
	if err := lower.PingContext(ctx(t)); err != nil {
		t.Errorf("database in lower case: %v", err)
	}
}

func TestLoginRefused(t *testing.T) {
	c := newCompany(t, nil)
	bad := func(dsn string) error {
		db, err := sql.Open("sqlserver", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return db.PingContext(ctx(t))
	}
	wantSQLError(t, bad(c.dsnAs(sqlUser, "wrong", "")), 18456, "Login failed for user '"+sqlUser+"'.")
	// The password is case-sensitive, the login name is not.
	wantSQLError(t, bad(c.dsnAs(sqlUser, strings.ToUpper(sqlPassword), "")), 18456, "Login failed")
	wantSQLError(t, bad(c.dsnAs("sa", sqlPassword, "")), 18456, "Login failed for user 'sa'.")
	if err := bad(c.dsnAs(strings.ToUpper(sqlUser), sqlPassword, "")); err != nil {
		t.Errorf("login name in upper case: %v", err)
	}
	// SQL Server sends 4060 and then 18456; go-mssqldb reports the last
	// and keeps both.
	err := bad(c.dsn("database=SBODemoGB"))
	wantSQLError(t, err, 18456, "Login failed for user")
	if all := sqlErr(t, err).All; len(all) != 2 || all[0].Number != 4060 || all[0].Message != `Cannot open database "SBODemoGB" requested by the login. The login failed.` {
		t.Fatalf("errors: %+v", all)
	}
}

func TestEncryption(t *testing.T) {
	c := newCompany(t, nil)
	for _, tc := range []struct{ name, extra string }{
		{"off (client cannot encrypt)", "encrypt=disable"},
		{"login packet only (client default)", "encrypt="},
		{"login packet only, encrypt=false", "encrypt=false&TrustServerCertificate=true"},
		{"whole connection, self-signed", "encrypt=true&TrustServerCertificate=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := c.db(tc.extra)
			var n int
			if err := db.QueryRowContext(ctx(t), "SELECT COUNT(*) FROM OWHS WHERE WhsCode = @p1", "none").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("count %d", n)
			}
		})
	}
	// A server that forces encryption encrypts the whole connection of a
	// client that only offered to encrypt its login (SQL Server's "force
	// encryption").
	forced := newCompany(t, func(o *tds.Options) { o.Encryption = tds.EncryptionRequired })
	if err := forced.db("encrypt=").PingContext(ctx(t)); err != nil {
		t.Fatalf("forced encryption: %v", err)
	}
	// A client that requires encryption cannot use a server without it.
	off := newCompany(t, func(o *tds.Options) { o.Encryption = tds.EncryptionOff })
	db := off.db("encrypt=true&TrustServerCertificate=true")
	if err := db.PingContext(ctx(t)); err == nil || !strings.Contains(err.Error(), "encrypt") {
		t.Fatalf("want an encryption error, got %v", err)
	}
	// The certificate is self-signed: without TrustServerCertificate the
	// client refuses it.
	db = c.db("encrypt=true")
	if err := db.PingContext(ctx(t)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("want a certificate error, got %v", err)
	}
}
