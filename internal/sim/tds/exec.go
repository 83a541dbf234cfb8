package tds

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// selectStmt runs a SELECT: translate it against the catalog, run it in a
// short read-only Postgres transaction, stream the rows.
func (sess *session) selectStmt(ctx context.Context, r *response, s *tsql.Select, proc *procContext) *tsql.Error {
	if sess.opt.noExec {
		return nil
	}
	if sess.opt.implicitTx && sess.tranCount == 0 && len(s.From) > 0 {
		// IMPLICIT_TRANSACTIONS ON: a SELECT from a table opens one.
		sess.beginTran(r)
	}
	tx, end, err := sess.begin(ctx)
	if err != nil {
		return sess.queryError(ctx, r, err)
	}
	ok := false
	defer func() { end(ok) }()

	cat, err := sess.catalog(ctx, tx, tsql.TableNames(s))
	if err != nil {
		return sess.queryError(ctx, r, err)
	}
	env := sess.env(cat, proc)
	q, err := tsql.Translate(s, env)
	if err != nil {
		return asSQLError(err, sess.spid)
	}
	var params map[string]tsql.Value
	if proc != nil {
		params = proc.params
	}
	args, err := q.Bind(params)
	if err != nil {
		return asSQLError(err, sess.spid)
	}
	if sess.opt.fmtOnly {
		// SET FMTONLY ON: the result's shape, no rows.
		r.token(colMetadata(q.Columns))
		sess.statementDone(r, proc, cmdSelect, 0, true)
		ok = true
		return nil
	}
	rows, err := tx.Query(ctx, q.SQL, args...)
	if err != nil {
		return sess.queryError(ctx, r, err)
	}
	defer rows.Close()
	codecs := newCodecs(q.Columns)
	dests := scanDests(codecs)
	// The first row is fetched before COLMETADATA goes out, so an error
	// Postgres raises at once (a conversion in the plan) arrives as a
	// compile error would, without an empty result set.
	more := rows.Next()
	if !more {
		if err := rows.Err(); err != nil {
			return sess.queryError(ctx, r, err)
		}
	}
	r.token(colMetadata(q.Columns))
	var n int64
	row := make([]byte, 0, 256)
	for more {
		if r.attn.get() {
			r.stopped = true
			return nil
		}
		if sess.opt.rowCount > 0 && n >= sess.opt.rowCount {
			break
		}
		if err := rows.Scan(dests...); err != nil {
			return sess.queryError(ctx, r, err)
		}
		row = append(row[:0], tokRow)
		for _, c := range codecs {
			if row, err = c.encode(row); err != nil {
				return asSQLError(err, sess.spid)
			}
		}
		r.token(row)
		n++
		if err := r.sess.pw.err; err != nil {
			return asSQLError(err, sess.spid)
		}
		more = rows.Next()
	}
	if err := rows.Err(); err != nil {
		return sess.queryError(ctx, r, err)
	}
	rows.Close()
	sess.lastRowCount = n
	sess.statementDone(r, proc, cmdSelect, n, true)
	ok = true
	return nil
}

// queryError reports a failed query; a cancelled one (attention) stops
// the request without an error.
func (sess *session) queryError(ctx context.Context, r *response, err error) *tsql.Error {
	if r.attn.get() || (ctx.Err() != nil && errors.Is(err, context.Canceled)) {
		r.stopped = true
		return nil
	}
	return asSQLError(err, sess.spid)
}

// begin starts the Postgres side of a statement: its own short read-only
// transaction at the session's isolation, or a savepoint in the
// transaction a snapshot-level T-SQL transaction holds open. end commits
// (or rolls back) it.
func (sess *session) begin(ctx context.Context) (pgx.Tx, func(ok bool), error) {
	pool := sess.srv.opts.Pool
	// NOLOCK and READ UNCOMMITTED read committed data: Postgres has no
	// dirty reads, so the simulator is at least as strict as SQL Server.
	iso := pgx.ReadCommitted
	switch sess.opt.isolation {
	case "REPEATABLE READ", "SNAPSHOT":
		iso = pgx.RepeatableRead
	case "SERIALIZABLE":
		iso = pgx.Serializable
	}
	configure := func(tx pgx.Tx) error {
		lt := "0"
		switch {
		case sess.opt.lockTimeout == 0:
			lt = "1ms" // SQL Server's 0 is "do not wait"; Postgres' 0 is "forever"
		case sess.opt.lockTimeout > 0:
			lt = strconv.Itoa(sess.opt.lockTimeout) + "ms"
		}
		_, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true), set_config('TimeZone', 'UTC', true)", lt)
		return err
	}
	if sess.tranCount > 0 && iso != pgx.ReadCommitted && sess.pgTx == nil {
		// A snapshot-level transaction reads one snapshot throughout: hold
		// one Postgres transaction open until COMMIT or ROLLBACK.
		tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso, AccessMode: pgx.ReadOnly})
		if err != nil {
			return nil, nil, err
		}
		sess.pgTx = tx
	}
	if sess.pgTx != nil {
		sp, err := sess.pgTx.Begin(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := configure(sp); err != nil {
			sp.Rollback(ctx)
			return nil, nil, err
		}
		return sp, func(ok bool) {
			if ok {
				sp.Commit(context.Background())
			} else {
				sp.Rollback(context.Background())
			}
		}, nil
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, err
	}
	if err := configure(tx); err != nil {
		tx.Rollback(context.Background())
		return nil, nil, err
	}
	return tx, func(ok bool) {
		if ok {
			tx.Commit(context.Background())
		} else {
			tx.Rollback(context.Background())
		}
	}, nil
}

// env is what the translator needs from the session.
func (sess *session) env(cat tsql.Catalog, proc *procContext) *tsql.Env {
	o := sess.srv.opts
	env := &tsql.Env{
		Catalog:   cat,
		Schema:    o.Schema,
		Collation: o.Collation,
		Database:  sess.opt.database,
		Now:       time.Now().In(o.Location),
		AnsiNulls: sess.opt.ansiNulls,
		YDM:       sess.opt.dateFormat == "dmy" || sess.opt.dateFormat == "ydm",
		SysVar:    sess.sysVar,
		Builtin:   sess.builtin,
	}
	if proc != nil {
		env.Params = proc.decls
	}
	return env
}

const version = "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (tiktokb1 SAP Business One simulator) <X64>"

func nvarchar(s string, n int) tsql.Value {
	return tsql.Value{Type: tsql.Type{Kind: tsql.TNVarChar, Len: n}, S: s}
}

// sysVar answers @@ variables.
func (sess *session) sysVar(name string) (tsql.Value, bool) {
	intv := func(k tsql.TypeKind, n int64) (tsql.Value, bool) { return tsql.IntValue(k, n), true }
	switch name {
	case "@@VERSION":
		return nvarchar(version, 300), true
	case "@@SPID":
		return intv(tsql.TSmallInt, int64(sess.spid))
	case "@@TRANCOUNT":
		return intv(tsql.TInt, int64(sess.tranCount))
	case "@@SERVERNAME":
		return nvarchar(sess.srv.opts.ServerName, 128), true
	case "@@SERVICENAME":
		return nvarchar("MSSQLSERVER", 128), true
	case "@@LANGUAGE":
		return nvarchar("us_english", 128), true
	case "@@LANGID":
		return intv(tsql.TSmallInt, 0)
	case "@@LOCK_TIMEOUT":
		return intv(tsql.TInt, int64(sess.opt.lockTimeout))
	case "@@DATEFIRST":
		return intv(tsql.TTinyInt, int64(sess.opt.dateFirst))
	case "@@TEXTSIZE":
		ts := int64(sess.opt.textSize)
		if ts < 0 {
			ts = 2147483647
		}
		return intv(tsql.TInt, ts)
	case "@@ROWCOUNT":
		return intv(tsql.TInt, sess.lastRowCount)
	case "@@ERROR":
		return intv(tsql.TInt, int64(sess.lastError))
	case "@@MAX_PRECISION":
		return intv(tsql.TTinyInt, 38)
	case "@@MICROSOFTVERSION":
		return intv(tsql.TInt, 16<<24|1000)
	case "@@NESTLEVEL", "@@PROCID":
		return intv(tsql.TInt, 0)
	case "@@MAX_CONNECTIONS":
		return intv(tsql.TInt, 32767)
	case "@@IDENTITY":
		return tsql.NullOf(tsql.Type{Kind: tsql.TDecimal, Precision: 38, Numeric: true}), true
	}
	return tsql.Value{}, false
}

// builtin answers the session's functions.
func (sess *session) builtin(name, arg string) (tsql.Value, bool) {
	switch name {
	case "DB_NAME":
		if arg == "" {
			return nvarchar(sess.opt.database, 128), true
		}
	case "SCHEMA_NAME":
		return nvarchar("dbo", 128), true
	case "USER_NAME", "SUSER_NAME", "SUSER_SNAME", "ORIGINAL_LOGIN":
		return nvarchar(sess.user, 128), true
	case "APP_NAME":
		return nvarchar(sess.app, 128), true
	case "HOST_NAME":
		return nvarchar(sess.host, 128), true
	case "SERVERPROPERTY":
		switch strings.ToLower(arg) {
		case "productversion":
			return nvarchar("16.0.1000.6", 128), true
		case "productlevel":
			return nvarchar("RTM", 128), true
		case "productmajorversion":
			return nvarchar("16", 128), true
		case "edition":
			return nvarchar("Developer Edition (64-bit)", 128), true
		case "engineedition":
			return tsql.IntValue(tsql.TInt, 3), true
		case "servername", "machinename":
			return nvarchar(sess.srv.opts.ServerName, 128), true
		case "collation":
			return nvarchar("SQL_Latin1_General_CP1_CI_AS", 128), true
		case "isintegratedsecurityonly", "isclustered", "ishadrenabled", "isfulltextinstalled":
			return tsql.IntValue(tsql.TInt, 0), true
		}
		// SQL Server answers NULL for a property it does not know.
		return tsql.NullOf(tsql.Type{Kind: tsql.TNVarChar, Len: 128}), true
	}
	return tsql.Value{}, false
}

// ---- catalog ----

// catalog is the columns of the served tables a statement names, read from
// Postgres' catalog in the statement's transaction (so a user-defined field
// added a moment ago is there).
type catalog map[string]*tsql.Table

func (c catalog) Table(name string) (*tsql.Table, bool) {
	t, ok := c[strings.ToUpper(name)]
	return t, ok
}

func (sess *session) catalog(ctx context.Context, tx pgx.Tx, names []string) (catalog, error) {
	cat := catalog{}
	var want []string
	for _, n := range names {
		if sess.srv.tables[strings.ToUpper(n)] {
			want = append(want, strings.ToLower(n))
		}
	}
	if len(want) == 0 {
		return cat, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT c.relname, a.attname, t.typname, a.atttypmod, a.attnotnull
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND lower(c.relname) = ANY($2)
		ORDER BY c.relname, a.attnum`, sess.srv.opts.Schema, want)
	if err != nil {
		return nil, fmt.Errorf("tds: read catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col, typ string
		var mod int32
		var notNull bool
		if err := rows.Scan(&table, &col, &typ, &mod, &notNull); err != nil {
			return nil, fmt.Errorf("tds: read catalog: %w", err)
		}
		key := strings.ToUpper(table)
		t := cat[key]
		if t == nil {
			t = &tsql.Table{Name: table}
			cat[key] = t
		} else if t.Name != table {
			continue // two tables differing in case only: keep the first
		}
		c := columnType(typ, mod)
		c.Name, c.Nullable = col, !notNull
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tds: read catalog: %w", err)
	}
	return cat, nil
}

// columnType maps a Postgres column type to the SQL Server type it is
// served as. Text columns are nvarchar (SAP's own columns mostly are).
func columnType(typ string, mod int32) tsql.Column {
	var c tsql.Column
	switch typ {
	case "varchar", "bpchar":
		kind := tsql.TNVarChar
		if typ == "bpchar" {
			kind = tsql.TNChar
		}
		n := int(mod) - 4
		if mod < 0 || n > 4000 {
			c.Type = tsql.Type{Kind: tsql.TNVarChar, Len: tsql.MaxLen}
		} else {
			c.Type = tsql.Type{Kind: kind, Len: max(1, n)}
		}
	case "text":
		c.Type = tsql.Type{Kind: tsql.TNVarChar, Len: tsql.MaxLen}
	case "int2":
		c.Type = tsql.Type{Kind: tsql.TSmallInt}
	case "int4":
		c.Type = tsql.Type{Kind: tsql.TInt}
	case "int8":
		c.Type = tsql.Type{Kind: tsql.TBigInt}
	case "bool":
		c.Type = tsql.Type{Kind: tsql.TBit}
	case "float4":
		c.Type = tsql.Type{Kind: tsql.TReal}
	case "float8":
		c.Type = tsql.Type{Kind: tsql.TFloat}
	case "numeric":
		if mod < 0 {
			c.Type = tsql.Type{Kind: tsql.TDecimal, Precision: 38, Scale: 6, Numeric: true}
			c.Cast = "numeric(38,6)"
		} else {
			m := int(mod) - 4
			c.Type = tsql.Type{Kind: tsql.TDecimal, Precision: m >> 16 & 0xFFFF, Scale: m & 0xFFFF, Numeric: true}
		}
	case "date":
		c.Type = tsql.Type{Kind: tsql.TDate}
	case "timestamp":
		if mod >= 0 && mod <= 3 {
			c.Type = tsql.Type{Kind: tsql.TDateTime}
			if mod < 3 {
				c.Cast = "timestamp(3)"
			}
		} else {
			scale := 6
			if mod >= 0 {
				scale = int(mod)
			}
			c.Type = tsql.Type{Kind: tsql.TDateTime2, Scale: scale}
		}
	case "timestamptz":
		scale := 6
		if mod >= 0 {
			scale = int(mod)
		}
		c.Type = tsql.Type{Kind: tsql.TDateTimeOffset, Scale: scale}
	case "time":
		scale := 6
		if mod >= 0 {
			scale = int(mod)
		}
		c.Type = tsql.Type{Kind: tsql.TTime, Scale: scale}
	case "uuid":
		c.Type = tsql.Type{Kind: tsql.TGUID}
	case "bytea":
		c.Type = tsql.Type{Kind: tsql.TVarBinary, Len: tsql.MaxLen}
	default:
		c.Type = tsql.Type{Kind: tsql.TNVarChar, Len: tsql.MaxLen}
		c.Cast = "text"
	}
	return c
}

// ---- Postgres errors ----

// pgError maps a Postgres error to the SQL Server error a client would see
// for the same failure.
func pgError(err error, spid uint16) *tsql.Error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return &tsql.Error{Number: 50000, State: 1, Class: 16, Message: "The simulator could not run the query: " + err.Error()}
	}
	quoted := func() string {
		if i := strings.IndexByte(pe.Message, '"'); i >= 0 {
			if j := strings.LastIndexByte(pe.Message, '"'); j > i {
				return pe.Message[i+1 : j]
			}
		}
		return ""
	}
	pgTypeName := func() string {
		m := pe.Message
		for _, t := range []struct{ pg, ss string }{{"smallint", "smallint"}, {"bigint", "bigint"}, {"integer", "int"}, {"numeric", "numeric"}, {"double precision", "float"}, {"real", "real"}, {"boolean", "bit"}, {"uuid", "uniqueidentifier"}} {
			if strings.Contains(m, t.pg) {
				return t.ss
			}
		}
		return "numeric"
	}
	e := &tsql.Error{State: 1, Class: 16}
	switch pe.Code {
	case "22012":
		e.Number, e.Message = 8134, "Divide by zero error encountered."
	case "22003":
		e.Number, e.Message = 8115, fmt.Sprintf("Arithmetic overflow error converting expression to data type %s.", pgTypeName())
	case "22P02":
		switch t := pgTypeName(); t {
		case "int", "smallint", "bigint", "bit":
			e.Number, e.Message = 245, fmt.Sprintf("Conversion failed when converting the nvarchar value '%s' to data type %s.", quoted(), t)
		case "uniqueidentifier":
			e.Number, e.Message = 8169, "Conversion failed when converting from a character string to uniqueidentifier."
		default:
			e.Number, e.Message = 8114, fmt.Sprintf("Error converting data type nvarchar to %s.", t)
		}
	case "22007":
		e.Number, e.Message = 241, "Conversion failed when converting date and/or time from character string."
	case "22008":
		e.Number, e.Message = 242, "The conversion of a nvarchar data type to a datetime data type resulted in an out-of-range value."
	case "22001":
		e.Number, e.Message = 2628, "String or binary data would be truncated."
	case "55P03":
		e.Number, e.Message = 1222, "Lock request time out period exceeded."
	case "40P01":
		e.Number, e.Class, e.State = 1205, 13, 51
		e.Message = fmt.Sprintf("Transaction (Process ID %d) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.", spid)
	case "40001":
		e.Number = 3960
		e.Message = "Snapshot isolation transaction aborted due to update conflict. You cannot use snapshot isolation to access table directly or indirectly in the database to update, delete, or insert the row that has been modified or deleted by another transaction. Retry the transaction or change the isolation level for the update/delete statement."
	case "42P01":
		e.Number, e.Message = 208, fmt.Sprintf("Invalid object name '%s'.", quoted())
	case "42703":
		e.Number, e.Message = 207, fmt.Sprintf("Invalid column name '%s'.", quoted())
	case "57014":
		e.Number, e.Message = 3617, "The query was canceled."
	default:
		e.Number = 50000
		e.Message = fmt.Sprintf("The simulator's database failed: %s (SQLSTATE %s).", pe.Message, pe.Code)
	}
	return e
}
