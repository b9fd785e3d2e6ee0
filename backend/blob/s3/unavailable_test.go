package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
)

// TestCheckConcurrent: servers that start together on one bucket each run
// Check at once; every Check must pass, and none may leave a probe behind.
func TestCheckConcurrent(t *testing.T) {
	t.Parallel()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	const n = 24
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		prefix := ""
		if i%2 == 1 {
			prefix = "tenant"
		}
		s := openStore(t, raw, bucket, prefix)
		wg.Go(func() { errs[i] = s.Check(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Check %d of %d run at once: %v", i, n, err)
		}
	}
	out, err := raw.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		t.Errorf("concurrent Checks left %s behind", aws.ToString(o.Key))
	}
	wantNoUploads(t, raw, openStore(t, raw, bucket, ""))
}

// TestProbeNamesAreNotKeys: Check's probe names are unique and never valid
// blob keys, so List and ListUploads skip them.
func TestProbeNamesAreNotKeys(t *testing.T) {
	s, err := New(s3.New(s3.Options{Region: "us-east-1"}), "b", "tenant")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 100 {
		k := aws.ToString(s.probeKey())
		name, ok := strings.CutPrefix(k, "tenant/")
		if !ok || blob.ValidKey(name) || !strings.HasPrefix(name, probePrefix) {
			t.Fatalf("probe %q: not under the prefix, or a valid key", k)
		}
		if seen[k] {
			t.Fatalf("probe name %q drawn twice", k)
		}
		seen[k] = true
	}
}

// TestUnavailable: throttling and transport failures that outlast the SDK's
// retries wrap blob.ErrUnavailable (and the SDK's error); the caller's
// cancellation, failures of the caller's own content, and S3's other
// answers do not.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	data := backendtestData(20, 100_000)
	big := backendtestData(21, 2*blob.MinPartSize+1000)

	t.Run("UploadPartThrottled", func(t *testing.T) {
		// Throttled beyond the retries: every UploadPart answers SlowDown.
		t.Parallel()
		var attempts atomic.Int64
		s, raw := newStore(t, throttle("UploadPart", 1<<40, &attempts), WithPartSize(blob.MinPartSize))
		id, err := s.Begin(t.Context(), "part")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.PutPart(t.Context(), "part", id, 1, bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, blob.ErrUnavailable) || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("PutPart throttled: err = %v, want ErrUnavailable", err)
		}
		if code := awserr.Code(err); code != "SlowDown" {
			t.Errorf("PutPart throttled: the error does not wrap S3's (code %q)", code)
		}
		// A Put's multipart upload, whose parts the SDK retries.
		attempts.Store(0)
		err = s.Put(t.Context(), "big", bytes.NewReader(big), int64(len(big)))
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Put with its parts throttled: err = %v, want ErrUnavailable", err)
		}
		if n := attempts.Load(); n < DefaultMaxAttempts {
			t.Errorf("Put with its parts throttled: %d UploadPart attempts, want at least %d", n, DefaultMaxAttempts)
		}
		wantAbsent(t, s, "big")
		if err := s.Abort(t.Context(), "part", id); err != nil {
			t.Fatal(err)
		}
		wantNoUploads(t, raw, s)
	})

	t.Run("ServiceUnavailable", func(t *testing.T) {
		// A 503 without a throttling code is unavailable too.
		t.Parallel()
		s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if operation(r) == "GetObject" {
					return s3Error(r, http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate."), nil
				}
				return next.RoundTrip(r)
			})
		})
		if _, err := s.Get(t.Context(), "k", 0, -1); !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Get answered 503: err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("ConnectionDropped", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if operation(r) == "PutObject" {
					return dropBody(r, 1000)
				}
				return next.RoundTrip(r)
			})
		})
		err := s.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Put over dropped connections: err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		c := testClient(t, nil, func(o *s3.Options) { o.BaseEndpoint = aws.String("http://" + addr) })
		s := openStore(t, c, "bucket", "")
		_, err = s.Stat(t.Context(), "k")
		if !errors.Is(err, blob.ErrUnavailable) || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat of an endpoint that refuses connections: err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		// The HTTP client's own timeout (not the caller's) is a transport
		// failure.
		t.Parallel()
		cfg := awstest.Config(t)
		c := s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.RetryMaxAttempts = 1
			o.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})}
		})
		s := openStore(t, c, "bucket", "", WithMaxAttempts(1))
		_, err := s.Stat(t.Context(), "k")
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Stat timed out by the HTTP client: err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("CallerCancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		s, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if operation(r) == "HeadObject" {
					cancel()
					<-r.Context().Done()
					return nil, r.Context().Err()
				}
				return next.RoundTrip(r)
			})
		})
		_, err := s.Stat(ctx, "k")
		if !errors.Is(err, context.Canceled) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Stat cancelled by its caller: err = %v, want context.Canceled and not ErrUnavailable", err)
		}
		ctx2, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel2()
		s2, _ := newStore(t, func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})
		})
		if _, err := s2.Stat(ctx2, "k"); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Stat past its caller's deadline: err = %v, want DeadlineExceeded and not ErrUnavailable", err)
		}
	})

	t.Run("ContentFails", func(t *testing.T) {
		// The part's own reader failing is the caller's problem, not S3's.
		t.Parallel()
		s, _ := newStore(t, nil)
		id, err := s.Begin(t.Context(), "part")
		if err != nil {
			t.Fatal(err)
		}
		errRead := errors.New("the client went away")
		r := io.MultiReader(bytes.NewReader(data[:50_000]), failingReader{errRead})
		_, err = s.PutPart(t.Context(), "part", id, 1, r, int64(len(data)))
		if !errors.Is(err, errRead) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("PutPart whose reader fails: err = %v, want the reader's error and not ErrUnavailable", err)
		}
		_ = s.Abort(t.Context(), "part", id)
	})

	t.Run("NotFoundIsNot", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, nil)
		if _, err := s.Get(t.Context(), "missing", 0, -1); !errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Get of a missing key: err = %v, want ErrNotFound only", err)
		}
	})
}

// TestBucketGone: once the bucket is deleted, a Get (what Backend.Ready
// reads) fails with ErrNoBucket, never with ErrNotFound, and names the
// bucket.
func TestBucketGone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := testClient(t, nil)
	bucket := newBucket(t, raw)
	s := openStore(t, raw, bucket, "blobs")
	if _, err := s.Get(ctx, "ready-probe", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a missing key: err = %v, want ErrNotFound", err)
	}
	if _, err := raw.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(ctx, "ready-probe", 0, -1)
	if !errors.Is(err, ErrNoBucket) || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get in a deleted bucket: err = %v, want ErrNoBucket and not ErrNotFound", err)
	}
	if err != nil && !strings.Contains(err.Error(), bucket) {
		t.Errorf("Get in a deleted bucket: %v does not name the bucket", err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1); !errors.Is(err, ErrNoBucket) {
		t.Errorf("Put in a deleted bucket: err = %v, want ErrNoBucket", err)
	}
	if err := s.List(ctx, "", func(blob.Info) error { return nil }); !errors.Is(err, ErrNoBucket) {
		t.Errorf("List of a deleted bucket: err = %v, want ErrNoBucket", err)
	}
}

// TestBufferBudget: Puts running at once never hold more buffer memory than
// the store's MaxBufferBytes together, and all complete.
func TestBufferBudget(t *testing.T) {
	t.Parallel()
	const limit = 3 * blob.MinPartSize
	s, raw := newStore(t, nil, WithPartSize(blob.MinPartSize), WithConcurrency(4), WithMaxBufferBytes(limit))
	big := backendtestData(22, 3*blob.MinPartSize+4321)     // multipart, 4 parts
	small := backendtestData(23, 2*blob.MinPartSize-100)    // one PutObject of 2 parts' worth
	unknown := backendtestData(24, blob.MinPartSize+77_000) // size -1: multipart
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i)
			var err error
			switch i % 3 {
			case 0:
				err = s.Put(t.Context(), key, bytes.NewReader(big), int64(len(big)))
			case 1:
				err = s.Put(t.Context(), key, bytes.NewReader(small), int64(len(small)))
			default:
				err = s.Put(t.Context(), key, struct{ io.Reader }{bytes.NewReader(unknown)}, -1)
			}
			if err != nil {
				errs <- fmt.Errorf("Put %s: %w", key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if peak := s.buffers.maxUsed(); peak > limit || peak < blob.MinPartSize {
		t.Errorf("buffers peaked at %d bytes, want at most the budget of %d", peak, limit)
	}
	if s.buffers.used != 0 {
		t.Errorf("%d bytes of the budget still held after every Put returned", s.buffers.used)
	}
	for i, want := range [][]byte{big, small, unknown} {
		wantObject(t, s, fmt.Sprintf("k%d", i), want)
	}
	wantNoUploads(t, raw, s)

	// A Put bigger than the whole budget still goes, alone.
	tiny, _ := newStore(t, nil, WithPartSize(blob.MinPartSize), WithMaxBufferBytes(1<<20))
	if err := tiny.Put(t.Context(), "k", bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatalf("Put with parts bigger than the budget: %v", err)
	}
	wantObject(t, tiny, "k", big)

	// A Put waiting for room gives up with its context.
	held, _ := s.buffers.acquire(t.Context(), limit)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Put(ctx, "waits", bytes.NewReader(small), int64(len(small))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put without room in the budget: err = %v, want DeadlineExceeded", err)
	}
	s.buffers.release(held)
}

func TestBudget(t *testing.T) {
	b := newBudget(10)
	n, err := b.acquire(t.Context(), 6)
	if err != nil || n != 6 {
		t.Fatalf("acquire(6) = %d, %v", n, err)
	}
	if _, ok := b.tryAcquire(5); ok {
		t.Fatal("tryAcquire(5) with 4 free succeeded")
	}
	got := make(chan int64)
	queued := make(chan struct{})
	b.queued = func() { close(queued) }
	go func() {
		n, _ := b.acquire(context.Background(), 20) // clamped to the whole budget
		got <- n
	}()
	select {
	case <-queued:
	case n := <-got:
		t.Fatalf("acquire(20) with 4 free took %d at once", n)
	}
	b.mu.Lock()
	b.queued = nil
	b.mu.Unlock()
	if _, ok := b.tryAcquire(1); ok {
		t.Fatal("tryAcquire jumped the queue")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.acquire(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with a cancelled context: %v", err)
	}
	b.release(6)
	if n := <-got; n != 10 {
		t.Fatalf("the big request got %d, want the whole budget", n)
	}
	b.release(10)
	if b.used != 0 || b.maxUsed() != 10 {
		t.Fatalf("used %d, peak %d", b.used, b.maxUsed())
	}
}
