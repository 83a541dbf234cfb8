// Package localpg finds or starts the local Postgres that tiktokb1 uses for development and tests when DATABASE_URL is unset.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options configures Ensure.
type Options struct {
	DataDir  string                           // where a private cluster lives; default ".data" in the nearest directory above the working directory that holds go.mod, else in the working directory
	Database string                           // database to ensure exists on the server; default "tiktokb1"
	Private  bool                             // skip looking for a running server and always use the private cluster (tests, and users who want isolation)
	Logf     func(format string, args ...any) // progress lines for a person ("creating private Postgres cluster in .data/postgres ..."); nil = silent
}

const (
	defaultDatabase = "tiktokb1"
	pingTimeout     = 2 * time.Second
	systemSocketDir = "/var/run/postgresql"
)

// Ensure returns a postgres:// URL (sslmode=disable) for opts.Database on a local server, creating the database if missing.
func Ensure(ctx context.Context, opts Options) (string, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	db := opts.Database
	if db == "" {
		db = defaultDatabase
	}
	if len(db) > 63 {
		return "", fmt.Errorf("localpg: database name %q is longer than Postgres' 63-byte limit; choose a shorter name", db)
	}

	if !opts.Private {
		var tried []string
		for _, s := range wellKnownServers {
			if err := ping(ctx, s); err != nil {
				if ctx.Err() != nil {
					return "", fmt.Errorf("localpg: looking for a running Postgres: %w", ctx.Err())
				}
				tried = append(tried, fmt.Sprintf("%s (%v)", s, err))
				continue
			}
			if err := ensureDatabase(ctx, s, db); err != nil {
				return "", err
			}
			logf("using the running Postgres at %s", s)
			return s.url(db), nil
		}
		logf("no usable Postgres at %s; using a private cluster", strings.Join(tried, ", "))
	}

	dataDir, err := resolveDataDir(opts.DataDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("localpg: create data dir for the private Postgres: %w (set Options.DataDir or DATABASE_URL)", err)
	}
	unlock, err := lockDataDir(ctx, dataDir, logf)
	if err != nil {
		return "", err
	}
	defer unlock()

	port, err := ensurePrivate(ctx, dataDir, logf)
	if err != nil {
		return "", err
	}
	s := server{host: "127.0.0.1", port: port}
	if err := ensureDatabase(ctx, s, db); err != nil {
		return "", err
	}
	return s.url(db), nil
}

// Stop stops a private cluster in dataDir if one is running (used by tests and `make clean`-like tooling). No error if none runs.
func Stop(ctx context.Context, dataDir string) error {
	dataDir, err := resolveDataDir(dataDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dataDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lockDataDir(ctx, dataDir, func(string, ...any) {})
	if err != nil {
		return err
	}
	defer unlock()
	return stopPrivate(ctx, dataDir)
}

// wellKnownServers are where a machine's own Postgres listens, in the order
// they are tried (a variable so tests can point it at a server they started).
var wellKnownServers = []server{{host: systemSocketDir, port: 5432}, {host: "127.0.0.1", port: 5432}}

// server is a Postgres reachable as user postgres; host is an IP address or a unix socket directory.
type server struct {
	host string
	port int
}

func (s server) String() string {
	if strings.HasPrefix(s.host, "/") {
		return s.host
	}
	return net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

func (s server) url(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/" + db,
		RawPath:  "/" + url.PathEscape(db),
		RawQuery: "sslmode=disable",
	}
	if strings.HasPrefix(s.host, "/") {
		u.RawQuery = "host=" + s.host + "&sslmode=disable"
		if s.port != 5432 {
			u.RawQuery += "&port=" + strconv.Itoa(s.port)
		}
	} else {
		u.Host = s.String()
	}
	return u.String()
}

func connect(ctx context.Context, s server, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.url(db))
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = pingTimeout
	cctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return pgx.ConnectConfig(cctx, cfg)
}

func ping(ctx context.Context, s server) error {
	conn, err := connect(ctx, s, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return conn.Ping(pctx)
}

func ensureDatabase(ctx context.Context, s server, db string) error {
	conn, err := connect(ctx, s, "postgres")
	if err != nil {
		return fmt.Errorf("localpg: connect to Postgres at %s as user postgres: %w", s, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exists := func() (bool, error) {
		var ok bool
		err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&ok)
		return ok, err
	}
	ok, err := exists()
	if err != nil {
		return fmt.Errorf("localpg: check whether database %q exists on %s: %w", db, s, err)
	}
	if ok {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		// Another process created it between our check and our CREATE.
		if ok, _ := exists(); ok {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("localpg: create database %q on %s (the user postgres needs CREATEDB, or set DATABASE_URL): %w", db, s, err)
	}
	return nil
}

// resolveDataDir makes dataDir absolute, defaulting to .data at the module root.
func resolveDataDir(dataDir string) (string, error) {
	if dataDir == "" {
		dataDir = ".data"
		if wd, err := os.Getwd(); err == nil {
			for dir := wd; ; dir = filepath.Dir(dir) {
				if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
					dataDir = filepath.Join(dir, ".data")
					break
				}
				if filepath.Dir(dir) == dir {
					break
				}
			}
		}
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("localpg: data dir %q: %w", dataDir, err)
	}
	return abs, nil
}

// lockDataDir takes an exclusive flock on <dataDir>/localpg.lock, waiting as long as ctx allows.
// flock locks belong to the open file, so goroutines of one process exclude each other too.
func lockDataDir(ctx context.Context, dataDir string, logf func(string, ...any)) (unlock func(), err error) {
	path := filepath.Join(dataDir, "localpg.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localpg: open lock file: %w", err)
	}
	start := time.Now()
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("localpg: lock %s: %w", path, err)
		}
		if !told && time.Since(start) > 3*time.Second {
			logf("waiting for another process that is setting up Postgres in %s (lock %s) ...", dataDir, path)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("localpg: waiting for lock %s held by another process: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
