// Package web is tiktokb1's HTTP surface: health, metrics, the River UI, and
// with TikTok configured its OAuth routes and webhook endpoint; the ops pages
// as the flows arrive.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tiktokb1/tiktokb1/internal/metrics"
)

// Pinger is the database check behind /healthz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options are the parts the handler serves.
type Options struct {
	DB      Pinger
	Metrics *metrics.Metrics
	// RiverUI is mounted at /riverui/ when set.
	RiverUI http.Handler
	Logger  *slog.Logger
	// HealthTimeout bounds the database check; default 2 s.
	HealthTimeout time.Duration
	// TikTok serves the TikTok Shop routes when set (TikTok configured).
	TikTok *TikTok
}

// NewHandler returns the service's routes.
func NewHandler(opts Options) http.Handler {
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.Handler) {
		mux.Handle(pattern, countRequests(opts.Metrics, name, h))
	}
	route("GET /healthz", "healthz", healthz(opts))
	route("GET /metrics", "metrics", promhttp.HandlerFor(opts.Metrics.Registry, promhttp.HandlerOpts{}))
	if opts.RiverUI != nil {
		route("/riverui/", "riverui", opts.RiverUI)
		mux.Handle("GET /riverui", http.RedirectHandler("/riverui/", http.StatusMovedPermanently))
	}
	if opts.TikTok != nil {
		opts.tiktokRoutes(route)
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/riverui/", http.StatusFound))
	return mux
}

type health struct {
	Status   string `json:"status"`
	Database string `json:"database"`
}

// healthz answers 200 when the database answers within the timeout, 503
// otherwise. The cause goes to the log, not to the (unauthenticated) caller.
func healthz(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), opts.HealthTimeout)
		defer cancel()
		res, code := health{Status: "ok", Database: "ok"}, http.StatusOK
		if err := opts.DB.Ping(ctx); err != nil {
			opts.Logger.Warn("health check: database unreachable", "err", err)
			res, code = health{Status: "unavailable", Database: "unreachable"}, http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(res)
	})
}

func countRequests(m *metrics.Metrics, route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.HTTPRequests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
