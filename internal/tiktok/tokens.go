package tiktok

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Token is what TikTok's token endpoints return for one authorisation.
type Token struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	OpenID           string
	SellerName       string
	SellerBaseRegion string
	UserType         int
	GrantedScopes    []string
}

type tokenData struct {
	AccessToken          string      `json:"access_token"`
	AccessTokenExpireIn  json.Number `json:"access_token_expire_in"`
	RefreshToken         string      `json:"refresh_token"`
	RefreshTokenExpireIn json.Number `json:"refresh_token_expire_in"`
	OpenID               string      `json:"open_id"`
	SellerName           string      `json:"seller_name"`
	SellerBaseRegion     string      `json:"seller_base_region"`
	UserType             json.Number `json:"user_type"`
	GrantedScopes        []string    `json:"granted_scopes"`
}

// GetToken exchanges the auth code of the OAuth callback for tokens.
func (c *Client) GetToken(ctx context.Context, authCode string) (Token, error) {
	return c.token(ctx, "token_get", tokenGetPath, url.Values{
		"auth_code": {authCode}, "grant_type": {"authorized_code"},
	})
}

// RefreshToken trades a refresh token for new tokens. TikTok rotates the
// refresh token too: both must be stored, together.
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (Token, error) {
	return c.token(ctx, "token_refresh", tokenRefreshPath, url.Values{
		"refresh_token": {refreshToken}, "grant_type": {"refresh_token"},
	})
}

// token calls the unsigned token endpoints, which take the app secret in the
// query: errors never include the URL.
func (c *Client) token(ctx context.Context, name, path string, q url.Values) (Token, error) {
	q.Set("app_key", c.cfg.AppKey)
	q.Set("app_secret", c.cfg.AppSecret)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.AuthURL+path+"?"+q.Encode(), nil)
	if err != nil {
		return Token{}, fmt.Errorf("tiktok %s: building the request", name)
	}
	data, err := c.roundTrip(hreq, name)
	if err != nil {
		return Token{}, err
	}
	var td tokenData
	if err := decodeData(name, data, &td); err != nil {
		return Token{}, err
	}
	if td.AccessToken == "" || td.RefreshToken == "" {
		return Token{}, fmt.Errorf("tiktok %s: answer lacks a token", name)
	}
	// *_expire_in are absolute unix times, not durations (reference §3).
	accessAt, err1 := td.AccessTokenExpireIn.Int64()
	refreshAt, err2 := td.RefreshTokenExpireIn.Int64()
	if err1 != nil || err2 != nil {
		return Token{}, fmt.Errorf("tiktok %s: expiry times are not unix seconds", name)
	}
	userType, _ := td.UserType.Int64()
	return Token{
		AccessToken:      td.AccessToken,
		AccessExpiresAt:  time.Unix(accessAt, 0).UTC(),
		RefreshToken:     td.RefreshToken,
		RefreshExpiresAt: time.Unix(refreshAt, 0).UTC(),
		OpenID:           td.OpenID,
		SellerName:       td.SellerName,
		SellerBaseRegion: td.SellerBaseRegion,
		UserType:         int(userType),
		GrantedScopes:    td.GrantedScopes,
	}, nil
}
