// Package shops onboards TikTok shops and keeps their tokens: the OAuth
// authorisation (state, code exchange, the shops it covers), the encrypted
// access and refresh tokens with one refresher per authorisation across every
// process (DESIGN.md invariant 8), and what TikTok's deauthorisation (6) and
// expiring-authorisation (7) webhooks mean for a shop.
package shops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// Authorisation and shop statuses (integration.tiktok_authorization.status,
// tiktok.shop.status).
const (
	StatusActive       = "active"
	StatusReauthorize  = "reauthorize"
	StatusDeauthorized = "deauthorized"
)

// Exception kinds raised here, all for IT.
const (
	KindReauthorize          = "tiktok_reauthorize"
	KindDeauthorized         = "tiktok_deauthorized"
	KindAuthorizationExpires = "tiktok_authorization_expiring"
)

// resolvedBy is who resolves an exception whose cause cleared.
const resolvedBy = "tiktokb1"

var (
	// ErrUnknownShop: no shop with that id was onboarded.
	ErrUnknownShop = errors.New("shops: shop is not onboarded")
	// ErrNotAuthorized: the shop's authorisation no longer works (TikTok
	// refused its refresh token, or the seller removed the app); only the
	// seller authorising again helps. An exception for IT says so.
	ErrNotAuthorized = errors.New("shops: the shop's TikTok authorisation no longer works; the seller must authorise the app again")
)

// TokenAPI is the part of TikTok's API the Store calls (a *tiktok.Client).
type TokenAPI interface {
	RefreshToken(ctx context.Context, refreshToken string) (tiktok.Token, error)
}

// StoreOptions configure a Store. Zero values take the defaults in the
// comments.
type StoreOptions struct {
	// RefreshAhead: an access token expiring within this is refreshed
	// before use; default 24h (TIKTOK_TOKEN_REFRESH_AHEAD).
	RefreshAhead time.Duration
	// OnboardingURL is the link IT sends a seller to authorise the app again,
	// named in exception messages; default "/oauth/tiktok/start".
	OnboardingURL string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store keeps the shops' tokens in Postgres, encrypted, and refreshes them.
// It is a tiktok.TokenSource. Nothing it decides rests on memory of its own:
// any number of processes share one database.
type Store struct {
	pool   *pgxpool.Pool
	sealer *Sealer
	api    TokenAPI
	opts   StoreOptions
}

var _ tiktok.TokenSource = (*Store)(nil)

// NewStore returns a Store. api refreshes tokens; it must not use this Store
// as its own TokenSource for that call (the token endpoints need none).
func NewStore(pool *pgxpool.Pool, sealer *Sealer, api TokenAPI, opts StoreOptions) *Store {
	if opts.RefreshAhead <= 0 {
		opts.RefreshAhead = 24 * time.Hour
	}
	if opts.OnboardingURL == "" {
		opts.OnboardingURL = "/oauth/tiktok/start"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{pool: pool, sealer: sealer, api: api, opts: opts}
}

// expiring reports whether an access token expiring at t must be refreshed.
func (s *Store) expiring(t time.Time) bool {
	return !t.After(s.opts.Now().Add(s.opts.RefreshAhead))
}

// AccessToken returns the shop's access token, refreshing it first when it
// expires within the refresh-ahead window.
func (s *Store) AccessToken(ctx context.Context, shopID string) (string, error) {
	row, err := db.New(s.pool).GetShopAuthorization(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: %s", ErrUnknownShop, shopID)
	}
	if err != nil {
		return "", fmt.Errorf("shops: reading the authorisation of shop %s: %w", shopID, err)
	}
	if row.ShopStatus != StatusActive || row.Status != StatusActive {
		return "", notAuthorized(shopID, row.ShopStatus, row.Status)
	}
	if !s.expiring(row.AccessExpiresAt) {
		return s.sealer.Open(row.AccessTokenEnc, tokenContext("access", row.OpenID))
	}
	return s.refresh(ctx, row.OpenID, "")
}

// RefreshAccessToken is called when TikTok rejected the access token
// rejected as expired. Under the authorisation's row lock it re-reads the
// stored token: if another caller (in any process) replaced it already, that
// token is returned; otherwise it refreshes and stores both new tokens.
func (s *Store) RefreshAccessToken(ctx context.Context, shopID, rejected string) (string, error) {
	row, err := db.New(s.pool).GetShopAuthorization(ctx, shopID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: %s", ErrUnknownShop, shopID)
	}
	if err != nil {
		return "", fmt.Errorf("shops: reading the authorisation of shop %s: %w", shopID, err)
	}
	if row.ShopStatus != StatusActive {
		return "", notAuthorized(shopID, row.ShopStatus, row.Status)
	}
	return s.refresh(ctx, row.OpenID, rejected)
}

// RefreshAuthorization refreshes one authorisation's tokens if its access
// token expires within the refresh-ahead window (the periodic refresh).
func (s *Store) RefreshAuthorization(ctx context.Context, openID string) error {
	_, err := s.refresh(ctx, openID, "")
	return err
}

// RefreshDue refreshes, one at a time and each under its lock, every active
// authorisation whose access token expires within the refresh-ahead window.
// An authorisation TikTok refuses is marked for re-authorisation (with its
// exception) and does not fail the others; other errors are returned joined.
func (s *Store) RefreshDue(ctx context.Context) (refreshed int, err error) {
	due, err := db.New(s.pool).ListTikTokAuthorizationsDue(ctx, s.opts.Now().Add(s.opts.RefreshAhead))
	if err != nil {
		return 0, fmt.Errorf("shops: listing authorisations to refresh: %w", err)
	}
	var errs []error
	for _, openID := range due {
		if err := s.RefreshAuthorization(ctx, openID); err != nil {
			if !errors.Is(err, ErrNotAuthorized) {
				errs = append(errs, err)
			}
			continue
		}
		refreshed++
	}
	return refreshed, errors.Join(errs...)
}

// refresh is the one refresher of an authorisation: it holds the row lock
// from the re-read until both new tokens are committed. rejected is the token
// TikTok refused ("" when refreshing ahead of expiry).
func (s *Store) refresh(ctx context.Context, openID, rejected string) (token string, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("shops: refreshing the tokens of seller %s: %w", openID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	q := db.New(tx)
	auth, err := q.LockTikTokAuthorization(ctx, openID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: no authorisation %s", ErrUnknownShop, openID)
	}
	if err != nil {
		return "", fmt.Errorf("shops: locking the authorisation of seller %s: %w", openID, err)
	}
	if auth.Status != StatusActive {
		return "", fmt.Errorf("%w (seller %s is %s)", ErrNotAuthorized, openID, auth.Status)
	}
	current, err := s.sealer.Open(auth.AccessTokenEnc, tokenContext("access", openID))
	if err != nil {
		return "", err
	}
	if current != rejected && !s.expiring(auth.AccessExpiresAt) {
		// Another caller refreshed while this one waited for the lock, or
		// the token is still good: nothing to do.
		return current, nil
	}
	refreshToken, err := s.sealer.Open(auth.RefreshTokenEnc, tokenContext("refresh", openID))
	if err != nil {
		return "", err
	}
	tok, err := s.api.RefreshToken(ctx, refreshToken)
	if errors.Is(err, tiktok.ErrRefreshTokenExpired) {
		if rerr := s.markReauthorize(ctx, q, auth, err); rerr != nil {
			return "", rerr
		}
		if cerr := tx.Commit(ctx); cerr != nil {
			return "", fmt.Errorf("shops: recording that seller %s must authorise again: %w", openID, cerr)
		}
		return "", fmt.Errorf("%w: TikTok refused the refresh token of seller %s (%s): %w", ErrNotAuthorized, openID, auth.SellerName, err)
	}
	if err != nil {
		return "", fmt.Errorf("shops: refreshing the tokens of seller %s: %w", openID, err)
	}
	err = q.SaveRefreshedTikTokTokens(ctx, db.SaveRefreshedTikTokTokensParams{
		OpenID:           openID,
		AccessTokenEnc:   s.sealer.Seal(tok.AccessToken, tokenContext("access", openID)),
		AccessExpiresAt:  tok.AccessExpiresAt,
		RefreshTokenEnc:  s.sealer.Seal(tok.RefreshToken, tokenContext("refresh", openID)),
		RefreshExpiresAt: tok.RefreshExpiresAt,
	})
	if err != nil {
		return "", fmt.Errorf("shops: saving the refreshed tokens of seller %s: %w", openID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("shops: saving the refreshed tokens of seller %s: %w", openID, err)
	}
	return tok.AccessToken, nil
}

// markReauthorize sets the authorisation to reauthorize and raises one
// critical exception per shop it covers (one without shop when it covers
// none), in the caller's transaction.
func (s *Store) markReauthorize(ctx context.Context, q *db.Queries, auth db.IntegrationTiktokAuthorization, cause error) error {
	if err := q.SetTikTokAuthorizationStatus(ctx, db.SetTikTokAuthorizationStatusParams{OpenID: auth.OpenID, Status: StatusReauthorize}); err != nil {
		return fmt.Errorf("shops: marking seller %s for re-authorisation: %w", auth.OpenID, err)
	}
	shops, err := q.ListTikTokShopsOfAuthorization(ctx, auth.OpenID)
	if err != nil {
		return fmt.Errorf("shops: listing the shops of seller %s: %w", auth.OpenID, err)
	}
	details := map[string]any{"open_id": auth.OpenID, "seller_name": auth.SellerName, "refresh_expires_at": auth.RefreshExpiresAt.UTC().Format(time.RFC3339)}
	var api *tiktok.APIError
	if errors.As(cause, &api) {
		details["tiktok_code"], details["tiktok_message"], details["tiktok_request_id"] = api.Code, api.Message, api.RequestID
	}
	raise := func(shopID *string, what string) error {
		_, err := q.RaiseException(ctx, db.RaiseExceptionParams{
			Kind: KindReauthorize, OwnerTeam: "it", Severity: "critical", ShopID: shopID,
			Message: fmt.Sprintf("TikTok no longer accepts the authorisation of %s: its refresh token expired or was revoked, so nothing can be read from or sent to TikTok for it. "+
				"Have the seller authorise the app again through the onboarding link %s; this exception resolves itself then.", what, s.opts.OnboardingURL),
			Details: mustJSON(details),
		})
		if err != nil {
			return fmt.Errorf("shops: raising %s for seller %s: %w", KindReauthorize, auth.OpenID, err)
		}
		return nil
	}
	if len(shops) == 0 {
		return raise(nil, fmt.Sprintf("seller %q (open_id %s, no shops)", auth.SellerName, auth.OpenID))
	}
	for _, sh := range shops {
		if sh.Status != StatusActive {
			continue
		}
		if err := raise(&sh.ID, shopLabel(sh)); err != nil {
			return err
		}
	}
	return nil
}

func notAuthorized(shopID, shopStatus, authStatus string) error {
	if shopStatus != StatusActive {
		return fmt.Errorf("%w (shop %s is %s)", ErrNotAuthorized, shopID, shopStatus)
	}
	return fmt.Errorf("%w (shop %s: its authorisation is %s)", ErrNotAuthorized, shopID, authStatus)
}

// shopLabel names a shop for people: "shop Maomao beauty (7000714532876273420, GB)".
func shopLabel(sh db.TiktokShop) string {
	if sh.Name == "" {
		return "shop " + sh.ID
	}
	return fmt.Sprintf("shop %s (%s, %s)", sh.Name, sh.ID, sh.Region)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("shops: details not encodable: " + err.Error())
	}
	return b
}
