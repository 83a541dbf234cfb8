package sapb1sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The control API, on the Service Layer's address under /_sim/. It is the
// sandbox's back door (no session): what a warehouse user or an operator
// would do in SAP itself, and the simulator's counters and fault knobs.
//
//	POST /_sim/stock            {"item_code":"A","warehouse":"01","quantity":"10"}
//	                            goods receipt (> 0) or issue (< 0); writes OIVL
//	GET  /_sim/stats            {"documents","peak_concurrent_writes","http_502","deadlocks","logins","requests"}
//	POST /_sim/reset-stats      counters to zero
//	GET  /_sim/faults           the fault and capacity knobs
//	POST /_sim/faults           change some of them: {"outage":true,"slow_login":"2s","commit_delay":"1s",
//	                            "proxy_timeout":"5s","docs_per_second":5,"deadlock_rate":0.05}
//	POST /_sim/expire-sessions  end every session (clients get 401/301 next)
//
// Errors are {"error":"…"} with a 4xx status; an unknown path is 404.

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/_sim")
	method := func(m string) bool {
		if r.Method != m {
			controlError(w, http.StatusMethodNotAllowed, fmt.Sprintf("use %s for /_sim%s", m, path))
			return false
		}
		return true
	}
	switch path {
	case "/stock":
		if !method(http.MethodPost) {
			return
		}
		var req struct {
			ItemCode  string          `json:"item_code"`
			Warehouse string          `json:"warehouse"`
			Quantity  decimal.Decimal `json:"quantity"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			controlError(w, http.StatusBadRequest, "invalid body: "+err.Error())
			return
		}
		if req.ItemCode == "" || req.Warehouse == "" {
			controlError(w, http.StatusBadRequest, "item_code and warehouse are required")
			return
		}
		lvl, err := s.ReceiveStock(r.Context(), req.ItemCode, req.Warehouse, req.Quantity)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		controlJSON(w, http.StatusOK, lvl)
	case "/stats":
		if method(http.MethodGet) {
			controlJSON(w, http.StatusOK, s.Stats())
		}
	case "/reset-stats":
		if method(http.MethodPost) {
			s.ResetStats()
			controlJSON(w, http.StatusOK, s.Stats())
		}
	case "/faults":
		switch r.Method {
		case http.MethodGet:
			controlJSON(w, http.StatusOK, faultsOut(s.Faults()))
		case http.MethodPost:
			f, err := applyFaults(s.Faults(), r)
			if err != nil {
				controlError(w, http.StatusBadRequest, err.Error())
				return
			}
			s.SetFaults(f)
			controlJSON(w, http.StatusOK, faultsOut(f))
		default:
			controlError(w, http.StatusMethodNotAllowed, "use GET or POST for /_sim/faults")
		}
	case "/expire-sessions":
		if method(http.MethodPost) {
			s.ExpireSessions()
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		controlError(w, http.StatusNotFound, fmt.Sprintf("unknown control path /_sim%s", path))
	}
}

// faultsJSON is Faults on the wire: durations as Go duration strings.
type faultsJSON struct {
	Outage        *bool    `json:"outage,omitempty"`
	SlowLogin     *string  `json:"slow_login,omitempty"`
	CommitDelay   *string  `json:"commit_delay,omitempty"`
	ProxyTimeout  *string  `json:"proxy_timeout,omitempty"`
	DocsPerSecond *float64 `json:"docs_per_second,omitempty"`
	DeadlockRate  *float64 `json:"deadlock_rate,omitempty"`
}

func faultsOut(f Faults) map[string]any {
	return map[string]any{
		"outage":          f.Outage,
		"slow_login":      f.SlowLogin.String(),
		"commit_delay":    f.CommitDelay.String(),
		"proxy_timeout":   f.ProxyTimeout.String(),
		"docs_per_second": f.DocsPerSecond,
		"deadlock_rate":   f.DeadlockRate,
	}
}

func applyFaults(f Faults, r *http.Request) (Faults, error) {
	var in faultsJSON
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return f, fmt.Errorf("invalid body: %w", err)
	}
	dur := func(name string, p *string, into *time.Duration) error {
		if p == nil {
			return nil
		}
		d, err := time.ParseDuration(*p)
		if err != nil || d < 0 {
			return fmt.Errorf("%s: %q is not a duration like \"2s\"", name, *p)
		}
		*into = d
		return nil
	}
	if in.Outage != nil {
		f.Outage = *in.Outage
	}
	for _, d := range []struct {
		name string
		p    *string
		into *time.Duration
	}{{"slow_login", in.SlowLogin, &f.SlowLogin}, {"commit_delay", in.CommitDelay, &f.CommitDelay}, {"proxy_timeout", in.ProxyTimeout, &f.ProxyTimeout}} {
		if err := dur(d.name, d.p, d.into); err != nil {
			return f, err
		}
	}
	if in.DocsPerSecond != nil {
		if *in.DocsPerSecond < 0 {
			return f, fmt.Errorf("docs_per_second must be 0 (unlimited) or more")
		}
		f.DocsPerSecond = *in.DocsPerSecond
	}
	if in.DeadlockRate != nil {
		if *in.DeadlockRate < 0 || *in.DeadlockRate > 1 {
			return f, fmt.Errorf("deadlock_rate must be between 0 and 1")
		}
		f.DeadlockRate = *in.DeadlockRate
	}
	return f, nil
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	controlJSON(w, status, map[string]string{"error": msg})
}
