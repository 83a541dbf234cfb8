package shops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiktokb1/tiktokb1/internal/db"
)

// Deauthorized handles TikTok's SELLER_DEAUTHORIZATION webhook (type 6) in
// the caller's transaction: the shop is marked deauthorised (its flows stop;
// its authorisation too when it has no active shop left) and a critical
// exception tells IT. sentAt is the webhook's timestamp (nil when absent): a
// redelivery older than the shop's last authorisation changes nothing. It
// reports whether the shop changed; an unknown or already deauthorised shop
// does not.
func (s *Store) Deauthorized(ctx context.Context, tx db.DBTX, shopID string, sentAt *time.Time, tiktokMessage string) (bool, error) {
	q := db.New(tx)
	gone, err := q.DeauthorizeTikTokShop(ctx, db.DeauthorizeTikTokShopParams{ShopID: shopID, EventTime: sentAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("shops: deauthorising shop %s: %w", shopID, err)
	}
	shop, err := q.GetTikTokShop(ctx, shopID)
	if err != nil {
		return false, fmt.Errorf("shops: reading shop %s: %w", shopID, err)
	}
	details := map[string]any{"open_id": gone.OpenID, "tiktok_message": tiktokMessage, "authorization_deauthorized": gone.AuthorizationDeauthorized}
	if sentAt != nil {
		details["event_time"] = sentAt.UTC().Format(time.RFC3339)
	}
	_, err = q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindDeauthorized, OwnerTeam: "it", Severity: "critical", ShopID: &shopID,
		Message: fmt.Sprintf("The seller removed this app's authorisation for %s on TikTok; its orders, stock and shipments no longer flow. "+
			"If that was not intended, have the seller authorise the app again through the onboarding link %s; this exception resolves itself then.",
			shopLabel(shop), s.opts.OnboardingURL),
		Details: mustJSON(details),
	})
	if err != nil {
		return false, fmt.Errorf("shops: raising %s for shop %s: %w", KindDeauthorized, shopID, err)
	}
	// An expiry warning means nothing for a shop no longer authorised.
	if _, err := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
		Kinds: []string{KindAuthorizationExpires}, ShopIds: []string{shopID},
		ResolvedBy: resolvedBy, Resolution: "auto: shop deauthorised (see " + KindDeauthorized + ")",
	}); err != nil {
		return false, fmt.Errorf("shops: resolving the expiry warning of shop %s: %w", shopID, err)
	}
	return true, nil
}

// AuthorizationExpiring handles TikTok's UPCOMING_AUTHORIZATION_EXPIRATION
// webhook (type 7) in the caller's transaction: a warning for IT with the
// expiry time. TikTok repeats it daily; each repeat counts an occurrence of
// the same exception. expiresAt is zero when TikTok sent none. It reports
// whether the shop is known (an unknown shop is not warned about).
func (s *Store) AuthorizationExpiring(ctx context.Context, tx db.DBTX, shopID string, expiresAt time.Time, tiktokMessage string) (bool, error) {
	q := db.New(tx)
	shop, err := q.GetTikTokShop(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("shops: reading shop %s: %w", shopID, err)
	}
	if shop.Status != StatusActive {
		return false, nil
	}
	when := "soon (TikTok gave no date)"
	details := map[string]any{"open_id": shop.OpenID, "tiktok_message": tiktokMessage}
	if !expiresAt.IsZero() {
		when = "on " + expiresAt.UTC().Format("2006-01-02 15:04 MST")
		details["expiration_time"] = expiresAt.UTC().Format(time.RFC3339)
	}
	_, err = q.RaiseException(ctx, db.RaiseExceptionParams{
		Kind: KindAuthorizationExpires, OwnerTeam: "it", Severity: "warning", ShopID: &shopID,
		Message: fmt.Sprintf("The TikTok authorisation of %s expires %s; after that its orders, stock and shipments stop flowing. "+
			"Have the seller authorise the app again through the onboarding link %s before then; this warning resolves itself then.",
			shopLabel(shop), when, s.opts.OnboardingURL),
		Details: mustJSON(details),
	})
	if err != nil {
		return false, fmt.Errorf("shops: raising %s for shop %s: %w", KindAuthorizationExpires, shopID, err)
	}
	return true, nil
}
