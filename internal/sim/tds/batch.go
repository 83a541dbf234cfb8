package tds

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// response collects one answer message. The DONE of the latest statement
// is held back until it is known whether more tokens follow: every DONE
// but the last carries DONE_MORE (sheet §10.1).
type response struct {
	sess    *session
	attn    *attnFlag
	pending []byte
	wrote   bool
	// stopped: an attention ended the request; nothing more is written
	// but the closing DONE.
	stopped bool
}

// token writes a token, after any held-back DONE (now marked MORE).
func (r *response) token(b []byte) {
	r.flushPending(true)
	r.sess.pw.Write(b)
	r.wrote = true
}

func (r *response) flushPending(more bool) {
	if r.pending == nil {
		return
	}
	if more {
		r.pending[1] |= doneMore
	}
	r.sess.pw.Write(r.pending)
	r.pending = nil
	r.wrote = true
}

// done holds back the DONE of a statement; counted adds its row count
// (unless SET NOCOUNT ON).
func (r *response) done(cmd uint16, rows int64, counted bool) {
	r.flushPending(true)
	status := uint16(doneFinal)
	if counted && !r.sess.opt.noCount {
		status |= doneCount
	}
	r.pending = doneToken(tokDone, status, cmd, uint64(rows))
}

// doneProc holds back the closing DONEPROC of an RPC.
func (r *response) doneProc(status uint16) {
	r.flushPending(true)
	r.pending = doneToken(tokDoneProc, status, cmdExecute, 0)
}

// message writes an ERROR or INFO token.
func (r *response) message(e *tsql.Error, proc string) {
	line := e.Line
	if line <= 0 {
		line = 1
	}
	r.token(messageToken(e.Number, e.State, e.Class, e.Message, r.sess.srv.opts.ServerName, proc, line))
}

// fail reports the error that ends a batch: ERROR, then DONE with the
// error bit.
func (r *response) fail(e *tsql.Error) {
	r.sess.lastError = e.Number
	r.message(e, "")
	r.pending = doneToken(tokDone, doneError, 0, 0)
}

// finish ends the message with a DONE without DONE_MORE.
func (r *response) finish() {
	if r.pending != nil {
		r.flushPending(false)
		return
	}
	r.sess.pw.Write(doneToken(tokDone, doneFinal, 0, 0))
}

// batch runs a SQLBatch message.
func (sess *session) batch(ctx context.Context, r *response, m *message) error {
	text := decodeUTF16(sess.skipAllHeaders(m.data))
	stmts, err := tsql.Parse(text, sess.parseOptions())
	if err != nil {
		r.fail(asSQLError(err, sess.spid))
		return nil
	}
	sess.runStatements(ctx, r, stmts, nil)
	return nil
}

func (sess *session) parseOptions() tsql.Options {
	return tsql.Options{QuotedIdentifier: sess.opt.quotedIdentifier, Database: sess.opt.database}
}

// procContext is set when statements run inside an RPC (sp_executesql):
// their DONE tokens are DONEINPROC.
type procContext struct {
	params map[string]tsql.Value
	decls  []tsql.ParamDecl
}

// runStatements runs statements in order until one fails. It returns the
// error that stopped them (already reported), or nil.
func (sess *session) runStatements(ctx context.Context, r *response, stmts []tsql.Statement, proc *procContext) *tsql.Error {
	for _, st := range stmts {
		if r.attn.get() {
			r.stopped = true
			return nil
		}
		err := sess.statement(ctx, r, st, proc)
		if r.stopped {
			return nil
		}
		if err != nil {
			if err.Line == 0 {
				err.Line = int32(st.Line())
			}
			if proc != nil {
				sess.lastError = err.Number
				r.message(err, "")
				r.token(doneToken(tokDoneInProc, doneMore|doneError, 0, 0))
			} else {
				r.fail(err)
			}
			return err
		}
		sess.lastError = 0
	}
	return nil
}

// statementDone closes a statement's output: DONE in a batch (held back),
// DONEINPROC inside a procedure.
func (sess *session) statementDone(r *response, proc *procContext, cmd uint16, rows int64, counted bool) {
	if proc == nil {
		r.done(cmd, rows, counted)
		return
	}
	status := uint16(doneMore)
	if counted && !sess.opt.noCount {
		status |= doneCount
	}
	r.token(doneToken(tokDoneInProc, status, cmd, uint64(rows)))
}

// statement runs one statement.
func (sess *session) statement(ctx context.Context, r *response, st tsql.Statement, proc *procContext) *tsql.Error {
	switch s := st.(type) {
	case *tsql.Select:
		return sess.selectStmt(ctx, r, s, proc)
	case *tsql.SetOption:
		return sess.setOption(r, s, proc)
	case *tsql.SetValue:
		return sess.setValue(r, s, proc)
	case *tsql.SetIsolation:
		if sess.tranCount > 0 && sess.pgTx != nil && s.Level != sess.opt.isolation {
			return tsql.Errorf(3951, s.StartLine, "Transaction failed in database '%s' because the statement was run under snapshot isolation but the transaction did not start in snapshot isolation. You cannot change the isolation level of the transaction to snapshot after the transaction has started unless the transaction was originally started under snapshot isolation level.", sess.opt.database)
		}
		sess.opt.isolation = s.Level
		sess.statementDone(r, proc, cmdSet, 0, false)
	case *tsql.Transaction:
		switch s.Verb {
		case "BEGIN":
			sess.beginTran(r)
			sess.statementDone(r, proc, cmdBegin, 0, false)
		case "COMMIT":
			if sess.tranCount == 0 {
				return tsql.Errorf(3902, s.StartLine, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.")
			}
			sess.commitTran(ctx, r)
			sess.statementDone(r, proc, cmdCommit, 0, false)
		case "ROLLBACK":
			if sess.tranCount == 0 {
				return tsql.Errorf(3903, s.StartLine, "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.")
			}
			sess.rollbackTran(r)
			sess.statementDone(r, proc, cmdRollback, 0, false)
		case "SAVE":
			if sess.tranCount == 0 {
				return tsql.Errorf(628, s.StartLine, "Cannot issue SAVE TRANSACTION when there is no active transaction.")
			}
			sess.statementDone(r, proc, cmdNone, 0, false)
		}
	case *tsql.Use:
		if !strings.EqualFold(s.Database, sess.srv.opts.Database) {
			return tsql.Errorf(911, s.StartLine, "Database '%s' does not exist. Make sure that the name is entered correctly.", s.Database)
		}
		old := sess.opt.database
		sess.opt.database = sess.srv.opts.Database
		r.token(envChangeText(envDatabase, sess.opt.database, old))
		r.message(&tsql.Error{Number: 5701, State: 2, Class: 0, Message: fmt.Sprintf("Changed database context to '%s'.", sess.opt.database), Line: int32(s.StartLine)}, "")
		sess.statementDone(r, proc, cmdNone, 0, false)
	case *tsql.Exec:
		name := strings.ToLower(s.Proc[strings.LastIndexByte(s.Proc, '.')+1:])
		if systemProcs[name] {
			return tsql.Errorf(tsql.ErrUnsupported, s.StartLine, "Keyword or statement option 'EXECUTE %s' is not supported in this version of SQL Server.", s.Proc)
		}
		return tsql.Errorf(2812, s.StartLine, "Could not find stored procedure '%s'.", s.Proc)
	case *tsql.Refused:
		return s.Err
	default:
		return tsql.Errorf(tsql.ErrUnsupported, st.Line(), "Keyword or statement option 'statement' is not supported in this version of SQL Server.")
	}
	return nil
}

// systemProcs are system procedures a batch may name that exist in SQL
// Server but that the simulator does not run in a batch.
var systemProcs = map[string]bool{
	"sp_executesql": true, "sp_prepare": true, "sp_execute": true, "sp_prepexec": true, "sp_unprepare": true,
	"sp_who": true, "sp_who2": true, "sp_help": true, "sp_helpdb": true, "sp_columns": true, "sp_tables": true,
	"sp_databases": true, "sp_server_info": true, "sp_datatype_info": true, "sp_reset_connection": true,
	"sp_setapprole": true, "sp_describe_first_result_set": true, "sp_describe_undeclared_parameters": true,
}

func (sess *session) setOption(r *response, s *tsql.SetOption, proc *procContext) *tsql.Error {
	for _, name := range s.Names {
		switch name {
		case "NOCOUNT":
			sess.opt.noCount = s.On
		case "ANSI_NULLS":
			sess.opt.ansiNulls = s.On
		case "QUOTED_IDENTIFIER":
			sess.opt.quotedIdentifier = s.On
		case "CONCAT_NULL_YIELDS_NULL":
			sess.opt.concatNull = s.On
			if !s.On {
				return tsql.Errorf(tsql.ErrUnsupported, s.StartLine, "Keyword or statement option 'SET CONCAT_NULL_YIELDS_NULL OFF' is not supported in this version of SQL Server.")
			}
		case "IMPLICIT_TRANSACTIONS":
			sess.opt.implicitTx = s.On
		case "FMTONLY":
			sess.opt.fmtOnly = s.On
		case "NOEXEC", "PARSEONLY":
			sess.opt.noExec = s.On
		case "ANSI_DEFAULTS":
			if s.On {
				sess.opt.ansiNulls, sess.opt.quotedIdentifier, sess.opt.implicitTx = true, true, true
			} else {
				sess.opt.implicitTx = false
			}
		case "SHOWPLAN_ALL", "SHOWPLAN_TEXT", "SHOWPLAN_XML", "STATISTICS XML", "STATISTICS PROFILE":
			if s.On {
				return tsql.Errorf(tsql.ErrUnsupported, s.StartLine, "Keyword or statement option 'SET %s' is not supported in this version of SQL Server.", name)
			}
		}
		// The other options (ANSI_PADDING, ANSI_WARNINGS, ARITHABORT,
		// XACT_ABORT, NO_BROWSETABLE, STATISTICS IO/TIME, …) change nothing
		// a read-only SELECT over this data shows; ANSI_WARNINGS and
		// ARITHABORT OFF would turn some errors into NULLs, and the
		// simulator keeps the error (stricter, never a wrong value).
	}
	sess.statementDone(r, proc, cmdSet, 0, false)
	return nil
}

func (sess *session) setValue(r *response, s *tsql.SetValue, proc *procContext) *tsql.Error {
	v := s.Value
	num := func() (int64, bool) {
		if v.Kind != tsql.Int {
			return 0, false
		}
		n, err := strconv.ParseInt(v.Text, 10, 64)
		if err != nil {
			return 0, false
		}
		if s.Negative {
			n = -n
		}
		return n, true
	}
	switch s.Name {
	case "DATEFORMAT":
		f := strings.ToLower(v.Text)
		switch f {
		case "mdy", "dmy", "ymd", "ydm", "myd", "dym":
			sess.opt.dateFormat = f
		default:
			return tsql.Errorf(2741, s.StartLine, "SET DATEFORMAT date order '%s' is invalid.", v.Text)
		}
	case "DATEFIRST":
		n, ok := num()
		if !ok || n < 1 || n > 7 {
			return tsql.Errorf(2739, s.StartLine, "The DATEFIRST value must be between 1 and 7.")
		}
		sess.opt.dateFirst = int(n)
	case "LANGUAGE":
		if !strings.EqualFold(v.Text, "us_english") && !strings.EqualFold(v.Text, "english") {
			return tsql.Errorf(tsql.ErrUnsupported, s.StartLine, "Keyword or statement option 'SET LANGUAGE %s' is not supported in this version of SQL Server.", v.Text)
		}
	case "TEXTSIZE":
		n, ok := num()
		if !ok {
			return tsql.Errorf(tsql.ErrSyntax, s.StartLine, "Incorrect syntax near '%s'.", v.Text)
		}
		sess.opt.textSize = int(n)
	case "LOCK_TIMEOUT":
		n, ok := num()
		if !ok || n < -1 || n > 1<<31-1 {
			return tsql.Errorf(tsql.ErrSyntax, s.StartLine, "Incorrect syntax near '%s'.", v.Text)
		}
		sess.opt.lockTimeout = int(n)
	case "ROWCOUNT":
		n, ok := num()
		if !ok || n < 0 {
			return tsql.Errorf(tsql.ErrSyntax, s.StartLine, "Incorrect syntax near '%s'.", v.Text)
		}
		sess.opt.rowCount = n
	case "DEADLOCK_PRIORITY":
		if n, ok := num(); ok {
			if n < -10 || n > 10 {
				return tsql.Errorf(1463, s.StartLine, "Invalid value %d specified for DEADLOCK_PRIORITY.", n)
			}
		} else if !strings.EqualFold(v.Text, "LOW") && !strings.EqualFold(v.Text, "NORMAL") && !strings.EqualFold(v.Text, "HIGH") {
			return tsql.Errorf(tsql.ErrSyntax, s.StartLine, "Incorrect syntax near '%s'.", v.Text)
		}
	case "QUERY_GOVERNOR_COST_LIMIT":
		if _, ok := num(); !ok {
			return tsql.Errorf(tsql.ErrSyntax, s.StartLine, "Incorrect syntax near '%s'.", v.Text)
		}
	}
	sess.statementDone(r, proc, cmdSet, 0, false)
	return nil
}

// asSQLError turns an error into what the client is told.
func asSQLError(err error, spid uint16) *tsql.Error {
	var se *tsql.Error
	if errors.As(err, &se) {
		return se
	}
	return pgError(err, spid)
}
