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

// A streamed upload (a body that cannot be rewound) refused by a rate
// limit before the server read any of it is sent again, whole: it asks
// before sending (Expect: 100-continue). One the server had started to
// read is not (it could not be sent whole): the refusal is the answer.
func TestStreamedPutRetriedWhenUntouched(t *testing.T) {
	var mu sync.Mutex
	var got []string
	readFirst := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(got)
		got = append(got, "")
		rf := readFirst
		mu.Unlock()
		if n == 0 {
			if rf {
				b := make([]byte, 3)
				_, _ = io.ReadFull(r.Body, b)
			}
			w.Header().Set("Retry-After", "2")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"status":429,"code":"`+api.CodeRateLimited+`","detail":"too many requests for your user: retry in 2 s"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[n] = string(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"path":"/f","kind":"file"}`)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	ctx := context.Background()
	stream := func() io.Reader { return io.MultiReader(strings.NewReader("streamed "), strings.NewReader("content")) }

	if _, err := c.Put(ctx, "/f", stream(), -1, PutOptions{}); err != nil {
		t.Fatalf("a stream refused before it was read: %v", err)
	}
	if len(got) != 2 || got[1] != "streamed content" || len(slept) != 1 || slept[0] < 2*time.Second {
		t.Fatalf("attempts %q, waits %v", got, slept)
	}

	got, slept, readFirst = nil, nil, true
	_, err = c.Put(ctx, "/f", stream(), -1, PutOptions{})
	if !errors.Is(err, ErrRateLimited) || len(got) != 1 || len(slept) != 0 {
		t.Fatalf("a stream read before the refusal: %v after %d attempts, waits %v", err, len(got), slept)
	}
}
