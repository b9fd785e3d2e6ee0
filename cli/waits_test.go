package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-storage/strata/server"
)

// A command refused by a rate limit waits as the server asks, says so on
// stderr, and goes on: a copy (a POST, which did nothing when refused) is
// made once, and the command succeeds.
func TestCommandWaitsOnRateLimit(t *testing.T) {
	b, eng := openStore(t, t.TempDir())
	t.Cleanup(func() { eng.Close() })
	api := server.NewServer(server.Deps{Files: b.Files, Identity: b.Identity}, server.Config{})
	var refused, copies atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/copy" {
			if refused.Add(1) == 1 {
				io.Copy(io.Discard, r.Body)
				// 0: the client's own shortest backoff, so the test
				// waits as little as it can.
				w.Header().Set("Retry-After", "0")
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"status":429,"code":"rate_limited","detail":"too many requests for your user: retry in 1 s"}`)
				return
			}
			copies.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"STRATA_SERVER": srv.URL, "STRATA_TOKEN": testToken}
	if r := run(t, env, "mkdir", "/home/admin/a"); r.code != 0 {
		t.Fatalf("mkdir: %v", r)
	}
	r := run(t, env, "cp", "-r", "/home/admin/a", "/home/admin/b")
	if r.code != 0 || copies.Load() != 1 || refused.Load() != 2 {
		t.Fatalf("cp: %v (%d copies after %d tries)", r, copies.Load(), refused.Load())
	}
	if !strings.Contains(r.stderr, "strata: rate limited (too many requests for your user: retry in 1 s); trying again in") {
		t.Fatalf("the wait was not shown: %q", r.stderr)
	}
	refused.Store(0)
	if r := run(t, env, "-q", "cp", "-r", "/home/admin/a", "/home/admin/c"); r.code != 0 || r.stderr != "" {
		t.Fatalf("-q: %v", r)
	}
}
