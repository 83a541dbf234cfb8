package sapb1sim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sessions live in memory, as on one Service Layer node. A session times
// out after SessionTimeout without a request (sliding, reference §A1); every
// accepted request moves its deadline.

type session struct {
	id       string
	user     string
	lastUsed time.Time
}

type sessions struct {
	mu  sync.Mutex
	all map[string]*session
}

// sessionVersion is what Login reports as the Service Layer version: 10.0
// (reference §A1, "1000190").
const sessionVersion = "1000190"

// login checks the credentials and opens a session.
func (s *Server) login(rq *slReq) *slResp {
	if d := s.faults().SlowLogin; d > 0 {
		sleep(s.ctx, d)
	}
	if rq.method != http.MethodPost {
		return errorResp(newErr(http.StatusMethodNotAllowed, -1, "Method %s is not allowed for Login", rq.method))
	}
	var body struct {
		CompanyDB string
		UserName  string
		Password  string
		Language  json.RawMessage
	}
	dec := json.NewDecoder(strings.NewReader(string(rq.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return errorResp(errQuery("Invalid login request: %v", err))
	}
	if !strings.EqualFold(body.CompanyDB, s.opts.CompanyDB) || body.UserName != s.opts.User || body.Password != s.opts.Password {
		s.stats.loginFailures.Add(1)
		return errorResp(errLogin())
	}
	id := newSessionID()
	s.sessions.mu.Lock()
	s.sessions.all[id] = &session{id: id, user: body.UserName, lastUsed: s.now()}
	s.sessions.mu.Unlock()
	s.stats.logins.Add(1)

	var o object
	o.set("odata.metadata", jsonString(rq.base+"/b1s/v1/$metadata#B1Sessions/@Element"))
	o.set("SessionId", jsonString(id))
	o.set("Version", jsonString(sessionVersion))
	o.set("SessionTimeout", mustJSON(int(s.opts.SessionTimeout/time.Minute)))
	resp := jsonResp(http.StatusOK, o)
	// SAP sets B1SESSION without a path (so a cookie jar scopes it to
	// /b1s/v1) and ROUTEID on /b1s, the Apache sticky-session cookie.
	resp.header.Add("Set-Cookie", (&http.Cookie{Name: "B1SESSION", Value: id, HttpOnly: true}).String())
	resp.header.Add("Set-Cookie", (&http.Cookie{Name: "ROUTEID", Value: ".node1", Path: "/b1s"}).String())
	return resp
}

// checkSession finds the request's live session and slides its deadline.
func (s *Server) checkSession(rq *slReq) (*session, *slError) {
	id := cookie(rq.header, "B1SESSION")
	if id == "" {
		return nil, errSession()
	}
	now := s.now()
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	ss := s.sessions.all[id]
	if ss == nil {
		return nil, errSession()
	}
	if now.Sub(ss.lastUsed) > s.opts.SessionTimeout {
		delete(s.sessions.all, id)
		return nil, errSession()
	}
	ss.lastUsed = now
	return ss, nil
}

func (s *Server) logout(ss *session) *slResp {
	s.sessions.mu.Lock()
	delete(s.sessions.all, ss.id)
	s.sessions.mu.Unlock()
	return &slResp{status: http.StatusNoContent, header: http.Header{}}
}

// ExpireSessions ends every session, as a Service Layer restart or a long
// idle time would: the next request of each client gets 401 code 301.
func (s *Server) ExpireSessions() {
	s.sessions.mu.Lock()
	clear(s.sessions.all)
	s.sessions.mu.Unlock()
}

func cookie(h http.Header, name string) string {
	r := http.Request{Header: h}
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// newSessionID returns a GUID-like id, as SAP's are.
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
