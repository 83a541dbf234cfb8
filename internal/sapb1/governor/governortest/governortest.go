// Package governortest drives the SAP governor under load, across OS
// processes, for tests: a counting HTTP server that records the peak of
// concurrent requests, a Drain loop that works items through the governor
// and retries busy ones after the suggested delay (as a River job snoozes),
// and StartChild, which runs the current test binary again as a second
// process with its own database pool.
//
// A test that spreads work over processes looks like this:
//
//	func TestX(t *testing.T) {
//		if governortest.ChildRole() == "worker" {
//			// child: open a pool on os.Getenv("DB"), governor.New, Drain
//			return
//		}
//		srv := governortest.NewPeakServer(t, 20*time.Millisecond)
//		a := governortest.StartChild(t, "TestX", "worker", "DB="+url, "SERVER="+srv.URL)
//		b := governortest.StartChild(t, "TestX", "worker", "DB="+url, "SERVER="+srv.URL)
//		a.Wait(t); b.Wait(t)
//		// srv.Peak() <= cap
//	}
package governortest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
)

// LaneHeader names the lane of a request to a PeakServer.
const LaneHeader = "X-Governor-Lane"

// PeakServer answers every request after a delay and records how many were
// in flight at once, in total and per lane (from LaneHeader). It stands in
// for the Service Layer; the SAP simulator's peak_concurrent_writes plays the
// same part in end-to-end tests.
type PeakServer struct {
	*httptest.Server
	delay time.Duration

	mu       sync.Mutex
	inFlight map[string]int
	peak     map[string]int
	total    int
	peakAll  int
	requests int
}

// NewPeakServer starts a PeakServer that holds each request for delay; it is
// closed when the test ends.
func NewPeakServer(t testing.TB, delay time.Duration) *PeakServer {
	s := &PeakServer{delay: delay, inFlight: map[string]int{}, peak: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *PeakServer) serve(w http.ResponseWriter, r *http.Request) {
	lane := r.Header.Get(LaneHeader)
	s.mu.Lock()
	s.requests++
	s.total++
	s.inFlight[lane]++
	s.peakAll = max(s.peakAll, s.total)
	s.peak[lane] = max(s.peak[lane], s.inFlight[lane])
	s.mu.Unlock()

	time.Sleep(s.delay)

	s.mu.Lock()
	s.total--
	s.inFlight[lane]--
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Peak is the most requests that were in flight at once.
func (s *PeakServer) Peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakAll
}

// PeakLane is the most requests of one lane that were in flight at once.
func (s *PeakServer) PeakLane(lane governor.Lane) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[string(lane)]
}

// Requests is how many requests the server received.
func (s *PeakServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Get sends one GET to url with the lane header and classifies the result
// for the governor.
func Get(ctx context.Context, client *http.Client, url string, lane governor.Lane) (governor.Kind, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return governor.NotSent, err
	}
	req.Header.Set(LaneHeader, string(lane))
	resp, err := client.Do(req)
	if err != nil {
		return governor.Classify(0, err), err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	kind := governor.Classify(resp.StatusCode, nil)
	if kind != governor.OK {
		return kind, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return kind, nil
}

// DrainOptions say how Drain works.
type DrainOptions struct {
	// Items is how many items to work (0 to Items-1).
	Items int
	// Workers is how many goroutines work items at once (default 8).
	Workers int
	// Lane chooses each item's lane (default: every item Normal).
	Lane func(item int) governor.Lane
}

// DrainStats count what happened.
type DrainStats struct {
	// Done is the number of items worked.
	Done int
	// Busy counts the refusals by reason: each made an item wait its
	// RetryIn and try again.
	Busy map[governor.Reason]int
}

// Drain works every item through g: each item acquires a slot in its lane,
// runs work, and releases the slot with the Kind work returns and the time it
// took. An item the governor refuses waits the suggested RetryIn (with
// jitter) and tries again, as a River job snoozes. The first error of work or
// of the governor (other than busy) stops Drain and is returned.
func Drain(ctx context.Context, g *governor.Governor, opts DrainOptions, work func(ctx context.Context, item int) (governor.Kind, error)) (DrainStats, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Lane == nil {
		opts.Lane = func(int) governor.Lane { return governor.Normal }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	items := make(chan int)
	go func() {
		defer close(items)
		for i := range opts.Items {
			select {
			case items <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		done atomic.Int64
		mu   sync.Mutex
		busy = map[governor.Reason]int{}
		wg   sync.WaitGroup
	)
	for range opts.Workers {
		wg.Go(func() {
			for item := range items {
				lane := opts.Lane(item)
				for {
					err := g.Do(ctx, lane, func(ctx context.Context) (governor.Kind, error) { return work(ctx, item) })
					var be *governor.BusyError
					if errors.As(err, &be) {
						mu.Lock()
						busy[be.Reason]++
						mu.Unlock()
						t := time.NewTimer(governor.Jitter(be.RetryIn))
						select {
						case <-t.C:
							continue
						case <-ctx.Done():
							t.Stop()
							return
						}
					}
					if err != nil {
						cancel(fmt.Errorf("item %d: %w", item, err))
						return
					}
					done.Add(1)
					break
				}
			}
		})
	}
	wg.Wait()
	stats := DrainStats{Done: int(done.Load()), Busy: busy}
	if err := context.Cause(ctx); err != nil {
		return stats, err
	}
	return stats, nil
}

// childRoleEnv carries a child's role to the re-executed test binary.
const childRoleEnv = "GOVERNORTEST_CHILD_ROLE"

// ChildRole is the role this process was started with by StartChild, or ""
// in the ordinary test run.
func ChildRole() string { return os.Getenv(childRoleEnv) }

// Child is a running copy of the test binary.
type Child struct {
	Cmd *exec.Cmd
	// Lines delivers what the child prints on stdout, line by line (the
	// testing package's own lines included); it is closed when stdout ends.
	Lines  <-chan string
	stderr *syncBuffer
	waited bool
}

// syncBuffer is a bytes.Buffer safe to read while the child writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartChild runs the current test binary again, running only the test named
// test (which must check ChildRole() first thing and act as the child), with
// role and the extra environment variables env ("NAME=value"). The child is
// killed when the test ends if it still runs.
func StartChild(t testing.TB, test, role string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(append(os.Environ(), childRoleEnv+"="+role), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &Child{Cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("governortest: start child %s: %v", role, err)
	}
	lines := make(chan string, 100)
	c.Lines = lines
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if !c.waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return c
}

// Expect waits up to timeout for a stdout line starting with prefix and
// returns the rest of it.
func (c *Child) Expect(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case line, ok := <-c.Lines:
			if !ok {
				t.Fatalf("governortest: child ended without printing %q; stdout:\n%s\nstderr:\n%s", prefix, strings.Join(seen, "\n"), c.stderr)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
			seen = append(seen, line)
		case <-deadline:
			t.Fatalf("governortest: child printed no %q within %s; stdout so far:\n%s", prefix, timeout, strings.Join(seen, "\n"))
		}
	}
}

// Wait waits for the child to exit and fails the test unless it succeeded.
func (c *Child) Wait(t testing.TB) {
	t.Helper()
	var out []string
	for line := range c.Lines {
		out = append(out, line)
	}
	err := c.Cmd.Wait()
	c.waited = true
	if err != nil {
		t.Fatalf("governortest: child failed: %v\nstdout:\n%s\nstderr:\n%s", err, strings.Join(out, "\n"), c.stderr)
	}
}

// Kill sends SIGKILL to the child and waits for it to be gone.
func (c *Child) Kill(t testing.TB) {
	t.Helper()
	if err := c.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range c.Lines {
		}
	}()
	_ = c.Cmd.Wait()
	c.waited = true
}
