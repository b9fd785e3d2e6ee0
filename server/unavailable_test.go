package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/blob"
	s3blob "github.com/strata-storage/strata/backend/blob/s3"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// busyBlobs fails writes the way a driver does when its engine throttles
// beyond the SDK's retries: the engine's error, wrapping
// blob.ErrUnavailable. busy counts the writes still to fail (negative:
// all).
type busyBlobs struct {
	blob.Store
	busy atomic.Int64
}

func (b *busyBlobs) fail() bool {
	for {
		n := b.busy.Load()
		if n == 0 {
			return false
		}
		if n < 0 || b.busy.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

var errSlowDown = fmt.Errorf("s3: put part: S3 is throttling requests (still after 5 attempts): %w: api error SlowDown: Please reduce your request rate. (bucket strata-prod, request 4442587FB7D0A2F9)", blob.ErrUnavailable)

func (b *busyBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if b.fail() {
		_, _ = io.CopyN(io.Discard, r, 4096)
		return errSlowDown
	}
	return b.Store.Put(ctx, key, r, size)
}

func (b *busyBlobs) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (blob.Part, error) {
	if b.fail() {
		_, _ = io.CopyN(io.Discard, r, 4096)
		return blob.Part{}, errSlowDown
	}
	return b.Store.PutPart(ctx, key, uploadID, n, r, size)
}

func newBusyFixture(t *testing.T) (*fixture, *busyBlobs) {
	t.Helper()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	bb := &busyBlobs{Store: eng.Blobs}
	c, err := daemon.NewCore(backend.Config{Blobs: bb, Meta: eng.Meta, Keys: eng.Keys})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	tok, _, err := c.Identity.Bootstrap(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity}, server.Config{}))
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, b: c.Files, admin: tok}, bb
}

// wantUnavailable asserts a 503 "unavailable" answer that tells the client
// to retry in 2 seconds and says nothing of the engine's internals.
func wantUnavailable(t *testing.T, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	p := problem(t, resp, http.StatusServiceUnavailable, api.CodeUnavailable)
	if p.Detail != "storage is busy or unreachable; retry" {
		t.Errorf("detail %q", p.Detail)
	}
	// The instance (the request's path) and the request ID are the
	// client's own and random: an upload ID may well hold "s3".
	p.Instance, p.RequestID = "", ""
	b, _ := json.Marshal(p)
	for _, leak := range []string{"SlowDown", "strata-prod", "s3", "4442587FB7D0A2F9"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the problem %s shows %q", b, leak)
		}
	}
}

// TestEngineUnavailableIs503: a blob store that throttles beyond its
// retries makes the API answer 503 unavailable with Retry-After, for a
// streamed PUT and for a part of a session, and the client's retry goes
// through once the store recovers.
func TestEngineUnavailableIs503(t *testing.T) {
	f, bb := newBusyFixture(t)
	bb.busy.Store(-1)
	wantUnavailable(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader("content")))

	size := 6 << 20
	content := bytes.Repeat([]byte{9}, size)
	var u api.Upload
	bb.busy.Store(0)
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(fmt.Sprintf(`{"path":"/home/admin/big","size":%d,"partSize":%d}`, size, 5<<20))), http.StatusCreated), &u)
	bb.busy.Store(-1)
	wantUnavailable(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20])))
	bb.busy.Store(0)
	ok(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20])), http.StatusOK)

	// The client honours Retry-After: its retry of the part comes after
	// about 2 seconds (its own backoff is 100 to 200 ms), and succeeds.
	c, err := client.New(f.srv.URL, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	bb.busy.Store(1)
	start := time.Now()
	if _, err := c.PutPart(t.Context(), u.ID, 2, bytes.NewReader(content[5<<20:]), int64(size-5<<20), nil); err != nil {
		t.Fatalf("PutPart with one 503 on the way: %v", err)
	}
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Errorf("the client retried after %v, before the 2 s of Retry-After", d)
	}
	if _, err := c.CompleteUpload(t.Context(), u.ID, api.CompleteUploadRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestReadyzBucketGone: /readyz fails when the S3 bucket was deleted (a
// HEAD of the probe key would answer a bare 404, which reads as "no such
// object").
func TestReadyzBucketGone(t *testing.T) {
	ctx := context.Background()
	s3c := s3.NewFromConfig(awstest.Config(t), func(o *s3.Options) {
		o.UsePathStyle = true
		s3blob.ClientOptions(o)
	})
	bucket := awstest.Name("strata-ready")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	bs, err := s3blob.New(s3c, bucket, "blobs")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	c, err := daemon.NewCore(backend.Config{Blobs: bs, Meta: eng.Meta, Keys: eng.Keys})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	srv := httptest.NewServer(server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity}, server.Config{}))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, b: c.Files}

	ok(t, f.do("GET", "/readyz", "", nil), http.StatusOK)
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	problem(t, f.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable, api.CodeUnavailable)
	if err := c.Files.Ready(ctx); err == nil || !strings.Contains(err.Error(), bucket) {
		t.Errorf("Ready with the bucket gone: %v, want an error naming the bucket", err)
	}
}
