package governor

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// instruments are the counters this process records into; the gauges are
// read from Postgres at scrape time (stateCollector), so every process
// exports the same shared state.
type instruments struct {
	acquires  *prometheus.CounterVec
	requests  *prometheus.HistogramVec
	leaseLost prometheus.Counter
}

func newInstruments() *instruments {
	m := &instruments{
		acquires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiktokb1_sapb1_acquire_total",
			Help: "Requests for a Service Layer slot by this process, by lane and outcome (acquired, busy_slots, busy_rate, breaker_open, error).",
		}, []string{"lane", "outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tiktokb1_sapb1_request_seconds",
			Help:    "Service Layer requests sent through the governor by this process, by outcome (ok, server_error, bad_gateway, timeout, unreachable).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12), // 50 ms .. 102 s
		}, []string{"outcome"}),
		leaseLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tiktokb1_sapb1_lease_lost_total",
			Help: "Slots released or renewed by this process after their lease had run out (the request outlived its lease; the cap may have been exceeded meanwhile).",
		}),
	}
	for _, lane := range []Lane{Normal, Priority} {
		for _, outcome := range []string{"acquired", string(ReasonSlots), string(ReasonRate), string(ReasonBreakerOpen), "error"} {
			m.acquires.WithLabelValues(string(lane), outcome)
		}
	}
	for _, k := range kinds {
		m.requests.WithLabelValues(string(k))
	}
	return m
}

var (
	slotsInUseDesc = prometheus.NewDesc("tiktokb1_sapb1_slots_in_use",
		"Service Layer slots held with a live lease, across every process, by lane.", []string{"lane"}, nil)
	effectiveCapDesc = prometheus.NewDesc("tiktokb1_sapb1_effective_cap",
		"The governor's adaptive cap on concurrent Service Layer requests in force now.", nil, nil)
	maxConcurrentDesc = prometheus.NewDesc("tiktokb1_sapb1_max_concurrent",
		"The configured cap on concurrent Service Layer requests (SAPB1_MAX_CONCURRENT).", nil, nil)
	breakerOpenDesc = prometheus.NewDesc("tiktokb1_sapb1_breaker_open",
		"1 while the circuit breaker is open or half-open (SAP looks down; at most one probe request goes out), else 0.", nil, nil)
)

// stateCollector exports the shared state, read at scrape time.
type stateCollector struct{ g *Governor }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- slotsInUseDesc
	ch <- effectiveCapDesc
	ch <- maxConcurrentDesc
	ch <- breakerOpenDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.g.State(ctx)
	if err != nil {
		for _, d := range []*prometheus.Desc{slotsInUseDesc, effectiveCapDesc, maxConcurrentDesc, breakerOpenDesc} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	for _, lane := range []Lane{Normal, Priority} {
		ch <- prometheus.MustNewConstMetric(slotsInUseDesc, prometheus.GaugeValue, float64(s.InUse[lane]), string(lane))
	}
	ch <- prometheus.MustNewConstMetric(effectiveCapDesc, prometheus.GaugeValue, float64(s.EffectiveCap))
	ch <- prometheus.MustNewConstMetric(maxConcurrentDesc, prometheus.GaugeValue, float64(s.MaxConcurrent))
	open := 0.0
	if s.Breaker != BreakerClosed {
		open = 1
	}
	ch <- prometheus.MustNewConstMetric(breakerOpenDesc, prometheus.GaugeValue, open)
}

// Register adds the governor's metrics to reg (the service registers them on
// internal/metrics' registry: g.Register(m.Registry)):
// tiktokb1_sapb1_slots_in_use{lane}, tiktokb1_sapb1_effective_cap,
// tiktokb1_sapb1_max_concurrent and tiktokb1_sapb1_breaker_open (shared
// state, read from Postgres at scrape time), and this process's
// tiktokb1_sapb1_acquire_total{lane,outcome},
// tiktokb1_sapb1_request_seconds{outcome} and tiktokb1_sapb1_lease_lost_total.
func (g *Governor) Register(reg prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{g.metrics.acquires, g.metrics.requests, g.metrics.leaseLost, stateCollector{g}} {
		errs = append(errs, reg.Register(c))
	}
	return errors.Join(errs...)
}
