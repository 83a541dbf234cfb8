package tiktok

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Webhook types this service acts on (reference §9).
const (
	WebhookOrderStatusChange        = 1
	WebhookRecipientAddressUpdate   = 3
	WebhookPackageUpdate            = 4
	WebhookProductStatusChange      = 5
	WebhookSellerDeauthorization    = 6
	WebhookAuthorizationExpiring    = 7
	WebhookCancellationStatusChange = 11
	WebhookReturnStatusChange       = 12
)

// WebhookEventTypes are the event_type names subscriptions use, per type.
var WebhookEventTypes = map[int]string{
	WebhookOrderStatusChange:        "ORDER_STATUS_CHANGE",
	WebhookRecipientAddressUpdate:   "RECIPIENT_ADDRESS_UPDATE",
	WebhookPackageUpdate:            "PACKAGE_UPDATE",
	WebhookProductStatusChange:      "PRODUCT_STATUS_CHANGE",
	WebhookSellerDeauthorization:    "SELLER_DEAUTHORIZATION",
	WebhookAuthorizationExpiring:    "UPCOMING_AUTHORIZATION_EXPIRATION",
	WebhookCancellationStatusChange: "CANCELLATION_STATUS_CHANGE",
	WebhookReturnStatusChange:       "RETURN_STATUS_CHANGE",
}

// Webhook is a delivered notification. Data is kept raw for landing.
type Webhook struct {
	Type           FlexInt         `json:"type"`
	NotificationID FlexString      `json:"tts_notification_id"`
	ShopID         FlexString      `json:"shop_id"`
	Timestamp      FlexInt         `json:"timestamp"`
	Data           json.RawMessage `json:"data"`
}

// ParseWebhook decodes a webhook body leniently (ids as numbers or strings)
// and checks what every later step relies on. NotificationID is the dedupe
// key: TikTok's tts_notification_id, or a hash of the body where it is absent.
func ParseWebhook(body []byte) (Webhook, error) {
	var w Webhook
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return Webhook{}, fmt.Errorf("webhook body is not valid JSON: %w", err)
	}
	if dec.More() {
		return Webhook{}, errors.New("webhook body has data after the JSON object")
	}
	if w.Type <= 0 {
		return Webhook{}, errors.New("webhook has no type")
	}
	if w.NotificationID == "" {
		// Some documented events lack tts_notification_id; a retry resends
		// the same bytes, so their hash dedupes as well.
		sum := sha256.Sum256(body)
		w.NotificationID = FlexString("sha256-" + hex.EncodeToString(sum[:16]))
	}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		w.Data = json.RawMessage(`{}`)
	}
	return w, nil
}

// WebhookData is the union of the data fields of the types this service
// reads; ids decode from numbers or strings.
type WebhookData struct {
	OrderID        FlexString `json:"order_id"`
	OrderStatus    string     `json:"order_status"`
	IsOnHoldOrder  bool       `json:"is_on_hold_order"`
	UpdateTime     FlexInt    `json:"update_time"`
	CancelID       FlexString `json:"cancel_id"`
	CancelStatus   string     `json:"cancel_status"`
	ProductID      FlexString `json:"product_id"`
	Status         string     `json:"status"`
	Message        string     `json:"message"`
	ExpirationTime FlexInt    `json:"expiration_time"`
	ReturnID       FlexString `json:"return_id"`
	ReturnStatus   string     `json:"return_status"`
}

// Fields decodes the webhook's data.
func (w Webhook) Fields() (WebhookData, error) {
	var d WebhookData
	dec := json.NewDecoder(bytes.NewReader(w.Data))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return WebhookData{}, fmt.Errorf("webhook %s (type %d) data: %w", w.NotificationID, w.Type, err)
	}
	return d, nil
}
