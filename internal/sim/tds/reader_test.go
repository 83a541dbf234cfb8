package tds_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The queries the SQL reader sends (issue 5), through go-mssqldb, with the
// session settings it uses, compared with the same rows read directly.
func TestReaderQueries(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(23)
	db := c.db("")
	conn, err := db.Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET NOCOUNT ON", "SET LOCK_TIMEOUT 3000", "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "SET ANSI_NULLS ON; SET QUOTED_IDENTIFIER ON; SET ARITHABORT ON"} {
		if _, err := conn.ExecContext(ctx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}

	t.Run("keyset-paged stock", func(t *testing.T) {
		const q = `SELECT TOP (@n) ItemCode, WhsCode, OnHand, IsCommited, OnOrder
			FROM OITW WITH (READCOMMITTEDLOCK)
			WHERE ItemCode > @item OR (ItemCode = @item AND WhsCode > @whs)
			ORDER BY ItemCode, WhsCode`
		var got [][]string
		item, whs := "", ""
		pages := 0
		for {
			page := sqlRows(t, conn, q, sql.Named("n", 7), sql.Named("item", item), sql.Named("whs", whs))
			got = append(got, page...)
			pages++
			if len(page) < 7 {
				break
			}
			last := page[len(page)-1]
			item, whs = last[0], last[1]
		}
		want := c.pgRows(`SELECT "ItemCode", "WhsCode", "OnHand", "IsCommited", "OnOrder" FROM "OITW" ORDER BY "ItemCode", "WhsCode"`)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("paged %d rows in %d pages, want %d:\n%v\n%v", len(got), pages, len(want), got, want)
		}
		if len(want) != 24*3 || pages < 10 {
			t.Fatalf("%d rows, %d pages", len(want), pages)
		}
	})

	t.Run("items, master data with NOLOCK", func(t *testing.T) {
		got := sqlRows(t, conn, `SELECT TOP (@p1) T0.ItemCode, T0.ItemName, T0.FrgnName, T0.validFor, T0.frozenFor, T0.SellItem,
				T0.InvntItem, T0.TreeType, T0.UpdateDate, T0.UpdateTS
			FROM dbo.OITM T0 WITH (NOLOCK) WHERE T0.ItemCode > @p2 ORDER BY T0.ItemCode`, 1000, "")
		want := c.pgRows(`SELECT "ItemCode", "ItemName", "FrgnName", "validFor", "frozenFor", "SellItem", "InvntItem", "TreeType", "UpdateDate", "UpdateTS" FROM "OITM" ORDER BY "ItemCode"`)
		if !reflect.DeepEqual(got, want) || len(got) != 24 {
			t.Fatalf("items:\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("warehouses, BOMs, prices", func(t *testing.T) {
		got := sqlRows(t, conn, `SELECT WhsCode, WhsName, Inactive, DropShip FROM OWHS ORDER BY WhsCode`)
		if len(got) != 3 || got[2][0] != "WEB" {
			t.Fatalf("warehouses: %v", got)
		}
		got = sqlRows(t, conn, `SELECT T0.Code, T0.TreeType, T0.Qauntity, T1.ChildNum, T1.Code, T1.Quantity, T1.Warehouse
			FROM OITT T0 INNER JOIN ITT1 T1 ON T1.Father = T0.Code WHERE T0.Code > @p1 ORDER BY T0.Code, T1.ChildNum`, "")
		want := c.pgRows(`SELECT h."Code", h."TreeType", h."Qauntity", l."ChildNum", l."Code", l."Quantity", l."Warehouse" FROM "OITT" h JOIN "ITT1" l ON l."Father" = h."Code" ORDER BY 1, 4`)
		if !reflect.DeepEqual(got, want) || len(got) != 2 {
			t.Fatalf("BOM:\n%v\nwant\n%v", got, want)
		}
		got = sqlRows(t, conn, `SELECT T0.ItemCode, T0.Price, T0.Currency FROM ITM1 T0 INNER JOIN OPLN T1 ON T1.ListNum = T0.PriceList
			WHERE T1.ListName = @list AND T0.ItemCode > @after ORDER BY T0.ItemCode`, sql.Named("list", "retail"), sql.Named("after", "A-010"))
		want = c.pgRows(`SELECT p."ItemCode", p."Price", p."Currency" FROM "ITM1" p JOIN "OPLN" l ON l."ListNum" = p."PriceList" WHERE l."ListName" = 'Retail' AND p."ItemCode" > 'A-010' ORDER BY 1`)
		if !reflect.DeepEqual(got, want) || len(got) == 0 {
			t.Fatalf("prices:\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("stock watermark", func(t *testing.T) {
		var seq sql.NullInt64
		if err := conn.QueryRowContext(ctx(t), "SELECT MAX(TransSeq) FROM OIVL").Scan(&seq); err != nil {
			t.Fatal(err)
		}
		want := c.pgRows(`SELECT max("TransSeq") FROM "OIVL"`)[0][0]
		if fmt.Sprint(seq.Int64) != want {
			t.Fatalf("MAX(TransSeq) %v, want %s", seq, want)
		}
		c.receive("A-003", "WEB", "4")
		var next int64
		if err := conn.QueryRowContext(ctx(t), "SELECT ISNULL(MAX(TransSeq), 0) FROM OIVL WITH (READCOMMITTEDLOCK)").Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next != seq.Int64+1 {
			t.Fatalf("after a receipt: %d, want %d", next, seq.Int64+1)
		}
		got := sqlRows(t, conn, "SELECT DISTINCT ItemCode, LocCode FROM OIVL WHERE TransSeq > @p1", seq.Int64)
		if !reflect.DeepEqual(got, [][]string{{"A-003", "WEB"}}) {
			t.Fatalf("changed since the watermark: %v", got)
		}
	})

	t.Run("UpdateDate and UpdateTS watermark", func(t *testing.T) {
		rows := c.pgRows(`SELECT "UpdateDate", "UpdateTS" FROM "ORDR" ORDER BY "UpdateDate", "UpdateTS" LIMIT 1`)
		day, _ := time.Parse("2006-01-02 15:04:05.000", rows[0][0])
		var ts int
		fmt.Sscan(rows[0][1], &ts)
		// time.Time goes as datetimeoffset(7): SQL Server compares it with
		// the datetime column as an instant.
		got := sqlRows(t, conn, `SELECT DocEntry, UpdateDate, UpdateTS FROM ORDR
			WHERE UpdateDate > @d OR (UpdateDate = @d AND UpdateTS >= @t) ORDER BY UpdateDate, UpdateTS, DocEntry`,
			sql.Named("d", day), sql.Named("t", ts))
		want := c.pgRows(`SELECT "DocEntry", "UpdateDate", "UpdateTS" FROM "ORDR" WHERE "UpdateDate" > $1 OR ("UpdateDate" = $1 AND "UpdateTS" >= $2) ORDER BY 2, 3, 1`, day, ts)
		if !reflect.DeepEqual(got, want) || len(got) != 5 {
			t.Fatalf("watermark:\n%v\nwant\n%v", got, want)
		}
		none := sqlRows(t, conn, `SELECT DocEntry FROM ORDR WHERE UpdateDate > @d OR (UpdateDate = @d AND UpdateTS >= @t)`,
			sql.Named("d", day.AddDate(0, 0, 1)), sql.Named("t", 0))
		if len(none) != 0 {
			t.Fatalf("nothing changed after tomorrow: %v", none)
		}
		// The same with the date as a string literal, as hand-written SQL has it.
		lit := sqlRows(t, conn, fmt.Sprintf(`SELECT COUNT(*) FROM ORDR WHERE UpdateDate >= '%s'`, day.Format("20060102")))
		if lit[0][0] != "5" {
			t.Fatalf("count since '%s': %v", day.Format("20060102"), lit)
		}
	})

	t.Run("order header and lines", func(t *testing.T) {
		got := sqlRows(t, conn, `SELECT T0.DocEntry, T0.DocNum, T0.CardCode, T0.DocStatus, T1.LineNum, T1.ItemCode, T1.Quantity, T1.OpenQty, T1.Price, T1.WhsCode
			FROM ORDR T0 INNER JOIN RDR1 T1 ON T1.DocEntry = T0.DocEntry
			WHERE T0.DocEntry BETWEEN @from AND @to AND T0.CANCELED = 'N'
			ORDER BY T0.DocEntry, T1.LineNum`, sql.Named("from", 1), sql.Named("to", 3))
		want := c.pgRows(`SELECT h."DocEntry", h."DocNum", h."CardCode", h."DocStatus", l."LineNum", l."ItemCode", l."Quantity", l."OpenQty", l."Price", l."WhsCode"
			FROM "ORDR" h JOIN "RDR1" l ON l."DocEntry" = h."DocEntry" WHERE h."DocEntry" BETWEEN 1 AND 3 AND h."CANCELED" = 'N' ORDER BY 1, 5`)
		if !reflect.DeepEqual(got, want) || len(got) != 9 {
			t.Fatalf("orders:\n%v\nwant\n%v", got, want)
		}
		// Deliveries based on our orders, with their tracking numbers.
		got = sqlRows(t, conn, `SELECT d.DocEntry, d.TrackNo, l.BaseType, l.BaseEntry, l.BaseLine, l.Quantity
			FROM ODLN d JOIN DLN1 l ON l.DocEntry = d.DocEntry WHERE l.BaseType = 17 AND d.DocEntry > @p1`, 0)
		if len(got) != 1 || got[0][1] != "1Z999" || got[0][3] != "1" || got[0][5] != "1" {
			t.Fatalf("deliveries: %v", got)
		}
	})

	t.Run("typed result columns", func(t *testing.T) {
		rows, err := conn.QueryContext(ctx(t), `SELECT T0.ItemCode, T0.OnHand, T0.UpdateDate, T0.UpdateTS, T0.FrgnName, COUNT(*) OVERALL, CAST(1 AS bit) b, CAST('x' AS char(3)) c
			FROM OITM T0 GROUP BY T0.ItemCode, T0.OnHand, T0.UpdateDate, T0.UpdateTS, T0.FrgnName`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		types, _ := rows.ColumnTypes()
		var got []string
		for _, ct := range types {
			s := ct.Name() + " " + ct.DatabaseTypeName()
			if l, ok := ct.Length(); ok {
				s += fmt.Sprintf("(%d)", l)
			}
			if p, sc, ok := ct.DecimalSize(); ok {
				s += fmt.Sprintf("(%d,%d)", p, sc)
			}
			if n, ok := ct.Nullable(); ok && n {
				s += " NULL"
			}
			got = append(got, s)
		}
		want := []string{"ItemCode NVARCHAR(50)", "OnHand DECIMAL(19,6)", "UpdateDate DATETIME NULL", "UpdateTS INT NULL",
			"FrgnName NVARCHAR(200) NULL", "OVERALL INT", "b BIT", "c CHAR(3)"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("columns:\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("typed parameters", func(t *testing.T) {
		// int, nvarchar, numeric (as decimal.Decimal: go-mssqldb sends it
		// as nvarchar, which SQL Server converts), float and datetime.
		got := sqlRows(t, conn, `SELECT ItemCode, WhsCode, OnHand FROM OITW
			WHERE OnHand >= @min AND OnHand < @max AND WhsCode = @whs AND OnHand <> @f ORDER BY ItemCode`,
			sql.Named("min", decimal.RequireFromString("10.5")), sql.Named("max", 30), sql.Named("whs", "01"), sql.Named("f", 12.5))
		want := c.pgRows(`SELECT "ItemCode", "WhsCode", "OnHand" FROM "OITW" WHERE "OnHand" >= 10.5 AND "OnHand" < 30 AND "WhsCode" = '01' AND "OnHand" <> 12.5 ORDER BY 1`)
		if !reflect.DeepEqual(got, want) || len(got) == 0 {
			t.Fatalf("typed:\n%v\nwant\n%v", got, want)
		}
		var n int
		if err := conn.QueryRowContext(ctx(t), `SELECT COUNT(*) FROM ORDR WHERE DocDate >= @p1 AND DocDueDate = @p2`,
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), "2024-06-30").Scan(&n); err != nil || n != 5 {
			t.Fatalf("datetime parameters: %d %v", n, err)
		}
	})
}
