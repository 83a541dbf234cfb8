package tds

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/sim/tds/tsql"
)

// session is one client connection after PRELOGIN.
type session struct {
	srv  *Server
	raw  net.Conn
	rw   io.ReadWriter // raw, or TLS for the whole connection
	pw   *packetWriter
	spid uint16

	tdsVersion uint32
	user       string
	app, host  string
	packetSize int

	opt sessionOptions

	// Transactions: @@TRANCOUNT, the descriptor of the open one, and the
	// Postgres transaction held open for a snapshot-level one.
	tranCount int
	tranDesc  uint64
	nextDesc  uint64
	pgTx      pgx.Tx

	prepared   map[int32]*prepared
	nextHandle int32

	lastRowCount int64
	lastError    int32

	// Attention handling between the reader goroutine and the request.
	mu            sync.Mutex
	running       bool
	queued        int // requests read from the client and not answered yet
	cancelRequest context.CancelFunc
	attnWanted    bool
	attnFlag      *attnFlag
	acked         int // attentions answered by a request, still queued
}

// sessionOptions are the SET options the endpoint honours.
type sessionOptions struct {
	noCount          bool
	ansiNulls        bool
	quotedIdentifier bool
	concatNull       bool
	implicitTx       bool
	fmtOnly          bool
	noExec           bool
	dateFormat       string
	dateFirst        int
	textSize         int
	lockTimeout      int // milliseconds, -1 = wait forever
	isolation        string
	rowCount         int64
	database         string
}

func defaultOptions(db string) sessionOptions {
	return sessionOptions{
		ansiNulls:        true,
		quotedIdentifier: true,
		concatNull:       true,
		dateFormat:       "mdy",
		dateFirst:        7,
		textSize:         -1,
		lockTimeout:      -1,
		isolation:        "READ COMMITTED",
		database:         db,
	}
}

// attnFlag lets the row loop check for an attention without locking.
type attnFlag struct {
	mu  sync.Mutex
	set bool
}

func (f *attnFlag) get() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set
}

func newSession(s *Server, c net.Conn, spid uint16) *session {
	return &session{srv: s, raw: c, rw: c, spid: spid, prepared: map[int32]*prepared{}, nextDesc: uint64(spid) << 32, opt: defaultOptions(s.opts.Database)}
}

// ---- login ----

// login runs PRELOGIN, the TLS handshake and LOGIN7. ok is false when the
// login was refused (the refusal was sent).
func (sess *session) login() (ok bool, err error) {
	typ, status, payload, err := readPacket(sess.raw)
	if err != nil {
		return false, err
	}
	if typ == 0x16 {
		return false, errors.New("tds: client starts with TLS (TDS 8.0 strict encryption), which the simulator does not speak")
	}
	if typ != pktPrelogin {
		return false, fmt.Errorf("tds: first packet of type %#x, want PRELOGIN", typ)
	}
	for status&statusEOM == 0 {
		var more []byte
		_, status, more, err = readPacket(sess.raw)
		if err != nil {
			return false, err
		}
		payload = append(payload, more...)
	}
	pre, err := parsePrelogin(payload)
	if err != nil {
		return false, err
	}
	answer, mode := negotiate(sess.srv.opts.Encryption, pre.encryption, sess.srv.tlsCfg != nil)
	if !pre.hasEncrypt {
		answer, mode = encryptNotSup, tlsNone
	}
	// The answer is one packet of type 0x04 (go-mssqldb and FreeTDS accept
	// no other), sheet §2.
	pw := newPacketWriter(sess.raw, prePacketSize, sess.spid)
	pw.begin(pktReply)
	pw.Write(preloginAnswer(answer))
	if err := pw.end(); err != nil {
		return false, err
	}

	var first io.Reader = sess.raw
	if mode != tlsNone {
		shim := &tlsShim{conn: sess.raw, handshake: true}
		tc := tls.Server(shim, sess.srv.tlsCfg)
		if err := tc.Handshake(); err != nil {
			return false, fmt.Errorf("tds: TLS handshake: %w", err)
		}
		shim.handshake = false
		first = tc
		if mode == tlsFull {
			sess.rw = tc
		}
	}
	// LOGIN7: in login-only mode just its first packet is encrypted.
	typ, status, payload, err = readPacket(first)
	if err != nil {
		return false, err
	}
	if typ != pktLogin7 {
		return false, fmt.Errorf("tds: packet of type %#x where LOGIN7 was expected", typ)
	}
	for status&statusEOM == 0 {
		var more []byte
		_, status, more, err = readPacket(sess.rw)
		if err != nil {
			return false, err
		}
		payload = append(payload, more...)
		if len(payload) > 128<<10 {
			return false, errors.New("tds: LOGIN7 longer than 128 KB")
		}
	}
	l, err := parseLogin7(payload)
	if err != nil {
		return false, err
	}
	sess.tdsVersion = l.tdsVersion
	sess.app, sess.host = l.appName, l.hostName
	sess.packetSize = packetSizeFor(l.packetSize)
	sess.pw = newPacketWriter(sess.rw, min(prePacketSize, sess.packetSize), sess.spid)

	opts := sess.srv.opts
	refuse := func(errs ...*tsql.Error) (bool, error) {
		sess.pw.begin(pktReply)
		for _, e := range errs {
			sess.pw.Write(messageToken(e.Number, e.State, e.Class, e.Message, opts.ServerName, "", 1))
		}
		sess.pw.Write(doneToken(tokDone, doneError, 0, 0))
		return false, sess.pw.end()
	}
	loginFailed := &tsql.Error{Number: 18456, State: 1, Class: 14, Message: fmt.Sprintf("Login failed for user '%s'.", l.userName)}
	switch {
	case l.sspi:
		return refuse(&tsql.Error{Number: 18452, State: 1, Class: 14, Message: "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication."})
	case !strings.EqualFold(l.userName, opts.User) || l.password != opts.Password:
		sess.srv.log.Info("tds: login refused", "user", l.userName, "remote", sess.raw.RemoteAddr().String())
		return refuse(loginFailed)
	case l.database != "" && !strings.EqualFold(l.database, opts.Database):
		return refuse(&tsql.Error{Number: 4060, State: 1, Class: 11, Message: fmt.Sprintf("Cannot open database \"%s\" requested by the login. The login failed.", l.database)}, loginFailed)
	}
	sess.user = opts.User

	// The login response, in SQL Server's order (sheet §4).
	pw = sess.pw
	pw.begin(pktReply)
	pw.Write(envChangeText(envDatabase, opts.Database, "master"))
	pw.Write(messageToken(5701, 2, 0, fmt.Sprintf("Changed database context to '%s'.", opts.Database), opts.ServerName, "", 1))
	pw.Write(envChangeBytes(envCollation, collation, nil))
	pw.Write(envChangeText(envLanguage, "us_english", ""))
	pw.Write(messageToken(5703, 1, 0, "Changed language setting to us_english.", opts.ServerName, "", 1))
	pw.Write(loginAckToken(ackVersion(l.tdsVersion)))
	pw.Write(envPacketSizeToken(sess.packetSize, sess.packetSize))
	pw.Write(doneToken(tokDone, doneFinal, 0, 0))
	if err := pw.end(); err != nil {
		return false, err
	}
	// Both sides switch to the negotiated size after the login response.
	pw.setSize(sess.packetSize)
	return true, nil
}

// ---- the request loop ----

// incoming is a message or the reader's end.
type incoming struct {
	msg *message
	err error
}

func (sess *session) run() {
	in := make(chan incoming, 4)
	go func() {
		defer close(in)
		for {
			m, err := readMessage(sess.rw)
			if err != nil {
				in <- incoming{err: err}
				return
			}
			if m.typ != pktAttention {
				sess.mu.Lock()
				sess.queued++
				sess.mu.Unlock()
			} else {
				// Cancel the request in flight, or the one read but not
				// started yet (under load the attention can come first);
				// the message itself is queued so an idle session still
				// answers it.
				sess.mu.Lock()
				if sess.queued > 0 {
					sess.attnWanted = true
					if sess.attnFlag != nil {
						sess.attnFlag.mu.Lock()
						sess.attnFlag.set = true
						sess.attnFlag.mu.Unlock()
					}
					if sess.cancelRequest != nil {
						sess.cancelRequest()
					}
				}
				sess.mu.Unlock()
			}
			in <- incoming{msg: m}
		}
	}()
	defer func() {
		if sess.pgTx != nil {
			sess.pgTx.Rollback(context.Background())
			sess.pgTx = nil
		}
		sess.raw.Close()
		for range in {
		}
	}()
	for item := range in {
		if item.err != nil {
			return
		}
		if err := sess.serve(item.msg); err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				sess.srv.log.Debug("tds: connection ends", "spid", sess.spid, "error", err)
			}
			return
		}
	}
}

// serve answers one client message. An error ends the connection.
func (sess *session) serve(m *message) error {
	if m.typ == pktAttention {
		if sess.acked > 0 {
			sess.acked--
			return nil
		}
		return sess.sendAttnAck()
	}
	if m.ignore {
		// The client gave up sending this message ([MS-TDS] 2.2.1.7).
		sess.mu.Lock()
		sess.queued--
		wanted := sess.attnWanted
		sess.attnWanted = false
		sess.mu.Unlock()
		sess.pw.begin(pktReply)
		sess.pw.Write(doneToken(tokDone, doneError, 0, 0))
		if err := sess.pw.end(); err != nil || !wanted {
			return err
		}
		sess.acked++
		return sess.sendAttnAck()
	}
	if sess.srv.beforeRequest != nil {
		sess.srv.beforeRequest()
	}
	ctx, cancel := context.WithCancel(sess.srv.ctx)
	flag := &attnFlag{}
	sess.mu.Lock()
	sess.running, sess.cancelRequest, sess.attnFlag = true, cancel, flag
	if sess.attnWanted {
		// The client cancelled the request before it started.
		flag.set = true
		cancel()
	}
	sess.mu.Unlock()

	sess.pw.begin(pktReply)
	r := &response{sess: sess, attn: flag}
	if m.reset() && (m.typ == pktSQLBatch || m.typ == pktRPC || m.typ == pktTM) {
		sess.resetConnection(r)
	}
	var err error
	switch m.typ {
	case pktSQLBatch:
		err = sess.batch(ctx, r, m)
	case pktRPC:
		err = sess.rpc(ctx, r, m)
	case pktTM:
		err = sess.transactionManager(ctx, r, m)
	default:
		err = fmt.Errorf("tds: unexpected message of type %#x", m.typ)
	}
	cancel()
	sess.mu.Lock()
	sess.running, sess.cancelRequest, sess.attnFlag = false, nil, nil
	sess.queued--
	wanted := sess.attnWanted
	sess.attnWanted = false
	sess.mu.Unlock()
	if err != nil {
		return err
	}
	r.finish()
	if err := sess.pw.end(); err != nil {
		return err
	}
	if wanted {
		// The request was cancelled: its response is closed above, the
		// acknowledgement goes in a message of its own (sheet §9).
		sess.acked++
		return sess.sendAttnAck()
	}
	return nil
}

func (sess *session) sendAttnAck() error {
	sess.pw.begin(pktReply)
	sess.pw.Write(doneToken(tokDone, doneAttn, 0, 0))
	return sess.pw.end()
}

// resetConnection is RESETCONNECTION: the session as after login, an open
// transaction rolled back, prepared statements dropped.
func (sess *session) resetConnection(r *response) {
	if sess.pgTx != nil {
		sess.pgTx.Rollback(context.Background())
		sess.pgTx = nil
	}
	sess.tranCount = 0
	sess.tranDesc = 0
	db := sess.opt.database
	sess.opt = defaultOptions(sess.srv.opts.Database)
	sess.prepared = map[int32]*prepared{}
	sess.lastError, sess.lastRowCount = 0, 0
	r.token(envChangeText(envResetAck, "", ""))
	if !strings.EqualFold(db, sess.srv.opts.Database) {
		r.token(envChangeText(envDatabase, sess.srv.opts.Database, db))
	}
}

// ---- transactions (TM requests) ----

// transactionManager answers a TM request: BEGIN, COMMIT, ROLLBACK, SAVE
// (sheet §9). go-mssqldb needs the BEGIN descriptor or every statement
// of the transaction fails.
func (sess *session) transactionManager(ctx context.Context, r *response, m *message) error {
	rd := &reader{b: sess.skipAllHeaders(m.data)}
	kind := rd.u16()
	if rd.err != nil {
		return rd.err
	}
	switch kind {
	case 5: // BEGIN
		iso := rd.u8()
		if lvl, ok := tmIsolation[iso]; ok && iso != 0 {
			sess.opt.isolation = lvl
		}
		sess.beginTran(r)
		r.done(cmdBegin, 0, false)
	case 7, 8: // COMMIT, ROLLBACK
		if kind == 7 {
			if sess.tranCount == 0 {
				r.fail(tsql.Errorf(3902, 1, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION."))
				return nil
			}
			sess.commitTran(ctx, r)
			r.done(cmdCommit, 0, false)
		} else {
			if sess.tranCount == 0 {
				r.fail(tsql.Errorf(3903, 1, "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION."))
				return nil
			}
			sess.rollbackTran(r)
			r.done(cmdRollback, 0, false)
		}
		// Flags 0x01: begin a new transaction at once (with its isolation).
		rd.bVarchar()
		if flags := rd.u8(); rd.err == nil && flags&0x01 != 0 {
			if iso := rd.u8(); rd.err == nil {
				if lvl, ok := tmIsolation[iso]; ok && iso != 0 {
					sess.opt.isolation = lvl
				}
			}
			sess.beginTran(r)
		}
	case 9: // SAVE
		if sess.tranCount == 0 {
			r.fail(tsql.Errorf(628, 1, "Cannot issue SAVE TRANSACTION when there is no active transaction."))
			return nil
		}
		r.done(cmdNone, 0, false)
	default:
		r.fail(tsql.Errorf(tsql.ErrUnsupported, 1, "Keyword or statement option 'transaction manager request %d' is not supported in this version of SQL Server.", kind))
	}
	return nil
}

var tmIsolation = map[byte]string{1: "READ UNCOMMITTED", 2: "READ COMMITTED", 3: "REPEATABLE READ", 4: "SERIALIZABLE", 5: "SNAPSHOT"}

func (sess *session) beginTran(r *response) {
	sess.tranCount++
	if sess.tranCount > 1 {
		return
	}
	sess.nextDesc++
	sess.tranDesc = sess.nextDesc
	r.token(envChangeBytes(envBeginTran, binary.LittleEndian.AppendUint64(nil, sess.tranDesc), nil))
}

func (sess *session) commitTran(ctx context.Context, r *response) {
	sess.tranCount--
	if sess.tranCount > 0 {
		return
	}
	if sess.pgTx != nil {
		sess.pgTx.Commit(ctx)
		sess.pgTx = nil
	}
	r.token(envChangeBytes(envCommitTran, nil, binary.LittleEndian.AppendUint64(nil, sess.tranDesc)))
	sess.tranDesc = 0
}

func (sess *session) rollbackTran(r *response) {
	sess.tranCount = 0
	if sess.pgTx != nil {
		sess.pgTx.Rollback(context.Background())
		sess.pgTx = nil
	}
	r.token(envChangeBytes(envRollback, nil, binary.LittleEndian.AppendUint64(nil, sess.tranDesc)))
	sess.tranDesc = 0
}

// skipAllHeaders drops ALL_HEADERS (TDS 7.2+, sheet §5) by its total
// length.
func (sess *session) skipAllHeaders(b []byte) []byte {
	if sess.tdsVersion>>24 < 0x72 || len(b) < 4 {
		return b
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 4 || n > len(b) {
		return b
	}
	return b[n:]
}
