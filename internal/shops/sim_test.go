package shops_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

const simChildEnv = "SHOPS_TEST_SIM_CHILD"

// simChild is one process of the service: it prints "ready", waits for "go",
// then calls TikTok (the simulator) for the shop with tokens from the store,
// and prints "ok" or the error.
func simChild() int {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("CHILD_DATABASE_URL"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer pool.Close()
	key, _ := hex.DecodeString(os.Getenv("CHILD_TOKEN_KEY"))
	sealer, err := shops.NewSealer(key)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	simURL := os.Getenv("CHILD_TIKTOK_URL")
	store, _ := newStore(pool, sealer, simURL, appKeyOfSim, appSecretOfSim)
	api := tiktok.New(tiktok.Config{AppKey: appKeyOfSim, AppSecret: appSecretOfSim, APIURL: simURL, AuthURL: simURL, Tokens: store})
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("error", err)
		return 1
	}
	shop := tiktok.Shop{ID: os.Getenv("CHILD_SHOP_ID"), Cipher: os.Getenv("CHILD_SHOP_CIPHER")}
	if _, err := api.Warehouses(ctx, shop); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ok")
	return 0
}

const (
	appKeyOfSim    = "sim-app-key"
	appSecretOfSim = "sim-app-secret"
)

// Against the simulator: a shop is onboarded through the real callback
// logic; TikTok then expires its access token mid-run, and two service
// processes calling at the same moment refresh it exactly once.
func TestTokenExpiringMidRunIsRefreshedOnceByTwoProcesses(t *testing.T) {
	ctx := context.Background()
	sim := tiktoksim.New(tiktoksim.Options{AppKey: appKeyOfSim, AppSecret: appSecretOfSim, Seed: 11})
	sim.Start()
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })

	dbURL := testdb.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, _ := shops.NewSealer(key)
	store, _ := newStore(pool, sealer, srv.URL, appKeyOfSim, appSecretOfSim)
	api := tiktok.New(tiktok.Config{AppKey: appKeyOfSim, AppSecret: appSecretOfSim, APIURL: srv.URL, AuthURL: srv.URL, Tokens: store})
	onboarding := shops.NewOnboarding(pool, sealer, api, shops.OnboardingOptions{ServiceID: "svc"})
	link, err := onboarding.StartURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	done, err := onboarding.Complete(ctx, "any-code", u.Query().Get("state"))
	if err != nil {
		t.Fatalf("onboarding against the simulator: %v", err)
	}
	want := sim.Shop()
	var cipher string
	if err := pool.QueryRow(ctx, `SELECT cipher FROM tiktok.shop WHERE id = $1`, want.ID).Scan(&cipher); err != nil || cipher != want.Cipher {
		t.Fatalf("stored shop %s cipher %q (%v); the simulator's is %q (onboarded %+v)", want.ID, cipher, err, want.Cipher, done)
	}

	if n, err := sim.ExpireTokens(""); err != nil || n == 0 {
		t.Fatalf("expiring tokens in the simulator: %d, %v", n, err)
	}
	type child struct {
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), simChildEnv+"=1",
			"CHILD_DATABASE_URL="+dbURL, "CHILD_TOKEN_KEY="+hex.EncodeToString(key), "CHILD_TIKTOK_URL="+srv.URL,
			"CHILD_SHOP_ID="+want.ID, "CHILD_SHOP_CIPHER="+want.Cipher)
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c := child{stdin: stdin, out: bufio.NewReader(stdout)}
		if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child: %q, %v", line, err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		_, _ = io.WriteString(c.stdin, "go\n")
	}
	for _, c := range children {
		if line, err := c.out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ok" {
			t.Fatalf("a process failed after TikTok expired its token: %q, %v", line, err)
		}
	}
	refreshes := sim.Stats().RequestsByEndpoint["GET /api/v2/token/refresh"]
	if refreshes != 1 {
		t.Fatalf("TikTok saw %d refreshes from two processes, want exactly 1 (stats %v)", refreshes, sim.Stats().RequestsByEndpoint)
	}
	if expired := sim.Stats().RejectedByCode["105002"]; expired < 1 {
		t.Fatalf("no call was answered 105002; the test did not expire the token mid-run")
	}
}
