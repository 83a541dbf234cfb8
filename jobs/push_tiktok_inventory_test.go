package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/tiktokb1/tiktokb1/internal/inventory"
	"github.com/tiktokb1/tiktokb1/internal/sim/tiktoksim"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
	"github.com/tiktokb1/tiktokb1/jobs"
)

// stockEnv is the simulator's shop with listings whose seller SKUs are SAP
// items of the same code, stocked in SAP warehouse 01, which is the shop's
// TikTok warehouse's set.
type stockEnv struct {
	*orderEnv
	wh string
}

func newStockEnv(t *testing.T, opts tiktoksim.Options, onHand map[string]int) *stockEnv {
	t.Helper()
	e := &stockEnv{orderEnv: newOrderEnv(t, opts)}
	e.wh = e.sim.DefaultWarehouseID()
	e.exec(t, `INSERT INTO integration.warehouse_set (shop_id, tiktok_warehouse_id, whs_code) VALUES ($1, $2, '01')`, e.shop.ID, e.wh)
	var products []tiktoksim.NewProduct
	for sku, n := range onHand {
		e.exec(t, `INSERT INTO sapb1.item (item_code, inventory_item, sales_item, valid, frozen, tree_type) VALUES ($1, true, true, true, false, 'N')`, sku)
		e.setStock(t, sku, n)
		products = append(products, tiktoksim.NewProduct{SellerSKU: sku, Stock: 0, Price: "5"})
	}
	if _, err := e.sim.AddProducts(products); err != nil {
		t.Fatal(err)
	}
	e.deps.InventoryConfirmMinSKUs = 100 // no hold unless a test asks
	return e
}

// setStock sets the SAP on hand of an item in 01 (nothing committed) and
// recomputes available-to-sell.
func (e *stockEnv) setStock(t *testing.T, sku string, onHand int) {
	t.Helper()
	e.exec(t, `INSERT INTO sapb1.stock (item_code, whs_code, on_hand, is_committed, read_from) VALUES ($1, '01', $2, 0, now())
	           ON CONFLICT (item_code, whs_code) DO UPDATE SET on_hand = excluded.on_hand, read_from = excluded.read_from`, sku, onHand)
	if _, err := inventory.Recompute(context.Background(), e.pool); err != nil {
		t.Fatal(err)
	}
}

func (e *stockEnv) push(t *testing.T) {
	t.Helper()
	res := runJob(t, e.pool, &jobs.PushTikTokInventoryWorker{Deps: e.deps}, jobs.PushTikTokInventoryArgs{ShopID: e.shop.ID})
	if res.EventKind != river.EventKindJobCompleted {
		t.Fatalf("push: %s %v", res.EventKind, res.Job.Errors)
	}
}

func (e *stockEnv) listing(t *testing.T, sku string) tiktoksim.SKUState {
	t.Helper()
	st, err := e.sim.SKU(sku)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *stockEnv) want(t *testing.T, sku string, available int) {
	t.Helper()
	if st := e.listing(t, sku); st.Stock != available {
		t.Fatalf("%s on TikTok: available %d (committed %d), want %d", sku, st.Stock, st.Committed, available)
	}
}

func (e *stockEnv) buy(t *testing.T, sku string, n int) {
	t.Helper()
	if _, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: sku, Quantity: n}}}); err != nil {
		t.Fatalf("buying %d %s: %v", n, sku, err)
	}
}

// buyAll buys one unit at a time until TikTok refuses and returns how many.
func (e *stockEnv) buyAll(sku string) int {
	n := 0
	for ; n < 1000; n++ {
		if _, err := e.sim.PlaceOrder(tiktoksim.NewOrder{Lines: []tiktoksim.NewOrderLine{{SellerSKU: sku, Quantity: 1}}}); err != nil {
			break
		}
	}
	return n
}

func TestInventoryPushOnlyChangedValuesAndDecreases(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 71}, map[string]int{"A": 10, "B": 20, "C": 0})
	e.push(t)
	e.want(t, "A", 10)
	e.want(t, "B", 20)
	e.want(t, "C", 0)
	stats := e.sim.Stats()
	// C shows 0 on TikTok already: recorded, not sent.
	if stats.InventoryUpdates != 2 {
		t.Fatalf("%d SKUs set, want 2", stats.InventoryUpdates)
	}

	// Nothing changed: no call to TikTok at all.
	if rows, err := inventory.Recompute(context.Background(), e.pool); err != nil || len(rows) != 0 {
		t.Fatalf("recompute: %v %v", rows, err)
	}
	e.push(t)
	if after := e.sim.Stats(); after.Requests != stats.Requests || after.InventoryUpdates != 2 {
		t.Fatalf("nothing changed, yet %d requests and %d updates (were %d, 2)", after.Requests-stats.Requests, after.InventoryUpdates, stats.Requests)
	}

	// A decrease goes out and the listing shows it; only that SKU is sent.
	e.setStock(t, "A", 4)
	e.push(t)
	e.want(t, "A", 4)
	if after := e.sim.Stats(); after.InventoryUpdates != 3 {
		t.Fatalf("%d SKUs set, want 3 (only A again)", after.InventoryUpdates)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.inventory_push WHERE shop_id = $1 AND sent_quantity = computed_quantity AND result = 'ok' AND sent_at IS NOT NULL`, e.shop.ID); n != 3 {
		t.Fatalf("%d ledger rows in sync, want 3", n)
	}
}

// raceAPI is the TikTok client with a buyer who buys right after the push
// read TikTok's listing, before its update lands.
type raceAPI struct {
	*tiktok.Client
	once sync.Once
	buy  func()
}

func (r *raceAPI) SearchInventory(ctx context.Context, shop tiktok.Shop, ids []string) ([]tiktok.SKUStock, error) {
	out, err := r.Client.SearchInventory(ctx, shop, ids)
	r.once.Do(r.buy)
	return out, err
}

// TikTok sells units that have not landed: an increase from SAP does not
// re-inflate the listing, even with a sale between the push's read and its
// update; buyers can never buy more than SAP has.
func TestInventoryPushIncreaseNeverReaddsUnlandedSales(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 72}, map[string]int{"A": 10})
	e.push(t)
	e.want(t, "A", 10)
	e.buy(t, "A", 4) // sold on TikTok, not landed: SAP still shows 10

	// A receipt in SAP: 15 on hand. TikTok sold 4 of it already.
	e.setStock(t, "A", 15)
	api := &raceAPI{Client: e.deps.TikTok, buy: func() { e.buy(t, "A", 1) }}
	res, err := inventory.Push(context.Background(), e.pool, api, tiktok.Shop{ID: e.shop.ID, Cipher: e.shop.Cipher}, inventory.PushOptions{ConfirmMinSKUs: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Capped != 1 || res.Corrected != 1 {
		t.Fatalf("push %+v: want the increase capped and corrected for the sale during the push", res)
	}
	// 15 − 4 − 1 sold = 10 left.
	e.want(t, "A", 10)
	sold := 5 + e.buyAll("A")
	if sold > 15 {
		t.Fatalf("buyers bought %d units, SAP has 15", sold)
	}
	if sold != 15 {
		t.Fatalf("buyers bought %d units, want all 15 SAP has", sold)
	}

	// The rest of the periodic pushes never re-inflate it while the orders
	// wait to land.
	e.push(t)
	e.push(t)
	if st := e.listing(t, "A"); st.Stock != 0 || st.Committed != 15 {
		t.Fatalf("after more pushes: available %d committed %d, want 0 and 15", st.Stock, st.Committed)
	}
}

// A campaign-locked SKU: one exception, the others pushed, no retry loop.
func TestInventoryPushCampaignLockIsAnException(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 73}, map[string]int{"A": 10, "B": 10, "C": 10})
	e.push(t)
	if err := e.sim.LockSKU("B", 8); err != nil {
		t.Fatal(err)
	}
	e.setStock(t, "A", 3)
	e.setStock(t, "B", 3)
	e.setStock(t, "C", 12)
	e.push(t)
	e.want(t, "A", 3)
	e.want(t, "B", 10)
	e.want(t, "C", 12)
	q := `SELECT count(*) FROM ops.exception WHERE kind = 'inventory_push_refused' AND sku = 'B' AND status = 'open' AND occurrences = 1`
	if n := e.count(t, q); n != 1 {
		t.Fatalf("%d open refusals for B, want 1", n)
	}
	errs := e.sim.Stats().InventoryUpdateErrors
	for range 3 {
		e.push(t)
	}
	if after := e.sim.Stats().InventoryUpdateErrors; after != errs || e.count(t, q) != 1 {
		t.Fatalf("the refused value was retried: %d refusals, were %d", after, errs)
	}
	// The campaign ends and SAP moves: B goes out and its exception resolves.
	if err := e.sim.LockSKU("B", 0); err != nil {
		t.Fatal(err)
	}
	e.setStock(t, "B", 2)
	e.push(t)
	e.want(t, "B", 2)
	if n := e.count(t, `SELECT count(*) FROM ops.exception WHERE kind = 'inventory_push_refused' AND status = 'resolved'`); n != 1 {
		t.Fatalf("%d resolved refusals, want 1", n)
	}
}

// A 429 storm (1 request a second) slows the push down; the latest value
// reaches TikTok.
func TestInventoryPushRateLimitKeepsTheLatestValue(t *testing.T) {
	onHand := map[string]int{}
	for _, s := range []string{"A", "B", "C", "D", "E"} {
		onHand[s] = 10
	}
	e := newStockEnv(t, tiktoksim.Options{Seed: 74, RateLimit: 1, RateBurst: 1}, onHand)
	e.clock.Advance(10 * time.Second)
	snoozes := 0
	run := func() bool {
		res := runJob(t, e.pool, &jobs.PushTikTokInventoryWorker{Deps: e.deps}, jobs.PushTikTokInventoryArgs{ShopID: e.shop.ID})
		switch res.EventKind {
		case river.EventKindJobCompleted:
			return true
		case river.EventKindJobSnoozed:
			snoozes++
			if res.Job.Attempt != 0 {
				t.Fatalf("a snooze spent attempt %d", res.Job.Attempt)
			}
			e.clock.Advance(time.Until(res.Job.ScheduledAt).Round(time.Second))
			return false
		}
		t.Fatalf("push: %s %v", res.EventKind, res.Job.Errors)
		return false
	}
	for i := 0; !run(); i++ {
		if i == 1 {
			e.setStock(t, "C", 7) // a newer value while the push waits
		}
		if i > 50 {
			t.Fatal("the push never finished")
		}
	}
	for !run() {
	}
	if snoozes == 0 {
		t.Fatal("the push never met the rate limit")
	}
	for s := range onHand {
		want := 10
		if s == "C" {
			want = 7
		}
		e.want(t, s, want)
	}
	t.Logf("%d snoozes; %d requests rate-limited", snoozes, e.sim.Stats().RateLimited)
}

// A push changing more than the configured share of a shop's listings is
// held until `tiktokb1 inventory confirm`.
func TestInventoryPushMassChangeIsHeld(t *testing.T) {
	onHand := map[string]int{}
	for _, s := range []string{"A", "B", "C", "D", "E"} {
		onHand[s] = 10
	}
	e := newStockEnv(t, tiktoksim.Options{Seed: 75}, onHand)
	e.deps.InventoryConfirmShare, e.deps.InventoryConfirmMinSKUs = 0.2, 2

	// The first push sets all 5: held.
	e.push(t)
	e.push(t)
	if n := e.sim.Stats().InventoryUpdates; n != 0 {
		t.Fatalf("a held push set %d SKUs", n)
	}
	held := `SELECT count(*) FROM ops.exception WHERE kind = 'inventory_push_held' AND status = 'open' AND occurrences = 1`
	if n := e.count(t, held); n != 1 {
		t.Fatalf("%d open holds, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM integration.inventory_push WHERE result = 'held'`); n != 5 {
		t.Fatalf("%d rows held, want 5", n)
	}
	confirmed, err := inventory.Confirm(context.Background(), e.pool, e.shop.ID, "ops@example.com")
	if err != nil || len(confirmed) != 1 || confirmed[0].Skus != 5 {
		t.Fatalf("confirm: %+v %v", confirmed, err)
	}
	e.push(t)
	e.want(t, "A", 10)
	if n := e.sim.Stats().InventoryUpdates; n != 5 {
		t.Fatalf("the confirmed push set %d SKUs, want 5", n)
	}
	if e.count(t, held) != 0 || e.count(t, `SELECT count(*) FROM integration.inventory_push_hold`) != 0 {
		t.Fatal("the hold outlived the confirmed push")
	}

	// One of five (20%, not more): out at once.
	e.setStock(t, "A", 9)
	e.push(t)
	e.want(t, "A", 9)

	// A bad read zeroes three: held, TikTok untouched.
	for _, s := range []string{"B", "C", "D"} {
		e.setStock(t, s, 0)
	}
	e.push(t)
	e.want(t, "B", 10)
	if n := e.count(t, held); n != 1 {
		t.Fatalf("%d open holds, want 1", n)
	}
	// The read is corrected before anyone confirms: the hold lifts by itself.
	for _, s := range []string{"B", "C", "D"} {
		e.setStock(t, s, 10)
	}
	e.push(t)
	if e.count(t, held) != 0 {
		t.Fatal("the hold stayed after the change went away")
	}
	if _, err := inventory.Confirm(context.Background(), e.pool, "", "ops"); err != nil {
		t.Fatal(err)
	}
}

// A sale lands before any recompute has counted it as pending, and the
// listing is due (a correction left it below available-to-sell): the push
// must not take the landed order as already counted and raise the listing
// back by the units sold. Only orders landed before the last recompute
// explain TikTok's committed units.
func TestInventoryPushLandedButNotRecomputedSaleIsNotReadded(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 74}, map[string]int{"A": 10})
	e.push(t)
	e.want(t, "A", 10)
	e.buy(t, "A", 3) // TikTok: 7 available, 3 committed
	if r := e.poll(t); r.EventKind != river.EventKindJobCompleted {
		t.Fatalf("poll: %s %v", r.EventKind, r.Job.Errors)
	}
	if n := e.count(t, `SELECT count(*) FROM tiktok.order_line WHERE shop_id = $1 AND seller_sku = 'A'`, e.shop.ID); n != 3 {
		t.Fatalf("%d units of A landed, want 3", n)
	}
	// The ledger still says 10 (no recompute since), sent 7: due.
	e.exec(t, `UPDATE integration.inventory_push SET sent_quantity = 7 WHERE shop_id = $1 AND seller_sku = 'A'`, e.shop.ID)
	e.push(t)
	e.want(t, "A", 7)

	// Once a recompute counts the order as pending (10 − 3 = 7), the same
	// order explains TikTok's committed units and the listing stays 7.
	if _, err := inventory.Recompute(context.Background(), e.pool); err != nil {
		t.Fatal(err)
	}
	e.push(t)
	e.want(t, "A", 7)
	if n := e.count(t, `SELECT count(*) FROM integration.inventory_push WHERE shop_id = $1 AND seller_sku = 'A' AND computed_quantity = 7 AND sent_quantity = 7`, e.shop.ID); n != 1 {
		t.Fatal("the ledger is not 7 computed, 7 sent")
	}
}

// levelAPI is the TikTok client recording the highest quantity each SKU is
// set to.
type levelAPI struct {
	*tiktok.Client
	mu      sync.Mutex
	highest map[string]int64
}

func (l *levelAPI) UpdateInventory(ctx context.Context, shop tiktok.Shop, productID string, updates []tiktok.StockUpdate) ([]tiktok.SKUError, error) {
	l.mu.Lock()
	for _, u := range updates {
		l.highest[u.SKUID] = max(l.highest[u.SKUID], u.Quantity)
	}
	l.mu.Unlock()
	return l.Client.UpdateInventory(ctx, shop, productID, updates)
}

// A decrease never lifts a listing above what may be sold, not even for the
// moment before the push reads TikTok: TikTok sold 2 that have not landed,
// SAP drops from 10 to 9, so 7 may be sold and TikTok is never set higher.
func TestInventoryPushDecreaseNeverLiftsAboveUnlandedSales(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 75}, map[string]int{"A": 10})
	e.push(t)
	e.want(t, "A", 10)
	e.buy(t, "A", 2) // TikTok: 8 available, 2 committed, not landed
	e.setStock(t, "A", 9)
	api := &levelAPI{Client: e.deps.TikTok, highest: map[string]int64{}}
	res, err := inventory.Push(context.Background(), e.pool, api, tiktok.Shop{ID: e.shop.ID, Cipher: e.shop.Cipher}, inventory.PushOptions{ConfirmMinSKUs: 100})
	if err != nil {
		t.Fatal(err)
	}
	e.want(t, "A", 7)
	for sku, q := range api.highest {
		if q > 7 {
			t.Fatalf("push %+v set SKU %s to %d on the way: 2 of SAP's 9 are sold already", res, sku, q)
		}
	}
	if res.Decreases != 1 || res.Sent != 1 || res.Calls != 1 {
		t.Fatalf("push %+v: want one decrease, sent in one call", res)
	}
}

// A cached TikTok SKU id that TikTok's inventory search no longer answers
// for (the listing was recreated on TikTok) is forgotten: the next push
// looks the seller SKU up again and sends, instead of reading it forever.
func TestInventoryPushForgetsSKUIdsTikTokNoLongerKnows(t *testing.T) {
	e := newStockEnv(t, tiktoksim.Options{Seed: 76}, map[string]int{"A": 10})
	e.push(t)
	e.want(t, "A", 10)
	e.exec(t, `UPDATE integration.tiktok_sku SET sku_id = '999', product_id = '888' WHERE shop_id = $1 AND seller_sku = 'A'`, e.shop.ID)
	e.setStock(t, "A", 6)
	e.push(t) // reads 999: not in TikTok's answer, forgotten
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_sku WHERE shop_id = $1 AND seller_sku = 'A'`, e.shop.ID); n != 0 {
		t.Fatalf("the stale id is still cached (%d rows)", n)
	}
	e.push(t) // looked up again, then sent
	e.want(t, "A", 6)
	if n := e.count(t, `SELECT count(*) FROM integration.tiktok_sku WHERE shop_id = $1 AND seller_sku = 'A' AND sku_id <> '999'`, e.shop.ID); n != 1 {
		t.Fatal("A's TikTok id was not looked up again")
	}
}
