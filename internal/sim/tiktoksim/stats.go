package tiktoksim

import (
	"maps"
	"strconv"
	"sync"
)

// counters are what the control API's /_sim/stats reports. They have their
// own lock so counting never waits for the state lock.
type counters struct {
	mu               sync.Mutex
	reqSeq           int64
	requests         int64
	rejected         int64
	rateLimited      int64
	byCode           map[string]int64
	byEndpoint       map[string]int64
	inventoryUpdates int64
	inventoryErrors  int64
}

func (c *counters) request(endpoint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if c.byEndpoint == nil {
		c.byEndpoint = map[string]int64{}
	}
	c.byEndpoint[endpoint]++
}

func (c *counters) reject(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected++
	if c.byCode == nil {
		c.byCode = map[string]int64{}
	}
	c.byCode[strconv.Itoa(code)]++
}

func (c *counters) limited() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rateLimited++
}

func (c *counters) inventory(ok, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inventoryUpdates += int64(ok)
	c.inventoryErrors += int64(failed)
}

// Stats are the simulator's counters.
type Stats struct {
	// Requests to the API and token paths (the control API is not counted).
	Requests int64 `json:"requests"`
	// Rejected requests: any answer with a non-zero code, rate limits included.
	Rejected int64 `json:"rejected"`
	// RateLimited requests (HTTP 429, code 36009002), also counted in Rejected.
	RateLimited int64 `json:"rate_limited"`
	// RejectedByCode counts rejections per TikTok code.
	RejectedByCode map[string]int64 `json:"rejected_by_code"`
	// RequestsByEndpoint counts requests per "METHOD /path/template".
	RequestsByEndpoint map[string]int64 `json:"requests_by_endpoint"`
	// WebhooksSent counts deliveries the receiver acknowledged with a 2xx.
	WebhooksSent int64 `json:"webhooks_sent"`
	// WebhookAttempts counts every delivery attempt, retries included.
	WebhookAttempts int64 `json:"webhook_attempts"`
	// WebhooksFailed counts deliveries given up after the last retry.
	WebhooksFailed int64 `json:"webhooks_failed"`
	// WebhooksPending counts deliveries queued or waiting for a retry.
	WebhooksPending int64 `json:"webhooks_pending"`
	// InventoryUpdates counts SKUs whose stock an inventory update set.
	InventoryUpdates int64 `json:"inventory_updates"`
	// InventoryUpdateErrors counts SKUs an inventory update refused.
	InventoryUpdateErrors int64 `json:"inventory_update_errors"`
	// Orders and Cancellations ever created.
	Orders        int64 `json:"orders"`
	Cancellations int64 `json:"cancellations"`
}

// Stats returns the counters now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	orders, cancels := int64(len(s.orders)), int64(len(s.cancels))
	s.mu.Unlock()
	c := &s.counters
	c.mu.Lock()
	st := Stats{
		Requests:              c.requests,
		Rejected:              c.rejected,
		RateLimited:           c.rateLimited,
		RejectedByCode:        maps.Clone(c.byCode),
		RequestsByEndpoint:    maps.Clone(c.byEndpoint),
		InventoryUpdates:      c.inventoryUpdates,
		InventoryUpdateErrors: c.inventoryErrors,
		Orders:                orders,
		Cancellations:         cancels,
	}
	c.mu.Unlock()
	if st.RejectedByCode == nil {
		st.RejectedByCode = map[string]int64{}
	}
	if st.RequestsByEndpoint == nil {
		st.RequestsByEndpoint = map[string]int64{}
	}
	st.WebhooksSent, st.WebhookAttempts, st.WebhooksFailed, st.WebhooksPending = s.sender.stats()
	return st
}
