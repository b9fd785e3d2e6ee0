package s3blob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/blob"
)

// testClient is an S3 client on the test endpoint whose requests go through
// wrap (if not nil), for the tests that inject faults. It keeps the SDK's
// standard retry logic but waits only milliseconds between attempts, where
// the SDK would wait up to seconds after each injected SlowDown. Its own
// max attempts are awstest's 3, which the store raises to
// DefaultMaxAttempts.
func testClient(t testing.TB, wrap func(next http.RoundTripper) http.RoundTripper, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	cfg := awstest.Config(t)
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = true
		ClientOptions(o)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return 5 * time.Millisecond, nil
			})
			so.RateLimiter = ratelimit.None
		})
		if wrap != nil {
			var next http.RoundTripper = http.DefaultTransport
			if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
				next = bc.GetTransport()
			}
			o.HTTPClient = &http.Client{Transport: wrap(next)}
		}
	}}, optFns...)...)
}

// newBucket creates a fresh bucket.
func newBucket(t testing.TB, c *s3.Client) string {
	t.Helper()
	name := awstest.Name("strata-blob")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return name
}

func openStore(t testing.TB, c *s3.Client, bucket, prefix string, opts ...Option) *Store {
	t.Helper()
	s, err := New(c, bucket, prefix, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// newStore is a store on a fresh bucket, through wrap if not nil, and the
// plain client on the same bucket (for looking behind the store's back).
func newStore(t testing.TB, wrap func(http.RoundTripper) http.RoundTripper, opts ...Option) (*Store, *s3.Client) {
	t.Helper()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	c := raw
	if wrap != nil {
		c = testClient(t, wrap)
	}
	return openStore(t, c, bucket, "", opts...), raw
}

// TestConformance runs the blob.Store suite on a fresh bucket per subtest,
// through a client as awstest configures it (the SDK's standard retryer).
func TestConformance(t *testing.T) {
	backendtest.RunBlob(t, func(t *testing.T) blob.Store {
		c := awstest.S3(t)
		return openStore(t, c, newBucket(t, c), "")
	})
}

// TestConformanceWithPrefix runs the suite on a store under a prefix.
func TestConformanceWithPrefix(t *testing.T) {
	backendtest.RunBlob(t, func(t *testing.T) blob.Store {
		c := awstest.S3(t)
		return openStore(t, c, newBucket(t, c), "tenant/blobs")
	})
}

func TestArchiver(t *testing.T) {
	backendtest.RunArchiver(t, func(t *testing.T) blob.Store {
		c := awstest.S3(t)
		return openStore(t, c, newBucket(t, c), "")
	})
}

// roundTripFunc is a fault-injecting http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// operation is the S3 operation a request belongs to: the SDK carries it in
// the request's context.
func operation(r *http.Request) string { return middleware.GetOperationName(r.Context()) }

// errReset is a dropped connection, as net/http reports one (the SDK retries
// it).
var errReset = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")

// s3Error is an S3 error response to r.
func s3Error(r *http.Request, status int, code, msg string, header ...string) *http.Response {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Content-Type": {"application/xml"}, "X-Amz-Request-Id": {"fault-injected"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	body := ""
	if r.Method != http.MethodHead {
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault-injected</RequestId></Error>`, code, msg)
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}
}

func slowDown(r *http.Request) *http.Response {
	return s3Error(r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
}

// throttle answers the first n requests of operation op with SlowDown and
// counts the attempts of op.
func throttle(op string, n int64, attempts *atomic.Int64) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if operation(r) != op {
				return next.RoundTrip(r)
			}
			if attempts.Add(1) <= n {
				return slowDown(r), nil
			}
			return next.RoundTrip(r)
		})
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("throttled "), 1000)
	cases := []struct {
		op  string
		run func(ctx context.Context, s *Store) error
	}{
		{"PutObject", func(ctx context.Context, s *Store) error {
			return s.Put(ctx, "k", struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)))
		}},
		{"HeadObject", func(ctx context.Context, s *Store) error {
			_, err := s.Stat(ctx, "k")
			return err
		}},
		{"GetObject", func(ctx context.Context, s *Store) error {
			rc, err := s.Get(ctx, "k", 10, 100)
			if err != nil {
				return err
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err == nil && !bytes.Equal(got, data[10:110]) {
				err = errors.New("wrong bytes")
			}
			return err
		}},
		{"ListObjectsV2", func(ctx context.Context, s *Store) error {
			return s.List(ctx, "", func(blob.Info) error { return nil })
		}},
	}
	for _, c := range cases {
		t.Run(c.op+"/TwiceThenOK", func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int64
			s, raw := newStore(t, throttle(c.op, 2, &attempts))
			if c.op != "PutObject" {
				openStore(t, raw, s.bucket, "").Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)))
			}
			if err := c.run(t.Context(), s); err != nil {
				t.Fatalf("%s throttled twice: %v", c.op, err)
			}
			if n := attempts.Load(); n != 3 {
				t.Errorf("%s: %d attempts, want 3", c.op, n)
			}
		})
		t.Run(c.op+"/Always", func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int64
			s, raw := newStore(t, throttle(c.op, 1<<40, &attempts))
			if c.op != "PutObject" {
				openStore(t, raw, s.bucket, "").Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)))
			}
			err := c.run(t.Context(), s)
			if err == nil {
				t.Fatalf("%s always throttled: no error", c.op)
			}
			t.Logf("%s always throttled: %v", c.op, err)
			if !strings.Contains(err.Error(), "S3 is throttling requests (still after 5 attempts)") {
				t.Errorf("error %q does not say that S3 throttled and how often it was tried", err)
			}
			if n := attempts.Load(); n != DefaultMaxAttempts {
				t.Errorf("%s: %d attempts, want %d", c.op, n, DefaultMaxAttempts)
			}
			if errors.Is(err, blob.ErrNotFound) {
				t.Errorf("a throttled %s is ErrNotFound", c.op)
			}
			if !errors.Is(err, blob.ErrUnavailable) {
				t.Errorf("a throttled %s is not ErrUnavailable: %v", c.op, err)
			}
		})
	}
	t.Run("WithMaxAttempts", func(t *testing.T) {
		t.Parallel()
		var attempts atomic.Int64
		s, _ := newStore(t, throttle("HeadObject", 1<<40, &attempts), WithMaxAttempts(8))
		if _, err := s.Stat(t.Context(), "k"); err == nil {
			t.Fatal("Stat always throttled: no error")
		}
		if n := attempts.Load(); n != 8 {
			t.Errorf("%d attempts, want 8", n)
		}
	})
	t.Run("PutPartOneAttempt", func(t *testing.T) {
		// A streamed part cannot be sent twice: the caller sends it again.
		t.Parallel()
		var attempts atomic.Int64
		s, _ := newStore(t, throttle("UploadPart", 1, &attempts))
		id, err := s.Begin(t.Context(), "part")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.PutPart(t.Context(), "part", id, 1, struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)))
		if err == nil || !strings.Contains(err.Error(), "SlowDown") {
			t.Fatalf("PutPart throttled: err = %v, want one naming SlowDown", err)
		}
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("PutPart throttled: err = %v, want ErrUnavailable", err)
		}
		p, err := s.PutPart(t.Context(), "part", id, 1, struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)))
		if err != nil {
			t.Fatalf("PutPart sent again: %v", err)
		}
		if err := s.Complete(t.Context(), "part", id, []blob.Part{p}); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		wantObject(t, s, "part", data)
	})
}

// dropBody reads some of a request's body, then fails as a dropped
// connection does.
func dropBody(r *http.Request, after int64) (*http.Response, error) {
	if r.Body != nil {
		io.CopyN(io.Discard, r.Body, after)
		r.Body.Close()
	}
	return nil, errReset
}

func TestPutPartConnectionDropped(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const key = "dropped"
	part1 := backendtestData(1, blob.MinPartSize)
	part2 := backendtestData(2, 3<<20)
	var drop atomic.Bool
	drop.Store(true)
	s, raw := newStore(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if operation(r) == "UploadPart" && r.URL.Query().Get("partNumber") == "2" && drop.Load() {
				return dropBody(r, 1<<20)
			}
			return next.RoundTrip(r)
		})
	})
	id, err := s.Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := s.PutPart(ctx, key, id, 1, struct{ io.Reader }{bytes.NewReader(part1)}, int64(len(part1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PutPart(ctx, key, id, 2, struct{ io.Reader }{bytes.NewReader(part2)}, int64(len(part2)))
	if err == nil {
		t.Fatal("PutPart over a dropped connection succeeded")
	}
	if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrSizeMismatch) {
		t.Errorf("PutPart over a dropped connection: err = %v, want a plain failure", err)
	}
	if !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("PutPart over a dropped connection: err = %v, want ErrUnavailable", err)
	}
	if nums := listParts(t, raw, s, key, id); !slices.Equal(nums, []int32{1}) {
		t.Errorf("parts after the dropped one: %v, want only part 1", nums)
	}
	// The tag the part would have had does not complete the upload.
	sum := md5.Sum(part2)
	guessed := blob.Part{Number: 2, Size: int64(len(part2)), Tag: `"` + hex.EncodeToString(sum[:]) + `"`}
	if err := s.Complete(ctx, key, id, []blob.Part{p1, guessed}); !errors.Is(err, blob.ErrInvalidPart) {
		t.Errorf("Complete with the dropped part: err = %v, want ErrInvalidPart", err)
	}
	wantAbsent(t, s, key)

	drop.Store(false)
	p2, err := s.PutPart(ctx, key, id, 2, struct{ io.Reader }{bytes.NewReader(part2)}, int64(len(part2)))
	if err != nil {
		t.Fatalf("PutPart sent again: %v", err)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{p1, p2}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantObject(t, s, key, slices.Concat(part1, part2))
}

// TestPutPartResponseLost: S3 stored the part but its answer was lost. The
// caller has no tag, so the part is not its; sending it again works.
func TestPutPartResponseLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const key = "lost-answer"
	data := backendtestData(3, 100_000)
	var lose atomic.Bool
	lose.Store(true)
	s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(r)
			if err == nil && operation(r) == "UploadPart" && lose.Load() {
				resp.Body.Close()
				return nil, errReset
			}
			return resp, err
		})
	})
	id, err := s.Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPart(ctx, key, id, 1, bytes.NewReader(data), int64(len(data))); err == nil {
		t.Fatal("PutPart whose answer was lost succeeded")
	}
	lose.Store(false)
	p, err := s.PutPart(ctx, key, id, 1, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("PutPart sent again: %v", err)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{p}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantObject(t, s, key, data)
}

// TestPutPartWrongLength: a part reader of the wrong length fails before its
// request is complete, so S3 keeps no part for it and an earlier part stays.
func TestPutPartWrongLength(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, raw := newStore(t, nil)
	const key = "wrong-length"
	id, err := s.Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	old := backendtestData(4, 200_000)
	p2, err := s.PutPart(ctx, key, id, 2, bytes.NewReader(old), int64(len(old)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]int{{300_001, 300_000}, {299_999, 300_000}, {1 << 20, 300_000}} {
		data := backendtestData(5, c[0])
		for _, n := range []int{1, 2} {
			_, err := s.PutPart(ctx, key, id, n, struct{ io.Reader }{bytes.NewReader(data)}, int64(c[1]))
			if !errors.Is(err, blob.ErrSizeMismatch) {
				t.Errorf("PutPart(part %d, %d bytes, size %d): err = %v, want ErrSizeMismatch", n, c[0], c[1], err)
			}
		}
	}
	if nums := listParts(t, raw, s, key, id); !slices.Equal(nums, []int32{2}) {
		t.Errorf("parts after PutParts of the wrong length: %v, want only the earlier part 2", nums)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{p2}); err != nil {
		t.Fatalf("Complete with the earlier part 2: %v", err)
	}
	wantObject(t, s, key, old)
}

// TestPutPartStreams checks, on both sides of the SDK's rules, that a part
// streams: over HTTPS as aws-chunked with a trailing CRC32, over HTTP with an
// unsigned payload and no checksum. No S3 answers here: the requests are
// answered by the round tripper (moto runs on HTTP only in scripts/test.sh),
// which reads the body only after the request has started.
func TestPutPartStreams(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		endpoint string
		header   map[string]string
	}{
		{"https://s3.example.test", map[string]string{
			"Content-Encoding":     "aws-chunked",
			"X-Amz-Trailer":        "x-amz-checksum-crc32",
			"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		}},
		{"http://s3.example.test", map[string]string{
			"Content-Encoding":     "",
			"X-Amz-Trailer":        "",
			"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
		}},
	} {
		t.Run(strings.Split(c.endpoint, ":")[0], func(t *testing.T) {
			t.Parallel()
			data := backendtestData(6, 3<<20)
			r := &countingReader{r: bytes.NewReader(data)}
			var seen atomic.Int64
			c2 := testClient(t, func(http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(req *http.Request) (*http.Response, error) {
					seen.Store(r.n.Load())
					for h, want := range c.header {
						if got := req.Header.Get(h); got != want {
							t.Errorf("%s: %s = %q, want %q", c.endpoint, h, got, want)
						}
					}
					body, _ := io.ReadAll(req.Body)
					req.Body.Close()
					if !bytes.Contains(body, data[:1000]) || !bytes.Contains(body, data[len(data)-1000:]) {
						t.Errorf("%s: request body of %d bytes does not hold the part", c.endpoint, len(body))
					}
					return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
						Header: http.Header{"Etag": {`"tag"`}}, Body: http.NoBody, Request: req}, nil
				})
			}, func(o *s3.Options) { o.BaseEndpoint = aws.String(c.endpoint) })
			s := openStore(t, c2, "bucket", "")
			p, err := s.PutPart(t.Context(), "k", "upload", 1, r, int64(len(data)))
			if err != nil {
				t.Fatalf("PutPart: %v", err)
			}
			if p.Tag != `"tag"` {
				t.Errorf("tag %q", p.Tag)
			}
			if n := seen.Load(); n > 64<<10 {
				t.Errorf("%d bytes were read before the request was sent: the part was buffered", n)
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCompleteAnswerLost: S3 completed the upload but the answer was lost;
// the SDK's retry then finds no upload (as on AWS; moto answers a second
// Complete with success). The object is the one the parts make, so Complete
// succeeds.
func TestCompleteAnswerLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const key = "complete-lost"
	var calls atomic.Int64
	s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if operation(r) != "CompleteMultipartUpload" {
				return next.RoundTrip(r)
			}
			switch calls.Add(1) {
			case 1:
				resp, err := next.RoundTrip(r)
				if err == nil {
					resp.Body.Close()
				}
				return nil, errReset
			default:
				return s3Error(r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist."), nil
			}
		})
	})
	parts := [][]byte{backendtestData(7, blob.MinPartSize), backendtestData(8, 1000)}
	id, err := s.Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var got []blob.Part
	for i, p := range parts {
		bp, err := s.PutPart(ctx, key, id, i+1, bytes.NewReader(p), int64(len(p)))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, bp)
	}
	if err := s.Complete(ctx, key, id, got); err != nil {
		t.Fatalf("Complete whose first answer was lost: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d CompleteMultipartUpload attempts, want 2", n)
	}
	wantObject(t, s, key, slices.Concat(parts...))

	// A Complete S3 has no upload for, whose parts did not make the object,
	// is ErrNotFound.
	other := []blob.Part{{Number: 1, Size: 1, Tag: `"0123456789abcdef0123456789abcdef"`}}
	if err := s.Complete(ctx, key, id, other); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Complete of parts that are not the object: err = %v, want ErrNotFound", err)
	}
}

// TestPutMultipart: a Put bigger than a part goes up as a multipart upload,
// of known size or not.
func TestPutMultipart(t *testing.T) {
	t.Parallel()
	s, raw := newStore(t, nil, WithPartSize(blob.MinPartSize), WithConcurrency(2))
	data := backendtestData(9, 2*blob.MinPartSize+12345)
	for _, size := range []int64{int64(len(data)), -1} {
		t.Run(fmt.Sprintf("Size%d", size), func(t *testing.T) {
			key := fmt.Sprintf("big-%d", size+1)
			if err := s.Put(t.Context(), key, struct{ io.Reader }{bytes.NewReader(data)}, size); err != nil {
				t.Fatalf("Put: %v", err)
			}
			wantObject(t, s, key, data)
			head, err := raw.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			if etag := aws.ToString(head.ETag); !strings.HasSuffix(etag, `-3"`) {
				t.Errorf("ETag %s: not an object of three parts", etag)
			}
		})
	}
	t.Run("TwicePartSize", func(t *testing.T) {
		// Known to be no more than twice the part size: one PutObject.
		// Unknown: two full parts.
		exact := data[:2*blob.MinPartSize]
		for _, c := range []struct {
			size  int64
			parts string
		}{{int64(len(exact)), ""}, {-1, "-2"}} {
			if err := s.Put(t.Context(), "exact", struct{ io.Reader }{bytes.NewReader(exact)}, c.size); err != nil {
				t.Fatalf("Put(size %d): %v", c.size, err)
			}
			wantObject(t, s, "exact", exact)
			head, err := raw.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String("exact")})
			if err != nil {
				t.Fatal(err)
			}
			etag := strings.Trim(aws.ToString(head.ETag), `"`)
			parts := "" // a multipart object's ETag ends in "-<parts>"
			if i := strings.IndexByte(etag, '-'); i >= 0 {
				parts = etag[i:]
			}
			if parts != c.parts {
				t.Errorf("Put(size %d): ETag %s, want the suffix %q", c.size, etag, c.parts)
			}
		}
	})
	wantNoUploads(t, raw, s)
}

func TestPutMultipartFails(t *testing.T) {
	t.Parallel()
	data := backendtestData(10, 3*blob.MinPartSize)
	errRead := errors.New("read failed")
	cases := []struct {
		name string
		put  func(ctx context.Context, s *Store) error
		want error
	}{
		{"ReaderError", func(ctx context.Context, s *Store) error {
			return s.Put(ctx, "k", io.MultiReader(bytes.NewReader(data[:7<<20]), failingReader{errRead}), int64(len(data)))
		}, errRead},
		{"Shorter", func(ctx context.Context, s *Store) error {
			return s.Put(ctx, "k", struct{ io.Reader }{bytes.NewReader(data[:len(data)-1])}, int64(len(data)))
		}, blob.ErrSizeMismatch},
		{"Longer", func(ctx context.Context, s *Store) error {
			return s.Put(ctx, "k", struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)-1))
		}, blob.ErrSizeMismatch},
		{"Cancelled", func(ctx context.Context, s *Store) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			r := io.MultiReader(bytes.NewReader(data[:6<<20]), cancellingReader{cancel}, bytes.NewReader(data[6<<20:]))
			return s.Put(ctx, "k", r, int64(len(data)))
		}, context.Canceled},
		{"PartDropped", func(ctx context.Context, s *Store) error {
			return s.Put(ctx, "k", bytes.NewReader(data), int64(len(data)))
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var wrap func(http.RoundTripper) http.RoundTripper
			if c.name == "PartDropped" {
				wrap = func(next http.RoundTripper) http.RoundTripper {
					return roundTripFunc(func(r *http.Request) (*http.Response, error) {
						if operation(r) == "UploadPart" && r.URL.Query().Get("partNumber") == "2" {
							return dropBody(r, 1<<20)
						}
						return next.RoundTrip(r)
					})
				}
			}
			s, raw := newStore(t, wrap, WithPartSize(blob.MinPartSize), WithConcurrency(2))
			err := c.put(t.Context(), s)
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Put: err = %v, want %v", err, c.want)
			}
			wantAbsent(t, s, "k")
			wantNoUploads(t, raw, s)
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

type cancellingReader struct{ cancel context.CancelFunc }

func (c cancellingReader) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

// TestPutConnectionDropped: a Put whose every attempt loses its connection
// stores nothing.
func TestPutConnectionDropped(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int64
	s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if operation(r) == "PutObject" {
				attempts.Add(1)
				return dropBody(r, 1000)
			}
			return next.RoundTrip(r)
		})
	})
	data := backendtestData(11, 100_000)
	if err := s.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data))); err == nil {
		t.Fatal("Put over dropped connections succeeded")
	}
	if n := attempts.Load(); n != DefaultMaxAttempts {
		t.Errorf("%d attempts, want %d", n, DefaultMaxAttempts)
	}
	wantAbsent(t, s, "k")
}

func TestArchiveMultipartCopy(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, raw := newStore(t, nil, WithConcurrency(2))
	s.copyThreshold = 6 << 20
	s.copyPartSize = blob.MinPartSize
	data := backendtestData(12, 2*blob.MinPartSize+777)
	if err := s.Put(ctx, "big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := s.Archive(ctx, "big", blob.ClassDeepArchive); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	head, err := raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	if head.StorageClass != types.StorageClassDeepArchive || !strings.HasSuffix(aws.ToString(head.ETag), `-3"`) {
		t.Errorf("after Archive: class %s, ETag %s; want DEEP_ARCHIVE, three parts", head.StorageClass, aws.ToString(head.ETag))
	}
	if _, err := s.Get(ctx, "big", 0, -1); !errors.Is(err, blob.ErrArchived) {
		t.Errorf("Get: err = %v, want ErrArchived", err)
	}
	if err := s.Restore(ctx, "big", 1, blob.TierBulk); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	wantObject(t, s, "big", data)
	wantNoUploads(t, raw, s)
}

// TestArchiveReplacedMeanwhile: the copy is conditioned on the ETag read
// first, so an object replaced between the two is not archived in its
// place. moto ignores x-amz-copy-source-if-match, so the round tripper
// checks the header and answers as AWS would.
func TestArchiveReplacedMeanwhile(t *testing.T) {
	t.Parallel()
	var etag, condition atomic.Value
	s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			switch operation(r) {
			case "CopyObject":
				condition.Store(r.Header.Get("X-Amz-Copy-Source-If-Match"))
				return s3Error(r, http.StatusPreconditionFailed, "PreconditionFailed",
					"At least one of the pre-conditions you specified did not hold"), nil
			case "HeadObject":
				resp, err := next.RoundTrip(r)
				if err == nil {
					etag.Store(resp.Header.Get("Etag"))
				}
				return resp, err
			}
			return next.RoundTrip(r)
		})
	})
	if err := s.Put(t.Context(), "k", strings.NewReader("old"), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Archive(t.Context(), "k", blob.ClassGlacier); err == nil {
		t.Error("Archive whose copy condition failed succeeded")
	}
	if c, e := condition.Load(), etag.Load(); c == nil || c == "" || c != e {
		t.Errorf("CopyObject conditioned on ETag %v, want the HEAD's %v", c, e)
	}
	st, err := s.ArchiveState(t.Context(), "k")
	if err != nil || st.Class != "" {
		t.Errorf("ArchiveState = %+v, %v; want hot", st, err)
	}
}

// rewriteArchive makes the object look archived in GLACIER with the given
// x-amz-restore header, and its GETs fail as S3's do without a restored copy
// (if unreadable).
func rewriteArchive(restore string, unreadable bool) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			switch operation(r) {
			case "GetObject":
				if unreadable {
					return s3Error(r, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class"), nil
				}
			case "HeadObject":
				resp, err := next.RoundTrip(r)
				if err == nil && resp.StatusCode == http.StatusOK {
					resp.Header.Set("X-Amz-Storage-Class", "GLACIER")
					if restore == "" {
						resp.Header.Del("X-Amz-Restore")
					} else {
						resp.Header.Set("X-Amz-Restore", restore)
					}
				}
				return resp, err
			}
			return next.RoundTrip(r)
		})
	}
}

func TestRestoreExpired(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	s, raw := newStore(t, rewriteArchive(`ongoing-request="false", expiry-date="`+past+`"`, true))
	hot := openStore(t, raw, s.bucket, "")
	if err := hot.Put(ctx, "k", strings.NewReader("restored once"), 13); err != nil {
		t.Fatal(err)
	}
	if err := hot.Archive(ctx, "k", blob.ClassGlacier); err != nil {
		t.Fatal(err)
	}
	if err := hot.Restore(ctx, "k", 1, blob.TierStandard); err != nil {
		t.Fatal(err)
	}
	st, err := s.ArchiveState(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if st != (blob.ArchiveState{Class: blob.ClassGlacier}) {
		t.Errorf("ArchiveState with an expired restore = %+v, want GLACIER with no restored copy", st)
	}
	for _, r := range [][2]int64{{0, -1}, {2, 3}, {0, 0}, {13, -1}} {
		rc, err := s.Get(ctx, "k", r[0], r[1])
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, blob.ErrArchived) {
			t.Errorf("Get(%d, %d) with an expired restore: err = %v, want ErrArchived", r[0], r[1], err)
		}
	}
}

func TestRestoreInProgress(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var restores atomic.Int64
	wrap := func(next http.RoundTripper) http.RoundTripper {
		inner := rewriteArchive(`ongoing-request="true"`, true)(next)
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if operation(r) == "RestoreObject" {
				restores.Add(1)
				return s3Error(r, http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress"), nil
			}
			return inner.RoundTrip(r)
		})
	}
	s, raw := newStore(t, wrap)
	if err := openStore(t, raw, s.bucket, "").Put(ctx, "k", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	st, err := s.ArchiveState(ctx, "k")
	if err != nil || st != (blob.ArchiveState{Class: blob.ClassGlacier, Restoring: true}) {
		t.Errorf("ArchiveState while restoring = %+v, %v; want GLACIER, restoring", st, err)
	}
	if err := s.Restore(ctx, "k", 3, blob.TierExpedited); err != nil {
		t.Errorf("Restore while restoring: %v", err)
	}
	if restores.Load() != 1 {
		t.Errorf("%d RestoreObject requests, want 1", restores.Load())
	}
	if _, err := s.Get(ctx, "k", 0, -1); !errors.Is(err, blob.ErrArchived) {
		t.Errorf("Get while restoring: err = %v, want ErrArchived", err)
	}
}

func TestRestoreArguments(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, nil)
	if err := s.Put(ctx, "deep", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Archive(ctx, "deep", blob.ClassDeepArchive); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, "deep", 1, blob.TierExpedited); err == nil || !strings.Contains(err.Error(), "no Expedited tier") {
		t.Errorf("Restore(DEEP_ARCHIVE, Expedited): err = %v, want one saying there is no such tier", err)
	}
	for _, days := range []int{0, 31} {
		if err := s.Restore(ctx, "deep", days, blob.TierBulk); err == nil {
			t.Errorf("Restore(%d days) succeeded", days)
		}
	}
	if err := s.Restore(ctx, "deep", 1, "Fast"); err == nil {
		t.Error("Restore(tier Fast) succeeded")
	}
	if err := s.Archive(ctx, "deep", "COLD"); err == nil {
		t.Error("Archive(class COLD) succeeded")
	}
}

func TestParseRestore(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		header    string
		restoring bool
		until     time.Time
	}{
		{"", false, time.Time{}},
		{`ongoing-request="true"`, true, time.Time{}},
		{`ongoing-request="false", expiry-date="Fri, 02 Jan 2026 00:00:00 GMT"`, false, now.Add(24 * time.Hour)},
		{`ongoing-request="false", expiry-date="Wed, 31 Dec 2025 00:00:00 GMT"`, false, time.Time{}},
		{`ongoing-request="true", expiry-date="Fri, 02 Jan 2026 00:00:00 GMT"`, true, now.Add(24 * time.Hour)},
		{`expiry-date="not a date", ongoing-request="false"`, false, time.Time{}},
		{`garbage`, false, time.Time{}},
	} {
		restoring, until := parseRestore(c.header, now)
		if restoring != c.restoring || !until.Equal(c.until) {
			t.Errorf("parseRestore(%q) = %v, %v; want %v, %v", c.header, restoring, until, c.restoring, c.until)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	fault := func(op string, resp func(r *http.Request) *http.Response) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if operation(r) == op {
					return resp(r), nil
				}
				return next.RoundTrip(r)
			})
		}
	}
	denied := func(r *http.Request) *http.Response {
		return s3Error(r, http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	cases := []struct {
		name    string
		wrap    func(http.RoundTripper) http.RoundTripper
		missing bool   // a bucket that does not exist
		want    string // with %q for the bucket; "" for success
	}{
		{"OK", nil, false, ""},
		{"MissingBucket", nil, true, `s3: bucket %q does not exist`},
		{"PutDenied", fault("PutObject", denied), false, `s3: bucket %q: s3:PutObject denied`},
		{"GetDenied", fault("GetObject", denied), false, `s3: bucket %q: s3:GetObject denied`},
		{"DeleteDenied", fault("DeleteObject", denied), false, `s3: bucket %q: s3:DeleteObject denied`},
		{"AbortDenied", fault("AbortMultipartUpload", denied), false, `s3: bucket %q: s3:AbortMultipartUpload denied`},
		{"HeadDenied", fault("HeadBucket", denied), false, `s3: bucket %q: s3:ListBucket denied`},
		{"ListDenied", fault("ListObjectsV2", denied), false, `s3: bucket %q: s3:ListBucket denied`},
		{"ListUploadsDenied", fault("ListMultipartUploads", denied), false, `s3: bucket %q: s3:ListBucketMultipartUploads denied`},
		{"WrongRegionHead", fault("HeadBucket", func(r *http.Request) *http.Response {
			return s3Error(r, http.StatusMovedPermanently, "", "", "X-Amz-Bucket-Region", "eu-west-1")
		}), false, `s3: bucket %q is in region eu-west-1, not in the client's region "us-east-1"`},
		{"WrongRegionSigned", fault("PutObject", func(r *http.Request) *http.Response {
			return s3Error(r, http.StatusBadRequest, "AuthorizationHeaderMalformed",
				"The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-south-2'")
		}), false, `s3: bucket %q is in region ap-south-2, not in the client's region "us-east-1"`},
		{"WrongRegionUnnamed", fault("HeadBucket", func(r *http.Request) *http.Response {
			return s3Error(r, http.StatusMovedPermanently, "", "")
		}), false, `s3: bucket %q is in another region`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := testClient(t, nil)
			bucket := awstest.Name("strata-missing")
			if !c.missing {
				bucket = newBucket(t, raw)
			}
			client := raw
			if c.wrap != nil {
				client = testClient(t, c.wrap)
			}
			for _, prefix := range []string{"", "tenant/x"} {
				s := openStore(t, client, bucket, prefix)
				err := s.Check(t.Context())
				want := ""
				if c.want != "" {
					want = fmt.Sprintf(c.want, bucket)
				}
				switch {
				case want == "" && err != nil:
					t.Errorf("Check(prefix %q): %v", prefix, err)
				case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
					t.Errorf("Check(prefix %q): err = %v, want one starting %q", prefix, err, want)
				}
				if c.missing || c.name == "DeleteDenied" {
					continue
				}
				// The probe is removed, whatever else failed, and no upload
				// is left open.
				out, err := raw.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range out.Contents {
					t.Errorf("Check(prefix %q) left %s behind", prefix, aws.ToString(o.Key))
				}
				if c.name != "AbortDenied" {
					wantNoUploads(t, raw, s)
				}
			}
		})
	}
}

// TestPrefix: objects live under the prefix, and List sees only valid keys
// at its level.
func TestPrefix(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	for _, prefix := range []string{"tenant/blobs", "tenant/blobs/"} {
		s := openStore(t, raw, bucket, prefix)
		if s.Prefix() != "tenant/blobs/" {
			t.Errorf("New(prefix %q): Prefix() = %q", prefix, s.Prefix())
		}
	}
	s := openStore(t, raw, bucket, "tenant/blobs")
	for _, k := range []string{"tenant/blobs/sub/x", "tenant/blobs/.hidden", "tenant/blobs/UPPER", "tenant/blobsx", "other", "k"} {
		if _, err := raw.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("foreign")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "k", strings.NewReader("mine"), 4); err != nil {
		t.Fatal(err)
	}
	out, err := raw.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("tenant/blobs/k")})
	if err != nil {
		t.Fatalf("the object is not at prefix/key: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "mine" {
		t.Errorf("prefix/key holds %q", got)
	}
	var keys []string
	if err := s.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"k"}) {
		t.Errorf("List = %v, want [k]", keys)
	}
	wantObject(t, s, "k", []byte("mine"))
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("k")}); err != nil {
		t.Errorf("Delete under the prefix touched the key at the top: %v", err)
	}
}

func TestNew(t *testing.T) {
	c := s3.New(s3.Options{Region: "us-east-1"})
	for _, tc := range []struct {
		name   string
		bucket string
		prefix string
		opts   []Option
	}{
		{"NoBucket", "", "", nil},
		{"LeadingSlash", "b", "/x", nil},
		{"LongPrefix", "b", strings.Repeat("p", 900), nil},
		{"SmallParts", "b", "", []Option{WithPartSize(1 << 20)}},
		{"HugeParts", "b", "", []Option{WithPartSize(6 << 30)}},
		{"NoConcurrency", "b", "", []Option{WithConcurrency(0)}},
		{"NoAttempts", "b", "", []Option{WithMaxAttempts(-1)}},
		{"ArchiveClass", "b", "", []Option{WithStorageClass(types.StorageClassGlacier)}},
	} {
		if _, err := New(c, tc.bucket, tc.prefix, tc.opts...); err == nil {
			t.Errorf("New(%s) succeeded", tc.name)
		}
	}
	if _, err := New(nil, "b", ""); err == nil {
		t.Error("New(nil client) succeeded")
	}
	s, err := New(c, "b", "", WithStorageClass(types.StorageClassStandardIa))
	if err != nil {
		t.Fatalf("New(STANDARD_IA): %v", err)
	}
	if s.Bucket() != "b" || s.Prefix() != "" {
		t.Errorf("Bucket, Prefix = %q, %q", s.Bucket(), s.Prefix())
	}
}

// TestListUploads: pending uploads under the store's prefix, with their
// start, and only those.
func TestListUploads(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	s := openStore(t, raw, bucket, "tenant")
	other := openStore(t, raw, bucket, "")
	want := map[string]string{}
	for _, key := range []string{"a", "b", "b"} {
		id, err := s.Begin(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = key
	}
	if _, err := other.Begin(ctx, "outside"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenant/.strata-probe", "tenant/.strata-probe-0123456789abcdef", "tenant/sub/x"} {
		if _, err := raw.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	err := s.ListUploads(ctx, func(u blob.PendingUpload) error {
		got[u.UploadID] = u.Key
		// Loosely: moto dates every upload 2010-11-10T20:48:33Z.
		if u.Started.IsZero() || u.Started.After(time.Now().Add(time.Hour)) {
			t.Errorf("upload %s started %v", u.UploadID, u.Started)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("ListUploads = %v, want %v", got, want)
	}
	errStop := errors.New("stop")
	calls := 0
	if err := s.ListUploads(ctx, func(blob.PendingUpload) error { calls++; return errStop }); !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("ListUploads with fn failing: err = %v after %d calls, want fn's error after 1", err, calls)
	}
}

// TestStorageClass: new objects get the store's class, by Put and Complete.
func TestStorageClass(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	s := openStore(t, raw, bucket, "", WithStorageClass(types.StorageClassStandardIa))
	if err := s.Put(ctx, "put", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	id, err := s.Begin(ctx, "mp")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PutPart(ctx, "mp", id, 1, strings.NewReader("y"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "mp", id, []blob.Part{p}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"put", "mp"} {
		head, err := raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if head.StorageClass != types.StorageClassStandardIa {
			t.Errorf("%s: storage class %q, want STANDARD_IA", k, head.StorageClass)
		}
	}
	// An object in a non-archive class is hot.
	if st, err := s.ArchiveState(ctx, "put"); err != nil || st != (blob.ArchiveState{}) {
		t.Errorf("ArchiveState of a STANDARD_IA object = %+v, %v; want hot", st, err)
	}
}

// TestNoChecksumLogNoise: responses without a checksum (ranged GETs) do not
// make the SDK log through the client's logger.
func TestNoChecksumLogNoise(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var mu sync.Mutex
	var logged []string
	logger := logging.LoggerFunc(func(_ logging.Classification, format string, v ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, v...))
	})
	c := testClient(t, nil, func(o *s3.Options) {
		o.Logger = logger
		o.DisableLogOutputChecksumValidationSkipped = false
	})
	bucket := newBucket(t, c)
	s := openStore(t, c, bucket, "")
	data := backendtestData(13, 10_000)
	if err := s.Put(ctx, "k", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got := getAll(t, s, "k", 10, 100)
	if !bytes.Equal(got, data[10:110]) {
		t.Error("wrong bytes")
	}
	mu.Lock()
	if len(logged) != 0 {
		t.Errorf("the store's requests logged %q", logged)
	}
	mu.Unlock()
	// The same ranged GET without the store's options logs the line, so the
	// check above can see it.
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k"), Range: aws.String("bytes=10-109")})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if !slices.ContainsFunc(logged, func(l string) bool { return strings.Contains(l, "no supported checksum") }) {
		t.Logf("a raw ranged GetObject logged %q: this SDK no longer logs the line", logged)
	}
}

// TestGetEmptyRanges: reads of nothing, which need a HEAD rather than a
// ranged GET, on a non-empty object.
func TestGetEmptyRanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := newStore(t, nil)
	if err := s.Put(ctx, "ten", strings.NewReader("0123456789"), 10); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{10, -1}, {10, 0}, {0, 0}, {5, 0}} {
		if got := getAll(t, s, "ten", r[0], r[1]); len(got) != 0 {
			t.Errorf("Get(%d, %d) = %q, want nothing", r[0], r[1], got)
		}
	}
	for _, r := range [][2]int64{{11, 0}, {11, -1}, {10, 1}, {9, 2}} {
		if _, err := s.Get(ctx, "ten", r[0], r[1]); !errors.Is(err, blob.ErrInvalidRange) {
			t.Errorf("Get(%d, %d): err = %v, want ErrInvalidRange", r[0], r[1], err)
		}
	}
}

func getAll(t *testing.T, s *Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key, off, n)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): read: %v", key, off, n, err)
	}
	return b
}

func wantObject(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Stat(%q): size %d, want %d", key, info.Size, len(data))
	}
	if got := getAll(t, s, key, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("Get(%q): %d bytes, not the %d written", key, len(got), len(data))
	}
}

func wantAbsent(t *testing.T, s *Store, key string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q): err = %v, want ErrNotFound", key, err)
	}
}

// wantNoUploads checks that no multipart upload is left open in s's bucket.
func wantNoUploads(t *testing.T, raw *s3.Client, s *Store) {
	t.Helper()
	out, err := raw.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	for _, u := range out.Uploads {
		t.Errorf("upload %s of %s left open", aws.ToString(u.UploadId), aws.ToString(u.Key))
	}
}

func listParts(t *testing.T, raw *s3.Client, s *Store, key, id string) []int32 {
	t.Helper()
	out, err := raw.ListParts(t.Context(), &s3.ListPartsInput{Bucket: &s.bucket, Key: s.objectKey(key), UploadId: &id})
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	var nums []int32
	for _, p := range out.Parts {
		nums = append(nums, aws.ToInt32(p.PartNumber))
	}
	return nums
}

// backendtestData returns n pseudo-random bytes, the same for the same seed.
func backendtestData(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
