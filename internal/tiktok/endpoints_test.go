package tiktok_test

import (
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// One line per endpoint: the path (with its version) this build calls. A
// TikTok version change edits the table in endpoints.go and the line here.
func TestEndpointPaths(t *testing.T) {
	want := map[string]string{
		"authorized_shops":     "GET /authorization/202309/shops",
		"orders_search":        "POST /order/202309/orders/search",
		"orders_detail":        "GET /order/202309/orders",
		"cancellations_search": "POST /return_refund/202309/cancellations/search",
		"products_search":      "POST /product/202309/products/search",
		"inventory_search":     "POST /product/202309/inventory/search",
		"inventory_update":     "POST /product/202309/products/1729582718312380123/inventory/update",
		"prices_update":        "POST /product/202309/products/1729582718312380123/prices/update",
		"warehouses":           "GET /logistics/202309/warehouses",
		"webhooks_get":         "GET /event/202309/webhooks",
		"webhooks_update":      "PUT /event/202309/webhooks",
		"webhooks_delete":      "DELETE /event/202309/webhooks",
	}
	if len(tiktok.Endpoints) != len(want) {
		t.Fatalf("%d endpoints, %d expected paths: add the new endpoint's line here", len(tiktok.Endpoints), len(want))
	}
	for _, e := range tiktok.Endpoints {
		got := e.Method + " " + e.Path("1729582718312380123")
		if got != want[e.Name] {
			t.Errorf("%s: %s, want %s", e.Name, got, want[e.Name])
		}
		if e.Category == "authorization" && e.ShopScoped {
			t.Errorf("%s sends shop_cipher, which TikTok rejects on /authorization", e.Name)
		}
	}
}
