package sapb1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// SAP's error codes this client acts on (reference A2).
const (
	CodeSession        = 301
	CodeBusinessRule   = -10
	CodeNotFound       = -2028
	CodeDuplicate      = -2035
	CodeChanged        = -2039
	CodeValidation     = -5002
	CodeNotSupported   = -5006
	CodeMalformedBatch = -1000
	CodeLoginFailed    = 100000027
)

// Sentinels matched by errors.Is against an *Error.
var (
	ErrSession      = errors.New("sapb1: invalid or expired session")
	ErrNotFound     = errors.New("sapb1: no matching record")
	ErrDuplicate    = errors.New("sapb1: entry already exists")
	ErrChanged      = errors.New("sapb1: changed by another user since it was read")
	ErrBusinessRule = errors.New("sapb1: rejected by a business rule")
	ErrNotSupported = errors.New("sapb1: action not supported for this object")
	ErrLoginFailed  = errors.New("sapb1: login failed")
	// ErrUnknownOutcome is a write whose answer never came (timeout, 502):
	// SAP may have committed it. Never repeat it blind.
	ErrUnknownOutcome = errors.New("sapb1: outcome unknown; the document may exist")
)

// Error is an answer of the Service Layer with SAP's error envelope (v1:
// numeric code and message.value; v2: string code and plain message).
type Error struct {
	Op         string
	HTTPStatus int
	Code       int
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sapb1 %s: %d %s (HTTP %d)", e.Op, e.Code, e.Message, e.HTTPStatus)
}

// Is matches the sentinels by code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrSession:
		return e.Code == CodeSession || (e.HTTPStatus == http.StatusUnauthorized && e.Code != CodeLoginFailed)
	case ErrNotFound:
		return e.Code == CodeNotFound
	case ErrDuplicate:
		return e.Code == CodeDuplicate
	case ErrChanged:
		return e.Code == CodeChanged || e.HTTPStatus == http.StatusPreconditionFailed
	case ErrBusinessRule:
		return e.Code == CodeBusinessRule || e.Code == CodeValidation
	case ErrNotSupported:
		return e.Code == CodeNotSupported
	case ErrLoginFailed:
		return e.Code == CodeLoginFailed
	}
	return false
}

// Retryable reports whether the same request may succeed later without a
// person changing anything: an expired session (log in again), -2039 (read
// again, then retry), and server-side failures. Validation and business
// rules are permanent: they become an exception, never a retry loop.
func (e *Error) Retryable() bool {
	return e.Is(ErrSession) || e.Is(ErrChanged) || e.HTTPStatus >= 500
}

// parseError decodes either envelope. ok is false when body is not one.
func parseError(op string, status int, body []byte) (*Error, bool) {
	var env struct {
		Error *struct {
			Code    json.RawMessage `json:"code"`
			Message json.RawMessage `json:"message"`
			Details []struct {
				Message string `json:"message"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		return nil, false
	}
	e := &Error{Op: op, HTTPStatus: status}
	code := strings.Trim(string(bytes.TrimSpace(env.Error.Code)), `"`)
	n, err := strconv.Atoi(code)
	if err != nil {
		return nil, false
	}
	e.Code = n
	var v1 struct {
		Value string `json:"value"`
	}
	var v2 string
	switch {
	case json.Unmarshal(env.Error.Message, &v2) == nil:
		e.Message = v2
	case json.Unmarshal(env.Error.Message, &v1) == nil:
		e.Message = v1.Value
	}
	for _, d := range env.Error.Details {
		if d.Message != "" {
			e.Message += "; " + d.Message
		}
	}
	return e, true
}
