package tiktok

import (
	"net/http"
	"strings"
)

// Endpoint is one TikTok Shop API operation. The version lives in the path
// and changes per endpoint; following a TikTok version change is one line in
// the table below (and its line in endpoints_test.go).
type Endpoint struct {
	Name       string // for metrics, rate limits and errors
	Method     string
	Category   string // first path segment: order, product, ...
	Version    string // e.g. 202309
	Resource   string // after the version, with {placeholders}
	ShopScoped bool   // sends shop_cipher; TikTok rejects it on the others
}

// Path is the request path with the placeholders filled in order.
func (e Endpoint) Path(args ...string) string {
	p := "/" + e.Category + "/" + e.Version + "/" + e.Resource
	for _, a := range args {
		i := strings.Index(p, "{")
		j := strings.Index(p, "}")
		if i < 0 || j < i {
			break
		}
		p = p[:i] + a + p[j+1:]
	}
	return p
}

// The endpoints this client calls, with the version of each.
var (
	GetAuthorizedShops  = Endpoint{"authorized_shops", http.MethodGet, "authorization", "202309", "shops", false}
	SearchOrders        = Endpoint{"orders_search", http.MethodPost, "order", "202309", "orders/search", true}
	GetOrderDetail      = Endpoint{"orders_detail", http.MethodGet, "order", "202309", "orders", true}
	SearchCancellations = Endpoint{"cancellations_search", http.MethodPost, "return_refund", "202309", "cancellations/search", true}
	SearchProducts      = Endpoint{"products_search", http.MethodPost, "product", "202309", "products/search", true}
	SearchInventory     = Endpoint{"inventory_search", http.MethodPost, "product", "202309", "inventory/search", true}
	UpdateInventory     = Endpoint{"inventory_update", http.MethodPost, "product", "202309", "products/{product_id}/inventory/update", true}
	UpdatePrice         = Endpoint{"prices_update", http.MethodPost, "product", "202309", "products/{product_id}/prices/update", true}
	GetWarehouses       = Endpoint{"warehouses", http.MethodGet, "logistics", "202309", "warehouses", true}
	GetWebhooks         = Endpoint{"webhooks_get", http.MethodGet, "event", "202309", "webhooks", true}
	UpdateWebhook       = Endpoint{"webhooks_update", http.MethodPut, "event", "202309", "webhooks", true}
	DeleteWebhook       = Endpoint{"webhooks_delete", http.MethodDelete, "event", "202309", "webhooks", true}
)

// Endpoints lists every endpoint above.
var Endpoints = []Endpoint{
	GetAuthorizedShops, SearchOrders, GetOrderDetail, SearchCancellations, SearchProducts,
	SearchInventory, UpdateInventory, UpdatePrice, GetWarehouses, GetWebhooks, UpdateWebhook, DeleteWebhook,
}

// The token paths live on the auth host and are not signed.
const (
	tokenGetPath     = "/api/v2/token/get"
	tokenRefreshPath = "/api/v2/token/refresh"
)
