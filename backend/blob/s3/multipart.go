package s3blob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
)

// Begin implements blob.Store with CreateMultipartUpload.
func (s *Store) Begin(ctx context.Context, key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", opError("begin", key, blob.ErrInvalidKey)
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: s.objectKey(key), StorageClass: s.storageClass,
	}, s.opts...)
	if err != nil {
		return "", s.fail(ctx, "begin", key, err)
	}
	if aws.ToString(out.UploadId) == "" {
		return "", opError("begin", key, errors.New("S3 returned no upload ID"))
	}
	return *out.UploadId, nil
}

// PutPart implements blob.Store with UploadPart. The part streams from r to
// S3 (see streamOptions): it is never held in memory, and is sent once, with
// no retry by the SDK. A reader shorter or longer than size fails with
// blob.ErrSizeMismatch before the request body is complete, so S3 stores
// nothing for it (and an earlier part n stays as it was).
func (s *Store) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (blob.Part, error) {
	if !blob.ValidKey(key) {
		return blob.Part{}, opError("put part", key, blob.ErrInvalidKey)
	}
	if n < 1 || n > blob.MaxParts {
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: part number %d", blob.ErrInvalidPart, n))
	}
	if size < 0 {
		// UploadPart needs a Content-Length: a part's size must be known.
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: part size %d", blob.ErrSizeMismatch, size))
	}
	if size > maxPartSize {
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: part of %d bytes, more than S3 takes", blob.ErrInvalidPart, size))
	}
	if uploadID == "" {
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: empty upload ID", blob.ErrNotFound))
	}
	if err := ctx.Err(); err != nil {
		return blob.Part{}, opError("put part", key, err)
	}
	er := newExactReader(r, size)
	var body io.Reader = er
	if size == 0 {
		// net/http never reads an empty body, so check it ends here.
		if _, err := er.Read(nil); err != io.EOF {
			return blob.Part{}, opError("put part", key, err)
		}
		body = bytes.NewReader(nil)
	}
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        &s.bucket,
		Key:           s.objectKey(key),
		UploadId:      &uploadID,
		PartNumber:    aws.Int32(int32(n)),
		Body:          body,
		ContentLength: aws.Int64(size),
	}, s.streamOpts...)
	if rerr := er.failed(); rerr != nil && err != nil {
		// The part's own reader failed (a size mismatch, or the content
		// coming in broke off): that is the error, not the request's, and
		// it is never blob.ErrUnavailable, whatever the SDK made of it.
		if cerr := ctx.Err(); cerr != nil && !errors.Is(rerr, cerr) {
			rerr = fmt.Errorf("%w: %w", cerr, rerr)
		}
		return blob.Part{}, opError("put part", key, rerr)
	}
	if merr := er.mismatch(); merr != nil {
		return blob.Part{}, opError("put part", key, merr)
	}
	if err != nil {
		return blob.Part{}, s.uploadError(ctx, "put part", key, uploadID, err)
	}
	tag := aws.ToString(out.ETag)
	if tag == "" {
		return blob.Part{}, opError("put part", key, errors.New("S3 returned no ETag"))
	}
	return blob.Part{Number: n, Size: size, Tag: tag}, nil
}

// uploadError is the error of an upload request that failed with err. AWS
// says NoSuchUpload when the upload does not exist; moto (5.2) answers
// UploadPart and CompleteMultipartUpload of an unknown upload with a bare
// HTTP 500 instead. So when a request fails for a reason S3 did not name,
// ListParts (which says NoSuchUpload on both) asks whether the upload still
// exists. That costs one request, on failures only, and is as right on AWS.
func (s *Store) uploadError(ctx context.Context, op, key, uploadID string, err error) error {
	if awserr.Code(err) == "" && ctx.Err() == nil && s.uploadGone(ctx, key, uploadID) {
		return opError(op, key, fmt.Errorf("%w: upload %q: %w", blob.ErrNotFound, uploadID, err))
	}
	return s.fail(ctx, op, key, err)
}

// uploadGone reports whether S3 says the upload does not exist.
func (s *Store) uploadGone(ctx context.Context, key, uploadID string) bool {
	_, err := s.client.ListParts(ctx, &s3.ListPartsInput{
		Bucket: &s.bucket, Key: s.objectKey(key), UploadId: &uploadID, MaxParts: aws.Int32(1),
	}, s.opts...)
	return awserr.Code(err) == "NoSuchUpload"
}

// Complete implements blob.Store with CompleteMultipartUpload.
//
// The part list is checked here first: S3 reports some bad lists by codes
// that say something else (part 0 is InvalidPartOrder), and moto lets some
// through (it completes a list that names a part twice, and answers an empty
// ETag with HTTP 500). A Complete that S3 says has no upload may be the
// retry of one whose answer was lost: if the object at key is the one these
// parts make (its ETag is the MD5 of their ETags, "-" and their count),
// that Complete succeeded.
//
// moto completes an upload under the key it was begun with, whatever key
// Complete names; AWS refuses (NoSuchUpload). The core always names the key
// it began with.
func (s *Store) Complete(ctx context.Context, key, uploadID string, parts []blob.Part) error {
	if !blob.ValidKey(key) {
		return opError("complete", key, blob.ErrInvalidKey)
	}
	if err := checkParts(parts); err != nil {
		return opError("complete", key, err)
	}
	if uploadID == "" {
		return opError("complete", key, fmt.Errorf("%w: empty upload ID", blob.ErrNotFound))
	}
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(p.Tag)}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             s.objectKey(key),
		UploadId:        &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	}, s.opts...)
	if err == nil {
		return nil
	}
	switch awserr.Code(err) {
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML":
		return opError("complete", key, fmt.Errorf("%w: %w", blob.ErrInvalidPart, err))
	case "NoSuchUpload":
	case "":
		if ctx.Err() != nil || !s.uploadGone(ctx, key, uploadID) {
			return s.fail(ctx, "complete", key, err)
		}
	default:
		return s.fail(ctx, "complete", key, err)
	}
	if s.isCompletedFrom(ctx, key, parts) {
		return nil
	}
	return opError("complete", key, fmt.Errorf("%w: upload %q: %w", blob.ErrNotFound, uploadID, err))
}

// checkParts checks a Complete's part list: not empty, numbers ascending
// within [1, MaxParts], every tag given.
func checkParts(parts []blob.Part) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: no parts", blob.ErrInvalidPart)
	}
	prev := 0
	for _, p := range parts {
		switch {
		case p.Number < 1 || p.Number > blob.MaxParts:
			return fmt.Errorf("%w: part number %d", blob.ErrInvalidPart, p.Number)
		case p.Number <= prev:
			return fmt.Errorf("%w: part %d after part %d: numbers must ascend", blob.ErrInvalidPart, p.Number, prev)
		case p.Tag == "":
			return fmt.Errorf("%w: part %d has no tag", blob.ErrInvalidPart, p.Number)
		}
		prev = p.Number
	}
	return nil
}

// isCompletedFrom reports whether the object at key is the one a multipart
// upload of parts makes.
func (s *Store) isCompletedFrom(ctx context.Context, key string, parts []blob.Part) bool {
	want, ok := multipartETag(parts)
	if !ok {
		return false
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	return err == nil && strings.Trim(aws.ToString(head.ETag), `"`) == want
}

// multipartETag is the ETag S3 gives the object made of parts: the MD5 of
// the parts' binary MD5s, "-", and the number of parts.
func multipartETag(parts []blob.Part) (string, bool) {
	h := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(strings.Trim(p.Tag, `"`))
		if err != nil || len(b) != md5.Size {
			return "", false
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)), true
}

// ListUploads implements blob.UploadLister with ListMultipartUploads, a page
// (up to 1,000 uploads) at a time. Started is S3's Initiated. Uploads under
// the prefix whose names are not valid keys (Check's probe) are skipped.
//
// moto (5.2) dates every upload 2010-11-10T20:48:33Z, so against moto every
// pending upload looks older than any grace period; there is nothing else
// to date it by, and AWS gives the real time.
func (s *Store) ListUploads(ctx context.Context, fn func(blob.PendingUpload) error) error {
	in := &s3.ListMultipartUploadsInput{
		Bucket:    &s.bucket,
		Prefix:    s.listPrefix(""),
		Delimiter: aws.String("/"),
	}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in, s.opts...)
		if err != nil {
			return s.fail(ctx, "list uploads", "", err)
		}
		for _, u := range out.Uploads {
			key, ok := strings.CutPrefix(aws.ToString(u.Key), s.prefix)
			if !ok || !blob.ValidKey(key) || aws.ToString(u.UploadId) == "" {
				continue
			}
			up := blob.PendingUpload{Key: key, UploadID: *u.UploadId, Started: aws.ToTime(u.Initiated)}
			if err := fn(up); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		if aws.ToString(out.NextKeyMarker) == "" && aws.ToString(out.NextUploadIdMarker) == "" {
			return s.fail(ctx, "list uploads", "", errors.New("S3 says the listing goes on but gives no marker"))
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// Abort implements blob.Store with AbortMultipartUpload. An unknown upload
// (NoSuchUpload) is not an error.
func (s *Store) Abort(ctx context.Context, key, uploadID string) error {
	if !blob.ValidKey(key) {
		return opError("abort", key, blob.ErrInvalidKey)
	}
	if uploadID == "" {
		return nil
	}
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: s.objectKey(key), UploadId: &uploadID,
	}, s.opts...)
	if err != nil && awserr.Code(err) != "NoSuchUpload" {
		return s.fail(ctx, "abort", key, err)
	}
	return nil
}
