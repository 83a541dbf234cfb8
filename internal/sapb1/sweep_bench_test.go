package sapb1_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
)

// BenchmarkConcurrencySweep posts orders to the SAP simulator, modelled at 40
// documents per second, with 1 to 8 clients at once (twice the default cap
// of 4). Like SAP, throughput stays flat as concurrency rises while each
// document waits longer: more concurrency buys latency, not documents.
// concurrency=1 is the baseline of the same run.
func BenchmarkConcurrencySweep(b *testing.B) {
	ctx := context.Background()
	for _, conc := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			s := newSandbox(b, sapb1sim.Options{DocsPerSecond: 40}, sapb1.Config{})
			const perRound = 40
			var docs int
			var total time.Duration
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				jobs := make(chan int)
				var mu sync.Mutex
				var wg sync.WaitGroup
				for range conc {
					wg.Go(func() {
						for j := range jobs {
							t0 := time.Now()
							_, err := s.client.Create(ctx, sapb1.Orders, order(fmt.Sprintf("S%d-%d", i, j), line("A1", "1", "1")))
							if err != nil {
								b.Error(err)
								return
							}
							mu.Lock()
							docs++
							total += time.Since(t0)
							mu.Unlock()
						}
					})
				}
				for j := range perRound {
					jobs <- j
				}
				close(jobs)
				wg.Wait()
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(docs)/elapsed.Seconds(), "docs/s")
			b.ReportMetric(float64(total.Milliseconds())/float64(docs), "ms/doc")
		})
	}
}
