package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-storage/strata/backend/blob"
)

// errorCode is the S3 error code of err, or "". HEAD requests carry no body,
// so for them the SDK derives the code from the status ("NotFound",
// "Forbidden", "MovedPermanently").
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus is the HTTP status of the response err came from, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// responseHeader is a header of the response err came from, or "".
func responseHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

// mapError wraps err in the blob sentinel its S3 code stands for. Codes only
// some operations give are mapped by those operations.
//
// "NotFound" is what a HEAD of a missing key answers, but also of a key in a
// missing bucket (a HEAD response has no body to tell them apart): Stat
// cannot see that the bucket is gone, which is why Check exists.
func mapError(err error) error {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	case "InvalidObjectState", "ObjectNotInActiveTierError":
		return fmt.Errorf("%w (restore it first): %w", blob.ErrArchived, err)
	case "InvalidRange":
		return fmt.Errorf("%w: %w", blob.ErrInvalidRange, err)
	}
	if isThrottled(err) {
		var mae *retry.MaxAttemptsError
		if errors.As(err, &mae) {
			return fmt.Errorf("S3 is throttling requests (still after %d attempts): %w", mae.Attempt, err)
		}
		return fmt.Errorf("S3 is throttling requests: %w", err)
	}
	return err
}

func isThrottled(err error) bool {
	if _, ok := retry.DefaultThrottleErrorCodes[errorCode(err)]; ok {
		return true
	}
	return httpStatus(err) == http.StatusServiceUnavailable
}

// fail is the error of operation op on key: err mapped, and wrapping ctx's
// error when ctx is done, so callers can always test for cancellation with
// errors.Is whatever the SDK made of it.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	err = mapError(err)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// regionInMessage finds the bucket's region in the message S3 gives a
// request signed for the wrong one (AuthorizationHeaderMalformed: "the
// region 'us-east-1' is wrong; expecting 'eu-west-1'").
var regionInMessage = regexp.MustCompile(`expecting '([a-z0-9-]+)'`)

// checkError is Check's error for a refused action.
func (s *Store) checkError(action string, err error) error {
	code, status := errorCode(err), httpStatus(err)
	region := responseHeader(err, "X-Amz-Bucket-Region")
	if region == "" {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			if m := regionInMessage.FindStringSubmatch(ae.ErrorMessage()); m != nil {
				region = m[1]
			}
		}
	}
	switch {
	case code == "NoSuchBucket" || (action == "s3:ListBucket" && status == http.StatusNotFound):
		return fmt.Errorf("s3: bucket %q does not exist: %w", s.bucket, err)
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
		status == http.StatusMovedPermanently || (region != "" && status == http.StatusBadRequest):
		where := "in another region"
		if region != "" {
			where = fmt.Sprintf("in region %s", region)
		}
		return fmt.Errorf("s3: bucket %q is %s, not in the client's region %q: set AWS_REGION: %w",
			s.bucket, where, s.client.Options().Region, err)
	case code == "AccessDenied" || code == "Forbidden" || status == http.StatusForbidden:
		return fmt.Errorf("s3: bucket %q: %s denied: %w", s.bucket, action, err)
	}
	return fmt.Errorf("s3: bucket %q: %s: %w", s.bucket, action, mapError(err))
}
