package jobs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// productWebhook lands a webhook 5 (PRODUCT_STATUS_CHANGE) for the shop and
// processes it.
func (e *stockEnv) productWebhook(t *testing.T, notification, productID, status string, updateTime int) {
	t.Helper()
	body := fmt.Sprintf(`{"type":5,"tts_notification_id":%q,"shop_id":%q,"timestamp":%d,"data":{"product_id":%s,"status":%q,"suspended_reason":"","update_time":%d}}`,
		notification, e.shop.ID, updateTime, productID, status, updateTime)
	var id int64
	if err := e.pool.QueryRow(context.Background(),
		`INSERT INTO tiktok.webhook_event (notification_id, type, shop_id, body, body_json) VALUES ($1, 5, $2, $3::text::bytea, $3::jsonb) RETURNING id`,
		notification, e.shop.ID, body).Scan(&id); err != nil {
		t.Fatal(err)
	}
	res := runJob(t, e.pool, &jobs.ProcessTikTokWebhookWorker{Deps: e.deps}, jobs.ProcessTikTokWebhookArgs{EventID: id})
	if res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("webhook %s: %s %v", notification, res.EventKind, res.Job.Errors)
	}
}

// A product TikTok deactivated (webhook 5) is not pushed; reactivated, it is
// again. An older event does not undo a newer status.
func TestInventoryPushSkipsProductsTikTokDeactivated(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 73}, map[string]int{"A": 10, "B": 20})
	e.push(t)
	e.want(t, "A", 10)
	e.want(t, "B", 20)
	a := e.listing(t, "A").ProductID

	e.productWebhook(t, "n-5a", a, "SELLER_DEACTIVATED", 1_800_000_000)
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_product_status WHERE shop_id = $1 AND product_id = $2 AND deactivated`, e.shop.ID, a); n != 1 {
		t.Fatalf("%d deactivated rows for product %s, want 1", n, a)
	}
	e.setStock(t, "A", 3)
	e.setStock(t, "B", 7)
	e.push(t)
	e.want(t, "A", 10) // not pushed
	e.want(t, "B", 7)
	if n := e.count(t, `SELECT count(*) FROM integration.inventory_push WHERE shop_id = $1 AND seller_sku = 'A' AND computed_quantity = 3 AND sent_quantity = 10`, e.shop.ID); n != 1 {
		t.Fatal("A's ledger row should stay due while its product is deactivated")
	}

	// An event older than the deactivation changes nothing.
	e.productWebhook(t, "n-5old", a, "ACTIVATE", 1_700_000_000)
	e.push(t)
	e.want(t, "A", 10)

	// Reactivated: A's due value goes out.
	e.productWebhook(t, "n-5b", a, "ACTIVATE", 1_800_000_100)
	e.push(t)
	e.want(t, "A", 3)
}
