package sapb1sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a Server. The zero value of each field is its default.
type Options struct {
	// Pool is the Postgres pool the company lives in. Either Pool or
	// DatabaseURL is required; a pool opened from DatabaseURL is closed by
	// Close, a given Pool is not.
	Pool        *pgxpool.Pool
	DatabaseURL string

	// CompanyDB is the company database name clients log in to; the company
	// lives in the Postgres schema "sbo_" + lower(CompanyDB). Required:
	// letters, digits and _.
	CompanyDB string
	// User and Password are the one B1 user's credentials. Required.
	User, Password string
	// CompanyName is OADM.CompnyName. Default: CompanyDB.
	CompanyName string
	// Currency is the company's local currency (OADM.MainCurncy), the
	// currency of documents whose business partner has none. Default "USD".
	Currency string
	// Reset drops the company's schema and starts with an empty company.
	// Default false: an existing company is kept.
	Reset bool

	// SessionTimeout is the idle time after which a session ends. Default
	// 30 minutes (SAP's b1s.conf default).
	SessionTimeout time.Duration
	// DocsPerSecond is the document-write capacity (see capacity.go).
	// Default 5, within SAP's published 2.7-6.7 (reference §A7); negative =
	// unlimited.
	DocsPerSecond float64
	// ProxyTimeout is when the Apache proxy gives up and answers 502 while
	// the request goes on. Default 60s (Apache's Timeout); negative = none.
	ProxyTimeout time.Duration
	// DeadlockRate is the chance a document write loses a deadlock while
	// another one is in flight. Default 0.
	DeadlockRate float64
	// Faults that are on from the start (outage, slow login, commit delay);
	// its capacity fields are ignored in favour of the fields above.
	Faults Faults

	// Now is the clock for time stamps (UpdateDate/UpdateTS, CreateDate,
	// DocDate defaults) and session timeouts. Default time.Now. Capacity
	// and timeouts use real time.
	Now func() time.Time
	// Location is the company's time zone: SAP stamps UpdateDate and
	// UpdateTS in the server's local time. Default UTC.
	Location *time.Location
	// Logger receives what an operator must act on. Default: discard.
	Logger *slog.Logger
}

// Server is the Service Layer simulator: an http.Handler serving /b1s/v1 and
// the control API under /_sim/.
type Server struct {
	opts     Options
	pool     *pgxpool.Pool
	ownPool  bool
	schema   string
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	sessions sessions
	fault    faultState
	pace     pacer
	stats    counters

	udfMu sync.RWMutex
	udfs  map[string][]*field // by table
}

// New opens (or creates) the company and returns the simulator.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.CompanyDB == "" || opts.User == "" || opts.Password == "" {
		return nil, errors.New("sapb1sim: CompanyDB, User and Password are required")
	}
	schema, err := schemaName(opts.CompanyDB)
	if err != nil {
		return nil, err
	}
	if opts.CompanyName == "" {
		opts.CompanyName = opts.CompanyDB
	}
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := opts.Faults
	switch {
	case opts.DocsPerSecond == 0:
		f.DocsPerSecond = 5
	case opts.DocsPerSecond < 0:
		f.DocsPerSecond = 0
	default:
		f.DocsPerSecond = opts.DocsPerSecond
	}
	switch {
	case opts.ProxyTimeout == 0:
		f.ProxyTimeout = 60 * time.Second
	case opts.ProxyTimeout < 0:
		f.ProxyTimeout = 0
	default:
		f.ProxyTimeout = opts.ProxyTimeout
	}
	f.DeadlockRate = opts.DeadlockRate

	s := &Server{opts: opts, schema: schema, log: opts.Logger, pool: opts.Pool, sessions: sessions{all: map[string]*session{}}}
	s.fault.f = f
	if s.pool == nil {
		if opts.DatabaseURL == "" {
			return nil, errors.New("sapb1sim: Pool or DatabaseURL is required")
		}
		s.pool, err = pgxpool.New(ctx, opts.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("sapb1sim: %w", err)
		}
		s.ownPool = true
	}
	if err := ensureCompany(ctx, s.pool, schema, opts.CompanyName, opts.Currency, opts.Reset); err != nil {
		s.closePool()
		return nil, fmt.Errorf("sapb1sim: company %s: %w", opts.CompanyDB, err)
	}
	if err := s.loadUDFs(ctx); err != nil {
		s.closePool()
		return nil, fmt.Errorf("sapb1sim: user-defined fields: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Schema is the Postgres schema that holds the company.
func (s *Server) Schema() string { return s.schema }

// Pool is the Postgres pool the company lives in.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// Close stops requests in flight (those still waiting for capacity fail) and
// closes the pool if New opened it.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
	s.closePool()
}

func (s *Server) closePool() {
	if s.ownPool {
		s.pool.Close()
	}
}

func (s *Server) now() time.Time { return s.opts.Now().In(s.opts.Location) }

// t is a company table's qualified name.
func (s *Server) t(table string) string { return ident(s.schema) + "." + ident(table) }

// ---- HTTP ----

// slReq is one Service Layer request: from HTTP, or a part of a $batch.
type slReq struct {
	method string
	path   string // below /b1s/v1/, as escaped on the wire
	query  string // raw query
	header http.Header
	body   []byte
	base   string // scheme://host, for absolute links
	batch  *batchReq
}

// slResp is its answer.
type slResp struct {
	status int
	header http.Header
	body   []byte
}

func errorResp(e *slError) *slResp {
	h := http.Header{}
	h.Set("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
	return &slResp{status: e.status, header: h, body: e.body()}
}

func jsonResp(status int, v any) *slResp {
	h := http.Header{}
	h.Set("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
	b, err := json.Marshal(v)
	if err != nil {
		return errorResp(newErr(http.StatusInternalServerError, -1, "Internal error: %v", err))
	}
	return &slResp{status: status, header: h, body: b}
}

const slPrefix = "/b1s/v1/"

// ServeHTTP serves the Service Layer and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "/_sim" || strings.HasPrefix(p, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	s.stats.requests.Add(1)
	f := s.faults()
	if f.Outage {
		apacheError(w, http.StatusServiceUnavailable, "Service Unavailable",
			"<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>")
		return
	}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, slPrefix) {
		apacheError(w, http.StatusNotFound, "Not Found",
			"<p>The requested URL was not found on this server.</p>")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	method := r.Method
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" && method == http.MethodPost {
		method = strings.ToUpper(o)
	}
	rq := &slReq{method: method, path: strings.TrimPrefix(path, slPrefix), query: r.URL.RawQuery,
		header: r.Header, body: body, base: scheme + "://" + r.Host}
	if rq.path == "$batch" {
		rq.batch, _ = parseBatch(r.Header.Get("Content-Type"), body)
	}
	if s.isDocWrite(rq) {
		defer s.beginWrite()()
	}

	// The request runs on its own so that the proxy can give up on it: past
	// ProxyTimeout the client gets a 502 while SAP goes on and may commit.
	done := make(chan *slResp, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		done <- s.handle(s.ctx, rq)
	}()
	var timeout <-chan time.Time
	if f.ProxyTimeout > 0 {
		t := time.NewTimer(f.ProxyTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case resp := <-done:
		for k, v := range resp.header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
	case <-timeout:
		s.stats.http502.Add(1)
		apacheError(w, http.StatusBadGateway, "Proxy Error", fmt.Sprintf(
			"<p>The proxy server received an invalid\nresponse from an upstream server.<br />\nThe proxy server could not handle the request <em><a href=\"%s\">%s&nbsp;%s</a></em>.<p>\nReason: <strong>Error reading from remote server</strong></p></p>",
			htmlEscape(r.URL.Path), r.Method, htmlEscape(r.URL.Path)))
	}
}

// apacheError answers as Apache httpd does in front of the Service Layer.
func apacheError(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n%s\n</body></html>\n", status, title, title, body)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// handle answers one Service Layer request (sessions, then the resource).
func (s *Server) handle(ctx context.Context, rq *slReq) *slResp {
	if rq.path == "Login" {
		return s.login(rq)
	}
	ss, err := s.checkSession(rq)
	if err != nil {
		return errorResp(err)
	}
	switch rq.path {
	case "Logout":
		if rq.method != http.MethodPost {
			return errorResp(newErr(http.StatusMethodNotAllowed, -1, "Method %s is not allowed for Logout", rq.method))
		}
		return s.logout(ss)
	case "$batch":
		return s.serveBatch(ctx, rq)
	}
	return s.serveOne(ctx, rq)
}

// Call runs one Service Layer request in process, as the superuser and
// without a session, capacity or proxy: for seeding a sandbox company and
// for tests. path is below /b1s/v1/ and may carry a query ("Items?$top=5").
func (s *Server) Call(ctx context.Context, method, path string, body []byte) (int, []byte) {
	p, q, _ := strings.Cut(path, "?")
	rq := &slReq{method: method, path: p, query: q, header: http.Header{}, body: body, base: ""}
	op, err := s.route(rq)
	if err != nil {
		return err.status, err.body()
	}
	op.paced = false
	resp := s.runOne(ctx, op, rq)
	return resp.status, resp.body
}

// isDocWrite reports whether the request writes documents (for the count
// of concurrent writes): a document POST, PATCH or action, or a $batch with
// one.
func (s *Server) isDocWrite(rq *slReq) bool {
	if rq.batch != nil {
		for _, p := range rq.batch.parts {
			for _, sub := range p.requests {
				if op, err := s.route(sub); err == nil && op.paced {
					return true
				}
			}
		}
		return false
	}
	op, err := s.route(rq)
	return err == nil && op.paced
}

// serveOne runs a request that is not part of a $batch.
func (s *Server) serveOne(ctx context.Context, rq *slReq) *slResp {
	op, err := s.route(rq)
	if err != nil {
		return errorResp(err)
	}
	return s.runOne(ctx, op, rq)
}

// runOne runs an operation in a transaction of its own: reads at READ
// COMMITTED, writes with the row locks SAP takes (see documents.go).
func (s *Server) runOne(ctx context.Context, op *operation, rq *slReq) *slResp {
	slotEnd := time.Now()
	if op.paced {
		var err *slError
		slotEnd, err = s.admitWrite(ctx)
		if err != nil {
			_ = sleepUntil(ctx, slotEnd)
			s.countDeadlock(err)
			return errorResp(err)
		}
	}
	defer func() { _ = sleepUntil(ctx, slotEnd) }()
	tc := &txCtx{}
	var resp *slResp
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tc.tx = tx
		var e *slError
		resp, e = s.execute(ctx, op, rq, tc)
		if e != nil {
			return e
		}
		return nil
	})
	if err != nil {
		sl, _ := asSLError(err)
		s.countDeadlock(sl)
		if sl.status >= 500 && sl.code != -2038 {
			s.log.Error("sapb1sim: request failed", "method", rq.method, "path", rq.path, "err", err)
		}
		return errorResp(sl)
	}
	s.committed(ctx, tc)
	return resp
}

// committed does what follows a commit: count documents, apply UDF changes,
// and hold the answer when the crash tests ask for it.
func (s *Server) committed(ctx context.Context, tc *txCtx) {
	s.stats.documents.Add(int64(tc.docs))
	if tc.udfChanged {
		if err := s.loadUDFs(ctx); err != nil {
			s.log.Error("sapb1sim: reload user-defined fields", "err", err)
		}
	}
	if tc.wrote {
		if d := s.faults().CommitDelay; d > 0 {
			sleep(ctx, d)
		}
	}
}

// txCtx is the state of one transaction: one request, or one changeset.
type txCtx struct {
	tx         pgx.Tx
	docs       int  // documents added
	wrote      bool // anything written
	udfChanged bool // a user-defined field was created
	stamp      *stamp
}

// stamp is "now" in the company's time zone, fixed for one transaction so
// every row it touches carries the same UpdateDate and UpdateTS.
type stamp struct {
	date string // YYYY-MM-DD
	ts   int    // HHMMSS
}

func (s *Server) stampOf(tc *txCtx) *stamp {
	if tc.stamp == nil {
		n := s.now()
		tc.stamp = &stamp{date: n.Format("2006-01-02"), ts: n.Hour()*10000 + n.Minute()*100 + n.Second()}
	}
	return tc.stamp
}

// ---- routing ----

type opKind int

const (
	opList opKind = iota
	opCount
	opGet
	opCreate
	opPatch
	opDelete
	opAction
)

// operation is a routed request: what to do to which entity.
type operation struct {
	kind   opKind
	entity *entity
	key    map[string]string // property name → value, for single-entity operations
	action string
	paced  bool // a document write: waits for SAP's capacity
}

// route parses the path and method. It does not touch the database.
func (s *Server) route(rq *slReq) (*operation, *slError) {
	segs := strings.Split(rq.path, "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, errQuery("Invalid URL segment '%s'", seg)
		}
		segs[i] = u
	}
	if len(segs) > 2 || segs[0] == "" {
		return nil, errResource(rq.path)
	}
	name, keyText, hasKey := strings.Cut(segs[0], "(")
	e := entitySets[name]
	if e == nil {
		return nil, errResource(name)
	}
	op := &operation{entity: e}
	if hasKey {
		if !strings.HasSuffix(keyText, ")") {
			return nil, errQuery("Invalid key in '%s'", segs[0])
		}
		key, err := parseKey(e, strings.TrimSuffix(keyText, ")"))
		if err != nil {
			return nil, err
		}
		op.key = key
	}
	if len(segs) == 2 {
		switch {
		case segs[1] == "$count" && !hasKey:
			if rq.method != http.MethodGet {
				return nil, methodNotAllowed(rq.method)
			}
			op.kind = opCount
			return op, nil
		case hasKey && segs[1] != "":
			if rq.method != http.MethodPost {
				return nil, methodNotAllowed(rq.method)
			}
			op.kind, op.action = opAction, segs[1]
			op.paced = e.isDocument()
			return op, nil
		}
		return nil, errResource(segs[1])
	}
	switch {
	case !hasKey && rq.method == http.MethodGet:
		op.kind = opList
	case !hasKey && rq.method == http.MethodPost:
		op.kind = opCreate
		op.paced = e.isDocument()
	case hasKey && rq.method == http.MethodGet:
		op.kind = opGet
	case hasKey && rq.method == http.MethodPatch:
		op.kind = opPatch
		op.paced = e.isDocument()
	case hasKey && rq.method == http.MethodDelete:
		op.kind = opDelete
	case rq.method == http.MethodPut:
		// SAP supports PUT (replace everything); the flows never need it
		// and a partial PUT would silently reset fields, so the simulator
		// refuses it rather than guess.
		return nil, newErr(http.StatusNotImplemented, -1, "PUT is not supported by the simulator; use PATCH")
	default:
		return nil, methodNotAllowed(rq.method)
	}
	return op, nil
}

func methodNotAllowed(m string) *slError {
	return newErr(http.StatusMethodNotAllowed, -1, "Method %s is not allowed on this resource", m)
}

// parseKey reads "12", "'A1'", "ItemCode='A1'" or
// "TableName='ORDR',FieldID=0" into property values.
func parseKey(e *entity, text string) (map[string]string, *slError) {
	parts, ok := splitKey(text)
	keyFields := keyProperties(e)
	if !ok || len(parts) != len(keyFields) {
		return nil, errQuery("Invalid key '%s' for '%s'", text, e.typ)
	}
	key := map[string]string{}
	for i, p := range parts {
		f := keyFields[i]
		if n, v, named := strings.Cut(p, "="); named && !strings.HasPrefix(p, "'") {
			if f = findKey(keyFields, strings.TrimSpace(n)); f == nil {
				return nil, errProperty(strings.TrimSpace(n), e.typ)
			}
			p = strings.TrimSpace(v)
		}
		val, ok := keyValue(f, p)
		if !ok {
			return nil, errQuery("Invalid key value %s for property '%s' of '%s'", p, f.name, e.typ)
		}
		if _, dup := key[f.name]; dup {
			return nil, errQuery("Invalid key '%s'", text)
		}
		key[f.name] = val
	}
	return key, nil
}

// splitKey splits a key at the commas outside quotes.
func splitKey(text string) ([]string, bool) {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\'' && quoted && i+1 < len(text) && text[i+1] == '\'':
			i++
		case c == '\'':
			quoted = !quoted
		case c == ',' && !quoted:
			parts = append(parts, strings.TrimSpace(text[start:i]))
			start = i + 1
		}
	}
	parts = append(parts, strings.TrimSpace(text[start:]))
	for _, p := range parts {
		if p == "" {
			return nil, false
		}
	}
	return parts, !quoted
}

func keyValue(f *field, p string) (string, bool) {
	if f.kind == kString {
		if len(p) < 2 || p[0] != '\'' || p[len(p)-1] != '\'' {
			return "", false
		}
		inner := p[1 : len(p)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return "", false
		}
		return strings.ReplaceAll(inner, "''", "'"), true
	}
	for _, c := range p {
		if (c < '0' || c > '9') && c != '-' {
			return "", false
		}
	}
	return p, p != "" && p != "-"
}

func findKey(fields []*field, name string) *field {
	for _, f := range fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// keyProperties are the fields named by the entity's key columns.
func keyProperties(e *entity) []*field {
	var out []*field
	for _, col := range e.keys {
		for _, f := range e.fields {
			if f.col == col && f.kind != kColl {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// execute runs a routed operation in tc's transaction.
func (s *Server) execute(ctx context.Context, op *operation, rq *slReq, tc *txCtx) (*slResp, *slError) {
	e := op.entity
	switch op.kind {
	case opList, opCount:
		return s.list(ctx, tc.tx, e, rq, op.kind == opCount)
	case opGet:
		return s.getOne(ctx, tc.tx, e, op.key, rq)
	}
	switch {
	case e.isDocument():
		return s.documentOp(ctx, op, rq, tc)
	case e == userFieldEntity:
		return s.userFieldOp(ctx, op, rq, tc)
	default:
		return s.masterOp(ctx, op, rq, tc)
	}
}
