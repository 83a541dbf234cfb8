package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"

	"github.com/tiktokb1/tiktokb1/internal/testdb"
	"github.com/tiktokb1/tiktokb1/jobs"
	"github.com/tiktokb1/tiktokb1/migrations"
)

func startClient(t *testing.T, pool *pgxpool.Pool) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:            migrations.RiverSchema,
		Queues:            jobs.Queues(nil),
		Workers:           jobs.Workers(jobs.Deps{Pool: pool, SyncRunRetention: 90 * 24 * time.Hour}),
		FetchPollInterval: 100 * time.Millisecond,
		TestOnly:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = client.Stop(stopCtx)
		cancel()
	})
	return client
}

// seedRuns adds old runs (two successes and a failure for shop1, one success
// for shop2) and a recent one.
func seedRuns(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		INSERT INTO ops.sync_run (flow, scope, started_at, finished_at, watermark, error) VALUES
		  ('orders_poll', 'shop1', now() - interval '200 days', now() - interval '200 days', 'w1', NULL),
		  ('orders_poll', 'shop1', now() - interval '150 days', now() - interval '150 days', 'w2', 'boom'),
		  ('orders_poll', 'shop1', now() - interval '120 days', now() - interval '120 days', 'w3', NULL),
		  ('orders_poll', 'shop2', now() - interval '120 days', now() - interval '120 days', 'only', NULL),
		  ('stock_poll',  '',      now() - interval '1 day',    now() - interval '1 day',    'w9', NULL)`)
	if err != nil {
		t.Fatal(err)
	}
}

func watermarks(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT watermark FROM ops.sync_run ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// A job enqueued in a transaction exists only if the transaction commits:
// rolled back, it never runs; committed, it runs.
func TestJobEnqueuedInTransactionRunsOnlyWhenCommitted(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	seedRuns(t, pool)
	client := startClient(t, pool)
	completed, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.InsertTx(ctx, tx, jobs.PurgeSyncRunsArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, &jobs.PurgeSyncRunsArgs{}, &rivertest.RequireInsertedOpts{Schema: migrations.RiverSchema})
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	rivertest.RequireNotInserted(ctx, t, riverpgxv5.New(pool), &jobs.PurgeSyncRunsArgs{}, &rivertest.RequireInsertedOpts{Schema: migrations.RiverSchema})
	if got := watermarks(t, pool); len(got) != 5 {
		t.Fatalf("rolled-back job changed sync runs: %v", got)
	}

	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.InsertTx(ctx, tx, jobs.PurgeSyncRunsArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-completed:
		if ev.Job.ID != res.Job.ID || ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("event %s for job %d, want completion of job %d (errors: %v)", ev.Kind, ev.Job.ID, res.Job.ID, ev.Job.Errors)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("committed job did not run within 15 s")
	}
	// Old runs are gone except each scope's last success; the recent run stays.
	got := watermarks(t, pool)
	want := []string{"w3", "only", "w9"}
	if len(got) != len(want) {
		t.Fatalf("after purge: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after purge: %v, want %v", got, want)
		}
	}
}
