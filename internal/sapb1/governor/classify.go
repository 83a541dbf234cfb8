package governor

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// Classify turns the result of one HTTP round trip to the Service Layer into
// the Kind Release expects: err from the HTTP client (nil when an answer came)
// and the answer's status code.
//
//   - a cancelled context: NotSent (the caller gave up; SAP's health is unknown)
//   - a deadline or network timeout, or a 504: Timeout
//   - any other transport error (refused, reset, DNS, TLS), or a 503: Unreachable
//   - 502: BadGateway
//   - any other status of 500 or above: ServerError
//   - anything else, SAP's business errors (4xx) included: OK
func Classify(status int, err error) Kind {
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, context.Canceled):
			return NotSent
		case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			return Timeout
		}
		return Unreachable
	}
	switch {
	case status == http.StatusBadGateway:
		return BadGateway
	case status == http.StatusGatewayTimeout:
		return Timeout
	case status == http.StatusServiceUnavailable:
		return Unreachable
	case status >= 500:
		return ServerError
	}
	return OK
}
