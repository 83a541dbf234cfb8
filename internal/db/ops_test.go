package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

func ptr[T any](v T) *T { return &v }

func unmapped(sku, msg string) db.RaiseExceptionParams {
	return db.RaiseExceptionParams{
		Kind: "unmapped_sku", OwnerTeam: "operations", Severity: "error",
		ShopID: ptr("shop1"), Sku: ptr(sku), Message: msg, Details: json.RawMessage(`{}`),
	}
}

func TestRaisingTheSameProblemCountsOccurrences(t *testing.T) {
	ctx := context.Background()
	q := db.New(testdb.New(t))

	first, err := q.RaiseException(ctx, unmapped("A", "SKU A has no SAP item"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.RaiseException(ctx, unmapped("A", "SKU A still has no SAP item"))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Occurrences != 2 || again.Message != "SKU A still has no SAP item" {
		t.Fatalf("second raise = id %d occurrences %d %q; want id %d, 2, the new message", again.ID, again.Occurrences, again.Message, first.ID)
	}
	if !again.FirstSeenAt.Equal(first.FirstSeenAt) {
		t.Fatal("first_seen_at moved on a repeat")
	}
	other, err := q.RaiseException(ctx, unmapped("B", "SKU B has no SAP item"))
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == first.ID {
		t.Fatal("a different SKU shared the exception row")
	}

	// Resolved, then the problem comes back: a new row, the old one kept.
	resolved, err := q.ResolveException(ctx, db.ResolveExceptionParams{ID: first.ID, ResolvedBy: "tiktokb1", Resolution: "auto"})
	if err != nil || resolved.Status != "resolved" || resolved.ResolvedAt == nil {
		t.Fatalf("resolve = %+v, %v", resolved, err)
	}
	reopened, err := q.RaiseException(ctx, unmapped("A", "SKU A has no SAP item"))
	if err != nil {
		t.Fatal(err)
	}
	if reopened.ID == first.ID || reopened.Status != "open" || reopened.Occurrences != 1 {
		t.Fatalf("raise after resolve = %+v; want a new open row", reopened)
	}

	// Ignored stays ignored when it recurs, and leaves the open list.
	if _, err := q.IgnoreException(ctx, db.IgnoreExceptionParams{ID: other.ID, IgnoredBy: "ana", Reason: "test listing"}); err != nil {
		t.Fatal(err)
	}
	recurred, err := q.RaiseException(ctx, unmapped("B", "SKU B has no SAP item"))
	if err != nil {
		t.Fatal(err)
	}
	if recurred.ID != other.ID || recurred.Status != "ignored" || recurred.Occurrences != 2 {
		t.Fatalf("ignored problem recurring = %+v", recurred)
	}
	open, err := q.ListOpenExceptions(ctx, db.ListOpenExceptionsParams{OwnerTeam: ptr("operations"), MaxRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != reopened.ID {
		t.Fatalf("open list = %d rows, want only the reopened one", len(open))
	}
	// Resolving twice is not possible.
	if _, err := q.ResolveException(ctx, db.ResolveExceptionParams{ID: first.ID, ResolvedBy: "x", Resolution: "y"}); !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("resolving a resolved exception: %v, want no rows", err)
	}
}

func TestExceptionRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	q := db.New(pool)
	if _, err := q.RaiseException(ctx, unmapped("A", "kept")); err != nil {
		t.Fatal(err)
	}
	bad := []db.RaiseExceptionParams{
		func() db.RaiseExceptionParams { p := unmapped("X", "m"); p.OwnerTeam = "sales"; return p }(),
		func() db.RaiseExceptionParams { p := unmapped("X", "m"); p.Severity = "meh"; return p }(),
		func() db.RaiseExceptionParams { p := unmapped("X", "m"); p.Kind = "Unmapped SKU"; return p }(),
		unmapped("X", ""),
	}
	for _, p := range bad {
		_, err := q.RaiseException(ctx, p)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" { // check_violation
			t.Errorf("raise %+v: %v, want a check violation", p, err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM ops.exception").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after rejected input: %d rows (%v), want the 1 stored before", n, err)
	}
}

func TestSyncRunWatermarkComesFromTheLastSuccess(t *testing.T) {
	ctx := context.Background()
	q := db.New(testdb.New(t))
	finish := func(watermark string, failure *string) {
		t.Helper()
		run, err := q.StartSyncRun(ctx, db.StartSyncRunParams{Flow: "orders_poll", Scope: "shop1"})
		if err != nil {
			t.Fatal(err)
		}
		done, err := q.FinishSyncRun(ctx, db.FinishSyncRunParams{ID: run.ID, Watermark: &watermark, Counts: json.RawMessage(`{"landed":3}`), Error: failure})
		if err != nil || done.FinishedAt == nil {
			t.Fatalf("finish = %+v, %v", done, err)
		}
		if _, err := q.FinishSyncRun(ctx, db.FinishSyncRunParams{ID: run.ID, Counts: json.RawMessage(`{}`)}); !errors.Is(err, pgx.ErrNoRows) {
			t.Fatalf("finishing a run twice: %v, want no rows", err)
		}
	}
	finish("2026-11-26T10:00:00Z", nil)
	finish("2026-11-26T11:00:00Z", ptr("TikTok answered 36009002"))

	last, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: "orders_poll", Scope: "shop1"})
	if err != nil {
		t.Fatal(err)
	}
	if *last.Watermark != "2026-11-26T10:00:00Z" {
		t.Fatalf("resume from %s, want the last successful watermark", *last.Watermark)
	}
	if _, err := q.LastSuccessfulSyncRun(ctx, db.LastSuccessfulSyncRunParams{Flow: "orders_poll", Scope: "shop2"}); !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("a scope with no runs: %v, want no rows", err)
	}
}
