package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
)

// isArchiveClass reports a class an object cannot be read from without a
// restore.
func isArchiveClass(c types.StorageClass) bool {
	return blob.ArchiveClass(c).NeedsRestore()
}

// Archive implements blob.Archiver: it copies the object onto itself with
// the storage class class (metadata kept), with CopyObject, or for an object
// over 5 GiB (CopyObject's limit) with a multipart copy. The copy is
// conditioned on the ETag read first, so an object replaced meanwhile is not
// archived in its place. The object's Last-Modified becomes the time of the
// copy.
//
// An object already in class is left alone (S3 refuses a copy that changes
// nothing). One in the other archive class cannot be copied without a
// restored copy (ErrArchived). In a versioned bucket the copy is a new
// version, and the old one stays in its class until a lifecycle rule
// expires it.
func (s *Store) Archive(ctx context.Context, key string, class blob.ArchiveClass) error {
	if !blob.ValidKey(key) {
		return opError("archive", key, blob.ErrInvalidKey)
	}
	sc := types.StorageClass(class)
	if !class.Valid() {
		return opError("archive", key, fmt.Errorf("unknown archive class %q", class))
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return s.fail(ctx, "archive", key, err)
	}
	if head.StorageClass == sc {
		return nil
	}
	if size := aws.ToInt64(head.ContentLength); size > s.copyThreshold {
		return s.archiveMultipart(ctx, key, sc, head)
	}
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            &s.bucket,
		Key:               s.objectKey(key),
		CopySource:        s.copySource(key),
		CopySourceIfMatch: head.ETag,
		StorageClass:      sc,
		MetadataDirective: types.MetadataDirectiveCopy,
	}, s.opts...)
	if err != nil {
		return s.fail(ctx, "archive", key, err)
	}
	return nil
}

// copySource is key's x-amz-copy-source: bucket/key, URL-encoded (the
// prefix may hold any character), slashes kept.
func (s *Store) copySource(key string) *string {
	segs := strings.Split(s.prefix+key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return aws.String(s.bucket + "/" + strings.Join(segs, "/"))
}

// archiveMultipart archives an object too big for CopyObject: a multipart
// upload in class whose parts are copied (UploadPartCopy) from the object,
// s.concurrency at a time, completed over it. A multipart upload does not
// carry the object's headers over as CopyObject does, so they are given
// again.
func (s *Store) archiveMultipart(ctx context.Context, key string, class types.StorageClass, head *s3.HeadObjectOutput) error {
	size := aws.ToInt64(head.ContentLength)
	partSize := s.copyPartSize
	if need := (size + blob.MaxParts - 1) / blob.MaxParts; need > partSize {
		partSize = need
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:             &s.bucket,
		Key:                s.objectKey(key),
		StorageClass:       class,
		ContentType:        head.ContentType,
		ContentEncoding:    head.ContentEncoding,
		ContentDisposition: head.ContentDisposition,
		CacheControl:       head.CacheControl,
		Metadata:           head.Metadata,
	}, s.opts...)
	if err != nil {
		return s.fail(ctx, "archive", key, err)
	}
	if err := s.copyParts(ctx, key, up.UploadId, head.ETag, size, partSize); err != nil {
		return s.abortAfter(ctx, "archive", key, up.UploadId, err)
	}
	return nil
}

func (s *Store) copyParts(ctx context.Context, key string, id, etag *string, size, partSize int64) error {
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	errs := make([]error, n)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-pctx.Done():
		}
		if pctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			first := int64(i) * partSize
			last := min(first+partSize, size) - 1
			out, err := s.client.UploadPartCopy(pctx, &s3.UploadPartCopyInput{
				Bucket:            &s.bucket,
				Key:               s.objectKey(key),
				UploadId:          id,
				PartNumber:        aws.Int32(int32(i + 1)),
				CopySource:        s.copySource(key),
				CopySourceIfMatch: etag,
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
			}, s.opts...)
			if err != nil {
				errs[i] = s.fail(pctx, fmt.Sprintf("archive (part %d)", i+1), key, err)
				cancel()
				return
			}
			if out.CopyPartResult == nil || out.CopyPartResult.ETag == nil {
				errs[i] = opError("archive", key, fmt.Errorf("part %d: S3 returned no ETag", i+1))
				cancel()
				return
			}
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return opError("archive", key, err)
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             s.objectKey(key),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}, s.opts...)
	if err != nil {
		return s.fail(ctx, "archive", key, err)
	}
	return nil
}

// Restore implements blob.Archiver with RestoreObject. A hot object needs no
// restore and is left alone, as is one in GLACIER_IR (read at once); a restore already in progress
// (RestoreAlreadyInProgress) is not an error, and one of an object that has
// a restored copy extends the copy's life to days from now (S3's rule).
// DEEP_ARCHIVE has no Expedited tier.
func (s *Store) Restore(ctx context.Context, key string, days int, tier blob.RestoreTier) error {
	if !blob.ValidKey(key) {
		return opError("restore", key, blob.ErrInvalidKey)
	}
	if err := blob.CheckRestore(days, tier); err != nil {
		return opError("restore", key, err)
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return s.fail(ctx, "restore", key, err)
	}
	if !isArchiveClass(head.StorageClass) {
		return nil
	}
	if head.StorageClass == types.StorageClassDeepArchive && tier == blob.TierExpedited {
		return opError("restore", key, fmt.Errorf("%s has no %s tier: use %s or %s",
			head.StorageClass, tier, blob.TierStandard, blob.TierBulk))
	}
	_, err = s.client.RestoreObject(ctx, &s3.RestoreObjectInput{
		Bucket: &s.bucket,
		Key:    s.objectKey(key),
		RestoreRequest: &types.RestoreRequest{
			Days:                 aws.Int32(int32(days)),
			GlacierJobParameters: &types.GlacierJobParameters{Tier: types.Tier(tier)},
		},
	}, s.opts...)
	if err != nil && awserr.Code(err) != "RestoreAlreadyInProgress" {
		return s.fail(ctx, "restore", key, err)
	}
	return nil
}

// ArchiveState implements blob.Archiver from HeadObject: the storage class
// (GLACIER or DEEP_ARCHIVE; any other is the hot tier) and the x-amz-restore
// header. moto completes a restore at once; AWS takes minutes to hours, and
// callers poll this.
func (s *Store) ArchiveState(ctx context.Context, key string) (blob.ArchiveState, error) {
	if !blob.ValidKey(key) {
		return blob.ArchiveState{}, opError("archive state", key, blob.ErrInvalidKey)
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return blob.ArchiveState{}, s.fail(ctx, "archive state", key, err)
	}
	return archiveState(head), nil
}

func archiveState(head *s3.HeadObjectOutput) blob.ArchiveState {
	if head.StorageClass == types.StorageClassGlacierIr {
		return blob.ArchiveState{Class: blob.ClassGlacierIR}
	}
	if !isArchiveClass(head.StorageClass) {
		return blob.ArchiveState{}
	}
	st := blob.ArchiveState{Class: blob.ArchiveClass(head.StorageClass)}
	st.Restoring, st.RestoredUntil = parseRestore(aws.ToString(head.Restore), time.Now())
	return st
}

// parseRestore reads an x-amz-restore header: `ongoing-request="true"` while
// a restore runs, `ongoing-request="false", expiry-date="Fri, 21 Dec 2012
// 00:00:00 GMT"` once the restored copy exists. A copy whose expiry has
// passed is gone (S3 removes it around then), so it reports no copy.
func parseRestore(h string, now time.Time) (restoring bool, until time.Time) {
	for h != "" {
		name, rest, ok := strings.Cut(h, "=")
		if !ok {
			break
		}
		name = strings.TrimSpace(strings.TrimLeft(name, ", "))
		rest = strings.TrimSpace(rest)
		var value string
		if v, ok := strings.CutPrefix(rest, `"`); ok {
			value, h, _ = strings.Cut(v, `"`)
		} else {
			value, h, _ = strings.Cut(rest, ",")
		}
		switch strings.ToLower(name) {
		case "ongoing-request":
			restoring = strings.EqualFold(value, "true")
		case "expiry-date":
			if t, err := http.ParseTime(value); err == nil && t.After(now) {
				until = t
			}
		}
	}
	return restoring, until
}
