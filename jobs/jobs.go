// Package jobs holds River's job kinds (one file each: args and worker), the
// queues of DESIGN.md and the periodic schedule. Every background step of
// tiktokb1 is one of these jobs.
package jobs

import (
	"cmp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapmaster"
	"github.com/tiktokb1/tiktokb1/internal/shops"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// The queues of DESIGN.md. Each has its own worker count, so a slow SAP never
// starves TikTok reads and cancellations always have workers of their own.
const (
	QueueTikTokRead  = "tiktok_read"  // polls and webhook processing
	QueueSAPB1Read   = "sapb1_read"   // snapshots, change detection, delivery reads
	QueueSAPB1Write  = "sapb1_write"  // Service Layer documents, through the governor
	QueueTikTokWrite = "tiktok_write" // inventory, price and shipment pushes
	QueuePriority    = "priority"     // cancellations
	QueueDefault     = river.QueueDefault
)

// QueueNames lists every queue, in the order they are documented.
var QueueNames = []string{QueueTikTokRead, QueueSAPB1Read, QueueSAPB1Write, QueueTikTokWrite, QueuePriority, QueueDefault}

// Queues builds River's queue configuration from worker counts per queue
// name. A queue missing from workers gets one worker.
func Queues(workers map[string]int) map[string]river.QueueConfig {
	out := make(map[string]river.QueueConfig, len(QueueNames))
	for _, q := range QueueNames {
		n := workers[q]
		if n < 1 {
			n = 1
		}
		out[q] = river.QueueConfig{MaxWorkers: n}
	}
	return out
}

// Deps is what the workers need. Each later flow adds its clients here.
type Deps struct {
	Pool *pgxpool.Pool
	// SyncRunRetention is how long finished ops.sync_run rows are kept; default 90 days.
	SyncRunRetention time.Duration
	// TikTok calls TikTok Shop with the shops' tokens from Shops; nil when
	// TikTok is not configured (TIKTOK_APP_KEY unset): the TikTok jobs then
	// cancel with a message saying so, and none is scheduled.
	TikTok *tiktok.Client
	// Shops keeps the shops' tokens; nil when TikTok is not configured.
	Shops *shops.Store
	// TikTokWebhookURL is where TikTok delivers webhooks:
	// TIKTOKB1_PUBLIC_URL + "/webhooks/tiktok".
	TikTokWebhookURL string
	// OrdersPollInterval is how often every active shop's orders are
	// polled; default DefaultOrdersPollInterval (60 s).
	OrdersPollInterval time.Duration
	// OrdersPollLag keeps the poll's window this far behind now; default
	// DefaultOrdersPollLag (2 min).
	OrdersPollLag time.Duration
	// OrdersPollOverlap is re-read before the last poll's watermark;
	// default DefaultOrdersPollOverlap (10 min).
	OrdersPollOverlap time.Duration
	// PIIRetention: buyers' personal data of orders completed or cancelled
	// longer ago is purged; default 90 days (TIKTOKB1_PII_RETENTION).
	PIIRetention time.Duration
	// Now is the clock the order poll's window is computed with; default
	// time.Now.
	Now func() time.Time
	// SAPReader reads SAP's company database (SAPB1_SQL_DSN); nil when it is
	// not configured: the SAP master data jobs are then not scheduled.
	SAPReader sapmaster.Reader
	// SAPBufferUDF is sqlreader.BufferUDF when OITM.U_EcomBuffer is read as
	// the e-commerce buffer with each full stock snapshot
	// (SAPB1_BUFFER_UDF); empty: not read.
	SAPBufferUDF string
	// SAP is the Service Layer client behind the governor; nil when SAP is
	// not configured: orders are still validated, but none is queued for
	// posting and cancel_order cannot reach a posted Sales Order.
	SAP *sapb1.Client
	// SAPLookupAfter is how long after a POST whose answer was lost the
	// Sales Order is looked up by its UDF: the Service Layer's own timeout;
	// default posting.DefaultLookupAfter (2 min).
	SAPLookupAfter time.Duration
	// SAPLocation is the SAP company's time zone (DocDate of Sales Orders);
	// default UTC.
	SAPLocation *time.Location
	// ValidateOrdersInterval is how often landed orders are validated;
	// default DefaultValidateOrdersInterval (5 s).
	ValidateOrdersInterval time.Duration
	// JobTimeout is how long the orders flow's jobs (validate_orders,
	// post_order, cancel_order) may run (TIKTOKB1_JOB_TIMEOUT); default
	// DefaultJobTimeout (10 min). River's rescuer retries a job whose
	// process died only once this has passed, so it also bounds how long a
	// crash holds an order up.
	JobTimeout time.Duration
	// ReleaseOrdersInterval is how often posted Sales Orders on hold are
	// checked against TikTok for release (and posted orders for changes to
	// patch); default DefaultReleaseOrdersInterval (30 s).
	ReleaseOrdersInterval time.Duration
	// ReleaseDelay keeps a posted Sales Order on hold at least this long
	// before its release check; default 0.
	ReleaseDelay time.Duration
	// InventoryConfirmShare: an inventory push changing more than this share
	// of a shop's listings at once is held for `tiktokb1 inventory confirm`
	// (TIKTOKB1_INVENTORY_CONFIRM_SHARE); default 0.2.
	InventoryConfirmShare float64
	// InventoryConfirmMinSKUs: a push changing fewer listings is never held
	// (TIKTOKB1_INVENTORY_CONFIRM_MIN_SKUS); default 10.
	InventoryConfirmMinSKUs int
}

// DefaultJobTimeout is Deps.JobTimeout's default.
const DefaultJobTimeout = 10 * time.Minute

func (d Deps) jobTimeout() time.Duration { return cmp.Or(d.JobTimeout, DefaultJobTimeout) }

func (d Deps) ordersPollInterval() time.Duration {
	return cmp.Or(d.OrdersPollInterval, DefaultOrdersPollInterval)
}

func (d Deps) ordersPollLag() time.Duration {
	return cmp.Or(d.OrdersPollLag, DefaultOrdersPollLag)
}

func (d Deps) ordersPollOverlap() time.Duration {
	return cmp.Or(d.OrdersPollOverlap, DefaultOrdersPollOverlap)
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// tiktokConfigured reports whether the TikTok jobs can run.
func (d Deps) tiktokConfigured() bool {
	return d.TikTok != nil && d.Shops != nil
}

// Workers registers every job kind's worker.
func Workers(deps Deps) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &PurgeSyncRunsWorker{Pool: deps.Pool, Retention: deps.SyncRunRetention})
	river.AddWorker(w, &SubscribeTikTokWebhooksWorker{Deps: deps})
	river.AddWorker(w, &ProcessTikTokWebhookWorker{Deps: deps})
	river.AddWorker(w, &RefreshTikTokTokensWorker{Deps: deps})
	river.AddWorker(w, &PollTikTokOrdersWorker{Deps: deps})
	river.AddWorker(w, &PollTikTokCancellationsWorker{Deps: deps})
	river.AddWorker(w, &PurgeOrderPIIWorker{Pool: deps.Pool, Retention: deps.PIIRetention})
	river.AddWorker(w, &SnapshotSAPB1MasterWorker{Deps: deps})
	river.AddWorker(w, &RefreshSAPB1ItemsWorker{Deps: deps})
	river.AddWorker(w, &SnapshotSAPB1StockWorker{Deps: deps})
	river.AddWorker(w, &DetectSAPB1StockChangesWorker{Deps: deps})
	orderPostingWorkers(w, deps)
	river.AddWorker(w, &ReleaseOrdersWorker{Deps: deps})
	river.AddWorker(w, &PatchOrderWorker{Deps: deps})
	river.AddWorker(w, &PushTikTokInventoryWorker{Deps: deps})
	river.AddWorker(w, &ReadTikTokInventoryWorker{Deps: deps})
	river.AddWorker(w, &SnapshotSAPB1PricesWorker{Deps: deps})
	river.AddWorker(w, &PushTikTokPricesWorker{Deps: deps})
	return w
}

// Periodic is the schedule of recurring jobs. River runs them on the elected
// leader only, so any number of processes can share one schedule. The TikTok
// jobs are scheduled only when TikTok is configured.
func Periodic(deps Deps) []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{
		river.NewPeriodicJob(
			river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeSyncRunsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "purge_sync_runs", RunOnStart: true},
		),
		river.NewPeriodicJob(
			river.PeriodicInterval(PurgeOrderPIIInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeOrderPIIArgs{}, nil },
			&river.PeriodicJobOpts{ID: "purge_order_pii", RunOnStart: true},
		),
	}
	if deps.tiktokConfigured() {
		jobs = append(jobs, river.NewPeriodicJob(
			river.PeriodicInterval(RefreshTikTokTokensInterval),
			func() (river.JobArgs, *river.InsertOpts) { return RefreshTikTokTokensArgs{}, nil },
			&river.PeriodicJobOpts{ID: "refresh_tiktok_tokens", RunOnStart: true},
		), river.NewPeriodicJob(
			river.PeriodicInterval(deps.ordersPollInterval()),
			func() (river.JobArgs, *river.InsertOpts) { return PollTikTokOrdersArgs{}, nil },
			&river.PeriodicJobOpts{ID: "poll_tiktok_orders", RunOnStart: true},
		), river.NewPeriodicJob(
			river.PeriodicInterval(deps.ordersPollInterval()),
			func() (river.JobArgs, *river.InsertOpts) { return PollTikTokCancellationsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "poll_tiktok_cancellations", RunOnStart: true},
		), river.NewPeriodicJob(
			river.PeriodicInterval(PushTikTokInventoryInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PushTikTokInventoryArgs{}, nil },
			&river.PeriodicJobOpts{ID: "push_tiktok_inventory"},
		), river.NewPeriodicJob(
			river.PeriodicInterval(ReadTikTokInventoryInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReadTikTokInventoryArgs{}, nil },
			&river.PeriodicJobOpts{ID: "read_tiktok_inventory", RunOnStart: true},
		))
	}
	jobs = append(jobs, orderPostingPeriodic(deps)...)
	jobs = append(jobs, releasePeriodic(deps)...)
	jobs = append(jobs, sapStockPeriodic(deps)...)
	jobs = append(jobs, pricePeriodic(deps)...)
	return append(jobs, sapMasterPeriodic(deps)...)
}
