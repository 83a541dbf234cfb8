package tiktok

import (
	"context"
	"net/url"
)

// AuthorizedShop is one shop an authorisation covers.
type AuthorizedShop struct {
	ID         FlexString `json:"id"`
	Name       string     `json:"name"`
	Region     string     `json:"region"`
	SellerType string     `json:"seller_type"`
	Cipher     string     `json:"cipher"`
	Code       string     `json:"code"`
}

// AuthorizedShops lists the shops of the authorisation accessToken belongs
// to. It takes the token directly because onboarding calls it before any
// shop is stored.
func (c *Client) AuthorizedShops(ctx context.Context, accessToken string) ([]AuthorizedShop, error) {
	var out struct {
		Shops []AuthorizedShop `json:"shops"`
	}
	err := c.Do(ctx, Request{Endpoint: GetAuthorizedShops, AccessToken: accessToken}, &out)
	return out.Shops, err
}

// WebhookSubscription is one event type's delivery address.
type WebhookSubscription struct {
	Address   string `json:"address"`
	EventType string `json:"event_type"`
}

// Webhooks lists the shop's subscriptions.
func (c *Client) Webhooks(ctx context.Context, shop Shop) ([]WebhookSubscription, error) {
	var out struct {
		Webhooks []WebhookSubscription `json:"webhooks"`
	}
	err := c.Do(ctx, Request{Endpoint: GetWebhooks, Shop: shop}, &out)
	return out.Webhooks, err
}

// SubscribeWebhook sets the address TikTok delivers eventType to.
func (c *Client) SubscribeWebhook(ctx context.Context, shop Shop, eventType, address string) error {
	return c.Do(ctx, Request{Endpoint: UpdateWebhook, Shop: shop, Body: WebhookSubscription{Address: address, EventType: eventType}}, nil)
}

// UnsubscribeWebhook removes the subscription of eventType.
func (c *Client) UnsubscribeWebhook(ctx context.Context, shop Shop, eventType string) error {
	return c.Do(ctx, Request{Endpoint: DeleteWebhook, Shop: shop, Query: url.Values{}, Body: map[string]string{"event_type": eventType}}, nil)
}
