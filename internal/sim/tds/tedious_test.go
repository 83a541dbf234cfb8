package tds_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tediousDir holds the Node client: check.js, package.json and its lock.
const tediousDir = "testdata/tedious"

// A second client implementation, Node's tedious (pinned in
// testdata/tedious/package-lock.json), logs in and reads: the endpoint
// follows the protocol, not go-mssqldb's habits.
func TestTedious(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed for the tedious client test: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tediousDir, "node_modules", "tedious")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("npm is needed to install tedious: %v", err)
		}
		c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(c, npm, "ci", "--prefix", tediousDir, "--no-audit", "--no-fund", "--loglevel=error")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	c := newCompany(t, nil)
	c.seed(8)
	host, port, _ := net.SplitHostPort(c.addr)
	p, _ := strconv.Atoi(port)
	cfg, _ := json.Marshal(map[string]any{"host": host, "port": p, "user": sqlUser, "password": sqlPassword, "database": c.name, "encrypt": false, "encryptToo": true})
	run, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(run, node, "check.js", string(cfg))
	cmd.Dir = tediousDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tedious: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var res struct {
		Version []string   `json:"version"`
		Stock   [][]string `json:"stock"`
		Typed   [][]string `json:"typed"`
		Values  []*string  `json:"values"`
		Error   struct {
			Number  int    `json:"number"`
			Class   int    `json:"class"`
			Message string `json:"message"`
		} `json:"error"`
		AfterError []string `json:"afterError"`
		Prepared   struct {
			Handle int        `json:"handle"`
			Rows   [][]string `json:"rows"`
		} `json:"prepared"`
		Tran   []string `json:"tran"`
		Cancel struct {
			Rows int    `json:"rows"`
			Code string `json:"code"`
		} `json:"cancel"`
		AfterCancel []string `json:"afterCancel"`
		Encrypted   []string `json:"encrypted"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("tedious output: %v\n%s", err, out)
	}
	t.Logf("tedious: %s", out)
	if len(res.Version) != 3 || !strings.HasPrefix(res.Version[0], "Microsoft SQL Server") || res.Version[2] != c.name {
		t.Errorf("version: %v", res.Version)
	}
	want := c.pgRows(`SELECT "ItemCode", "WhsCode", "OnHand" FROM "OITW" WHERE "ItemCode" > 'A-001' OR ("ItemCode" = 'A-001' AND "WhsCode" > '01') ORDER BY 1, 2 LIMIT 4`)
	if len(res.Stock) != 4 || !sameRows(res.Stock, want) {
		t.Errorf("stock page: %v, want %v", res.Stock, want)
	}
	want = c.pgRows(`SELECT w."ItemCode", w."OnHand", i."UpdateDate" FROM "OITW" w JOIN "OITM" i ON i."ItemCode" = w."ItemCode" WHERE w."OnHand" >= 10.5 AND w."WhsCode" = '01' ORDER BY 1`)
	if len(res.Typed) == 0 || len(res.Typed) != len(want) {
		t.Errorf("typed parameters: %v, want %v", res.Typed, want)
	}
	wantValues := []string{"12.5", "2024-01-31T12:00:00.000Z", "true", "Café 🎁", "7"}
	for i, w := range wantValues {
		if i >= len(res.Values) || res.Values[i] == nil || *res.Values[i] != w {
			t.Errorf("value %d: %v, want %s", i, res.Values, w)
		}
	}
	if len(res.Values) != 6 || res.Values[5] != nil {
		t.Errorf("NULL: %v", res.Values)
	}
	if res.Error.Number != 208 || res.Error.Class != 16 || res.Error.Message != "Invalid object name 'NOPE'." {
		t.Errorf("error: %+v", res.Error)
	}
	if len(res.AfterError) != 1 || res.AfterError[0] != "1" {
		t.Errorf("after the error: %v", res.AfterError)
	}
	if res.Prepared.Handle == 0 || len(res.Prepared.Rows) != 2 || res.Prepared.Rows[0][0] != "A-001" || res.Prepared.Rows[1][0] != "A-002" {
		t.Errorf("prepared: %+v", res.Prepared)
	}
	if len(res.Tran) != 1 || res.Tran[0] != "1" {
		t.Errorf("@@TRANCOUNT in a transaction: %v", res.Tran)
	}
	if res.Cancel.Code != "ECANCEL" || res.Cancel.Rows < 10 {
		t.Errorf("cancel: %+v", res.Cancel)
	}
	if len(res.AfterCancel) != 1 || res.AfterCancel[0] != "3" {
		t.Errorf("after the cancel: %v", res.AfterCancel)
	}
	if len(res.Encrypted) != 1 || res.Encrypted[0] != "8" {
		t.Errorf("over TLS: %v", res.Encrypted)
	}
}

// sameRows compares rows by normalised value (tedious renders numbers as
// JavaScript does).
func sameRows(got, want [][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return false
		}
		for j := range got[i] {
			if norm([]byte(got[i][j])) != norm([]byte(want[i][j])) {
				return false
			}
		}
	}
	return true
}
