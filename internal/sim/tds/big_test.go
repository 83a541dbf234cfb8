package tds_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds"
)

// bulkItems adds n items with 200-character names straight into the
// company's tables (the Service Layer would take minutes for 10k items).
func (c *company) bulkItems(n int) {
	c.t.Helper()
	schema := pgx.Identifier{c.sim.Schema()}.Sanitize()
	_, err := c.pool.Exec(context.Background(), `
		INSERT INTO `+schema+`."OITM" ("ItemCode", "ItemName", "FrgnName", "OnHand", "CreateDate", "CreateTS", "UpdateDate", "UpdateTS")
		SELECT 'BULK-' || lpad(i::text, 6, '0'),
		       left(repeat('Ünïcødé ' || i || ' €–', 40), 200),
		       left(repeat('Foreign ' || i || ' ', 40), 200),
		       i / 7.0, '2024-01-31', 120000, '2024-01-31', 120000 + i % 100
		FROM generate_series(1, $1) AS i`, n)
	if err != nil {
		c.t.Fatal(err)
	}
}

func TestBigResultsSpanPackets(t *testing.T) {
	c := newCompany(t, nil)
	c.bulkItems(10000)
	for _, size := range []int{512, 4096, 32767} {
		t.Run(fmt.Sprintf("packet size %d", size), func(t *testing.T) {
			db := c.db(fmt.Sprintf("packet size=%d", size))
			rows, err := db.QueryContext(ctx(t), "SELECT ItemCode, ItemName, FrgnName, OnHand FROM OITM WHERE ItemCode LIKE 'BULK-%' ORDER BY ItemCode")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var code, name, foreign, onHand string
				if err := rows.Scan(&code, &name, &foreign, &onHand); err != nil {
					t.Fatal(err)
				}
				n++
				want := fmt.Sprintf("BULK-%06d", n)
				wantName := strings.Repeat(fmt.Sprintf("Ünïcødé %d €–", n), 40)
				wantName = string([]rune(wantName)[:200])
				if code != want || name != wantName || len([]rune(foreign)) != 200 {
					t.Fatalf("row %d: %q %q %q", n, code, name, foreign)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != 10000 {
				t.Fatalf("%d rows", n)
			}
		})
	}
}

// A cancelled query (Attention) stops the rows, is acknowledged, and the
// connection goes on working.
func TestAttention(t *testing.T) {
	c := newCompany(t, nil)
	c.bulkItems(3000)
	db := c.db("")
	db.SetMaxOpenConns(1)

	// Cancelled while rows stream.
	qctx, cancel := context.WithCancel(ctx(t))
	rows, err := db.QueryContext(qctx, "SELECT a.ItemCode, a.ItemName, b.ItemName FROM OITM a CROSS JOIN OITM b")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		if n == 100 {
			cancel()
		}
	}
	if err := rows.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v (%d rows)", err, n)
	}
	rows.Close()
	if n > 1_000_000 {
		t.Fatalf("%d rows read after the cancel", n)
	}

	// Cancelled while Postgres is still computing.
	qctx, cancel = context.WithTimeout(ctx(t), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var count int
	err = db.QueryRowContext(qctx, "SELECT COUNT(*) FROM OITM a CROSS JOIN OITM b CROSS JOIN OITM c").Scan(&count)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("long query: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("cancel took %s", d)
	}
	var one int
	if err := db.QueryRowContext(ctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after the cancels: %v", err)
	}
}

// An attention that reaches the endpoint before the request it cancels has
// started (a client timing out at once, or a loaded machine) still cancels
// it: nothing keeps running in Postgres, and the connection goes on.
func TestAttentionBeforeTheRequestStarts(t *testing.T) {
	c := newCompany(t, nil)
	c.bulkItems(2000)
	db := c.db("")
	db.SetMaxOpenConns(1)
	var slow atomic.Bool
	tds.DelayRequests(c.srv, func() {
		if slow.Load() {
			time.Sleep(100 * time.Millisecond)
		}
	})
	for i := range 3 {
		// The client gives up after 20 ms; the request starts after 100.
		slow.Store(true)
		qctx, cancel := context.WithTimeout(ctx(t), 20*time.Millisecond)
		var count int
		err := db.QueryRowContext(qctx, "SELECT COUNT(*) FROM OITM a CROSS JOIN OITM b CROSS JOIN OITM c").Scan(&count)
		cancel()
		slow.Store(false)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancel %d: %v, %d", i, err, count)
		}
		var one int
		if err := db.QueryRowContext(ctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after cancel %d: %v", i, err)
		}
	}
	// Every cancelled count has stopped in Postgres.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows := c.pgRows(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%CROSS JOIN%' AND pid <> pg_backend_pid()`)
		if rows[0][0] == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s cancelled counts still run in Postgres", rows[0][0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RESETCONNECTION (go-mssqldb sets it when the pool hands a connection out
// again) restores the session's settings.
func TestResetConnection(t *testing.T) {
	c := newCompany(t, nil)
	db := c.db("")
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var spid1, lt int
	if _, err := conn.ExecContext(ctx(t), "SET LOCK_TIMEOUT 1234"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx(t), "SELECT @@SPID, @@LOCK_TIMEOUT").Scan(&spid1, &lt); err != nil || lt != 1234 {
		t.Fatalf("lock timeout %d: %v", lt, err)
	}
	conn.Close()
	var spid2 int
	if err := db.QueryRowContext(ctx(t), "SELECT @@SPID, @@LOCK_TIMEOUT").Scan(&spid2, &lt); err != nil {
		t.Fatal(err)
	}
	if spid2 != spid1 || lt != -1 {
		t.Fatalf("reused connection %d (was %d): lock timeout %d, want -1", spid2, spid1, lt)
	}
}
