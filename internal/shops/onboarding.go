package shops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiktokb1/tiktokb1/internal/db"
	"github.com/tiktokb1/tiktokb1/internal/tiktok"
)

// ErrStartAgain means the callback cannot complete an authorisation: its
// state is unknown, expired or used, or TikTok refused its code. Nothing was
// stored; the seller starts again from the onboarding link.
var ErrStartAgain = errors.New("shops: this authorisation link is not valid (any more); start again from the onboarding link")

// OnboardingAPI is the part of TikTok's API onboarding calls (a
// *tiktok.Client).
type OnboardingAPI interface {
	GetToken(ctx context.Context, authCode string) (tiktok.Token, error)
	AuthorizedShops(ctx context.Context, accessToken string) ([]tiktok.AuthorizedShop, error)
}

// AfterAuthorize runs inside the transaction that stores an authorisation and
// its shops, with the ids of those shops; what it enqueues exists only if
// that transaction commits (DESIGN.md invariant 3).
type AfterAuthorize func(ctx context.Context, tx pgx.Tx, shopIDs []string) error

// OnboardingOptions configure Onboarding. Zero values take the defaults in
// the comments.
type OnboardingOptions struct {
	// AuthorizeURL is TikTok's consent page; default
	// https://services.tiktokshop.com/open/authorize (TIKTOK_AUTHORIZE_URL).
	AuthorizeURL string
	// ServiceID is the app's service id (TIKTOK_SERVICE_ID); required.
	ServiceID string
	// StateTTL is how long an authorisation link stays valid; default 30m.
	StateTTL time.Duration
	// AfterAuthorize enqueues what a newly authorised shop needs (its
	// webhook subscriptions); nil enqueues nothing.
	AfterAuthorize AfterAuthorize
}

// Onboarding connects shops: it hands out authorisation links and completes
// TikTok's callback.
type Onboarding struct {
	pool   *pgxpool.Pool
	sealer *Sealer
	api    OnboardingAPI
	opts   OnboardingOptions
}

// NewOnboarding returns an Onboarding.
func NewOnboarding(pool *pgxpool.Pool, sealer *Sealer, api OnboardingAPI, opts OnboardingOptions) *Onboarding {
	if opts.AuthorizeURL == "" {
		opts.AuthorizeURL = "https://services.tiktokshop.com/open/authorize"
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = 30 * time.Minute
	}
	return &Onboarding{pool: pool, sealer: sealer, api: api, opts: opts}
}

// StartURL stores a new state and returns TikTok's consent page for it:
// AuthorizeURL?service_id=…&state=….
func (o *Onboarding) StartURL(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("shops: no randomness for an OAuth state: %w", err)
	}
	state := hex.EncodeToString(b)
	q := db.New(o.pool)
	if _, err := q.CreateOAuthState(ctx, db.CreateOAuthStateParams{State: state, TtlSeconds: int32(o.opts.StateTTL / time.Second)}); err != nil {
		return "", fmt.Errorf("shops: storing an OAuth state: %w", err)
	}
	if _, err := q.PurgeOAuthStates(ctx); err != nil {
		return "", fmt.Errorf("shops: purging old OAuth states: %w", err)
	}
	return o.opts.AuthorizeURL + "?" + url.Values{"service_id": {o.opts.ServiceID}, "state": {state}}.Encode(), nil
}

// Authorized is what Complete connected.
type Authorized struct {
	OpenID     string
	SellerName string
	// Shops are the shops the authorisation covers, as stored.
	Shops []db.TiktokShop
}

// Complete finishes TikTok's callback: it accepts the state once (an unknown,
// expired or used state is ErrStartAgain, and nothing is stored), exchanges
// the code for tokens, lists the authorisation's shops, and stores the
// authorisation, its shops and the AfterAuthorize jobs in one transaction.
// Authorising a seller again replaces its tokens, reactivates its shops and
// resolves their re-authorisation exceptions.
func (o *Onboarding) Complete(ctx context.Context, code, state string) (Authorized, error) {
	if state == "" {
		return Authorized{}, fmt.Errorf("%w: the callback carries no state", ErrStartAgain)
	}
	if code == "" {
		return Authorized{}, fmt.Errorf("%w: TikTok sent no authorisation code (was the authorisation declined?)", ErrStartAgain)
	}
	if err := o.useState(ctx, state); err != nil {
		return Authorized{}, err
	}
	tok, err := o.api.GetToken(ctx, code)
	if err != nil {
		var api *tiktok.APIError
		if errors.As(err, &api) && (api.Code == tiktok.CodeInvalidAuthCode || api.Code == tiktok.CodeAuthRecordNotFound) {
			return Authorized{}, fmt.Errorf("%w: TikTok refused the authorisation code: %w", ErrStartAgain, err)
		}
		return Authorized{}, fmt.Errorf("shops: exchanging the authorisation code: %w", err)
	}
	if tok.OpenID == "" {
		return Authorized{}, errors.New("shops: TikTok's token answer has no open_id")
	}
	listed, err := o.api.AuthorizedShops(ctx, tok.AccessToken)
	if err != nil {
		return Authorized{}, fmt.Errorf("shops: listing the shops of seller %s: %w", tok.OpenID, err)
	}

	var p db.UpsertTikTokShopsParams
	p.OpenID = tok.OpenID
	seen := map[tiktok.FlexString]bool{}
	for _, sh := range listed {
		if sh.ID == "" || sh.Cipher == "" {
			return Authorized{}, fmt.Errorf("shops: TikTok listed a shop of seller %s without id or cipher", tok.OpenID)
		}
		if seen[sh.ID] {
			continue
		}
		seen[sh.ID] = true
		p.Ids = append(p.Ids, string(sh.ID))
		p.Names = append(p.Names, sh.Name)
		p.Regions = append(p.Regions, sh.Region)
		p.SellerTypes = append(p.SellerTypes, sh.SellerType)
		p.Ciphers = append(p.Ciphers, sh.Cipher)
		p.Codes = append(p.Codes, sh.Code)
	}
	scopes := tok.GrantedScopes
	if scopes == nil {
		scopes = []string{}
	}

	var out Authorized
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		auth, err := q.UpsertTikTokAuthorization(ctx, db.UpsertTikTokAuthorizationParams{
			OpenID:           tok.OpenID,
			SellerName:       tok.SellerName,
			SellerBaseRegion: tok.SellerBaseRegion,
			UserType:         int32(tok.UserType),
			GrantedScopes:    scopes,
			AccessTokenEnc:   o.sealer.Seal(tok.AccessToken, tokenContext("access", tok.OpenID)),
			AccessExpiresAt:  tok.AccessExpiresAt,
			RefreshTokenEnc:  o.sealer.Seal(tok.RefreshToken, tokenContext("refresh", tok.OpenID)),
			RefreshExpiresAt: tok.RefreshExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("storing the authorisation: %w", err)
		}
		out.OpenID, out.SellerName = auth.OpenID, auth.SellerName
		if out.Shops, err = q.UpsertTikTokShops(ctx, p); err != nil {
			return fmt.Errorf("storing the shops: %w", err)
		}
		if len(p.Ids) == 0 {
			return nil
		}
		if _, err := q.ResolveShopExceptions(ctx, db.ResolveShopExceptionsParams{
			Kinds:      []string{KindReauthorize, KindDeauthorized, KindAuthorizationExpires},
			ShopIds:    p.Ids,
			ResolvedBy: resolvedBy,
			Resolution: "auto: shop re-authorised",
		}); err != nil {
			return fmt.Errorf("resolving the shops' authorisation exceptions: %w", err)
		}
		if o.opts.AfterAuthorize != nil {
			if err := o.opts.AfterAuthorize(ctx, tx, p.Ids); err != nil {
				return fmt.Errorf("enqueueing the shops' setup: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Authorized{}, fmt.Errorf("shops: onboarding seller %s: %w", tok.OpenID, err)
	}
	return out, nil
}

// useState accepts state once, or says why it cannot.
func (o *Onboarding) useState(ctx context.Context, state string) error {
	q := db.New(o.pool)
	_, err := q.UseOAuthState(ctx, state)
	if err == nil {
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("shops: checking the OAuth state: %w", err)
	}
	st, err := q.GetOAuthState(ctx, state)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: the link was not handed out by this service", ErrStartAgain)
	case err != nil:
		return fmt.Errorf("shops: checking the OAuth state: %w", err)
	case st.UsedAt != nil:
		return fmt.Errorf("%w: the link was used already", ErrStartAgain)
	default:
		return fmt.Errorf("%w: the link expired", ErrStartAgain)
	}
}
