package sapb1sim

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The capacity model, not our code's speed, is under test: with a fixed
// rate of documents per second, throughput stays near the rate at every
// concurrency while latency grows with it. The rate is high to keep the test
// short; the band is generous for a busy 2-core machine.
func TestThroughputStaysFlatWhileLatencyRises(t *testing.T) {
	const rate = 40.0
	ts := shop(t, func(o *Options) { o.DocsPerSecond = rate })
	type level struct {
		conc       int
		throughput float64
		latency    time.Duration
	}
	var levels []level
	seq := atomic.Int64{}
	for _, conc := range []int{1, 2, 4, 8} {
		const perLevel = 16
		var wg sync.WaitGroup
		var total atomic.Int64
		jobs := make(chan int, perLevel)
		for i := range perLevel {
			jobs <- i
		}
		close(jobs)
		start := time.Now()
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := ts.newClient()
				c.http.Jar = ts.c.http.Jar // share the session
				for range jobs {
					t0 := time.Now()
					r := c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": fmt.Sprint(seq.Add(1)),
						"DocumentLines": []any{line("A", "01", 1)}})
					if r.status != 201 {
						t.Errorf("order: %s", r)
					}
					total.Add(int64(time.Since(t0)))
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		levels = append(levels, level{conc, perLevel / elapsed.Seconds(), time.Duration(total.Load() / perLevel)})
	}
	for _, l := range levels {
		t.Logf("concurrency %d: %.1f documents/s, mean latency %v", l.conc, l.throughput, l.latency)
		if l.throughput < 0.6*rate || l.throughput > 1.25*rate {
			t.Errorf("concurrency %d: %.1f documents/s, configured %.0f", l.conc, l.throughput, rate)
		}
	}
	if levels[3].latency < 3*levels[0].latency {
		t.Errorf("latency at 8 (%v) should be well above latency at 1 (%v)", levels[3].latency, levels[0].latency)
	}
	st := ts.srv.Stats()
	if st.PeakConcurrentWrites != 8 || st.Documents != 64 {
		t.Errorf("stats: %+v", st)
	}
}

func TestProxyTimeoutAnswers502WhileTheDocumentCommits(t *testing.T) {
	ts := shop(t, func(o *Options) { o.ProxyTimeout = 150 * time.Millisecond })
	ts.srv.SetFaults(Faults{ProxyTimeout: 150 * time.Millisecond, CommitDelay: 600 * time.Millisecond})
	r := ts.c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": "lost-1", "DocumentLines": []any{line("A", "01", 2)}})
	if r.status != 502 || !strings.Contains(string(r.raw), "Proxy Error") || !strings.Contains(string(r.raw), "Error reading from remote server") {
		t.Fatalf("want Apache's 502, got %s", r)
	}
	// The document exists although the client got a 502.
	ts.srv.SetFaults(Faults{})
	found := ts.c.must(200, "GET", "Orders?$filter=NumAtCard eq 'lost-1'&$select=DocEntry", nil).json["value"].([]any)
	if len(found) != 1 {
		t.Fatalf("document after 502: %v", found)
	}
	ts.wantStock("A", "01", "10", "2")

	// A write still queued for capacity when the proxy gives up commits
	// later.
	ts.srv.SetFaults(Faults{ProxyTimeout: 100 * time.Millisecond, DocsPerSecond: 2})
	ts.c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": "lost-2", "DocumentLines": []any{line("A", "01", 1)}})
	r = ts.c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": "lost-2", "DocumentLines": []any{line("A", "01", 1)}})
	if r.status != 502 {
		t.Fatalf("queued write: %s", r)
	}
	ts.srv.SetFaults(Faults{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := ts.c.must(200, "GET", "Orders/$count?$filter=NumAtCard eq 'lost-2'", nil)
		if string(n.raw) == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued documents never committed: %s", n.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := ts.srv.Stats(); st.HTTP502 != 3 || st.Documents != 3 {
		t.Errorf("stats: %+v", st)
	}
}

func TestDeadlocksUnderContention(t *testing.T) {
	ts := shop(t, nil)
	ts.srv.SetFaults(Faults{DeadlockRate: 1, CommitDelay: 400 * time.Millisecond})
	// Alone, a write never deadlocks.
	first := make(chan *resp, 1)
	go func() {
		first <- ts.c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": "a", "DocumentLines": []any{line("A", "01", 1)}})
	}()
	time.Sleep(150 * time.Millisecond)
	second := ts.c.do("POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "NumAtCard": "b", "DocumentLines": []any{line("A", "01", 1)}})
	wantError(t, second, 500, -2038, "deadlocked")
	if r := <-first; r.status != 201 {
		t.Fatalf("first write: %s", r)
	}
	ts.srv.SetFaults(Faults{})
	if n := ts.c.must(200, "GET", "Orders/$count", nil); string(n.raw) != "1" {
		t.Fatalf("orders: %s (the deadlock victim must not commit)", n.raw)
	}
	ts.wantStock("A", "01", "10", "1")
	if st := ts.srv.Stats(); st.Deadlocks != 1 || st.Documents != 1 {
		t.Errorf("stats: %+v", st)
	}
}

func TestOutageAndSlowLogin(t *testing.T) {
	ts := newSim(t, nil)
	ts.srv.SetFaults(Faults{Outage: true})
	r := ts.c.do("GET", "Items", nil)
	if r.status != 503 || !strings.Contains(string(r.raw), "Service Unavailable") {
		t.Fatalf("outage: %s", r)
	}
	ts.c.must(200, "GET", "/_sim/stats", nil)
	ts.srv.SetFaults(Faults{SlowLogin: 300 * time.Millisecond})
	ts.c.must(200, "GET", "Items", nil)
	t0 := time.Now()
	ts.newClient().login()
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("slow login took %v", d)
	}
}
