package governor_test

import (
	"context"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

// BenchmarkAcquireRelease measures what the governor adds to each Service
// Layer request: one Acquire and one Release (two short transactions on the
// governor row), beside a bare UPDATE round trip on the same database as the
// baseline. "busy" is a refused Acquire (what a snoozing job costs);
// "parallel" has every CPU's goroutine acquiring and releasing at once, all
// serialised on the one governor row.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	pool := testdb.New(b)
	g := newGovernor(b, pool, governor.Config{MaxConcurrent: 64, PriorityReserved: -1, RequestsPerSecond: 1e9})
	ok := governor.Outcome{Kind: governor.OK, Latency: 1}

	b.Run("baseline_bare_update", func(b *testing.B) {
		for b.Loop() {
			if _, err := pool.Exec(ctx, `UPDATE integration.sapb1_slot SET holder = NULL WHERE slot_no = 1`); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("acquire_release", func(b *testing.B) {
		for b.Loop() {
			s, err := g.Acquire(ctx, governor.Normal)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Release(ctx, ok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("acquire_only", func(b *testing.B) {
		slots := make([]*governor.Slot, 0, 64)
		for b.Loop() {
			if len(slots) == 64 {
				b.StopTimer()
				for _, s := range slots {
					_ = s.Release(ctx, governor.Outcome{Kind: governor.NotSent})
				}
				slots = slots[:0]
				b.StartTimer()
			}
			s, err := g.Acquire(ctx, governor.Normal)
			if err != nil {
				b.Fatal(err)
			}
			slots = append(slots, s)
		}
		for _, s := range slots {
			_ = s.Release(ctx, governor.Outcome{Kind: governor.NotSent})
		}
	})
	b.Run("busy", func(b *testing.B) {
		small := newGovernor(b, testdb.New(b), governor.Config{MaxConcurrent: 1, RequestsPerSecond: 1e9})
		held, err := small.Acquire(ctx, governor.Normal)
		if err != nil {
			b.Fatal(err)
		}
		defer held.Release(ctx, ok) //nolint:errcheck
		for b.Loop() {
			if _, err := small.Acquire(ctx, governor.Normal); err == nil {
				b.Fatal("got a slot")
			}
		}
	})
	b.Run("parallel_acquire_release", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s, err := g.Acquire(ctx, governor.Normal)
				if err != nil {
					b.Error(err)
					return
				}
				if err := s.Release(ctx, ok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
