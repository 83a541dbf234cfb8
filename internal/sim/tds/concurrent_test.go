package tds_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
)

// Reads through the endpoint while the Service Layer posts documents: each
// statement sees committed data only (READ COMMITTED), watermarks never go
// back, and the final state equals Postgres'.
func TestReadsWhileDocumentsArePosted(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(10)
	db := c.db("")
	var wg sync.WaitGroup
	wg.Add(1)
	errc := make(chan error, 1)
	go func() {
		defer wg.Done()
		for i := 0; i < 15; i++ {
			body, _ := json.Marshal(map[string]any{"CardCode": "C2", "DocDueDate": "2024-06-30",
				"DocumentLines": []any{line(fmt.Sprintf("A-%03d", 1+i%6), "01", 1, 5)}})
			if status, out := c.sim.Call(context.Background(), "POST", "Orders", body); status != 201 {
				errc <- fmt.Errorf("order: %d %s", status, out)
				return
			}
			if _, err := c.sim.ReceiveStock(context.Background(), "A-009", "02", decimal.NewFromInt(1)); err != nil {
				errc <- err
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var lastSeq, lastDoc int64
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if reads == 0 {
				t.Fatal("no read overlapped the posting")
			}
			goto finished
		default:
		}
		var seq, doc sql.NullInt64
		if err := db.QueryRowContext(ctx(t), "SET LOCK_TIMEOUT 2000; SELECT MAX(TransSeq) FROM OIVL").Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx(t), "SELECT MAX(DocEntry) FROM ORDR WITH (READCOMMITTEDLOCK) WHERE CANCELED = @p1", "N").Scan(&doc); err != nil {
			t.Fatal(err)
		}
		if seq.Int64 < lastSeq || doc.Int64 < lastDoc {
			t.Fatalf("watermark went back: TransSeq %d after %d, DocEntry %d after %d", seq.Int64, lastSeq, doc.Int64, lastDoc)
		}
		lastSeq, lastDoc = seq.Int64, doc.Int64
		// Committed commitments are all there or not at all: OITM's total
		// equals the sum over the warehouses, in one statement's snapshot.
		var mismatch int
		if err := db.QueryRowContext(ctx(t), `SELECT COUNT(*) FROM OITM i JOIN OITW w ON w.ItemCode = i.ItemCode
			GROUP BY i.ItemCode, i.IsCommited HAVING SUM(w.IsCommited) <> i.IsCommited`).Scan(&mismatch); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if mismatch != 0 {
			t.Fatalf("an item's IsCommited disagrees with its warehouses")
		}
	}
finished:
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	got := sqlRows(t, db, "SELECT ItemCode, WhsCode, OnHand, IsCommited FROM OITW ORDER BY ItemCode, WhsCode")
	want := c.pgRows(`SELECT "ItemCode", "WhsCode", "OnHand", "IsCommited" FROM "OITW" ORDER BY 1, 2`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("final stock:\n%v\nwant\n%v", got, want)
	}
	var docs int
	if err := db.QueryRowContext(ctx(t), "SELECT COUNT(*) FROM ORDR").Scan(&docs); err != nil || docs != 20 {
		t.Fatalf("%d orders: %v", docs, err)
	}
}

// An error raised while rows stream ends the result with SQL Server's
// error; the rows before it were delivered.
func TestErrorMidResult(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(8)
	db := c.db("")
	rows, err := db.QueryContext(ctx(t), "SELECT ItemCode, 100 / (DocEntry - 3) FROM RDR1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	wantSQLError(t, rows.Err(), 8134, "Divide by zero error encountered.")
	rows.Close()
	// Postgres returns the rows in heap order: count those before the
	// first line of document 3.
	want := 0
	for _, r := range c.pgRows(`SELECT "DocEntry" FROM "RDR1"`) {
		if r[0] == "3" {
			break
		}
		want++
	}
	if n != want || n == 0 {
		t.Fatalf("%d rows before the error, want %d", n, want)
	}
	// An OUTPUT parameter comes back (RETURNVALUE).
	out := "A-001"
	if _, err := db.ExecContext(ctx(t), "SELECT @code", sql.Named("code", sql.Out{Dest: &out, In: true})); err != nil || out != "A-001" {
		t.Fatalf("output parameter %q: %v", out, err)
	}
}
