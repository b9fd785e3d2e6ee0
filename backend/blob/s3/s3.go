// Package s3blob is the blob.Store on Amazon S3 (and S3-compatible stores),
// with S3's archive classes as its cold tier (blob.Archiver).
//
// # Layout
//
// An object lives at prefix + key in one bucket. New normalises the prefix:
// "" keeps objects at the top of the bucket, and any other prefix is a
// "directory", so "strata" and "strata/" both store key k at "strata/k".
// List reads only that level (delimiter "/") and skips names that are not
// valid blob keys, so other data under the prefix, and Check's probes
// (prefix + ".strata-probe-<random>"), never reach the collector.
//
// # Writes
//
// Put reads an object of up to twice the part size (32 MiB by default) whole
// and sends it in one PutObject, so a reader that is shorter or longer than
// its size fails before anything is sent. (Twice, so that a 16 MiB file,
// which grows a little when sealed, still goes in one request.) Bigger
// objects, and those of unknown size beyond one part, go up as a multipart
// upload whose parts (16 MiB, or more for objects so big that 10,000 parts
// would not hold them) are read into at most Concurrency buffers and sent in
// parallel; a failed or cancelled Put aborts its upload (with a context of
// its own, so that a cancelled caller still cleans up). Buffered bodies are
// seekable, so the SDK can retry them.
//
// Memory: all the buffers of all the Puts of a Store come out of one budget,
// MaxBufferBytes (256 MiB by default). A Put waits for room for its object
// or its first part, and adds parallel parts only while there is room, so
// the store never holds more than the larger of that budget and one part,
// however many Puts run at once.
//
// Begin, PutPart, Complete and Abort map one to one onto CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload and AbortMultipartUpload; Part.Tag is
// the part's ETag. PutPart streams its reader (a part is never held in
// memory): see streamOptions for what that means for checksums and retries.
// ListUploads (blob.UploadLister) lets the collector abort uploads a crash
// left behind; a bucket lifecycle rule that aborts incomplete multipart
// uploads after a few days is still worth having.
//
// # Retries
//
// Every call goes through the client's retryer (the SDK's standard one
// unless the caller chose another: exponential backoff with jitter and a
// retry quota), with at least DefaultMaxAttempts attempts, so throttling
// (503 SlowDown) and transient 5xx answers are retried. The one exception is
// PutPart, whose streamed body cannot be sent twice: it makes one attempt and
// its caller sends the part again (upload sessions are resumable).
//
// What still fails after the retries because S3 throttles (SlowDown, the
// SDK's other throttling codes, any 503) or cannot be reached (a refused or
// dropped connection, a response cut short, a timeout of the HTTP client;
// never the caller's own cancellation or deadline) wraps
// blob.ErrUnavailable as well as the SDK's error, so the caller can answer
// "try again later". A bucket that does not exist (NoSuchBucket) is
// ErrNoBucket, never blob.ErrNotFound.
//
// # Archive tier
//
// Archive rewrites an object onto itself with the storage class GLACIER or
// DEEP_ARCHIVE (CopyObject, or UploadPartCopy for objects over 5 GiB), Restore
// is RestoreObject, and ArchiveState reads HeadObject's storage class and its
// x-amz-restore header.
//
// # Emulators
//
// The driver is written for AWS. Where moto (the emulator the tests use)
// answers differently, the code works around it only in ways that are also
// correct on AWS, and says so where it does.
package s3blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-storage/strata/backend/blob"
)

const (
	// DefaultMaxAttempts is the fewest attempts (the first one included) the
	// store lets the SDK make per request, whatever the client says: the
	// SDK's own default of 3 gives a throttled bucket only a second or two
	// to recover. The standard retryer waits a random time up to 1, 2, 4, 8
	// s after each SlowDown (up to 50, 100, 200, 400 ms after other
	// retryable errors), so five attempts wait up to 15 s (7.5 s on
	// average) before giving up. Its retry quota still stops retries early
	// when most requests of a client fail, so a dead endpoint fails fast.
	DefaultMaxAttempts = 5

	// DefaultPartSize is the part size of Put's multipart uploads (for
	// objects small enough that 10,000 parts of it hold them). Put sends
	// objects of up to twice that in one PutObject.
	DefaultPartSize = 16 << 20

	// DefaultConcurrency is how many parts one Put has in flight, and so how
	// many part buffers it holds at most.
	DefaultConcurrency = 4

	// DefaultMaxBufferBytes bounds the memory that all the Puts of one
	// Store hold in buffers together (see WithMaxBufferBytes).
	DefaultMaxBufferBytes = 256 << 20

	// maxPartSize and maxObjectSize are S3's limits.
	maxPartSize   = 5 << 30
	maxObjectSize = 5 << 40

	// maxKeyLen is S3's limit on an object key, in bytes.
	maxKeyLen = 1024

	// copyThreshold is the size above which CopyObject refuses to copy (S3's
	// limit), and copyPartSize the part size of the multipart copy used
	// instead: big enough that few requests are needed, small enough that a
	// failed part costs little to redo.
	copyThreshold = 5 << 30
	copyPartSize  = 512 << 20

	// cleanupTimeout bounds the requests that clean up after a failure
	// (aborting an upload, deleting Check's probe), which run on a context
	// of their own so that a cancelled caller does not leave garbage.
	cleanupTimeout = 30 * time.Second

	// probePrefix starts the names of Check's probes (after the prefix).
	probePrefix = ".strata-probe-"
)

// Store is a blob.Store in an S3 bucket. It is safe for concurrent use.
type Store struct {
	client *s3.Client
	bucket string
	prefix string

	// opts are applied to every call, streamOpts instead of them to calls
	// whose body is a stream that cannot be rewound.
	opts       []func(*s3.Options)
	streamOpts []func(*s3.Options)

	partSize     int64
	concurrency  int
	storageClass types.StorageClass

	// buffers is the memory budget of Put's buffers, shared by all Puts.
	buffers *budget

	// copyThreshold and copyPartSize are the package constants, fields only
	// so that tests can exercise the multipart copy with small objects.
	copyThreshold int64
	copyPartSize  int64
}

var (
	_ blob.Store        = (*Store)(nil)
	_ blob.Archiver     = (*Store)(nil)
	_ blob.UploadLister = (*Store)(nil)
)

// Option configures a Store.
type Option func(*config)

type config struct {
	maxAttempts    int
	partSize       int64
	concurrency    int
	maxBufferBytes int64
	storageClass   types.StorageClass
}

// WithMaxAttempts sets the attempts per request (the first one included),
// replacing the default of the larger of DefaultMaxAttempts and the
// client's own setting. n must be at least 1.
func WithMaxAttempts(n int) Option {
	return func(c *config) { c.maxAttempts = n }
}

// WithPartSize sets the smallest part size of Put's multipart uploads (from
// 5 MiB to 5 GiB). A Put holds up to Concurrency parts in memory, or one
// object of up to twice the part size, within the store's MaxBufferBytes.
func WithPartSize(n int64) Option {
	return func(c *config) { c.partSize = n }
}

// WithConcurrency sets how many parts one Put sends at once (at least 1),
// as far as MaxBufferBytes leaves room for their buffers.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithMaxBufferBytes bounds the memory that the Puts of the store hold in
// buffers, all together (at least 1; default DefaultMaxBufferBytes). A Put
// waits until its object, or its first part, fits in what the others leave
// (one that needs more than the whole bound waits until it is alone, and
// then holds that one buffer); further parts go in parallel only while
// there is room. So the store's buffers never exceed the larger of this
// bound and one part. PutPart streams and holds no buffer.
func WithMaxBufferBytes(n int64) Option {
	return func(c *config) { c.maxBufferBytes = n }
}

// WithStorageClass sets the storage class of the objects the store writes,
// instead of the bucket's default (STANDARD). Archive classes are refused:
// an object written there could not be read back without a restore.
func WithStorageClass(class types.StorageClass) Option {
	return func(c *config) { c.storageClass = class }
}

// New returns a store of the objects under prefix in bucket, through client.
// It makes no request; Check verifies the bucket and the permissions.
//
// New does not change client. It applies its settings to each request
// instead (functional options per operation, as the SDK recommends): the
// retry attempts above, and DisableLogOutputChecksumValidationSkipped, so
// that ranged GETs (which S3 answers without a checksum) do not log "Response
// has no supported checksum" lines into the product's output.
func New(client *s3.Client, bucket, prefix string, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("s3: no client")
	}
	if bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("s3: prefix %q starts with a slash", prefix)
	}
	if len(prefix)+128 > maxKeyLen {
		return nil, fmt.Errorf("s3: prefix of %d bytes leaves no room for keys", len(prefix))
	}
	c := config{partSize: DefaultPartSize, concurrency: DefaultConcurrency, maxBufferBytes: DefaultMaxBufferBytes}
	for _, o := range opts {
		o(&c)
	}
	co := client.Options()
	if c.maxAttempts == 0 {
		c.maxAttempts = DefaultMaxAttempts
		if co.Retryer != nil && co.Retryer.MaxAttempts() > c.maxAttempts {
			c.maxAttempts = co.Retryer.MaxAttempts()
		}
	}
	switch {
	case c.maxAttempts < 1:
		return nil, fmt.Errorf("s3: max attempts %d, want at least 1", c.maxAttempts)
	case c.partSize < blob.MinPartSize || c.partSize > maxPartSize:
		return nil, fmt.Errorf("s3: part size %d, want %d to %d", c.partSize, blob.MinPartSize, maxPartSize)
	case c.concurrency < 1:
		return nil, fmt.Errorf("s3: concurrency %d, want at least 1", c.concurrency)
	case c.maxBufferBytes < 1:
		return nil, fmt.Errorf("s3: max buffer bytes %d, want at least 1", c.maxBufferBytes)
	case isArchiveClass(c.storageClass):
		return nil, fmt.Errorf("s3: storage class %s is an archive class: objects written there could not be read", c.storageClass)
	}
	attempts := c.maxAttempts
	common := func(o *s3.Options) {
		ClientOptions(o)
		o.RetryMaxAttempts = attempts
	}
	return &Store{
		client:        client,
		bucket:        bucket,
		prefix:        prefix,
		opts:          []func(*s3.Options){common},
		streamOpts:    []func(*s3.Options){common, streamOptions(co)},
		partSize:      c.partSize,
		concurrency:   c.concurrency,
		buffers:       newBudget(c.maxBufferBytes),
		storageClass:  c.storageClass,
		copyThreshold: copyThreshold,
		copyPartSize:  copyPartSize,
	}, nil
}

// ClientOptions is for s3.NewFromConfig: it quiets the SDK's "Response has
// no supported checksum" log line for every request of the client. A Store
// applies it to its own requests whether or not its client has it; pass it
// so that the client's other requests (a provisioner's, a test's) are quiet
// too.
func ClientOptions(o *s3.Options) {
	o.DisableLogOutputChecksumValidationSkipped = true
}

// streamOptions returns the settings of a request whose body is a stream of
// known length that cannot be rewound (PutPart's).
//
// Over HTTPS, with the SDK's default RequestChecksumCalculation
// (WhenSupported), the SDK sends such a body aws-chunked with a trailing
// CRC32 that S3 checks before it stores the part, reading the stream once:
// that is kept. The SDK's rules allow that only over TLS, though: over plain
// HTTP (an emulator, or a local S3-compatible store) it refuses an unseekable
// body outright ("unseekable stream is not supported without TLS and
// trailing checksum"), and without a checksum it would read the whole body
// to sign its SHA-256. So over HTTP, or when the caller turned default
// checksums off, the part goes without a checksum and with an unsigned
// payload (UNSIGNED-PAYLOAD, which S3 accepts): it still streams, and the
// sealed content carries its own authentication (DARE), which every read
// checks. Both ways were tried against moto, over HTTP and HTTPS.
//
// A stream cannot be sent twice, so such a request makes one attempt: were
// the SDK to retry it, it would only fail to rewind the body and hide the
// first error behind that.
func streamOptions(co s3.Options) func(*s3.Options) {
	trailer := co.RequestChecksumCalculation == aws.RequestChecksumCalculationWhenSupported &&
		!isPlainHTTP(co.BaseEndpoint)
	return func(o *s3.Options) {
		o.RetryMaxAttempts = 1
		if !trailer {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	}
}

// isPlainHTTP reports whether the client talks to an http:// endpoint. With
// no endpoint set the SDK resolves AWS's, which are HTTPS; a custom
// EndpointResolverV2 that returns http:// URLs is not detected.
func isPlainHTTP(endpoint *string) bool {
	return endpoint != nil && strings.HasPrefix(strings.ToLower(*endpoint), "http://")
}

// Bucket returns the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// Prefix returns the store's key prefix, normalised ("" or ending in "/").
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) objectKey(key string) *string { return aws.String(s.prefix + key) }

// Check verifies, for start-up, that the bucket exists, is reachable from the
// client's region, and grants what Strata needs: it reads the bucket
// (HeadBucket and a listing of the prefix: s3:ListBucket), then writes,
// reads and deletes a probe object, and starts a multipart upload, lists the
// pending uploads of its name (s3:ListBucketMultipartUploads, which the
// collector's ListUploads needs) and aborts it. Its errors name the bucket
// and what failed: the action that was refused on AccessDenied, that the
// bucket does not exist, or that it is in another region (named when S3
// says which). It cannot check s3:RestoreObject, which needs an archived
// object.
//
// Every Check uses probe names of its own (prefix + ".strata-probe-" and a
// random suffix), so servers that start together on one bucket do not race
// on one probe object. The names start with a dot, so they are never valid
// blob keys: List and ListUploads skip them.
func (s *Store) Check(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}, s.opts...); err != nil {
		return s.checkError(ctx, "s3:ListBucket", err)
	}
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: s.listPrefix(""), MaxKeys: aws.Int32(1),
	}, s.opts...)
	if err != nil {
		return s.checkError(ctx, "s3:ListBucket", err)
	}
	if err := s.checkObject(ctx); err != nil {
		return err
	}
	return s.checkMultipart(ctx)
}

// probeKey returns a fresh probe name under the prefix.
func (s *Store) probeKey() *string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return aws.String(s.prefix + probePrefix + hex.EncodeToString(b[:]))
}

// checkObject writes, reads back and deletes a probe object.
func (s *Store) checkObject(ctx context.Context) error {
	probe := s.probeKey()
	body := []byte("strata probe " + time.Now().UTC().Format(time.RFC3339Nano))
	if err := s.putObject(ctx, probe, body); err != nil {
		return s.checkError(ctx, "s3:PutObject", err)
	}
	deleted := false
	defer func() {
		if !deleted {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_, _ = s.client.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: probe}, s.opts...)
		}
	}()
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: probe}, s.opts...)
	if err != nil {
		return s.checkError(ctx, "s3:GetObject", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return s.checkError(ctx, "s3:GetObject", err)
	}
	if string(got) != string(body) {
		return fmt.Errorf("s3: bucket %q: the probe object read back differs from what was written", s.bucket)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: probe}, s.opts...); err != nil {
		return s.checkError(ctx, "s3:DeleteObject", err)
	}
	deleted = true
	return nil
}

// checkMultipart starts a multipart upload of a probe name, finds it in the
// listing of pending uploads, and aborts it (on a context of its own if
// Check fails before that).
func (s *Store) checkMultipart(ctx context.Context) error {
	probe := s.probeKey()
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: probe}, s.opts...)
	if err != nil {
		return s.checkError(ctx, "s3:PutObject (CreateMultipartUpload)", err)
	}
	aborted := false
	defer func() {
		if !aborted {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: probe, UploadId: up.UploadId,
			}, s.opts...)
		}
	}()
	list, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
		Bucket: &s.bucket, Prefix: probe, MaxUploads: aws.Int32(10),
	}, s.opts...)
	if err != nil {
		return s.checkError(ctx, "s3:ListBucketMultipartUploads", err)
	}
	if !slices.ContainsFunc(list.Uploads, func(u types.MultipartUpload) bool {
		return aws.ToString(u.UploadId) == aws.ToString(up.UploadId)
	}) {
		return fmt.Errorf("s3: bucket %q: the probe's multipart upload is missing from ListMultipartUploads", s.bucket)
	}
	_, err = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: probe, UploadId: up.UploadId,
	}, s.opts...)
	if err != nil {
		return s.checkError(ctx, "s3:AbortMultipartUpload", err)
	}
	aborted = true
	return nil
}
