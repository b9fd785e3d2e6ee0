package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/api"
)

// A request refused by a rate limit — any request, a POST too, since it
// did nothing — is sent again after the Retry-After the server asked for
// (capped), each wait told to the caller; a bounded number of times. Only
// when its body can be sent again, and only for the rate limit's code.
func TestRateLimitedIsWaitedFor(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	refuse := 2
	code, retryAfter := api.CodeRateLimited, "3"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if len(bodies) <= refuse {
			w.Header().Set("Retry-After", retryAfter)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":429,"code":"`+code+`","detail":"too many requests for your user: retry in 3 s"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	var waits []Wait
	var slept []time.Duration
	c, err := New(srv.URL, "", WithWaitNotice(func(w Wait) { waits = append(waits, w) }))
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	reset := func() {
		bodies, waits, slept = nil, nil, nil
	}
	ctx := context.Background()

	if err := c.doJSON(ctx, http.MethodPost, "/v1/copy", nil, api.CopyRequest{From: "/a", To: "/b"}, nil); err != nil {
		t.Fatalf("a rate-limited POST: %v", err)
	}
	if len(bodies) != 3 || bodies[0] != bodies[2] || !strings.Contains(bodies[2], `"/b"`) {
		t.Fatalf("bodies sent: %q", bodies)
	}
	if len(slept) != 2 || slept[0] < 3*time.Second || slept[1] < 3*time.Second {
		t.Fatalf("waits %v, want 3s each as asked", slept)
	}
	if len(waits) != 2 || !waits[0].RateLimited || !waits[0].Answered || waits[0].Op != "POST /v1/copy" || waits[1].Attempt != 3 ||
		waits[0].For != slept[0] || !strings.Contains(waits[0].Reason, "too many requests") {
		t.Fatalf("notices %+v", waits)
	}

	// Bounded: refused every time, it gives up after its retries, with
	// the rate limit's error; a huge Retry-After is capped.
	reset()
	refuse, retryAfter = 100, "3600"
	err = c.doJSON(ctx, http.MethodPost, "/v1/copy", nil, api.CopyRequest{From: "/a", To: "/b"}, nil)
	if !errors.Is(err, ErrRateLimited) || len(bodies) != 1+c.retries {
		t.Fatalf("always refused: %v after %d attempts", err, len(bodies))
	}
	for _, d := range slept {
		if d > maxRetryAfter {
			t.Fatalf("waited %v, more than the cap", d)
		}
	}

	// A body that cannot be sent again is not.
	reset()
	refuse, retryAfter = 1, "1"
	_, err = c.do(ctx, request{method: http.MethodPost, path: "/v1/uploads", body: strings.NewReader("stream"), size: 6})
	if !errors.Is(err, ErrRateLimited) || len(bodies) != 1 {
		t.Fatalf("an unrewindable POST: %v after %d attempts", err, len(bodies))
	}
	// Another 429 (a bound the client holds, no promise of a time) is
	// not retried for a POST.
	reset()
	code = api.CodeTooMany
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/uploads"}); err == nil || len(bodies) != 1 {
		t.Fatalf("too_many POST: %v after %d attempts", err, len(bodies))
	}
}

// A server that cannot be reached is waited for too, and the notice says
// it did not answer (the CLI then does not say it asked to wait).
func TestWaitNoticeUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	gone := srv.URL
	srv.Close()
	var waits []Wait
	c, err := New(gone, "", WithRetries(1), WithWaitNotice(func(w Wait) { waits = append(waits, w) }))
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	err = c.doJSON(context.Background(), http.MethodGet, "/v1/whoami", nil, nil, nil)
	if err == nil || len(waits) != 1 || waits[0].Answered || waits[0].RateLimited || waits[0].Reason == "" {
		t.Fatalf("err %v, notices %+v", err, waits)
	}
}
