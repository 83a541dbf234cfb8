package tds_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func onHand(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(ctx(t), "SELECT OnHand FROM OITW WHERE ItemCode = @p1 AND WhsCode = @p2", "A-001", "01").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A SNAPSHOT transaction reads one snapshot until it ends; READ COMMITTED
// sees each commit.
func TestSnapshotTransactions(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(7)
	db := c.db("")
	before := onHand(t, db)

	tx, err := db.BeginTx(ctx(t), &sql.TxOptions{Isolation: sql.LevelSnapshot})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx(t), "SELECT @@TRANCOUNT").Scan(&n); err != nil || n != 1 {
		t.Fatalf("@@TRANCOUNT in a transaction: %d %v", n, err)
	}
	if got := onHand(t, tx); got != before {
		t.Fatalf("in the snapshot: %s, want %s", got, before)
	}
	c.receive("A-001", "01", "5") // commits in Postgres meanwhile
	if got := onHand(t, tx); got != before {
		t.Fatalf("the snapshot moved: %s, want %s", got, before)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	after := onHand(t, db)
	if after == before {
		t.Fatalf("after commit still %s", after)
	}

	tx, err = db.BeginTx(ctx(t), &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	onHand(t, tx)
	c.receive("A-001", "01", "1")
	if got := onHand(t, tx); got == after {
		t.Fatalf("READ COMMITTED did not see the commit: %s", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// T-SQL transaction statements in a batch.
	conn, err := db.Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var in, out int
	if err := conn.QueryRowContext(ctx(t), "SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRAN; SELECT @@TRANCOUNT").Scan(&in); err != nil || in != 1 {
		t.Fatalf("BEGIN TRAN: %d %v", in, err)
	}
	if err := conn.QueryRowContext(ctx(t), "COMMIT TRANSACTION; SELECT @@TRANCOUNT").Scan(&out); err != nil || out != 0 {
		t.Fatalf("COMMIT: %d %v", out, err)
	}
}

// SET LOCK_TIMEOUT becomes Postgres' lock_timeout: a read that waits for a
// lock longer fails with 1222 instead of hanging.
func TestLockTimeout(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(7)
	db := c.db("")
	conn, err := db.Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx(t), "SET LOCK_TIMEOUT 200"); err != nil {
		t.Fatal(err)
	}
	// DDL in flight (a UDF being added) holds an exclusive lock.
	lock, err := c.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(context.Background())
	if _, err := lock.Exec(context.Background(), "LOCK TABLE "+pgx.Identifier{c.sim.Schema(), "OITW"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = conn.QueryContext(ctx(t), "SELECT ItemCode, OnHand FROM OITW")
	wantSQLError(t, err, 1222, "Lock request time out period exceeded.")
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("gave up after %s", d)
	}
	lock.Rollback(context.Background())
	if got := onHand(t, conn); got == "" {
		t.Fatal("no stock after the lock")
	}
}
