package localpg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const fallbackUser = "tiktokb1-pg"

// cluster is the private Postgres cluster kept under a data dir.
type cluster struct {
	dataDir  string // absolute Options.DataDir
	link     string // <dataDir>/postgres: the data directory, or a symlink to it
	dir      string // the real data directory (no symlinks), as given to pg_ctl
	logFile  string // the real log file
	portFile string // <dataDir>/postgres.port

	logf func(string, ...any)

	// Set by setUser; cred is nil when we run initdb/pg_ctl as ourselves.
	cred     *syscall.Credential
	userName string
}

// locate works out where the cluster's files are. With create, it also decides
// where a new cluster goes, which for root may be under /var/tmp.
func locate(dataDir string, create bool, logf func(string, ...any)) (*cluster, error) {
	c := &cluster{
		dataDir:  dataDir,
		link:     filepath.Join(dataDir, "postgres"),
		portFile: filepath.Join(dataDir, "postgres.port"),
	}
	fi, err := os.Lstat(c.link)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(c.link)
		if err != nil {
			return nil, fmt.Errorf("localpg: read symlink %s: %w", c.link, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dataDir, target)
		}
		if resolved, err := filepath.EvalSymlinks(target); err == nil {
			target = resolved
		}
		c.dir = target // may not exist (e.g. a cleaned /var/tmp); then it is created again
		c.logFile = target + ".log"
	case err == nil && fi.IsDir():
		dir, err := filepath.EvalSymlinks(c.link)
		if err != nil {
			return nil, fmt.Errorf("localpg: resolve %s: %w", c.link, err)
		}
		c.dir = dir
		c.logFile = filepath.Join(filepath.Dir(dir), "postgres.log")
	case err == nil:
		return nil, fmt.Errorf("localpg: %s is not a directory; remove it so a Postgres cluster can be created there", c.link)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("localpg: %w", err)
	case !create:
		return nil, nil
	case os.Geteuid() == 0 && !searchable(dataDir):
		sum := sha256.Sum256([]byte(dataDir))
		c.dir = "/var/tmp/tiktokb1-pg-" + hex.EncodeToString(sum[:])[:12]
		c.logFile = c.dir + ".log"
		logf("%s is inside a directory that other users cannot enter, so the Postgres server (which must not run as root) could not reach it; keeping the cluster in %s, symlinked from %s", dataDir, c.dir, c.link)
		if err := os.Symlink(c.dir, c.link); err != nil {
			return nil, fmt.Errorf("localpg: %w", err)
		}
		logLink := filepath.Join(dataDir, "postgres.log")
		if _, err := os.Lstat(logLink); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(c.logFile, logLink); err != nil {
				return nil, fmt.Errorf("localpg: %w", err)
			}
		}
	default:
		dir, err := filepath.EvalSymlinks(dataDir)
		if err != nil {
			return nil, fmt.Errorf("localpg: resolve %s: %w", dataDir, err)
		}
		c.dir = filepath.Join(dir, "postgres")
		c.logFile = filepath.Join(dir, "postgres.log")
	}
	return c, nil
}

// searchable reports whether every directory from / down to dir has o+x.
func searchable(dir string) bool {
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

func (c *cluster) initialized() bool {
	_, err := os.Stat(filepath.Join(c.dir, "PG_VERSION"))
	return err == nil
}

// ensurePrivate makes sure the private cluster in dataDir exists and runs, and returns its port.
// The caller holds the data dir lock.
func ensurePrivate(ctx context.Context, dataDir string, logf func(string, ...any)) (int, error) {
	c, err := locate(dataDir, true, logf)
	if err != nil {
		return 0, err
	}
	c.logf = logf
	if c.initialized() {
		port, running, err := c.running(ctx)
		if err != nil || running {
			return port, err
		}
	}
	bins, err := findBinaries(ctx, pgVersion(c.dir), logf)
	if err != nil {
		return 0, err
	}
	if err := c.setUser(ctx, logf); err != nil {
		return 0, err
	}
	if !c.initialized() {
		if err := c.initdb(ctx, bins, logf); err != nil {
			return 0, err
		}
	}
	return c.start(ctx, bins, logf)
}

// running reports whether a postmaster already serves this cluster, and on which port.
// Otherwise it clears lock files that would stop a new server from starting.
func (c *cluster) running(ctx context.Context) (int, bool, error) {
	pid, port, ok := readPidFile(c.dir)
	if !ok {
		return 0, false, c.removeStaleSocketLocks()
	}
	switch postmasterState(pid, c.dir) {
	case procOurs:
		// It may still be starting up or recovering; give it a little time.
		s := server{host: "127.0.0.1", port: port}
		deadline := time.Now().Add(15 * time.Second)
		for {
			err := ping(ctx, s)
			if err == nil {
				if err := c.writePort(port); err != nil {
					return 0, false, err
				}
				return port, true, nil
			}
			if postmasterState(pid, c.dir) != procOurs {
				return c.clearStale(ctx, pid)
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return 0, false, fmt.Errorf("localpg: a Postgres server (pid %d) runs on %s but does not answer on %s: %w; stop it (kill -INT %d) and retry, or set DATABASE_URL%s",
					pid, c.dir, s, err, pid, logTail(c.logFile, -1))
			}
			time.Sleep(250 * time.Millisecond)
		}
	case procGone:
		// Left by a crash. The server replaces such a file itself, after checking
		// that no orphaned backend still uses the old shared memory.
		return 0, false, c.removeStaleSocketLocks()
	default:
		return c.clearStale(ctx, pid)
	}
}

// clearStale removes a postmaster.pid whose PID is a zombie (a killed postmaster nobody
// reaped) or now belongs to another process (say, after a reboot): the server would take
// it for a live postmaster and refuse to start. It first waits for the old server's
// processes to exit, which is the check the server itself would have made.
func (c *cluster) clearStale(ctx context.Context, pid int) (int, bool, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		users := processesIn(c.dir)
		if len(users) == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, false, fmt.Errorf("localpg: the Postgres server (pid %d) in %s is gone but processes %v still run in its data directory; kill them and retry", pid, c.dir, users)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pidFile := filepath.Join(c.dir, "postmaster.pid")
	c.logf("removing stale %s (pid %d is not a running Postgres for this cluster)", pidFile, pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, false, fmt.Errorf("localpg: remove stale %s: %w; remove it by hand", pidFile, err)
	}
	return 0, false, c.removeStaleSocketLocks()
}

// processesIn lists live processes whose working directory is dir (a server's processes run in its data directory).
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeStaleSocketLocks removes unix socket lock files (and their sockets) whose PID is
// alive but is not our postmaster; the server refuses to start over them. Only call
// this when no postmaster runs for the cluster.
func (c *cluster) removeStaleSocketLocks() error {
	for _, dir := range []string{c.dir, c.longPathSocketDir()} {
		locks, _ := filepath.Glob(filepath.Join(dir, ".s.PGSQL.*.lock"))
		for _, lock := range locks {
			b, err := os.ReadFile(lock)
			if err != nil {
				continue
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
			if st := postmasterState(pid, c.dir); st == procGone || st == procOurs {
				continue
			}
			for _, f := range []string{lock, strings.TrimSuffix(lock, ".lock")} {
				if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("localpg: remove stale socket lock: %w; remove %s by hand", err, f)
				}
			}
		}
	}
	return nil
}

// readPidFile returns the PID (line 1) and port (line 4) recorded in postmaster.pid.
// A file that cannot be parsed yields PID -1.
func readPidFile(dir string) (pid, port int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return -1, 0, true
	}
	if len(lines) >= 4 {
		port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	return pid, port, true
}

type procState int

const (
	procGone   procState = iota // no such process
	procZombie                  // exited, not yet reaped (PID 1 in some containers never reaps)
	procOther                   // a live process that is not a postmaster for dir (or an unusable PID)
	procOurs                    // a live postmaster for dir (or a live process we cannot inspect)
)

// postmasterState tells whether pid is a live postmaster serving dir.
func postmasterState(pid int, dir string) procState {
	if pid <= 0 {
		return procOther
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return procGone
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			return procZombie
		}
	}
	// A postmaster's working directory is its data directory.
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd != dir {
		return procOther
	}
	return procOurs
}

func (c *cluster) writePort(port int) error {
	if err := os.WriteFile(c.portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return fmt.Errorf("localpg: record port: %w", err)
	}
	return nil
}

func pgVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

type binaries struct{ initdb, pgCtl string }

// findBinaries finds initdb and pg_ctl, preferring the version an existing cluster was made with,
// then the highest Debian-installed version, then PATH. As root it installs Debian's postgresql package if none is found.
func findBinaries(ctx context.Context, want string, logf func(string, ...any)) (binaries, error) {
	b, ok := lookupBinaries(want)
	if ok {
		return b, nil
	}
	if os.Geteuid() != 0 {
		return binaries{}, errors.New("localpg: no PostgreSQL server binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin or PATH; install Debian's postgresql package (sudo apt-get install postgresql) or set DATABASE_URL")
	}
	logf("PostgreSQL server binaries not found; installing Debian's postgresql package with apt-get (this can take a minute) ...")
	for _, args := range [][]string{{"update"}, {"install", "-y", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out := &tailBuffer{max: 4096}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return binaries{}, fmt.Errorf("localpg: apt-get %s: %w; install Debian's postgresql package yourself or set DATABASE_URL\n%s", strings.Join(args, " "), err, out)
		}
	}
	if b, ok := lookupBinaries(want); ok {
		return b, nil
	}
	return binaries{}, errors.New("localpg: installed Debian's postgresql package but still found no initdb/pg_ctl in /usr/lib/postgresql/*/bin; set DATABASE_URL")
}

func lookupBinaries(want string) (binaries, bool) {
	inDir := func(dir string) (binaries, bool) {
		b := binaries{initdb: filepath.Join(dir, "initdb"), pgCtl: filepath.Join(dir, "pg_ctl")}
		for _, p := range []string{b.initdb, b.pgCtl} {
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				return binaries{}, false
			}
		}
		return b, true
	}
	if want != "" {
		if b, ok := inDir(filepath.Join("/usr/lib/postgresql", want, "bin")); ok {
			return b, true
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) []int {
		var v []int
		for _, f := range strings.Split(filepath.Base(filepath.Dir(filepath.Dir(p))), ".") {
			n, _ := strconv.Atoi(f)
			v = append(v, n)
		}
		return v
	}
	sort.Slice(matches, func(i, j int) bool { // highest version first
		a, b := version(matches[i]), version(matches[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
	for _, m := range matches {
		if b, ok := inDir(filepath.Dir(m)); ok {
			return b, true
		}
	}
	initdb, err1 := exec.LookPath("initdb")
	pgCtl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		return binaries{initdb: initdb, pgCtl: pgCtl}, true
	}
	return binaries{}, false
}

// setUser picks the account that runs initdb, pg_ctl and the server. initdb and
// postgres refuse to run as root, so root uses the owner of an existing cluster,
// else the postgres user, else a system user it creates.
func (c *cluster) setUser(ctx context.Context, logf func(string, ...any)) error {
	if os.Geteuid() != 0 {
		return nil
	}
	var u *user.User
	if fi, err := os.Stat(c.dir); err == nil && c.initialized() {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			u, _ = user.LookupId(strconv.Itoa(int(st.Uid)))
			if u == nil {
				c.cred = &syscall.Credential{Uid: st.Uid, Gid: st.Gid}
				c.userName = strconv.Itoa(int(st.Uid))
				return nil
			}
		}
	}
	if u == nil {
		u, _ = user.Lookup("postgres")
	}
	if u == nil {
		u, _ = user.Lookup(fallbackUser)
	}
	if u == nil {
		logf("running as root, but Postgres must run as another user: creating system user %s", fallbackUser)
		out, err := exec.CommandContext(ctx, "useradd", "--system", "--no-create-home", fallbackUser).CombinedOutput()
		if err != nil {
			return fmt.Errorf("localpg: create system user %s to run Postgres (it refuses to run as root): %w: %s; create a user named postgres, run as a normal user, or set DATABASE_URL", fallbackUser, err, bytes.TrimSpace(out))
		}
		if u, err = user.Lookup(fallbackUser); err != nil {
			return fmt.Errorf("localpg: look up user %s after creating it: %w", fallbackUser, err)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("localpg: user %s: %w", u.Username, err)
	}
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	c.userName = u.Username
	return nil
}

// command runs a PostgreSQL binary as the cluster's user.
func (c *cluster) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/" // the server user may not be able to enter our working directory
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// mkdirOwned creates dir (or accepts an existing one we own) and hands it to the server user.
func (c *cluster) mkdirOwned(dir string, perm os.FileMode) error {
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	if c.cred == nil {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && st.Uid != c.cred.Uid {
		return fmt.Errorf("%s belongs to uid %d, not to %s or root; remove it", dir, st.Uid, c.userName)
	}
	return os.Lchown(dir, int(c.cred.Uid), int(c.cred.Gid))
}

// initdb creates the cluster in a scratch directory and renames it into place,
// so an interrupted initdb never leaves a half-made cluster behind.
func (c *cluster) initdb(ctx context.Context, bins binaries, logf func(string, ...any)) error {
	tmp := c.dir + ".initdb-tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("localpg: remove leftover %s: %w", tmp, err)
	}
	if err := c.mkdirOwned(tmp, 0o700); err != nil {
		return fmt.Errorf("localpg: create private Postgres cluster: %w", err)
	}
	who := ""
	if c.cred != nil {
		who = " as user " + c.userName
	}
	logf("creating private Postgres cluster in %s (%s%s) ...", c.link, bins.initdb, who)
	out, err := c.command(ctx, bins.initdb, "-D", tmp, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale").CombinedOutput()
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("localpg: initdb failed: %w\n%s\nFix the problem above or set DATABASE_URL", err, tail(string(out), 20))
	}
	if err := os.Rename(tmp, c.dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("localpg: move new cluster into place: %w; if %s holds no cluster, remove it and retry", err, c.dir)
	}
	return nil
}

// socketDir returns a directory for the server's unix socket: the data directory
// itself when the socket path fits in sun_path, else a directory under /tmp.
func (c *cluster) socketDir() (string, error) {
	const name = "/.s.PGSQL.65535.lock"
	if len(c.dir)+len(name) < 100 {
		return c.dir, nil
	}
	dir := c.longPathSocketDir()
	if err := c.mkdirOwned(dir, 0o755); err != nil {
		return "", fmt.Errorf("localpg: socket directory: %w", err)
	}
	return dir, nil
}

func (c *cluster) longPathSocketDir() string {
	sum := sha256.Sum256([]byte(c.dir))
	return "/tmp/tiktokb1-pg-" + hex.EncodeToString(sum[:])[:12] + "-sock"
}

// openLog makes sure the server user can append to the log file.
func (c *cluster) openLog() (int64, error) {
	f, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return 0, fmt.Errorf("localpg: open Postgres log: %w", err)
	}
	defer f.Close()
	if c.cred != nil {
		if err := f.Chown(int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return 0, fmt.Errorf("localpg: hand Postgres log to %s: %w", c.userName, err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (c *cluster) start(ctx context.Context, bins binaries, logf func(string, ...any)) (int, error) {
	sock, err := c.socketDir()
	if err != nil {
		return 0, err
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		port, err := c.freePort(attempt == 1)
		if err != nil {
			return 0, err
		}
		offset, err := c.openLog()
		if err != nil {
			return 0, err
		}
		logf("starting private Postgres on 127.0.0.1:%d (data %s, log %s) ...", port, c.link, c.logFile)
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, shellQuote(sock))
		out, err := c.command(ctx, bins.pgCtl, "-D", c.dir, "-l", c.logFile, "-w", "-t", "60", "-o", opts, "start").CombinedOutput()
		if err == nil {
			if err := ping(ctx, server{host: "127.0.0.1", port: port}); err != nil {
				return 0, fmt.Errorf("localpg: private Postgres started but does not answer on 127.0.0.1:%d: %w%s", port, err, logTail(c.logFile, offset))
			}
			return port, c.writePort(port)
		}
		logged := logTail(c.logFile, offset)
		if attempt < attempts && strings.Contains(logged, "could not bind") {
			continue // someone took the port between our check and the server's bind
		}
		if attempt < attempts && strings.Contains(logged, "pre-existing shared memory block") {
			// Backends of a killed postmaster are still exiting.
			time.Sleep(time.Second)
			continue
		}
		return 0, fmt.Errorf("localpg: start private Postgres in %s: %w: %s%s\nFix the problem above, remove %s to start over, or set DATABASE_URL",
			c.link, err, bytes.TrimSpace(out), logged, c.link)
	}
}

// freePort returns the port recorded by an earlier start if it is still free (so the URL
// stays the same across restarts), else one the kernel picks.
func (c *cluster) freePort(preferRecorded bool) (int, error) {
	if preferRecorded {
		if b, err := os.ReadFile(c.portFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
					l.Close()
					return p, nil
				}
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: find a free port for Postgres: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stopPrivate stops the cluster's postmaster with a fast shutdown (what pg_ctl stop -m fast does)
// and waits for it to exit. The caller holds the data dir lock.
func stopPrivate(ctx context.Context, dataDir string) error {
	c, err := locate(dataDir, false, nil)
	if err != nil || c == nil {
		return err
	}
	pidFile := filepath.Join(c.dir, "postmaster.pid")
	pid, _, ok := readPidFile(c.dir)
	if !ok {
		return nil
	}
	if postmasterState(pid, c.dir) != procOurs {
		return nil // a leftover of a crash; Ensure deals with it
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localpg: stop Postgres (pid %d) in %s: %w", pid, c.dir, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if postmasterState(pid, c.dir) != procOurs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localpg: Postgres (pid %d) in %s did not stop within 60s; kill it by hand%s", pid, c.dir, logTail(c.logFile, -1))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localpg: waiting for Postgres (pid %d) to stop: %w", pid, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the last lines the server logged since offset (or the last lines overall
// for offset < 0), formatted to append to an error.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	const max = 4096
	if offset < 0 || fi.Size()-offset > max {
		offset = max64(0, fi.Size()-max)
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, offset, fi.Size()-offset))
	t := tail(string(b), 20)
	if t == "" {
		return ""
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", path, t)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
