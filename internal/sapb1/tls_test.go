package sapb1_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// A Service Layer with a self-signed certificate is trusted through
// SAPB1_TLS_CA_FILE, refused without it, and accepted blindly only when
// verification is explicitly off.
func TestTLSWithCAFile(t *testing.T) {
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	company := "SBO_" + hex.EncodeToString(b)
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{DatabaseURL: testdb.NewURL(t), CompanyDB: company, User: "manager", Password: "s3cret", DocsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	base := sapb1.Config{BaseURL: srv.URL + "/b1s/v1", CompanyDB: company, User: "manager", Password: "s3cret"}

	trusted := base
	trusted.CAFile = caFile
	c, err := sapb1.New(trusted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Warehouses(ctx); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}

	c, _ = sapb1.New(base)
	_, err = c.Warehouses(ctx)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("without the CA file: %v, want an unknown-authority error", err)
	}

	insecure := base
	insecure.InsecureSkipVerify = true
	c, _ = sapb1.New(insecure)
	if _, err := c.Warehouses(ctx); err != nil {
		t.Fatalf("with verification off: %v", err)
	}

	bad := base
	bad.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := sapb1.New(bad); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}
