package governor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor/governortest"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// Environment of the child processes.
const (
	envChildDB     = "GOVERNOR_TEST_DB"
	envChildServer = "GOVERNOR_TEST_SERVER"
	envChildItems  = "GOVERNOR_TEST_ITEMS"
)

// The cap configuration both tests' processes share.
var crossProcessConfig = governor.Config{MaxConcurrent: 4, PriorityReserved: 1, RequestsPerSecond: 10000}

// childPool opens the child's own pool on the parent's test database.
func childPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), os.Getenv(envChildDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Two OS processes, each with its own pool and eight goroutines, send 120
// requests through the governor to one server: the server never sees more
// requests at once than the cap (nor more normal-lane ones than the cap less
// the reserved slot), and every request is served.
func TestCapHoldsAcrossTwoProcesses(t *testing.T) {
	if governortest.ChildRole() == "hammer" {
		hammerChild(t)
		return
	}
	url := testdb.NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	g := newGovernor(t, pool, crossProcessConfig)
	srv := governortest.NewPeakServer(t, 30*time.Millisecond)

	const perChild = 60
	var children []*governortest.Child
	for range 2 {
		children = append(children, governortest.StartChild(t, "TestCapHoldsAcrossTwoProcesses", "hammer",
			envChildDB+"="+url, envChildServer+"="+srv.URL, envChildItems+"="+strconv.Itoa(perChild)))
	}
	for i, c := range children {
		var stats governortest.DrainStats
		if err := json.Unmarshal([]byte(c.Expect(t, "drained ", 2*time.Minute)), &stats); err != nil {
			t.Fatal(err)
		}
		c.Wait(t)
		t.Logf("child %d: %d done, busy %v", i, stats.Done, stats.Busy)
		if stats.Done != perChild {
			t.Errorf("child %d worked %d items, want %d", i, stats.Done, perChild)
		}
	}

	t.Logf("server: %d requests, peak %d (normal %d, priority %d)", srv.Requests(), srv.Peak(),
		srv.PeakLane(governor.Normal), srv.PeakLane(governor.Priority))
	if got := srv.Requests(); got != 2*perChild {
		t.Errorf("server received %d requests, want %d", got, 2*perChild)
	}
	if peak := srv.Peak(); peak > crossProcessConfig.MaxConcurrent {
		t.Errorf("peak of concurrent requests %d, above the cap %d", peak, crossProcessConfig.MaxConcurrent)
	}
	if peak := srv.PeakLane(governor.Normal); peak > crossProcessConfig.MaxConcurrent-crossProcessConfig.PriorityReserved {
		t.Errorf("peak of concurrent normal-lane requests %d, above cap less reserved %d", peak,
			crossProcessConfig.MaxConcurrent-crossProcessConfig.PriorityReserved)
	}
	if peak := srv.Peak(); peak < 2 {
		t.Errorf("peak of concurrent requests %d: the processes never overlapped, the test proves nothing", peak)
	}
	if st := state(t, g); st.InUseTotal() != 0 {
		t.Errorf("slots still held after both processes finished: %v", st.InUse)
	}
}

func hammerChild(t *testing.T) {
	items, err := strconv.Atoi(os.Getenv(envChildItems))
	if err != nil {
		t.Fatal(err)
	}
	g := newGovernor(t, childPool(t), crossProcessConfig)
	client := &http.Client{Timeout: 10 * time.Second}
	server := os.Getenv(envChildServer)
	lane := func(item int) governor.Lane {
		if item%10 == 0 {
			return governor.Priority
		}
		return governor.Normal
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stats, err := governortest.Drain(ctx, g, governortest.DrainOptions{Items: items, Workers: 8, Lane: lane},
		func(ctx context.Context, item int) (governor.Kind, error) {
			return governortest.Get(ctx, client, server, lane(item))
		})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(stats)
	fmt.Printf("drained %s\n", b)
}

// A process killed with SIGKILL while holding slots: the slots stay taken
// until their lease runs out (nobody can tell a dead holder from a slow
// one), and are free again right after.
func TestKilledProcessSlotsFreeAfterLease(t *testing.T) {
	cfg := governor.Config{MaxConcurrent: 2, PriorityReserved: -1, RequestTimeout: time.Second, LeaseMargin: 1500 * time.Millisecond}
	if governortest.ChildRole() == "holder" {
		g := newGovernor(t, childPool(t), cfg)
		for range 2 {
			s := acquire(t, g, governor.Normal)
			fmt.Printf("held %d %s\n", s.No, s.LeaseUntil().Format(time.RFC3339Nano))
		}
		fmt.Println("ready")
		time.Sleep(time.Minute) // killed before this ends
		return
	}
	url := testdb.NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	g := newGovernor(t, pool, cfg)

	child := governortest.StartChild(t, "TestKilledProcessSlotsFreeAfterLease", "holder", envChildDB+"="+url)
	leases := map[int]time.Time{}
	var last time.Time
	for range 2 {
		var no int
		var until string
		if _, err := fmt.Sscanf(child.Expect(t, "held ", time.Minute), "%d %s", &no, &until); err != nil {
			t.Fatal(err)
		}
		u, err := time.Parse(time.RFC3339Nano, until)
		if err != nil {
			t.Fatal(err)
		}
		leases[no] = u
		last = u
	}
	child.Expect(t, "ready", time.Minute)
	child.Kill(t)

	st := state(t, g)
	if st.InUseTotal() != 2 {
		t.Fatalf("right after SIGKILL: %d slots in use, want the dead process's 2", st.InUseTotal())
	}
	if !st.Now.Before(last) {
		t.Fatal("the child's leases had ended before it was killed; the test proves nothing")
	}
	// Poll as a snoozing job would: busy until a dead slot's lease ends,
	// then that slot, and never before its lease ended.
	var held []*governor.Slot
	for len(held) < 2 {
		s, err := g.Acquire(context.Background(), governor.Normal)
		if err == nil {
			if s.AcquiredAt.Before(leases[s.No]) {
				t.Fatalf("slot %d handed out at %s, before the dead process's lease ended at %s", s.No, s.AcquiredAt, leases[s.No])
			}
			held = append(held, s)
			continue
		}
		if !errors.Is(err, governor.ErrBusy) {
			t.Fatal(err)
		}
		if now := state(t, g).Now; now.After(last.Add(time.Second)) {
			t.Fatalf("still busy at %s, a second after the dead process's last lease ended at %s", now, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, s := range held {
		release(t, s, governor.OK, 0)
	}
}
