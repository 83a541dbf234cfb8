package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// Personal data of orders completed or cancelled longer than the retention
// ago is purged, and of orders never derived and not seen for as long; the
// rest stays.
func TestPurgeOrderPII(t *testing.T) {
	e := newOrderEnv(t, tiktoksim.Options{Seed: 36, Demo: true})
	e.exec(t, `UPDATE tiktok.shop SET authorized_at = $2 WHERE id = $1`, e.shop.ID, e.clock.Now().Add(-4*24*time.Hour))
	e.poll(t)
	total := e.count(t, `SELECT count(*) FROM pii.order_recipient`)
	done := e.count(t, `SELECT count(*) FROM tiktok."order" WHERE status IN ('COMPLETED', 'CANCELLED')`)
	if total == 0 || done < 2 {
		t.Fatalf("%d orders with personal data, %d completed or cancelled: the demo shop should have both", total, done)
	}
	// Long ago for all but one of them; an orphan seen long ago; an orphan seen recently.
	e.exec(t, `UPDATE tiktok."order" SET update_time = now() - interval '100 days'
		WHERE status IN ('COMPLETED', 'CANCELLED') AND order_id <> (SELECT min(order_id) FROM tiktok."order" WHERE status IN ('COMPLETED', 'CANCELLED'))`)
	e.exec(t, `INSERT INTO pii.order_recipient (shop_id, order_id, buyer_email, updated_at) VALUES
		($1, '1', 'old@example.com', now() - interval '100 days'), ($1, '2', 'new@example.com', now())`, e.shop.ID)

	res := runJob(t, e.pool, &jobs.PurgeOrderPIIWorker{Pool: e.pool, Retention: 90 * 24 * time.Hour}, jobs.PurgeOrderPIIArgs{})
	if res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("purge: %s", res.EventKind)
	}
	if n := e.count(t, `SELECT count(*) FROM pii.order_recipient`); n != total-(done-1)+1 {
		t.Fatalf("%d rows of personal data left, want %d", n, total-(done-1)+1)
	}
	if n := e.count(t, `SELECT count(*) FROM pii.order_recipient r JOIN tiktok."order" o USING (shop_id, order_id)
		WHERE o.status IN ('COMPLETED', 'CANCELLED') AND o.update_time < now() - interval '90 days'`); n != 0 {
		t.Fatal("personal data of an order finished long ago survived")
	}
	if n := e.count(t, `SELECT count(*) FROM pii.order_recipient WHERE order_id IN ('1', '2')`); n != 1 {
		t.Fatal("orphans: want the old one purged and the recent one kept")
	}
	// The typed orders themselves stay.
	if n := e.count(t, `SELECT count(*) FROM tiktok."order" WHERE status IN ('COMPLETED', 'CANCELLED')`); n != done {
		t.Fatal("the purge touched the orders")
	}
}
