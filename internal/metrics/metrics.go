// Package metrics holds the service's Prometheus registry: the app's own
// tiktokb1_* metrics, the database pool, River's jobs, and Go's runtime.
package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Metrics is the registry and the instruments other packages record into.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPRequests *prometheus.CounterVec
	Jobs         *prometheus.CounterVec
	JobDuration  *prometheus.HistogramVec
	// TikTokWebhooks counts webhook deliveries by outcome: stored,
	// duplicate, bad_signature, malformed, too_large, error.
	TikTokWebhooks *prometheus.CounterVec
}

// TikTokWebhookOutcomes are the outcome labels of TikTokWebhooks.
var TikTokWebhookOutcomes = []string{"stored", "duplicate", "bad_signature", "malformed", "too_large", "error"}

// New registers the standard collectors and the app's instruments.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiktokb1_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiktokb1_river_jobs_total",
			Help: "River jobs worked by this process, by kind, queue and outcome (completed, failed, snoozed, cancelled).",
		}, []string{"kind", "queue", "outcome"}),
		JobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tiktokb1_river_job_duration_seconds",
			Help:    "Time spent working River jobs, by kind and queue.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 8), // 5 ms .. 82 s
		}, []string{"kind", "queue"}),
		TikTokWebhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiktokb1_tiktok_webhooks_total",
			Help: "TikTok webhook deliveries received, by outcome: stored, duplicate (acknowledged, not stored again), bad_signature, malformed, too_large, error.",
		}, []string{"outcome"}),
	}
	for _, o := range TikTokWebhookOutcomes {
		m.TikTokWebhooks.WithLabelValues(o) // export every outcome from 0
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tiktokb1_build_info",
		Help:        "Always 1; the label says which build is running.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo, m.HTTPRequests, m.Jobs, m.JobDuration, m.TikTokWebhooks,
	)
	return m
}

// WatchPool exports the pgx pool's connection counts.
func (m *Metrics) WatchPool(pool *pgxpool.Pool) {
	m.Registry.MustRegister(&poolCollector{pool: pool})
}

// WatchExceptions exports the open exceptions per team, kind and severity,
// read from ops.exception at scrape time (the numbers an alert fires on).
func (m *Metrics) WatchExceptions(pool *pgxpool.Pool) {
	m.Registry.MustRegister(&exceptionCollector{q: db.New(pool)})
}

// WatchInventory exports each shop's TikTok listings by push state, the age
// of the oldest value not yet on TikTok, and the listings TikTok last showed
// above available-to-sell, read from the push ledger at scrape time.
func (m *Metrics) WatchInventory(pool *pgxpool.Pool) {
	m.Registry.MustRegister(&inventoryCollector{q: db.New(pool)})
}

// WatchRiver counts the jobs client works in this process until ctx ends.
// It subscribes before returning, so no event after the call is missed.
func WatchRiver[TTx any](ctx context.Context, m *Metrics, client *river.Client[TTx]) {
	events, cancel := client.Subscribe(
		river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobSnoozed, river.EventKindJobCancelled,
	)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				m.recordJob(ev)
			}
		}
	}()
}

func (m *Metrics) recordJob(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	outcome := strings.TrimPrefix(string(ev.Kind), "job_")
	m.Jobs.WithLabelValues(ev.Job.Kind, ev.Job.Queue, outcome).Inc()
	if ev.JobStats != nil {
		m.JobDuration.WithLabelValues(ev.Job.Kind, ev.Job.Queue).Observe(ev.JobStats.RunDuration.Seconds())
	}
}

type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolConns = prometheus.NewDesc("tiktokb1_db_pool_connections",
		"Connections of the Postgres pool, by state (acquired, idle, total, max).", []string{"state"}, nil)
	poolWait = prometheus.NewDesc("tiktokb1_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a pool connection.", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) { ch <- poolConns; ch <- poolWait }

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.TotalConns()), "total")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.MaxConns()), "max")
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

type exceptionCollector struct{ q *db.Queries }

var exceptionsOpen = prometheus.NewDesc("tiktokb1_exceptions_open",
	"Open exceptions in ops.exception, by owner team, kind and severity.", []string{"owner_team", "kind", "severity"}, nil)

func (c *exceptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- exceptionsOpen }

func (c *exceptionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.q.CountOpenExceptions(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(exceptionsOpen, err)
		return
	}
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(exceptionsOpen, prometheus.GaugeValue, float64(r.Open), r.OwnerTeam, r.Kind, r.Severity)
	}
}

type inventoryCollector struct{ q *db.Queries }

var (
	inventoryListings = prometheus.NewDesc("tiktokb1_inventory_listings",
		"A shop's TikTok listings by push state: in_sync (TikTok was sent the value computed), due (waiting for a push), "+
			"refused (TikTok refused the value: exception inventory_push_refused), held (waiting for tiktokb1 inventory confirm).",
		[]string{"shop_id", "state"}, nil)
	inventoryOldestDue = prometheus.NewDesc("tiktokb1_inventory_oldest_due_seconds",
		"How long the oldest available-to-sell not yet on TikTok has waited (0: nothing waits); above a minute, pushes are stuck or held.",
		[]string{"shop_id"}, nil)
	inventoryAbove = prometheus.NewDesc("tiktokb1_inventory_tiktok_above_ats",
		"Listings whose stock on TikTok, as last read, is above available-to-sell: an oversell risk if it lasts beyond the next push.",
		[]string{"shop_id"}, nil)
)

func (c *inventoryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inventoryListings
	ch <- inventoryOldestDue
	ch <- inventoryAbove
}

func (c *inventoryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.q.InventoryPushStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(inventoryListings, err)
		return
	}
	for _, r := range rows {
		for state, n := range map[string]int64{"in_sync": r.InSync, "due": r.Due, "refused": r.Refused, "held": r.Held} {
			ch <- prometheus.MustNewConstMetric(inventoryListings, prometheus.GaugeValue, float64(n), r.ShopID, state)
		}
		ch <- prometheus.MustNewConstMetric(inventoryOldestDue, prometheus.GaugeValue, r.OldestDueSeconds, r.ShopID)
		ch <- prometheus.MustNewConstMetric(inventoryAbove, prometheus.GaugeValue, float64(r.TiktokAboveAts), r.ShopID)
	}
}
