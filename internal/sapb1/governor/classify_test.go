package governor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/tiktokb1/tiktokb1/internal/sapb1/governor"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		status int
		err    error
		want   governor.Kind
	}{
		{200, nil, governor.OK},
		{201, nil, governor.OK},
		{400, nil, governor.OK}, // SAP's business errors: SAP answered
		{404, nil, governor.OK},
		{500, nil, governor.ServerError},
		{502, nil, governor.BadGateway},
		{503, nil, governor.Unreachable},
		{504, nil, governor.Timeout},
		{0, fmt.Errorf("post: %w", context.DeadlineExceeded), governor.Timeout},
		{0, &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, governor.Timeout},
		{0, refused, governor.Unreachable},
		{0, errors.New("tls: bad certificate"), governor.Unreachable},
		{0, fmt.Errorf("post: %w", context.Canceled), governor.NotSent},
	} {
		if got := governor.Classify(tt.status, tt.err); got != tt.want {
			t.Errorf("Classify(%d, %v) = %s, want %s", tt.status, tt.err, got, tt.want)
		}
	}
}
