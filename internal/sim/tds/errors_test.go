package tds_test

import (
	"testing"
)

// What the endpoint does not run is a SQL Server error with a number, never
// a wrong or unfiltered answer, and the connection stays usable.
func TestUnsupportedAndInvalidSQL(t *testing.T) {
	c := newCompany(t, nil)
	c.seed(3)
	db := c.db("")
	conn, err := db.Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		sql    string
		args   []any
		number int32
		text   string
	}{
		{sql: "UPDATE OITM SET ItemName = 'x'", number: 229, text: "The UPDATE permission was denied on the object 'OITM', database '" + c.name + "', schema 'dbo'."},
		{sql: "DELETE FROM OITW WHERE ItemCode = @p1", args: []any{"A-001"}, number: 229, text: "The DELETE permission was denied on the object 'OITW'"},
		{sql: "INSERT INTO OWHS (WhsCode) VALUES ('99')", number: 229, text: "The INSERT permission was denied on the object 'OWHS'"},
		{sql: "DROP TABLE OITM", number: 3701, text: "Cannot drop the table 'OITM', because it does not exist or you do not have permission."},
		{sql: "CREATE TABLE x (a int)", number: 262, text: "CREATE TABLE permission denied in database '" + c.name + "'."},
		{sql: "TRUNCATE TABLE OIVL", number: 1088, text: `Cannot find the object "OIVL"`},
		{sql: "EXEC sp_who", number: 40517, text: "'EXECUTE sp_who' is not supported"},
		{sql: "EXEC dbo.usp_SyncStock 1, 'x'", number: 2812, text: "Could not find stored procedure 'dbo.usp_SyncStock'."},
		{sql: "DECLARE @x int = 1; SELECT @x", number: 40517, text: "'DECLARE' is not supported"},
		{sql: "SELECT DATEADD(day, 1, DocDate) FROM ORDR", number: 40517, text: "'DATEADD' is not supported"},
		{sql: "SELECT FOO(ItemCode) FROM OITM", number: 195, text: "'foo' is not a recognized built-in function name."},
		{sql: "SELECT * FROM OXYZ", number: 208, text: "Invalid object name 'OXYZ'."},
		{sql: "SELECT * FROM OADM", number: 208, text: "Invalid object name 'OADM'."},
		{sql: "SELECT * FROM sales.ORDR", number: 208, text: "Invalid object name 'sales.ORDR'."},
		{sql: "SELECT ItemCod FROM OITM", number: 207, text: "Invalid column name 'ItemCod'."},
		{sql: "SELECT ItemCode FROM OITM T0 JOIN OITW T1 ON T1.ItemCode = T0.ItemCode", number: 209, text: "Ambiguous column name 'ItemCode'."},
		{sql: "SELECT OITM.ItemCode FROM OITM T0", number: 4104, text: `The multi-part identifier "OITM.ItemCode" could not be bound.`},
		{sql: "SELECT ItemCode FROM OITM WHERE", number: 156, text: "Incorrect syntax near the keyword 'WHERE'."},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode = = 'x'", number: 102, text: "Incorrect syntax near '='."},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode = 'x", number: 105, text: "Unclosed quotation mark after the character string 'x'."},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemName", number: 4145, text: "An expression of non-boolean type specified in a context where a condition is expected"},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode IN (SELECT ItemCode FROM OITW)", number: 40517, text: "'subquery' is not supported"},
		{sql: "SELECT * FROM (SELECT ItemCode FROM OITM) x", number: 40517, text: "'derived table' is not supported"},
		{sql: "SELECT ItemCode FROM OITM UNION SELECT WhsCode FROM OWHS", number: 40517, text: "'UNION' is not supported"},
		{sql: "WITH x AS (SELECT 1 a) SELECT a FROM x", number: 40517, text: "'WITH' is not supported"},
		{sql: "SELECT ItemCode, ROW_NUMBER() OVER (ORDER BY ItemCode) FROM OITM", number: 40517, text: "'OVER' is not supported"},
		{sql: "SELECT ItemCode, OnHand FROM OITW GROUP BY ItemCode", number: 8120, text: "Column 'OITW.OnHand' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause."},
		{sql: "SELECT ItemCode FROM OITW WHERE SUM(OnHand) > 1", number: 147, text: "An aggregate may not appear in the WHERE clause"},
		{sql: "SELECT DISTINCT ItemCode FROM OITW ORDER BY WhsCode", number: 145, text: "ORDER BY items must appear in the select list if SELECT DISTINCT is specified."},
		{sql: "SELECT TOP (@p1) ItemCode FROM OITM", args: []any{-1}, number: 1014, text: "A TOP N or FETCH rows count value may not be negative."},
		{sql: "SELECT ItemCode FROM OITM ORDER BY ItemCode OFFSET 0 ROWS FETCH NEXT 0 ROWS ONLY", number: 10744, text: "must be greater then zero"},
		{sql: "SELECT TOP 1 ItemCode FROM OITM ORDER BY ItemCode OFFSET 1 ROWS", number: 10741, text: "A TOP can not be used in the same query or sub-query as a OFFSET."},
		{sql: "SELECT ItemCode FROM OITM ORDER BY 3", number: 108, text: "The ORDER BY position number 3 is out of range"},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode = @nope", number: 137, text: `Must declare the scalar variable "@nope".`},
		{sql: "SELECT 1 / 0", number: 8134, text: "Divide by zero error encountered."},
		{sql: "SELECT OnHand / (OnHand - OnHand) FROM OITW", number: 8134, text: "Divide by zero error encountered."},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode = 5", number: 245, text: "Conversion failed when converting the nvarchar value"},
		{sql: "SELECT CAST(ItemName AS int) FROM OITM", number: 245, text: "Conversion failed when converting the nvarchar value"},
		{sql: "SELECT DocEntry FROM ORDR WHERE DocDate > 'yesterday'", number: 241, text: "Conversion failed when converting date and/or time from character string."},
		{sql: "SELECT DocEntry FROM ORDR WHERE DocEntry = @p1", args: []any{"one"}, number: 245, text: "Conversion failed when converting the nvarchar value 'one' to data type int."},
		{sql: "SELECT CAST(2147483647 AS int) + 1", number: 8115, text: "Arithmetic overflow error"},
		{sql: "SELECT CAST(OnHand AS numeric(3,1)) FROM OITW WHERE OnHand > 100", number: 0},
		{sql: "SELECT CAST(12345.6 AS numeric(3,1))", number: 8115, text: "Arithmetic overflow error converting numeric to data type numeric."},
		{sql: "SELECT ItemCode FROM OITM WITH (FASTFIRSTROW2)", number: 321, text: `"FASTFIRSTROW2" is not a recognized table hints option.`},
		{sql: "SET FOO ON", number: 195, text: "'FOO' is not a recognized SET option."},
		{sql: "USE master", number: 911, text: "Database 'master' does not exist."},
		{sql: "COMMIT", number: 3902, text: "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION."},
		{sql: "SELECT ItemCode FROM OITM ORDER BY", number: 156, text: "Incorrect syntax near the keyword 'BY'."},
		{sql: "SELECT ItemCode FROM OITM WHERE ItemCode = 'A' ORDER ItemCode", number: 102, text: "Incorrect syntax near 'ItemCode'."},
	} {
		rows, err := conn.QueryContext(ctx(t), tc.sql, tc.args...)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if tc.number == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.sql, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, want %d", tc.sql, tc.number)
			continue
		}
		e := sqlErr(t, err)
		if e.Number != tc.number || !contains(e.Message, tc.text) || e.Class != 16 && e.Class != 14 {
			t.Errorf("%s:\n  got %d (class %d): %s\n  want %d: %s", tc.sql, e.Number, e.Class, e.Message, tc.number, tc.text)
		}
		// The connection is still usable.
		var one int
		if err := conn.QueryRowContext(ctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("after %q: %v", tc.sql, err)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
