package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
	"github.com/strata-storage/strata/internal/lazyregexp"
)

// responseHeader is a header of the response err came from, or "".
func responseHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

// ErrNoBucket is wrapped by the errors of requests that S3 answered with
// NoSuchBucket: the store's bucket does not exist (any more). It is not
// blob.ErrNotFound, so that a deleted bucket never reads as a missing
// object. A HEAD (Stat) cannot tell (see mapError).
var ErrNoBucket = errors.New("s3: bucket does not exist")

// mapError wraps err in the blob sentinel its S3 code stands for. Codes only
// some operations give are mapped by those operations.
//
// "NotFound" is what a HEAD of a missing key answers, but also of a key in a
// missing bucket (a HEAD response has no body to tell them apart, and S3
// sends no header that does): Stat cannot see that the bucket is gone.
// Every other request names NoSuchBucket, which becomes ErrNoBucket; that
// is why Backend.Ready reads its probe object with Get, and why Check
// exists.
//
// Throttling (503 SlowDown and the SDK's other throttling codes, any 503)
// and transport failures (see awserr.IsTransportFailure) that outlasted the
// SDK's retries wrap blob.ErrUnavailable as well as err.
func (s *Store) mapError(ctx context.Context, err error) error {
	switch awserr.Code(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	case "NoSuchBucket":
		return fmt.Errorf("%w (%q): %w", ErrNoBucket, s.bucket, err)
	case "InvalidObjectState", "ObjectNotInActiveTierError":
		return fmt.Errorf("%w (restore it first): %w", blob.ErrArchived, err)
	case "InvalidRange":
		return fmt.Errorf("%w: %w", blob.ErrInvalidRange, err)
	}
	if awserr.IsThrottled(err) {
		var mae *retry.MaxAttemptsError
		if errors.As(err, &mae) {
			return fmt.Errorf("S3 is throttling requests (still after %d attempts): %w: %w", mae.Attempt, blob.ErrUnavailable, err)
		}
		return fmt.Errorf("S3 is throttling requests: %w: %w", blob.ErrUnavailable, err)
	}
	if awserr.IsTransportFailure(ctx, err) {
		return fmt.Errorf("S3 cannot be reached: %w: %w", blob.ErrUnavailable, err)
	}
	return err
}

// fail is the error of operation op on key: err mapped, and wrapping ctx's
// error when ctx is done, so callers can always test for cancellation with
// errors.Is whatever the SDK made of it.
func (s *Store) fail(ctx context.Context, op, key string, err error) error {
	err = s.mapError(ctx, err)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// regionInMessage finds the bucket's region in the message S3 gives a
// request signed for the wrong one (AuthorizationHeaderMalformed: "the
// region 'us-east-1' is wrong; expecting 'eu-west-1'").
var regionInMessage = lazyregexp.New(`expecting '([a-z0-9-]+)'`)

// checkError is Check's error for a refused action.
func (s *Store) checkError(ctx context.Context, action string, err error) error {
	code, status := awserr.Code(err), awserr.HTTPStatus(err)
	region := responseHeader(err, "X-Amz-Bucket-Region")
	if region == "" {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			if m := regionInMessage().FindStringSubmatch(ae.ErrorMessage()); m != nil {
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
	return fmt.Errorf("s3: bucket %q: %s: %w", s.bucket, action, s.mapError(ctx, err))
}
