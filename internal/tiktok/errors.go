package tiktok

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// TikTok's codes this client acts on (reference §4).
const (
	CodeOK                  = 0
	CodeRateLimited         = 36009002
	CodeInternal            = 36009003
	CodeGatewayRejected     = 36009004 // bad app_key, timestamp window, unexpected shop_cipher, bad param
	CodeTimeout             = 36009007
	CodeInvalidPath         = 36009009
	CodeAccessTokenExpired  = 105002
	CodeMissingScope        = 105005
	CodeInvalidSign         = 106001
	CodeShopCipherMissing   = 106013
	CodeRefreshTokenExpired = 36004001
	CodeInvalidAuthCode     = 36004004
	CodeAuthRecordNotFound  = 36004005
)

// Sentinel errors matched by errors.Is against an *APIError.
var (
	ErrRateLimited         = errors.New("tiktok: rate limited")
	ErrAccessTokenExpired  = errors.New("tiktok: access token expired")
	ErrRefreshTokenExpired = errors.New("tiktok: refresh token expired; the seller must authorise the app again")
	ErrMissingScope        = errors.New("tiktok: the app lacks the scope (API package) for this endpoint")
	ErrInvalidSign         = errors.New("tiktok: request signature rejected")
	ErrShopCipherMissing   = errors.New("tiktok: shop_cipher missing")
)

// APIError is a non-zero code in TikTok's envelope, or an HTTP failure of
// the gateway.
type APIError struct {
	Endpoint   string
	HTTPStatus int
	Code       int64
	Message    string
	RequestID  string
	// RetryAfter is TikTok's Retry-After on a rate-limited answer; zero when
	// it sent none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("tiktok %s: code %d: %s", e.Endpoint, e.Code, e.Message)
	if e.HTTPStatus != http.StatusOK && e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.RequestID != "" {
		s += " [request_id " + e.RequestID + "]"
	}
	return s
}

// Is matches the sentinels by code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrRateLimited:
		return e.Code == CodeRateLimited || e.HTTPStatus == http.StatusTooManyRequests
	case ErrAccessTokenExpired:
		return e.Code == CodeAccessTokenExpired
	case ErrRefreshTokenExpired:
		return e.Code == CodeRefreshTokenExpired || e.Code == CodeAuthRecordNotFound
	case ErrMissingScope:
		return e.Code == CodeMissingScope
	case ErrInvalidSign:
		return e.Code == CodeInvalidSign
	case ErrShopCipherMissing:
		return e.Code == CodeShopCipherMissing
	}
	return false
}

// Temporary reports whether the same request may succeed later: rate limits,
// TikTok's internal errors and timeouts, and 5xx answers. Everything else
// (validation, scope, signature) is permanent until something changes.
func (e *APIError) Temporary() bool {
	return e.Is(ErrRateLimited) || e.Code == CodeInternal || e.Code == CodeTimeout || e.HTTPStatus >= 500
}

// ItemError is one failed item inside a successful batch answer
// (`data.errors[]`), such as one SKU of an inventory update.
type ItemError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// RetryAfter returns how long to wait before retrying err, when TikTok said
// so (rate limit with Retry-After) or the limiter of this client did.
func RetryAfter(err error) (time.Duration, bool) {
	var api *APIError
	if errors.As(err, &api) && api.Is(ErrRateLimited) {
		return api.RetryAfter, true
	}
	var local *LimitError
	if errors.As(err, &local) {
		return local.Wait, true
	}
	return 0, false
}

// LimitError is returned instead of waiting when this client's own rate
// limit for a shop and endpoint would make a caller wait too long; a River job
// snoozes for Wait instead of spending an attempt.
type LimitError struct {
	Endpoint string
	ShopID   string
	Wait     time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("tiktok %s: shop %s over its configured rate; retry in %s", e.Endpoint, e.ShopID, e.Wait)
}

func (e *LimitError) Is(target error) bool { return target == ErrRateLimited }

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
