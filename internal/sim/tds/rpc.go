package tds

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// Special stored procedure ids (sheet §5).
const (
	procExecuteSQL = 10
	procPrepare    = 11
	procExecute    = 12
	procPrepExec   = 13
	procUnprepare  = 15
)

var procNames = map[uint16]string{
	1: "sp_cursor", 2: "sp_cursoropen", 3: "sp_cursorprepare", 4: "sp_cursorexecute", 5: "sp_cursorprepexec",
	6: "sp_cursorunprepare", 7: "sp_cursorfetch", 8: "sp_cursoroption", 9: "sp_cursorclose",
	10: "sp_executesql", 11: "sp_prepare", 12: "sp_execute", 13: "sp_prepexec", 14: "sp_prepexecrpc", 15: "sp_unprepare",
}

// rpcParam is one parameter of an RPC.
type rpcParam struct {
	name   string
	status byte // 0x01 output, 0x02 default value
	typ    paramType
	value  tsql.Value
}

type rpcCall struct {
	proc   string // lower case, without schema
	params []rpcParam
}

// prepared is a statement prepared by sp_prepare or sp_prepexec.
type prepared struct {
	text     string
	declText string
	decls    []tsql.ParamDecl
	stmts    []tsql.Statement
}

// rpc runs an RPC message: one call, or several separated by 0xFF/0x80.
func (sess *session) rpc(ctx context.Context, r *response, m *message) error {
	rd := &reader{b: sess.skipAllHeaders(m.data)}
	for {
		call, err := readRPC(rd)
		if err != nil {
			var se *tsql.Error
			if errors.As(err, &se) {
				r.message(se, "")
				r.token(returnStatusToken(1))
				r.doneProc(doneError)
				return nil
			}
			return err
		}
		sess.call(ctx, r, call)
		if r.stopped || rd.left() == 0 {
			return nil
		}
		if sep := rd.u8(); sep != 0xFF && sep != 0x80 {
			return fmt.Errorf("tds: %#x after an RPC where a batch separator was expected", sep)
		}
		if rd.left() == 0 {
			return nil
		}
	}
}

// readRPC reads one call: the procedure (name or id), option flags,
// parameters.
func readRPC(rd *reader) (*rpcCall, error) {
	call := &rpcCall{}
	n := rd.u16()
	if n == 0xFFFF {
		id := rd.u16()
		name, ok := procNames[id]
		if !ok {
			name = fmt.Sprintf("procedure id %d", id)
		}
		call.proc = name
	} else {
		call.proc = decodeUTF16(rd.bytes(int(n) * 2))
	}
	rd.u16() // option flags: recompile, no metadata — nothing to do
	if rd.err != nil {
		return nil, rd.err
	}
	for rd.left() > 0 {
		if b := rd.b[rd.off]; b == 0xFF || b == 0x80 {
			break
		}
		p := rpcParam{name: rd.bVarchar(), status: rd.u8()}
		t, err := rd.typeInfo()
		if err != nil {
			return nil, err
		}
		p.typ = t
		v, err := rd.value(t)
		if err != nil {
			return nil, err
		}
		p.value = v
		call.params = append(call.params, p)
	}
	return call, rd.err
}

// procName normalises a procedure name: "sys.sp_executesql",
// "[master]..sp_executesql" → "sp_executesql".
func procName(s string) string {
	s = strings.ToLower(s)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Trim(s, "[]")
}

// call runs one procedure call and writes RETURNSTATUS and DONEPROC.
func (sess *session) call(ctx context.Context, r *response, call *rpcCall) {
	var outs []outParam
	var err *failure
	switch name := procName(call.proc); name {
	case "sp_executesql":
		outs, err = sess.executeSQL(ctx, r, call.params)
	case "sp_prepare", "sp_prepexec":
		outs, err = sess.prepare(ctx, r, call.params, name == "sp_prepexec")
	case "sp_execute":
		outs, err = sess.execute(ctx, r, call.params)
	case "sp_unprepare":
		if e := sess.unprepare(call.params); e != nil {
			err = failed(e)
		}
	case "sp_reset_connection":
		sess.resetConnection(r)
	default:
		if strings.HasPrefix(name, "sp_cursor") || name == "sp_prepexecrpc" {
			err = failed(tsql.Errorf(tsql.ErrUnsupported, 1, "Keyword or statement option '%s' is not supported in this version of SQL Server.", name))
		} else {
			err = failed(tsql.Errorf(2812, 1, "Could not find stored procedure '%s'.", call.proc))
		}
	}
	if r.stopped {
		return
	}
	if err != nil {
		if !err.sent {
			sess.lastError = err.err.Number
			r.message(err.err, "")
		}
		r.token(returnStatusToken(1))
		r.doneProc(doneError)
		return
	}
	r.token(returnStatusToken(0))
	for _, o := range outs {
		tok, eerr := returnValueToken(o)
		if eerr != nil {
			r.message(asSQLError(eerr, sess.spid), "")
			continue
		}
		r.token(tok)
	}
	r.doneProc(doneFinal)
}

// outParam is an output parameter to return.
type outParam struct {
	ordinal int
	name    string
	value   tsql.Value
}

// executeSQL is sp_executesql: @statement, @params, then the values.
func (sess *session) executeSQL(ctx context.Context, r *response, params []rpcParam) ([]outParam, *failure) {
	if len(params) == 0 {
		return nil, failed(tsql.Errorf(201, 1, "Procedure or function 'sp_executesql' expects parameter '@statement', which was not supplied."))
	}
	stmt := params[0]
	if !stmt.value.Type.IsUnicode() {
		return nil, failed(tsql.Errorf(214, 1, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'."))
	}
	declText := ""
	values := params[1:]
	if len(params) > 1 && (params[1].name == "" || strings.EqualFold(params[1].name, "@params")) {
		if !params[1].value.Type.IsUnicode() && !params[1].value.Null {
			return nil, failed(tsql.Errorf(214, 1, "Procedure expects parameter '@params' of type 'ntext/nchar/nvarchar'."))
		}
		declText = params[1].value.S
		values = params[2:]
	}
	decls, err := tsql.ParseParamDecls(declText)
	if err != nil {
		return nil, failed(asSQLError(err, sess.spid))
	}
	p := &prepared{text: stmt.value.S, declText: declText, decls: decls}
	return sess.runPrepared(ctx, r, p, values, 2, "sp_executesql")
}

// runPrepared binds the values to the declarations and runs the text.
// first is the ordinal of the first value in the call.
func (sess *session) runPrepared(ctx context.Context, r *response, p *prepared, values []rpcParam, first int, proc string) ([]outParam, *failure) {
	params, outs, err := sess.bind(p, values, first, proc)
	if err != nil {
		return nil, failed(err)
	}
	stmts := p.stmts
	if stmts == nil {
		var perr error
		stmts, perr = tsql.Parse(p.text, sess.parseOptions())
		if perr != nil {
			return nil, failed(asSQLError(perr, sess.spid))
		}
	}
	if serr := sess.runStatements(ctx, r, stmts, &procContext{params: params, decls: p.decls}); serr != nil {
		return nil, &failure{err: serr, sent: true}
	}
	return outs, nil
}

// bind converts each value to its declared type, as SQL Server does when
// it passes parameters (error 8114 when it cannot), and checks every
// declared parameter got one.
func (sess *session) bind(p *prepared, values []rpcParam, first int, proc string) (map[string]tsql.Value, []outParam, *tsql.Error) {
	out := map[string]tsql.Value{}
	var outs []outParam
	ydm := sess.opt.dateFormat == "dmy" || sess.opt.dateFormat == "ydm"
	named := false
	for i, v := range values {
		var d *tsql.ParamDecl
		if v.name != "" {
			named = true
			for k := range p.decls {
				if strings.EqualFold(p.decls[k].Name, v.name) {
					d = &p.decls[k]
					break
				}
			}
			if d == nil {
				return nil, nil, tsql.Errorf(8145, 1, "%s is not a parameter for procedure %s.", v.name, proc)
			}
		} else {
			if named {
				return nil, nil, tsql.Errorf(119, 1, "Must pass parameter number %d and subsequent parameters as '@name = value'. After the form '@name = value' has been used, all subsequent parameters must be passed in the form '@name = value'.", first+i+1)
			}
			if i >= len(p.decls) {
				return nil, nil, tsql.Errorf(8144, 1, "Procedure or function %s has too many arguments specified.", proc)
			}
			d = &p.decls[i]
		}
		if v.status&0x02 != 0 {
			continue // DEFAULT: not supplied
		}
		conv, cerr := tsql.Convert(v.value, d.Type, false, 0, ydm)
		if cerr != nil {
			return nil, nil, tsql.Errorf(tsql.ErrConvertParam, 1, "Error converting data type %s to %s.", v.value.Type.BaseName(), d.Type.BaseName())
		}
		out[strings.ToLower(d.Name)] = conv
		if v.status&0x01 != 0 {
			outs = append(outs, outParam{ordinal: first + i, name: d.Name, value: conv})
		}
	}
	for _, d := range p.decls {
		if _, ok := out[strings.ToLower(d.Name)]; !ok {
			text := p.text
			if len(text) > 100 {
				text = text[:100]
			}
			return nil, nil, tsql.Errorf(8178, 1, "The parameterized query '(%s)%s' expects the parameter '%s', which was not supplied.", p.declText, text, d.Name)
		}
	}
	return out, outs, nil
}

// prepare is sp_prepare (@handle OUTPUT, @params, @stmt[, @options]) and
// sp_prepexec (the same, then the values): the text is parsed now, so a
// syntax error comes back from the prepare as from SQL Server.
func (sess *session) prepare(ctx context.Context, r *response, params []rpcParam, exec bool) ([]outParam, *failure) {
	name := "sp_prepare"
	if exec {
		name = "sp_prepexec"
	}
	if len(params) < 3 {
		return nil, failed(tsql.Errorf(201, 1, "Procedure or function '%s' expects parameter '@stmt', which was not supplied.", name))
	}
	if !params[2].value.Type.IsUnicode() {
		return nil, failed(tsql.Errorf(214, 1, "Procedure expects parameter '@stmt' of type 'ntext/nchar/nvarchar'."))
	}
	p := &prepared{text: params[2].value.S, declText: params[1].value.S}
	decls, err := tsql.ParseParamDecls(p.declText)
	if err != nil {
		return nil, failed(asSQLError(err, sess.spid))
	}
	p.decls = decls
	stmts, err := tsql.Parse(p.text, sess.parseOptions())
	if err != nil {
		return nil, failed(asSQLError(err, sess.spid))
	}
	p.stmts = stmts
	sess.nextHandle++
	handle := sess.nextHandle
	sess.prepared[handle] = p
	out := outParam{ordinal: 0, name: params[0].name, value: tsql.IntValue(tsql.TInt, int64(handle))}
	if out.name == "" {
		out.name = "@handle"
	}
	if !exec {
		return []outParam{out}, nil
	}
	values := params[3:]
	if len(values) > 0 && strings.EqualFold(values[0].name, "@options") {
		values = values[1:]
	}
	outs, serr := sess.runPrepared(ctx, r, p, values, 3, name)
	if serr != nil {
		return nil, serr
	}
	return append([]outParam{out}, outs...), nil
}

// execute is sp_execute: @handle, then the values.
func (sess *session) execute(ctx context.Context, r *response, params []rpcParam) ([]outParam, *failure) {
	if len(params) == 0 {
		return nil, failed(tsql.Errorf(201, 1, "Procedure or function 'sp_execute' expects parameter '@handle', which was not supplied."))
	}
	h, cerr := tsql.Convert(params[0].value, tsql.Type{Kind: tsql.TInt}, false, 0, false)
	if cerr != nil || h.Null {
		return nil, failed(tsql.Errorf(8179, 1, "Could not find prepared statement with handle %s.", params[0].value))
	}
	p, ok := sess.prepared[int32(h.I)]
	if !ok {
		return nil, failed(tsql.Errorf(8179, 1, "Could not find prepared statement with handle %d.", h.I))
	}
	return sess.runPrepared(ctx, r, p, params[1:], 1, "sp_execute")
}

func (sess *session) unprepare(params []rpcParam) *tsql.Error {
	if len(params) == 0 {
		return tsql.Errorf(201, 1, "Procedure or function 'sp_unprepare' expects parameter '@handle', which was not supplied.")
	}
	h, cerr := tsql.Convert(params[0].value, tsql.Type{Kind: tsql.TInt}, false, 0, false)
	if cerr != nil || h.Null {
		return tsql.Errorf(8179, 1, "Could not find prepared statement with handle %s.", params[0].value)
	}
	if _, ok := sess.prepared[int32(h.I)]; !ok {
		return tsql.Errorf(8179, 1, "Could not find prepared statement with handle %d.", h.I)
	}
	delete(sess.prepared, int32(h.I))
	return nil
}

// failure is why a call failed; sent is true when the statements already
// reported it (an ERROR token is written once).
type failure struct {
	err  *tsql.Error
	sent bool
}

func failed(e *tsql.Error) *failure { return &failure{err: e} }

// returnValueToken is RETURNVALUE for an output parameter ([MS-TDS]
// 2.2.7.19): ordinal, name, status 1, user type, flags, TYPE_INFO, value.
func returnValueToken(o outParam) ([]byte, error) {
	b := []byte{tokReturnValue}
	b = binary.LittleEndian.AppendUint16(b, uint16(o.ordinal))
	b = bVarchar(b, o.name)
	b = append(b, 0x01)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint16(b, 0x0001)
	typ := o.value.Type
	b = append(b, typeInfo(typ)...)
	return appendValue(b, o.value)
}

// appendValue encodes a value as a result column of its type would be.
func appendValue(b []byte, v tsql.Value) ([]byte, error) {
	c := newCodec(tsql.ResultColumn{Type: v.Type})
	if v.Null {
		return c.encode(b)
	}
	switch d := c.dest.(type) {
	case *pgtype.Bool:
		*d = pgtype.Bool{Bool: v.I != 0, Valid: true}
	case *pgtype.Int2:
		*d = pgtype.Int2{Int16: int16(v.I), Valid: true}
	case *pgtype.Int4:
		*d = pgtype.Int4{Int32: int32(v.I), Valid: true}
	case *pgtype.Int8:
		*d = pgtype.Int8{Int64: v.I, Valid: true}
	case *pgtype.Numeric:
		*d = pgtype.Numeric{Int: new(big.Int).Set(v.D.Coefficient()), Exp: v.D.Exponent(), Valid: true}
	case *pgtype.Float4:
		*d = pgtype.Float4{Float32: float32(v.F), Valid: true}
	case *pgtype.Float8:
		*d = pgtype.Float8{Float64: v.F, Valid: true}
	case *pgtype.Text:
		*d = pgtype.Text{String: v.S, Valid: true}
	case *pgtype.Date:
		*d = pgtype.Date{Time: v.T, Valid: true}
	case *pgtype.Timestamp, *pgtype.Timestamptz, *pgtype.Time:
		// Straight from the value: it keeps its offset and precision.
		return appendDateTime(b, v.T, v.Type)
	case *pgtype.UUID:
		var u [16]byte
		hex := strings.ReplaceAll(v.S, "-", "")
		for i := 0; i < 16 && 2*i+1 < len(hex); i++ {
			fmt.Sscanf(hex[2*i:2*i+2], "%02x", &u[i])
		}
		*d = pgtype.UUID{Bytes: u, Valid: true}
	case *[]byte:
		*d = v.B
	}
	return c.encode(b)
}
