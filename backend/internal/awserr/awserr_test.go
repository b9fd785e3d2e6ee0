package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-storage/strata/backend/internal/awserr"
)

// answer is the error of a request the service answered with status and
// code ("" for none).
func answer(status int, code string) error {
	var err error = errors.New("no body")
	if code != "" {
		err = &smithy.GenericAPIError{Code: code, Message: "refused"}
	}
	return fmt.Errorf("operation X: %w", &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	})
}

func TestCodeAndStatus(t *testing.T) {
	err := answer(404, "NoSuchKey")
	if got := awserr.Code(err); got != "NoSuchKey" {
		t.Errorf("Code = %q", got)
	}
	if got := awserr.HTTPStatus(err); got != 404 {
		t.Errorf("HTTPStatus = %d", got)
	}
	plain := errors.New("plain")
	if awserr.Code(plain) != "" || awserr.HTTPStatus(plain) != 0 {
		t.Error("an error that is no answer has a code or a status")
	}
}

func TestIsThrottled(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{answer(503, "SlowDown"), true},
		{answer(400, "ThrottlingException"), true},
		{answer(400, "LimitExceededException"), true},
		{answer(400, "ProvisionedThroughputExceededException"), true},
		{answer(400, "RequestLimitExceeded"), true},
		{answer(400, "TooManyRequestsException"), true}, // the SDK's
		{answer(503, ""), true},
		{answer(500, "InternalError"), false},
		{answer(400, "ValidationException"), false},
		{errors.New("plain"), false},
	} {
		if got := awserr.IsThrottled(tc.err); got != tc.want {
			t.Errorf("IsThrottled(%v) = %v", tc.err, got)
		}
	}
	if awserr.IsThrottlingCode("") {
		t.Error("no code is throttling")
	}
}

type timeout struct{}

func (timeout) Error() string   { return "i/o timeout" }
func (timeout) Timeout() bool   { return true }
func (timeout) Temporary() bool { return true }

var _ net.Error = timeout{}

func TestIsTransportFailure(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithyhttp.RequestSendError{Err: errors.New("dial")}, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{&net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{context.DeadlineExceeded, true}, // the HTTP client's, ctx is not done
		{&net.OpError{Op: "read", Err: timeout{}}, true},
		{context.Canceled, false},
		{answer(503, "SlowDown"), false}, // the service answered
		{errors.New("plain"), false},
		{nil, false},
	} {
		if got := awserr.IsTransportFailure(ctx, tc.err); got != tc.want {
			t.Errorf("IsTransportFailure(%v) = %v", tc.err, got)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if awserr.IsTransportFailure(done, &smithyhttp.RequestSendError{Err: errors.New("dial")}) {
		t.Error("a done ctx is a transport failure")
	}
}
