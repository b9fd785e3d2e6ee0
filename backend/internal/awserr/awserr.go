// Package awserr classifies the errors of AWS SDK requests as transient:
// the service throttling (refusing a request for load) or the network
// failing (the request or its answer lost on the way). The S3, DynamoDB
// and KMS drivers use it to tell what still failed after the SDK's retries
// for one of those reasons, which each wraps in its own "unavailable"
// sentinel. (Missing credentials, which the provisioner checks too, are
// internal/awscreds'.)
package awserr

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Code is the error code of the service's answer err wraps, or "" when the
// service did not answer. For a HEAD request, which carries no body, the
// SDK derives the code from the status ("NotFound", "Forbidden").
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HTTPStatus is the HTTP status of the response err came from, or 0.
func HTTPStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// serviceThrottleCodes are the throttling codes the drivers' services
// document, named here whether or not the SDK's retryer lists them too.
var serviceThrottleCodes = map[string]bool{
	"ThrottlingException":                    true, // DynamoDB, KMS
	"LimitExceededException":                 true, // DynamoDB, KMS
	"ProvisionedThroughputExceededException": true, // DynamoDB
	"RequestLimitExceeded":                   true, // DynamoDB
}

// IsThrottlingCode reports whether code means the service (or the
// account's request quota) refused the request for load: the services' own
// throttling codes, and every code the SDK's retryer treats as throttling
// (S3's SlowDown among them).
func IsThrottlingCode(code string) bool {
	if serviceThrottleCodes[code] {
		return true
	}
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// IsThrottled reports whether err is the service refusing the request for
// load: an answer with a throttling code (see IsThrottlingCode) or any 503
// (Service Unavailable).
func IsThrottled(err error) bool {
	return IsThrottlingCode(Code(err)) || HTTPStatus(err) == http.StatusServiceUnavailable
}

// IsTransportFailure reports whether err, of a request made under ctx, is
// the network failing rather than an answer of the service or the caller
// giving up: a request that could not be sent or whose answer did not
// arrive (connection refused or reset, a response cut short, a timeout of
// the HTTP client). A done ctx — the caller's cancellation or deadline — is
// never one.
func IsTransportFailure(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return false // the service answered
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
