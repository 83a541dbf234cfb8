package governor_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tiktokb1/tiktokb1/internal/sapb1"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor/governortest"
	"github.com/tiktokb1/tiktokb1/internal/sim/sapb1sim"
	"github.com/tiktokb1/tiktokb1/internal/testdb"
)

const simCap = 4

// Two service processes, each with its own pool and 8 workers, post 1,000
// orders to the SAP simulator through the real client behind the governor:
// SAP never sees more concurrent document writes than the cap, and every
// order lands exactly once.
func TestTwoProcessesPostingOrdersNeverExceedTheCap(t *testing.T) {
	if governortest.ChildRole() == "poster" {
		postOrders(t)
		return
	}
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	company := "SBO_" + hex.EncodeToString(b)
	sim, err := sapb1sim.New(ctx, sapb1sim.Options{
		DatabaseURL: testdb.NewURL(t), CompanyDB: company, User: "manager", Password: "s3cret",
		DocsPerSecond: 250, // writes queue in "SAP": without the governor 16 would be in flight
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	for _, call := range [][2]string{
		{"Warehouses", `{"WarehouseCode":"01","WarehouseName":"Main"}`},
		{"BusinessPartners", `{"CardCode":"C1","CardName":"TikTok","CardType":"cCustomer"}`},
		{"Items", `{"ItemCode":"A1","ItemName":"A1","InventoryItem":"tYES","SalesItem":"tYES"}`},
		{"UserFieldsMD", `{"TableName":"ORDR","Name":"TikTokOrderId","Type":"db_Alpha","Size":30,"Description":"TikTok order"}`},
	} {
		if status, body := sim.Call(ctx, "POST", call[0], []byte(call[1])); status != 201 {
			t.Fatalf("seeding %s: %d %s", call[0], status, body)
		}
	}
	if _, err := sim.ReceiveStock(ctx, "A1", "01", decimal.NewFromInt(5000)); err != nil {
		t.Fatal(err)
	}

	dbURL := testdb.NewURL(t)
	env := []string{"GOV_DB=" + dbURL, "GOV_SL=" + srv.URL + "/b1s/v1", "GOV_COMPANY=" + company}
	a := governortest.StartChild(t, "TestTwoProcessesPostingOrdersNeverExceedTheCap", "poster", append(env, "GOV_FIRST=0")...)
	c := governortest.StartChild(t, "TestTwoProcessesPostingOrdersNeverExceedTheCap", "poster", append(env, "GOV_FIRST=500")...)
	a.Wait(t)
	c.Wait(t)

	st := sim.Stats()
	if st.PeakConcurrentWrites > simCap {
		t.Fatalf("SAP saw %d concurrent document writes; the cap is %d", st.PeakConcurrentWrites, simCap)
	}
	if st.PeakConcurrentWrites < 2 {
		t.Fatalf("peak of %d concurrent writes: the test did not load SAP", st.PeakConcurrentWrites)
	}
	if st.Documents != 1000 {
		t.Fatalf("SAP holds %d documents, want the 1000 posted", st.Documents)
	}
	var distinct int
	err = sim.Pool().QueryRow(ctx, fmt.Sprintf(`SELECT count(DISTINCT "U_TikTokOrderId") FROM %q."ORDR"`, sim.Schema())).Scan(&distinct)
	if err != nil || distinct != 1000 {
		t.Fatalf("%d distinct TikTok orders in SAP (%v), want 1000", distinct, err)
	}
	t.Logf("peak concurrent writes %d (cap %d), %d documents", st.PeakConcurrentWrites, simCap, st.Documents)
}

// postOrders is one service process: 500 orders, 8 workers, retrying after
// the governor's suggested delay when it is busy (as a River job snoozes).
func postOrders(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("GOV_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	g, err := governor.New(ctx, pool, governor.Config{MaxConcurrent: simCap, PriorityReserved: -1, RequestsPerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	client, err := sapb1.New(sapb1.Config{BaseURL: os.Getenv("GOV_SL"), CompanyDB: os.Getenv("GOV_COMPANY"), User: "manager", Password: "s3cret", Gate: g})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx) //nolint:errcheck
	first, _ := strconv.Atoi(os.Getenv("GOV_FIRST"))
	items := make(chan int)
	go func() {
		defer close(items)
		for i := first; i < first+500; i++ {
			items <- i
		}
	}()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range items {
				doc := sapb1.Document{CardCode: "C1", DocDate: time.Now().Format("2006-01-02"), DocDueDate: time.Now().Format("2006-01-02"),
					UDF:   sapb1.UDFs{"U_TikTokOrderId": fmt.Sprintf("5764614130%08d", i)},
					Lines: []sapb1.DocumentLine{{ItemCode: "A1", Quantity: &sapb1.Num{Decimal: decimal.NewFromInt(1)}, WarehouseCode: "01"}}}
				for {
					_, err := client.Create(ctx, sapb1.Orders, doc)
					var busy *governor.BusyError
					if errors.As(err, &busy) {
						time.Sleep(governor.Jitter(busy.RetryIn))
						continue
					}
					if err != nil {
						t.Errorf("order %d: %v", i, err)
					}
					break
				}
			}
		})
	}
	wg.Wait()
}
