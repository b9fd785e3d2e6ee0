package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
)

// opError is the error of operation op on key, for errors the driver finds
// itself (no S3 code to map).
func opError(op, key string, err error) error {
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// Put implements blob.Store. An object of up to twice the part size is read
// whole before it is sent, so a reader of the wrong length stores nothing; a
// bigger one goes up as a multipart upload that is aborted on any failure.
// Either way nothing is visible under key until the PutObject or
// CompleteMultipartUpload succeeds, which S3 makes atomic.
//
// The buffers come out of the store's budget (MaxBufferBytes, shared by all
// its Puts): a Put waits, honouring ctx, until its object or first part
// fits, and sends further parts in parallel only as far as the budget has
// room.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if !blob.ValidKey(key) {
		return opError("put", key, blob.ErrInvalidKey)
	}
	if size < -1 || size > maxObjectSize {
		return opError("put", key, fmt.Errorf("invalid size %d", size))
	}
	if err := ctx.Err(); err != nil {
		return opError("put", key, err)
	}
	partSize := s.partSizeFor(size)
	var er *exactReader
	var src io.Reader = r
	if size >= 0 {
		er = newExactReader(r, size)
		src = er
	}
	// Every buffer is taken from the store's budget first, and given back
	// when it is no longer needed (see MaxBufferBytes).
	var held int64
	defer func() { s.buffers.release(held) }()
	if size >= 0 && size <= 2*s.partSize {
		got, err := s.buffers.acquire(ctx, size)
		if err != nil {
			return opError("put", key, err)
		}
		held = got
		buf := make([]byte, size)
		if _, err := io.ReadFull(src, buf); err != nil {
			return opError("put", key, err)
		}
		if _, err := er.Read(nil); err != io.EOF {
			return opError("put", key, err)
		}
		if err := ctx.Err(); err != nil {
			return opError("put", key, err)
		}
		if err := s.putObject(ctx, s.objectKey(key), buf); err != nil {
			return s.fail(ctx, "put", key, err)
		}
		return nil
	}
	got, err := s.buffers.acquire(ctx, partSize)
	if err != nil {
		return opError("put", key, err)
	}
	held = got
	buf := make([]byte, partSize)
	n, err := io.ReadFull(src, buf)
	switch err {
	case nil:
		return s.putMultipart(ctx, key, src, buf, partSize, &held)
	case io.EOF, io.ErrUnexpectedEOF: // size -1, and all of it fits one part
		if err := ctx.Err(); err != nil {
			return opError("put", key, err)
		}
		if err := s.putObject(ctx, s.objectKey(key), buf[:n]); err != nil {
			return s.fail(ctx, "put", key, err)
		}
		return nil
	default:
		return opError("put", key, err)
	}
}

// partSizeFor is the part size of a Put of size bytes (-1: unknown): the
// store's part size, or more if 10,000 such parts would not hold the object.
// An object of unknown size can have at most 10,000 parts of the store's
// part size (156 GiB with the default).
func (s *Store) partSizeFor(size int64) int64 {
	ps := s.partSize
	if size > 0 {
		const mib = 1 << 20
		need := (size + blob.MaxParts - 1) / blob.MaxParts
		need = (need + mib - 1) / mib * mib
		ps = max(ps, need)
	}
	return ps
}

func (s *Store) putObject(ctx context.Context, key *string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		StorageClass:  s.storageClass,
	}, s.opts...)
	return err
}

// putMultipart uploads the rest of a Put: first, a full part already read,
// then the parts it reads from r, up to s.concurrency of them in memory and
// in flight at once. *held is what the Put holds of the store's budget; the
// buffers it takes beyond first are added to it, and all of it is given
// back (and *held set to 0) once no part is in flight.
func (s *Store) putMultipart(ctx context.Context, key string, r io.Reader, first []byte, partSize int64, held *int64) error {
	if err := ctx.Err(); err != nil {
		return opError("put", key, err)
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: s.objectKey(key), StorageClass: s.storageClass,
	}, s.opts...)
	if err != nil {
		return s.fail(ctx, "put", key, err)
	}
	if err := s.uploadParts(ctx, key, up.UploadId, r, first, partSize, held); err != nil {
		return s.abortAfter(ctx, "put", key, up.UploadId, err)
	}
	return nil
}

func (s *Store) uploadParts(ctx context.Context, key string, id *string, r io.Reader, first []byte, partSize int64, held *int64) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		parts    []types.CompletedPart
	)
	setErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	// free holds the buffers whose part is sent; at most s.concurrency
	// buffers ever exist, so sending to it never blocks. A buffer beyond
	// the first is made only if the store's budget has room for it now;
	// otherwise the Put makes do with the buffers it has (it always has
	// one), so Puts never wait for one another's buffers while holding
	// their own.
	free := make(chan []byte, s.concurrency)
	allocated := 1
	send := func(n int32, buf []byte, size int) {
		wg.Go(func() {
			out, err := s.client.UploadPart(pctx, &s3.UploadPartInput{
				Bucket:        &s.bucket,
				Key:           s.objectKey(key),
				UploadId:      id,
				PartNumber:    aws.Int32(n),
				Body:          bytes.NewReader(buf[:size]),
				ContentLength: aws.Int64(int64(size)),
			}, s.opts...)
			free <- buf
			if err != nil {
				setErr(s.fail(pctx, fmt.Sprintf("put (part %d)", n), key, err))
				return
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
			mu.Unlock()
		})
	}
	send(1, first, len(first))
	for n := int32(2); ; n++ {
		var buf []byte
		if allocated < s.concurrency && len(free) == 0 {
			if n, ok := s.buffers.tryAcquire(partSize); ok {
				*held += n
				buf = make([]byte, partSize)
				allocated++
			}
		}
		if buf == nil {
			select {
			case buf = <-free:
			case <-pctx.Done():
			}
		}
		if buf == nil {
			break
		}
		size, err := io.ReadFull(r, buf)
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			setErr(opError("put", key, err))
			break
		}
		if n > blob.MaxParts {
			setErr(opError("put", key, fmt.Errorf("more than %d parts of %d bytes", blob.MaxParts, partSize)))
			break
		}
		if pctx.Err() != nil {
			break
		}
		send(n, buf, size)
		if err == io.ErrUnexpectedEOF {
			break
		}
	}
	wg.Wait()
	// No part is in flight: the buffers go back to the budget.
	s.buffers.release(*held)
	*held = 0
	if firstErr == nil && ctx.Err() != nil {
		firstErr = opError("put", key, ctx.Err())
	}
	if firstErr != nil {
		return firstErr
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             s.objectKey(key),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}, s.opts...)
	if err != nil {
		return s.fail(ctx, "put", key, err)
	}
	return nil
}

// abortAfter aborts upload id after err made it useless, on a context of its
// own (ctx may be what was cancelled), and returns err, joined with the
// abort's own failure if it had one: the parts of an upload nobody aborts
// are billed until a lifecycle rule removes them.
func (s *Store) abortAfter(ctx context.Context, op, key string, id *string, err error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: s.objectKey(key), UploadId: id,
	}, s.opts...)
	if aerr != nil && awserr.Code(aerr) != "NoSuchUpload" {
		return errors.Join(err, s.fail(actx, op+": abort upload "+aws.ToString(id), key, aerr))
	}
	return err
}

// Get implements blob.Store. A whole read is a GET without a Range header
// (moto answers 416 to any range of a 0-byte object, even "bytes=0-"); a
// read of nothing, and a range S3 finds unsatisfiable, are settled with a
// HEAD, since offset == size is valid and S3 refuses a range starting there.
// The reader fails once ctx is done.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if !blob.ValidKey(key) {
		return nil, opError("get", key, blob.ErrInvalidKey)
	}
	if offset < 0 || length < -1 {
		return nil, opError("get", key, fmt.Errorf("%w: offset %d, length %d", blob.ErrInvalidRange, offset, length))
	}
	if err := ctx.Err(); err != nil {
		return nil, opError("get", key, err)
	}
	if length == 0 {
		return s.getNothing(ctx, key, offset, length)
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in, s.opts...)
	if awserr.Code(err) == "InvalidRange" {
		return s.getNothing(ctx, key, offset, length)
	}
	if err != nil {
		return nil, s.fail(ctx, "get", key, err)
	}
	// S3 serves the part of a range that exists: a range that runs past the
	// end comes back short.
	if length > 0 && aws.ToInt64(out.ContentLength) != length {
		out.Body.Close()
		return nil, opError("get", key, fmt.Errorf("%w: offset %d, length %d, object ends after %d of them (%s)",
			blob.ErrInvalidRange, offset, length, aws.ToInt64(out.ContentLength), aws.ToString(out.ContentRange)))
	}
	return &bodyReader{ctx: ctx, body: out.Body}, nil
}

// getNothing answers a Get that reads nothing if the range is valid: it
// checks with a HEAD that the object exists, is readable and is at least
// offset bytes long.
func (s *Store) getNothing(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return nil, s.fail(ctx, "get", key, err)
	}
	if st := archiveState(head); st.Class != "" && st.RestoredUntil.IsZero() {
		return nil, opError("get", key, fmt.Errorf("%w: in %s (restore it first)", blob.ErrArchived, st.Class))
	}
	size := aws.ToInt64(head.ContentLength)
	if !(length == 0 && offset <= size || length < 0 && offset == size) {
		return nil, opError("get", key, fmt.Errorf("%w: offset %d, length %d, size %d", blob.ErrInvalidRange, offset, length, size))
	}
	return emptyBody{ctx: ctx}, nil
}

// Stat implements blob.Store.
//
// ModTime is S3's Last-Modified, as S3 gives it. For an object made by a
// multipart upload that is, on AWS, the time the upload was initiated
// (CreateMultipartUpload), not the time it was completed, as users report
// (S3's API reference does not say which); moto gives the completion time.
// The driver does not fake a completion time (it has nowhere to keep one),
// so a completed upload can look as old as its session. The core's
// collector copes: it spares the blobs of open sessions whatever their age,
// and a completed blob becomes referenced in the same transaction that
// closes its session.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !blob.ValidKey(key) {
		return blob.Info{}, opError("stat", key, blob.ErrInvalidKey)
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return blob.Info{}, s.fail(ctx, "stat", key, err)
	}
	return blob.Info{Key: key, Size: aws.ToInt64(head.ContentLength), ModTime: aws.ToTime(head.LastModified)}, nil
}

// Delete implements blob.Store. S3 answers a delete of a missing key with
// success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return opError("delete", key, blob.ErrInvalidKey)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)}, s.opts...)
	if err != nil {
		return s.fail(ctx, "delete", key, err)
	}
	return nil
}

// List implements blob.Store with ListObjectsV2, a page (up to 1,000 keys)
// at a time. Names under the prefix that are not valid keys (Check's probe,
// anything else someone put there) are skipped; fn's error is returned as
// it is.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	// A non-empty prefix of a valid key is itself a valid key, so any other
	// prefix matches nothing.
	if prefix != "" && !blob.ValidKey(prefix) {
		return nil
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:    &s.bucket,
		Prefix:    s.listPrefix(prefix),
		Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, s.opts...)
		if err != nil {
			return s.fail(ctx, "list", prefix, err)
		}
		for _, obj := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(obj.Key), s.prefix)
			if !ok || !blob.ValidKey(key) {
				continue
			}
			if err := fn(blob.Info{Key: key, Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) listPrefix(prefix string) *string {
	if s.prefix+prefix == "" {
		return nil
	}
	return aws.String(s.prefix + prefix)
}
