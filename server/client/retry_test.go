package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"30", 30 * time.Second},
		{"3600", maxRetryAfter},
		{"99999999999999999999", 0}, // unreadable
		{"soon", 0},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter},
	} {
		if got := retryAfter(c.header, now); got != c.want {
			t.Errorf("retryAfter(%q) = %v, want %v", c.header, got, c.want)
		}
	}
}

// TestRetryHonoursRetryAfter: a retryable request answered 503 with
// Retry-After waits that long (not just its own backoff) before it tries
// again, with its body sent whole again; a request that may not be retried
// is not.
func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int64
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b) // one request at a time: the client waits
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":503,"code":"unavailable","detail":"storage is busy or unreachable; retry"}`)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("part"), 10_000)
	start := time.Now()
	resp, err := c.do(context.Background(), request{
		method: http.MethodPut, path: "/v1/x", body: bytes.NewReader(data), size: int64(len(data)), retry: true,
		rewind: func() (io.Reader, error) { return bytes.NewReader(data), nil },
	})
	if err != nil {
		t.Fatalf("retried PUT: %v", err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 950*time.Millisecond {
		t.Errorf("retried after %v, before the second Retry-After asked for", d)
	}
	if calls.Load() != 2 || len(bodies) != 2 || !bytes.Equal(bodies[0], data) || !bytes.Equal(bodies[1], data) {
		t.Errorf("%d calls; bodies of %d and %d bytes, want the whole body twice", calls.Load(), len(bodies[0]), len(bodies[len(bodies)-1]))
	}

	calls.Store(0)
	_, err = c.do(context.Background(), request{method: http.MethodPost, path: "/v1/x"})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || !errors.Is(err, ErrUnavailable) || calls.Load() != 1 {
		t.Errorf("POST answered 503: err = %v after %d calls, want the 503 after 1", err, calls.Load())
	}
}
