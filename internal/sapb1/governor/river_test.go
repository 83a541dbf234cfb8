package governor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/migrations"
)

// postArgs stands for a job that writes one document to SAP.
type postArgs struct{}

func (postArgs) Kind() string { return "governor_test_post" }

func (postArgs) InsertOpts() river.InsertOpts {
	// One attempt only: a snooze that spent an attempt would discard the job.
	return river.InsertOpts{Queue: "sapb1_write", MaxAttempts: 1}
}

type postWorker struct {
	river.WorkerDefaults[postArgs]
	g    *governor.Governor
	sent chan struct{}
}

func (w *postWorker) Work(ctx context.Context, job *river.Job[postArgs]) error {
	slot, err := w.g.Acquire(ctx, governor.Normal)
	if err != nil {
		return governor.SnoozeOnBusy(err)
	}
	w.sent <- struct{}{} // the "request"
	return slot.Release(ctx, governor.Outcome{Kind: governor.OK, Latency: 5 * time.Millisecond})
}

// A job that finds no free slot is snoozed: its worker is freed, its attempt
// is not spent (it has only one), and it completes once a slot frees.
func TestRiverJobSnoozesWhileBusyAndCompletesLater(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	// Cap 2 with one reserved: the normal lane has one slot, which the test holds.
	g := newGovernor(t, pool, governor.Config{MaxConcurrent: 2, PriorityReserved: 1})
	held := acquire(t, g, governor.Normal)

	workers := river.NewWorkers()
	w := &postWorker{g: g, sent: make(chan struct{}, 1)}
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:            migrations.RiverSchema,
		Queues:            map[string]river.QueueConfig{"sapb1_write": {MaxWorkers: 1}},
		Workers:           workers,
		FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown:     10 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancelEvents := client.Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancelEvents()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	})

	res, err := client.Insert(ctx, postArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rivertest.RequireInserted(ctx, t, riverpgxv5.New(pool), &postArgs{}, &rivertest.RequireInsertedOpts{
		Schema: migrations.RiverSchema, Queue: "sapb1_write", MaxAttempts: 1,
	})

	next := func() *river.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(15 * time.Second):
			t.Fatal("no job event within 15 s")
			return nil
		}
	}
	snoozes := 0
	for snoozes < 3 {
		ev := next()
		if ev.Kind != river.EventKindJobSnoozed {
			t.Fatalf("job event %s while the slot is held, want snoozed (errors %v)", ev.Kind, ev.Job.Errors)
		}
		snoozes++
	}
	job, err := client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Attempt is 0 while snoozed (1 if it happens to be running again).
	if job.Attempt > 1 || len(job.Errors) != 0 {
		t.Fatalf("after %d snoozes: attempt %d, errors %v; want no attempt spent", snoozes, job.Attempt, job.Errors)
	}
	select {
	case <-w.sent:
		t.Fatal("the job sent its request while the slot was held")
	default:
	}

	release(t, held, governor.OK, 10*time.Millisecond)
	for {
		ev := next()
		if ev.Kind == river.EventKindJobSnoozed {
			continue // one may have been in flight
		}
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("job event %s, want completed (errors %v)", ev.Kind, ev.Job.Errors)
		}
		break
	}
	<-w.sent
	job, err = client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != rivertype.JobStateCompleted || job.Attempt != 1 {
		t.Fatalf("job %s at attempt %d, want completed at attempt 1", job.State, job.Attempt)
	}
	if st := state(t, g); st.InUseTotal() != 0 {
		t.Fatalf("slots in use after the job: %v", st.InUse)
	}
}

// SnoozeOnBusy leaves other errors alone.
func TestSnoozeOnBusyPassesOtherErrors(t *testing.T) {
	other := errors.New("database down")
	if err := governor.SnoozeOnBusy(other); err != other {
		t.Fatalf("SnoozeOnBusy(other) = %v", err)
	}
	if err := governor.SnoozeOnBusy(nil); err != nil {
		t.Fatalf("SnoozeOnBusy(nil) = %v", err)
	}
	var snooze *river.JobSnoozeError
	err := governor.SnoozeOnBusy(&governor.BusyError{Reason: governor.ReasonRate, RetryIn: time.Second})
	if !errors.As(err, &snooze) || snooze.Duration < time.Second || snooze.Duration > 1200*time.Millisecond {
		t.Fatalf("SnoozeOnBusy(busy 1s) = %v, want a snooze of 1s to 1.2s", err)
	}
}
