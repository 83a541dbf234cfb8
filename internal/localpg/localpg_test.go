package localpg

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables that turn the test binary into a helper process calling Ensure once.
const (
	helperDataDirEnv  = "LOCALPG_TEST_HELPER_DATADIR"
	helperDatabaseEnv = "LOCALPG_TEST_HELPER_DATABASE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDataDirEnv); dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		u, err := Ensure(ctx, Options{
			DataDir:  dir,
			Database: os.Getenv(helperDatabaseEnv),
			Private:  true,
			Logf:     func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(u)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// logRecorder collects Logf lines so tests can check what a person would see.
type logRecorder struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.t.Log(line)
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
}

// take returns the lines logged since the last call.
func (r *logRecorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.lines, "\n")
	r.lines = nil
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueDB(prefix string) string {
	return fmt.Sprintf("localpg_%s_%d_%d", prefix, os.Getpid(), time.Now().UnixNano())
}

func mustConnect(t *testing.T, ctx context.Context, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to %s: %v", u, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func currentDatabase(t *testing.T, ctx context.Context, conn *pgx.Conn) string {
	t.Helper()
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	return db
}

// dropDatabaseAt drops db on the server u points to.
func dropDatabaseAt(t *testing.T, u, db string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.Path, pu.RawPath = "/postgres", ""
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pu.String())
	if err != nil {
		t.Errorf("drop database %s: %v", db, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", db, err)
	}
}

// stopAndRemove stops the private cluster in dataDir and removes what lives outside it (the /var/tmp fallback).
func stopAndRemove(t *testing.T, dataDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Stop(ctx, dataDir); err != nil {
		t.Errorf("Stop: %v", err)
	}
	for _, name := range []string{"postgres", "postgres.log"} {
		link := filepath.Join(dataDir, name)
		if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			if target, err := filepath.EvalSymlinks(link); err == nil && strings.HasPrefix(target, "/var/tmp/tiktokb1-pg-") {
				os.RemoveAll(target)
			}
		}
	}
}

// Detection is tested against a server this test starts, so it passes the
// same on a machine whose own Postgres is not running.
func TestEnsureUsesRunningServer(t *testing.T) {
	ctx := testContext(t)
	running := t.TempDir()
	t.Cleanup(func() { stopAndRemove(t, running) })
	runningURL, err := Ensure(ctx, Options{DataDir: running, Database: "postgres", Private: true})
	if err != nil {
		t.Fatalf("starting the server to detect: %v", err)
	}
	pu, _ := url.Parse(runningURL)
	port, _ := strconv.Atoi(pu.Port())
	saved := wellKnownServers
	wellKnownServers = []server{{host: "/nonexistent-socket-dir", port: 5432}, {host: "127.0.0.1", port: port}}
	t.Cleanup(func() { wellKnownServers = saved })

	db := uniqueDB("detect")
	dataDir := t.TempDir()
	logs := &logRecorder{t: t}

	u, err := Ensure(ctx, Options{DataDir: dataDir, Database: db, Logf: logs.logf})
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	t.Cleanup(func() { dropDatabaseAt(t, u, db) })

	conn := mustConnect(t, ctx, u)
	if got := currentDatabase(t, ctx, conn); got != db {
		t.Errorf("URL %s connects to database %q, want %q", u, got, db)
	}
	pu, _ = url.Parse(u)
	if pu.Query().Get("sslmode") != "disable" {
		t.Errorf("URL %s lacks sslmode=disable", u)
	}
	if pu.Port() != strconv.Itoa(port) {
		t.Errorf("URL %s is not the running server on port %d", u, port)
	}
	if !strings.Contains(logs.take(), "using the running Postgres") {
		t.Error("Ensure did not say which running server it uses")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres")); err == nil {
		t.Errorf("Ensure created a private cluster although a server was running")
	}

	// A second call for an existing database returns the same URL.
	u2, err := Ensure(ctx, Options{DataDir: dataDir, Database: db})
	if err != nil || u2 != u {
		t.Errorf("second Ensure = %q, %v; want %q", u2, err, u)
	}
}

func TestEnsurePrivateCluster(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// t.TempDir's parent is mode 0700, so as root this takes the /var/tmp fallback.
	dataDir := t.TempDir()
	t.Cleanup(func() { stopAndRemove(t, dataDir) })
	db := "app-" + uniqueDB("private") // needs quoting
	logs := &logRecorder{t: t}
	opts := Options{DataDir: dataDir, Database: db, Private: true, Logf: logs.logf}

	u, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	firstLogs := logs.take()
	if !strings.Contains(firstLogs, "creating private Postgres cluster") {
		t.Errorf("first Ensure did not report creating the cluster; logged:\n%s", firstLogs)
	}
	if os.Geteuid() == 0 && !strings.Contains(firstLogs, "/var/tmp/tiktokb1-pg-") {
		t.Errorf("as root with a data dir others cannot enter, expected the /var/tmp fallback to be reported; logged:\n%s", firstLogs)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if pu.Hostname() != "127.0.0.1" || pu.Port() == "" || pu.Port() == "5432" {
		t.Errorf("private URL %s should be 127.0.0.1 on a port other than 5432", u)
	}
	if got, _ := os.ReadFile(filepath.Join(dataDir, "postgres.port")); strings.TrimSpace(string(got)) != pu.Port() {
		t.Errorf("postgres.port holds %q, URL port is %s", got, pu.Port())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "PG_VERSION")); err != nil {
		t.Errorf("no cluster at %s/postgres: %v", dataDir, err)
	}

	conn := mustConnect(t, ctx, u)
	if got := currentDatabase(t, ctx, conn); got != db {
		t.Errorf("URL %s connects to database %q, want %q", u, got, db)
	}
	var started time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_postmaster_start_time()").Scan(&started); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// Second call: same server, nothing created or started.
	u2, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if u2 != u {
		t.Errorf("second Ensure returned %s, want %s", u2, u)
	}
	if again := logs.take(); strings.Contains(again, "creating") || strings.Contains(again, "starting") {
		t.Errorf("second Ensure created or started a server; logged:\n%s", again)
	}
	conn2 := mustConnect(t, ctx, u2)
	var started2 time.Time
	if err := conn2.QueryRow(ctx, "SELECT pg_postmaster_start_time()").Scan(&started2); err != nil {
		t.Fatal(err)
	}
	if !started2.Equal(started) {
		t.Errorf("second Ensure restarted the server (start time %v, then %v)", started, started2)
	}
	conn2.Close(ctx)

	// Stop shuts the server down; stopping again is a no-op.
	if err := Stop(ctx, dataDir); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if c, err := pgx.Connect(ctx, u); err == nil {
		c.Close(ctx)
		t.Fatalf("server still accepts connections after Stop")
	}
	if err := Stop(ctx, dataDir); err != nil {
		t.Errorf("Stop with nothing running: %v", err)
	}

	// A postmaster.pid left by a server that is gone must not block a start, whether its
	// PID no longer exists or (after a reboot) belongs to some other live process, here
	// this test, which Postgres alone would take for a running postmaster.
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	for _, stalePID := range []int{exited.Process.Pid, os.Getpid()} {
		if err := Stop(ctx, dataDir); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		stale := fmt.Sprintf("%d\n%s\n1700000000\n%s\n/nonexistent\n127.0.0.1\n  1234567  0\nready   \n",
			stalePID, filepath.Join(dataDir, "postgres"), pu.Port())
		pidFile := filepath.Join(dataDir, "postgres", "postmaster.pid")
		if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
			t.Fatal(err)
		}
		// As the server would have left it: owned by the cluster's owner.
		if fi, err := os.Stat(filepath.Join(dataDir, "postgres")); err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			if err := os.Chown(pidFile, int(st.Uid), int(st.Gid)); err != nil {
				t.Fatal(err)
			}
		}
		u3, err := Ensure(ctx, opts)
		if err != nil {
			t.Fatalf("Ensure after Stop with a stale postmaster.pid (pid %d): %v", stalePID, err)
		}
		if u3 != u {
			t.Errorf("restarted server has URL %s, want the same %s", u3, u)
		}
		if restartLogs := logs.take(); strings.Contains(restartLogs, "creating private Postgres cluster") {
			t.Errorf("Ensure after Stop ran initdb again; logged:\n%s", restartLogs)
		}
	}

	// A crash (postmaster killed) leaves postmaster.pid and socket lock files behind.
	pidLine, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(pidLine), &pid)
	if p, err := os.FindProcess(pid); err != nil || p.Signal(syscall.SIGKILL) != nil {
		t.Fatalf("kill postmaster %d: %v", pid, err)
	}
	u4, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatalf("Ensure after the postmaster was killed: %v", err)
	}
	if u4 != u {
		t.Errorf("server restarted after a crash has URL %s, want the same %s", u4, u)
	}
	conn3 := mustConnect(t, ctx, u4)
	var v string
	if err := conn3.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "still here" {
		t.Errorf("data did not survive Stop and restart: %q, %v", v, err)
	}
}

func TestEnsurePrivateConcurrentProcesses(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// A data dir every user can enter, so the cluster lives in it even as root.
	dataDir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopAndRemove(t, dataDir)
		os.RemoveAll(dataDir)
	})
	db := uniqueDB("concurrent")

	type result struct {
		url, stderr string
		err         error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperDataDirEnv+"="+dataDir, helperDatabaseEnv+"="+db)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			results[i] = result{strings.TrimSpace(stdout.String()), stderr.String(), err}
		}()
	}
	wg.Wait()

	created := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("process %d: %v\n%s", i, r.err, r.stderr)
		}
		t.Logf("process %d: %s\n%s", i, r.url, r.stderr)
		created += strings.Count(r.stderr, "creating private Postgres cluster")
	}
	if results[0].url != results[1].url {
		t.Errorf("concurrent Ensure calls returned different URLs: %s and %s", results[0].url, results[1].url)
	}
	if created != 1 {
		t.Errorf("cluster was created %d times by two concurrent processes, want once", created)
	}
	conn := mustConnect(t, ctx, results[0].url)
	if got := currentDatabase(t, ctx, conn); got != db {
		t.Errorf("URL connects to %q, want %q", got, db)
	}
	if fi, err := os.Lstat(filepath.Join(dataDir, "postgres")); err != nil || !fi.IsDir() {
		t.Errorf("with an enterable data dir the cluster should live in %s/postgres itself: %v", dataDir, err)
	}

	// In-process callers (goroutines) are serialised too, and agree with the processes.
	var wg2 sync.WaitGroup
	urls := make([]string, 3)
	errs := make([]error, 3)
	for i := range urls {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			urls[i], errs[i] = Ensure(ctx, Options{DataDir: dataDir, Database: db, Private: true})
		}()
	}
	wg2.Wait()
	for i := range urls {
		if errs[i] != nil || urls[i] != results[0].url {
			t.Errorf("goroutine %d: Ensure = %q, %v; want %q", i, urls[i], errs[i], results[0].url)
		}
	}
}

func TestStopWithoutCluster(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	if err := Stop(ctx, dir); err != nil {
		t.Errorf("Stop on an empty data dir: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	if err := Stop(ctx, missing); err != nil {
		t.Errorf("Stop on a missing data dir: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("Stop created %s", missing)
	}
}
