package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// pagedServer serves a store whose /home/admin/many holds files f1..fN,
// listed two per page whatever the client asks for; each listing request
// is announced on the returned channel (its number, from 1) before it is
// answered, and fail, when not 0, is the request that answers 500.
func pagedServer(t *testing.T, files, fail int) (url string, asked <-chan int) {
	t.Helper()
	c, eng := openStore(t, t.TempDir())
	ctx := context.Background()
	admin, err := c.Identity.Authenticate(ctx, testToken)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= files; i++ {
		p := storepath.MustParse(fmt.Sprintf("/home/admin/many/f%d", i))
		if _, err := c.Files.Put(ctx, admin, p, strings.NewReader("x"), backend.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	h := server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity}, server.Config{})
	ch := make(chan int, 100)
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/dirs/") {
			mu.Lock()
			n++
			i := n
			mu.Unlock()
			ch <- i
			if i == fail {
				http.Error(w, `{"error":{"code":"internal","message":"disk on fire"}}`, http.StatusInternalServerError)
				return
			}
			q := r.URL.Query()
			q.Set("limit", "2")
			r.URL.RawQuery = q.Encode()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); eng.Close() })
	return srv.URL, ch
}

// waitingWriter holds its first write until the next page has been asked
// for: ls that fetched only after printing would wait forever.
type waitingWriter struct {
	bytes.Buffer
	asked  <-chan int
	writes int
	late   bool
}

func (w *waitingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes == 1 {
		timeout := time.After(10 * time.Second)
		for waiting := true; waiting; {
			select {
			case i := <-w.asked:
				waiting = i < 2
			case <-timeout:
				w.late, waiting = true, false
			}
		}
	}
	return w.Buffer.Write(p)
}

// TestLsReadsAhead: ls asks for the next page while it prints one, prints
// every entry once in the server's order, and writes once per page rather
// than once per line.
func TestLsReadsAhead(t *testing.T) {
	url, asked := pagedServer(t, 7, 0)
	out := &waitingWriter{asked: asked}
	var stderr bytes.Buffer
	env := map[string]string{"STRATA_SERVER": url, "STRATA_TOKEN": testToken, "HOME": t.TempDir()}
	code := Run(context.Background(), []string{"ls", "many"}, Env{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if out.late {
		t.Error("the second page was not asked for while the first was printed")
	}
	if got := strings.Fields(out.String()); strings.Join(got, " ") != "f1 f2 f3 f4 f5 f6 f7" {
		t.Errorf("listed %q", got)
	}
	if out.writes != 4 {
		t.Errorf("%d writes for 4 pages", out.writes)
	}
}

// TestLsPageFailsMidway: the pages before a failed one are printed, the
// failure is reported, and ls exits non-zero.
func TestLsPageFailsMidway(t *testing.T) {
	url, _ := pagedServer(t, 7, 3)
	r := run(t, map[string]string{"STRATA_SERVER": url, "STRATA_TOKEN": testToken}, "ls", "many")
	if r.code == 0 || !strings.Contains(r.stderr, "disk on fire") {
		t.Fatalf("want a failure: %v", r)
	}
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "f1 f2 f3 f4" {
		t.Errorf("printed %q before the failure", got)
	}
}

// countingWriter counts its writes.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestLsWritesFullPagesOnce: a page of 1,000 names (16 KiB of text) is
// one write, not one per 4 KiB.
func TestLsWritesFullPagesOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pg := api.Page{Cursor: "bmV4dA"}
		from := 0
		if r.URL.Query().Get("cursor") != "" {
			pg.Cursor, from = "", 1000
		}
		for i := from; i < from+1000; i++ {
			pg.Entries = append(pg.Entries, api.Entry{Path: fmt.Sprintf("/home/admin/many/file-%05d", i), Name: fmt.Sprintf("file-%05d", i), Kind: api.KindFile})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(pg)
	}))
	defer srv.Close()
	out := &countingWriter{}
	var stderr bytes.Buffer
	env := map[string]string{"STRATA_SERVER": srv.URL, "STRATA_TOKEN": testToken, "HOME": t.TempDir()}
	code := Run(context.Background(), []string{"ls", "/home/admin/many"}, Env{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 2000 {
		t.Fatalf("listed %d lines, want 2000", n)
	}
	if out.writes != 2 {
		t.Errorf("%d writes for 2 pages of 1,000 names", out.writes)
	}
}
