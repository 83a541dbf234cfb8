package tiktoksim

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The token paths live on auth.tiktok-shops.com in production; the simulator
// serves them on its one address. They are not signed: the app secret travels
// in the query (reference §3).
const (
	tokenGetPath     = "/api/v2/token/get"
	tokenRefreshPath = "/api/v2/token/refresh"
)

const (
	codeRefreshExpired = 36004001 // "rt has expired"
	codeBadAuthCode    = 36004004
	codeNoAuthRecord   = 36004005
)

type accessToken struct {
	expires int64 // unix seconds; expired from this second on
}

type refreshToken struct {
	expires    int64
	superseded bool // a refresh rotated it out
}

// grantedScopes is what the simulator's app was granted; clients only store it.
var grantedScopes = []string{
	"seller.authorization.info", "seller.order.info", "seller.fulfillment.basic",
	"seller.product.basic", "seller.product.write", "seller.logistics",
	"seller.return_refund.basic", "seller.finance.info", "seller.webhook",
}

// Token is a token pair as the token paths return it. The expiry fields are
// absolute unix times, not durations (reference §3, C2).
type Token struct {
	AccessToken          string   `json:"access_token"`
	AccessTokenExpireIn  int64    `json:"access_token_expire_in"`
	RefreshToken         string   `json:"refresh_token"`
	RefreshTokenExpireIn int64    `json:"refresh_token_expire_in"`
	OpenID               string   `json:"open_id"`
	SellerName           string   `json:"seller_name"`
	SellerBaseRegion     string   `json:"seller_base_region"`
	UserType             int      `json:"user_type"`
	GrantedScopes        []string `json:"granted_scopes"`
}

// serveToken answers /api/v2/token/get and /api/v2/token/refresh.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.counters.request(r.Method + " " + r.URL.Path)
	if r.Method != http.MethodGet {
		s.writeError(w, now, &apiError{http.StatusMethodNotAllowed, codeInvalidMethod, msgMethod})
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, now, invalidParam("The query string is malformed: %v.", err))
		return
	}
	if q.Get("app_key") != s.opts.AppKey {
		s.writeError(w, now, &apiError{http.StatusBadRequest, codeInvalid, msgAppKey})
		return
	}
	if q.Get("app_secret") != s.opts.AppSecret {
		s.writeError(w, now, &apiError{http.StatusOK, codeInvalid, "Invalid credentials. Invalid `app_secret` query parameter."})
		return
	}
	var tok Token
	var e *apiError
	if r.URL.Path == tokenGetPath {
		tok, e = s.exchangeCode(q, now)
	} else {
		tok, e = s.refreshToken(q, now)
	}
	if e != nil {
		s.writeError(w, now, e)
		return
	}
	// The auth host writes "success" in lower case (reference samples).
	s.writeJSON(w, http.StatusOK, envelope{Code: codeOK, Message: "success", RequestID: s.requestID(now), Data: tok})
}

func (s *Server) exchangeCode(q url.Values, now time.Time) (Token, *apiError) {
	if gt := q.Get("grant_type"); gt != "authorized_code" {
		return Token{}, invalidParam("grant_type must be authorized_code, got %q.", gt)
	}
	code := q.Get("auth_code")
	s.mu.Lock()
	defer s.mu.Unlock()
	// Any code is accepted once (there is no consent page to issue one);
	// a code used twice is refused as TikTok refuses a spent code.
	if code == "" || s.usedCodes[code] {
		return Token{}, bizError(codeBadAuthCode, "Invalid auth code.")
	}
	s.usedCodes[code] = true
	return s.issueLocked(now), nil
}

func (s *Server) refreshToken(q url.Values, now time.Time) (Token, *apiError) {
	if gt := q.Get("grant_type"); gt != "refresh_token" {
		return Token{}, invalidParam("grant_type must be refresh_token, got %q.", gt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.refresh[q.Get("refresh_token")]
	switch {
	case rt == nil || rt.superseded:
		// A rotated-out token is as unknown as a made-up one: both mean the
		// client lost the pair a refresh returned.
		return Token{}, bizError(codeNoAuthRecord, "can not find related auth record")
	case now.Unix() >= rt.expires:
		return Token{}, bizError(codeRefreshExpired, "rt has expired")
	}
	rt.superseded = true
	// The old access token keeps working until it expires, so processes that
	// still hold it do not fail while one of them refreshes.
	return s.issueLocked(now), nil
}

// issueLocked mints a token pair for the shop.
func (s *Server) issueLocked(now time.Time) Token {
	access := "ROW_" + s.randString(s.tokRng, tokenChars, 72)
	refresh := s.randString(s.tokRng, alnum, 64)
	t := Token{
		AccessToken:          access,
		AccessTokenExpireIn:  now.Add(s.opts.AccessTokenTTL).Unix(),
		RefreshToken:         refresh,
		RefreshTokenExpireIn: now.Add(s.opts.RefreshTokenTTL).Unix(),
		OpenID:               s.openID(),
		SellerName:           s.shop.Name,
		SellerBaseRegion:     s.shop.Region,
		UserType:             0,
		GrantedScopes:        grantedScopes,
	}
	s.access[access] = &accessToken{expires: t.AccessTokenExpireIn}
	s.refresh[refresh] = &refreshToken{expires: t.RefreshTokenExpireIn}
	return t
}

// openID is stable per shop: the seller's id in the app's eyes.
func (s *Server) openID() string { return "7010" + s.shop.ID[4:] }

// checkAccessToken is the gateway's token check.
func (s *Server) checkAccessToken(header string, now time.Time) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.access[header]
	if header == "" || t == nil {
		return &apiError{http.StatusOK, codeInvalid, msgToken}
	}
	if now.Unix() >= t.expires {
		return &apiError{http.StatusOK, codeTokenExpired, msgExpired}
	}
	return nil
}

// IssueToken mints a token pair without the OAuth round trip, for the
// in-process sandbox and tests (the control API's POST /_sim/tokens).
func (s *Server) IssueToken() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(s.now())
}

// ExpireTokens makes one access token (or every one, when accessToken is
// empty) expired from now on, so the next call answers 105002. It returns
// how many tokens it expired.
func (s *Server) ExpireTokens(accessToken string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.now().Unix()
	if accessToken == "" {
		n := 0
		for _, t := range s.access {
			if t.expires > at {
				t.expires, n = at, n+1
			}
		}
		return n, nil
	}
	t := s.access[accessToken]
	if t == nil {
		return 0, fmt.Errorf("%w: no such access token", ErrNotFound)
	}
	t.expires = min(t.expires, at)
	return 1, nil
}

// Shop returns the shop the simulator serves (its id and cipher).
func (s *Server) Shop() Shop { return s.shop }

// apiShops is GET /authorization/202309/shops.
func (s *Server) apiShops(rq *apiRequest) (any, *apiError) {
	return map[string]any{"shops": []Shop{s.shop}}, nil
}
