// Package sapb1 is the SAP Business One Service Layer client: sessions,
// SAP's error envelopes, documents and master data, OData paging and $batch,
// and the rule that a write whose answer was lost is looked up, never
// repeated blind. Facts it follows: shared/reference/sapb1.md.
package sapb1

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Client. Zero values take the defaults in the comments.
type Config struct {
	// BaseURL is the Service Layer root, e.g. https://sap:50000/b1s/v1.
	BaseURL   string
	CompanyDB string
	User      string
	Password  string
	// CAFile is a PEM file with the CA that signed the Service Layer's
	// certificate; InsecureSkipVerify turns checking off (explicit only).
	CAFile             string
	InsecureSkipVerify bool
	// HTTPClient overrides the client built from the TLS settings.
	HTTPClient *http.Client
	// RequestTimeout bounds one request; default 60 s.
	RequestTimeout time.Duration
	// ServiceLayerTimeout is how long the Service Layer itself may keep
	// working on a request after we stopped waiting; a lost write is looked
	// up only after it. Default 2 × RequestTimeout.
	ServiceLayerTimeout time.Duration
	// PageSize is asked for with Prefer: odata.maxpagesize; default 100.
	PageSize int
	// Gate admits every request (the governor); nil admits all.
	Gate Gate
}

// Gate admits Service Layer requests. Done reports how the request went so
// the gate can adapt.
type Gate interface {
	Admit(ctx context.Context, priority bool) (done func(Outcome), err error)
}

// Outcome is how one request went, for the gate.
type Outcome struct {
	Latency time.Duration
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Err is the transport error when no (whole) answer came.
	Err error
	// NotSent is true when the request never left (it could not be built).
	NotSent bool
}

type priorityKey struct{}

// WithPriority marks requests made with ctx for the priority lane
// (cancellations).
func WithPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

func isPriority(ctx context.Context) bool {
	p, _ := ctx.Value(priorityKey{}).(bool)
	return p
}

// Client talks to one company through the Service Layer. One Client shares
// its session among all goroutines.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client

	mu      sync.Mutex
	session *session
}

type session struct {
	id, route string
}

// New returns a client; it logs in on the first request.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("sapb1: Service Layer URL %q is not an absolute URL like https://sap:50000/b1s/v1", cfg.BaseURL)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.ServiceLayerTimeout <= 0 {
		cfg.ServiceLayerTimeout = 2 * cfg.RequestTimeout
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tlsCfg := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // only by explicit setting
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("sapb1: reading the CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("sapb1: %s holds no PEM certificate", cfg.CAFile)
			}
			tlsCfg.RootCAs = pool
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		tr.MaxIdleConnsPerHost = 32
		hc = &http.Client{Transport: tr}
	}
	return &Client{cfg: cfg, base: base, http: hc}, nil
}

// request is one Service Layer call.
type request struct {
	op      string
	method  string
	path    string // below the root, e.g. "Orders(12)"
	query   url.Values
	body    any
	raw     []byte // sent as is when set (with contentType)
	ctype   string
	headers http.Header
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r with the session, logging in first when there is none and once
// more when SAP says the session expired.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	for attempt := 0; ; attempt++ {
		s, err := c.currentSession(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, r, s)
		if err != nil {
			return nil, err
		}
		if resp.status/100 == 2 {
			return resp, nil
		}
		apiErr, ok := parseError(r.op, resp.status, resp.body)
		if !ok {
			apiErr = &Error{Op: r.op, HTTPStatus: resp.status, Message: strings.TrimSpace(string(truncate(resp.body, 200)))}
		}
		if errors.Is(apiErr, ErrSession) && attempt == 0 {
			c.dropSession(s)
			continue
		}
		return nil, apiErr
	}
}

// send makes one HTTP request through the gate.
func (c *Client) send(ctx context.Context, r request, s *session) (*response, error) {
	done := func(Outcome) {}
	if c.cfg.Gate != nil {
		var err error
		if done, err = c.cfg.Gate.Admit(ctx, isPriority(ctx)); err != nil {
			return nil, err
		}
	}
	var body io.Reader
	payload := r.raw
	ctype := r.ctype
	if payload == nil && r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			done(Outcome{NotSent: true})
			return nil, fmt.Errorf("sapb1 %s: encoding the request: %w", r.op, err)
		}
		ctype = "application/json"
	}
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	u := c.base.String() + "/" + r.path
	if len(r.query) > 0 {
		u += "?" + encodeQuery(r.query)
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(rctx, r.method, u, body)
	if err != nil {
		done(Outcome{NotSent: true})
		return nil, fmt.Errorf("sapb1 %s: %w", r.op, err)
	}
	for k, v := range r.headers {
		hreq.Header[k] = v
	}
	if ctype != "" {
		hreq.Header.Set("Content-Type", ctype)
	}
	hreq.Header.Set("Accept", "application/json")
	if s != nil {
		// Both cookies on every request, set explicitly (reference A1).
		hreq.Header.Set("Cookie", "B1SESSION="+s.id+"; ROUTEID="+s.route)
	}
	start := time.Now()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		timeout := isTimeout(err)
		done(Outcome{Latency: time.Since(start), Err: err})
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sapb1 %s: %w", r.op, ctx.Err())
		}
		if r.method != http.MethodGet && (timeout || sentBody(err)) {
			return nil, fmt.Errorf("sapb1 %s: no answer (%v): %w", r.op, stripURL(err), ErrUnknownOutcome)
		}
		return nil, fmt.Errorf("sapb1 %s: %w", r.op, stripURL(err))
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, 256<<20))
	done(Outcome{Latency: time.Since(start), Status: hresp.StatusCode, Err: err})
	if err != nil {
		if r.method != http.MethodGet {
			return nil, fmt.Errorf("sapb1 %s: answer cut off: %w", r.op, ErrUnknownOutcome)
		}
		return nil, fmt.Errorf("sapb1 %s: reading the answer: %w", r.op, err)
	}
	// A proxy giving up (502, 504) says nothing about whether SAP
	// committed: the node may finish the write after the proxy answered.
	if r.method != http.MethodGet && (hresp.StatusCode == http.StatusBadGateway || hresp.StatusCode == http.StatusGatewayTimeout) {
		return nil, fmt.Errorf("sapb1 %s: HTTP %d from the Service Layer's proxy: %w", r.op, hresp.StatusCode, ErrUnknownOutcome)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: raw}, nil
}

// currentSession returns the shared session, logging in when there is none.
func (c *Client) currentSession(ctx context.Context) (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != nil {
		return c.session, nil
	}
	s, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	c.session = s
	return s, nil
}

// dropSession forgets s unless another goroutine already replaced it.
func (c *Client) dropSession(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == s {
		c.session = nil
	}
}

func (c *Client) login(ctx context.Context) (*session, error) {
	body := map[string]string{"CompanyDB": c.cfg.CompanyDB, "UserName": c.cfg.User, "Password": c.cfg.Password}
	resp, err := c.send(ctx, request{op: "login", method: http.MethodPost, path: "Login", body: body}, nil)
	if err != nil {
		if errors.Is(err, ErrUnknownOutcome) {
			return nil, fmt.Errorf("sapb1 login: no answer from the Service Layer at %s: %w", c.base.Host, err)
		}
		return nil, err
	}
	if resp.status != http.StatusOK {
		if apiErr, ok := parseError("login", resp.status, resp.body); ok {
			return nil, fmt.Errorf("%w (company %s, user %s): %w", ErrLoginFailed, c.cfg.CompanyDB, c.cfg.User, apiErr)
		}
		return nil, fmt.Errorf("sapb1 login: HTTP %d from %s", resp.status, c.base.Host)
	}
	s := &session{}
	for _, ck := range (&http.Response{Header: resp.header}).Cookies() {
		switch ck.Name {
		case "B1SESSION":
			s.id = ck.Value
		case "ROUTEID":
			s.route = ck.Value
		}
	}
	if s.id == "" {
		var out struct {
			SessionID string `json:"SessionId"`
		}
		if json.Unmarshal(resp.body, &out) == nil {
			s.id = out.SessionID
		}
	}
	if s.id == "" {
		return nil, errors.New("sapb1 login: the answer has no session")
	}
	return s, nil
}

// Close logs out, so the session does not hold a licence until it times out.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	s := c.session
	c.session = nil
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	resp, err := c.send(ctx, request{op: "logout", method: http.MethodPost, path: "Logout"}, s)
	if err != nil {
		return err
	}
	if resp.status/100 != 2 {
		return fmt.Errorf("sapb1 logout: HTTP %d", resp.status)
	}
	return nil
}

// decode reads a JSON answer into out.
func decode(op string, body []byte, out any) error {
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("sapb1 %s: decoding the answer: %w", op, err)
	}
	return nil
}

// encodeQuery encodes OData options: $-keys stay readable, values are
// escaped with %20 for spaces, as OData servers expect.
func encodeQuery(q url.Values) string {
	var parts []string
	for _, k := range []string{"$select", "$filter", "$orderby", "$top", "$skip", "$inlinecount"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, k+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	for k, vs := range q {
		if strings.HasPrefix(k, "$") {
			continue
		}
		for _, v := range vs {
			parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return strings.Join(parts, "&")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// sentBody reports whether the connection broke after the request may have
// reached the server (anything but a refused connection or DNS failure).
func sentBody(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	// A certificate refused during the handshake: nothing was sent.
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	if errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &hostname) {
		return false
	}
	var dns *net.DNSError
	return !errors.As(err, &dns)
}

func stripURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func keyPath(set string, key any) string {
	switch k := key.(type) {
	case int:
		return set + "(" + strconv.Itoa(k) + ")"
	case string:
		return set + "(" + url.PathEscape(quote(k)) + ")"
	}
	panic(fmt.Sprintf("sapb1: key of type %T", key))
}
