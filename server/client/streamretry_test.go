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

// countingWriterTo is a stream that writes itself, counting what it gave.
type countingWriterTo struct {
	r     io.Reader
	taken int
}

func (c *countingWriterTo) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.taken += n
	return n, err
}

func (c *countingWriterTo) WriteTo(w io.Writer) (int64, error) {
	b, err := io.ReadAll(c.r)
	c.taken += len(b)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// TestLateWriteToTakesNothing: net/http may start writing an attempt's
// body after the attempt is over (its answer came first). That late write
// must take nothing from the stream, or the next attempt would send it
// without its start; and a stream an attempt did start is never sent again.
func TestLateWriteToTakesNothing(t *testing.T) {
	src := &countingWriterTo{r: strings.NewReader("the whole stream")}
	ub := &untouchedBody{r: src}
	sent := &attemptBody{r: ub}
	late := attemptStream{attemptBody: sent, ub: ub}
	sent.detach()
	var out strings.Builder
	if _, err := late.WriteTo(&out); !errors.Is(err, errDetached) {
		t.Fatalf("a late WriteTo: %v, want errDetached", err)
	}
	if src.taken != 0 || out.Len() != 0 {
		t.Fatalf("a late WriteTo took %d bytes of the stream and wrote %q", src.taken, out.String())
	}
	again, err := ub.again()
	if err != nil {
		t.Fatalf("the untouched stream cannot be sent again: %v", err)
	}
	next := &attemptBody{r: again}
	if _, err := (attemptStream{attemptBody: next, ub: ub}).WriteTo(&out); err != nil || out.String() != "the whole stream" {
		t.Fatalf("the next attempt sent %q (%v)", out.String(), err)
	}
	if _, err := ub.again(); !errors.Is(err, errBodyRead) {
		t.Fatalf("a stream an attempt started may be sent again: %v", err)
	}
}
