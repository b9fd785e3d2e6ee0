package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/internal/ratelimit/ratelimittest"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// Over a user's budget the answer is 429 rate_limited with Retry-After,
// before the request does anything; expensive requests cost more; the
// budget refills with time; health checks are never counted.
func TestRateLimitedRequests(t *testing.T) {
	clk := ratelimittest.NewClock()
	lim := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 2}, Clock: clk})
	f := newFixture(t, server.Config{Limits: lim})
	for i := range 4 {
		ok(t, f.do("GET", "/v1/stat/home/admin", f.admin, nil), http.StatusOK)
		_ = i
	}
	resp := f.do("PUT", "/v1/files/home/admin/refused.txt", f.admin, strings.NewReader("x"))
	p := problem(t, resp, http.StatusTooManyRequests, api.CodeRateLimited)
	if ra := resp.Header.Get("Retry-After"); ra != "1" || !strings.Contains(p.Detail, "too many requests for your user") {
		t.Fatalf("Retry-After %q, detail %q", ra, p.Detail)
	}
	// Refused before it did anything.
	clk.Advance(time.Hour)
	problem(t, f.do("GET", "/v1/stat/home/admin/refused.txt", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
	for range 100 {
		ok(t, f.do("GET", "/healthz", "", nil), http.StatusOK)
	}
	// A recursive delete costs 10: more than the burst, so it takes the
	// whole of it (and passes, as a full bucket lets it).
	clk.Advance(time.Hour)
	ok(t, f.do("PUT", "/v1/dirs/home/admin/big", f.admin, nil), http.StatusCreated)
	clk.Advance(time.Hour)
	ok(t, f.do("DELETE", "/v1/dirs/home/admin/big?recursive=true", f.admin, nil), http.StatusOK)
	resp = f.do("GET", "/v1/whoami", f.admin, nil)
	problem(t, resp, http.StatusTooManyRequests, api.CodeRateLimited)
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q after a recursive delete", ra)
	}
	clk.Advance(500 * time.Millisecond)
	ok(t, f.do("GET", "/v1/whoami", f.admin, nil), http.StatusOK)
}

// Wrong tokens count as failed authentications of the address: beyond its
// budget it waits, and has no token checked meanwhile.
func TestWrongTokensSlowDown(t *testing.T) {
	clk := ratelimittest.NewClock()
	lim := ratelimit.New(ratelimit.Config{AuthFailures: 3, Clock: clk})
	f := newFixture(t, server.Config{Limits: lim})
	bad := "strata_" + strings.Repeat("x", 43)
	for range 3 {
		problem(t, f.do("GET", "/v1/whoami", bad, nil), http.StatusUnauthorized, api.CodeUnauthorized)
	}
	// No token at all is no guess.
	problem(t, f.do("GET", "/v1/whoami", "", nil), http.StatusUnauthorized, api.CodeUnauthorized)
	ok(t, f.do("GET", "/v1/whoami", f.admin, nil), http.StatusOK)
	problem(t, f.do("GET", "/v1/whoami", bad, nil), http.StatusUnauthorized, api.CodeUnauthorized)
	resp := f.do("GET", "/v1/whoami", f.admin, nil)
	problem(t, resp, http.StatusTooManyRequests, api.CodeTooMany)
	if ra := resp.Header.Get("Retry-After"); ra != "20" {
		t.Fatalf("Retry-After %q, want 20 (3 a minute)", ra)
	}
	clk.Advance(20 * time.Second)
	ok(t, f.do("GET", "/v1/whoami", f.admin, nil), http.StatusOK)
}

// Behind trusted proxies each client has its own address budget, named by
// X-Forwarded-For; from anyone else the header counts for nothing.
func TestTrustedProxies(t *testing.T) {
	clk := ratelimittest.NewClock()
	lim := ratelimit.New(ratelimit.Config{IPRequests: 1, Clock: clk})
	for _, c := range []struct {
		name    string
		proxies []netip.Prefix
		apart   bool // the two clients have budgets of their own
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, true},
		{"untrusted", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk.Advance(time.Hour)
			f := newFixture(t, server.Config{Limits: lim, TrustedProxies: c.proxies})
			for range 2 {
				ok(t, f.do("GET", "/v1/whoami", f.admin, nil, "X-Forwarded-For", "6.6.6.6, 198.51.100.1"), http.StatusOK)
			}
			resp := f.do("GET", "/v1/whoami", f.admin, nil, "X-Forwarded-For", "198.51.100.2")
			if got := resp.StatusCode == http.StatusOK; got != c.apart {
				t.Fatalf("the second client: %d", resp.StatusCode)
			}
			if !c.apart {
				problem(t, resp, http.StatusTooManyRequests, api.CodeRateLimited)
			}
		})
	}
}

// A user's bandwidth paces uploads and downloads, streaming: a body of
// four seconds' worth takes three seconds of waits beyond the burst.
func TestBandwidthLimit(t *testing.T) {
	clk := ratelimittest.NewClock()
	const bw = 256 << 10
	lim := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Bandwidth: bw}, Clock: clk})
	f := newFixture(t, server.Config{Limits: lim})
	data := bytes.Repeat([]byte("0123456789abcdef"), 4*bw/16)
	ok(t, f.do("PUT", "/v1/files/home/admin/paced.bin", f.admin, bytes.NewReader(data)), http.StatusCreated)
	if s := clk.Slept(); s < 3*time.Second || s > 3*time.Second+50*time.Millisecond {
		t.Fatalf("the upload waited %v, want 3s", s)
	}
	clk.ResetSlept()
	clk.Advance(time.Minute)
	got := ok(t, f.do("GET", "/v1/files/home/admin/paced.bin", f.admin, nil), http.StatusOK)
	if !bytes.Equal(got, data) {
		t.Fatal("the download differs")
	}
	if s := clk.Slept(); s < 3*time.Second || s > 3*time.Second+100*time.Millisecond {
		t.Fatalf("the download waited %v, want 3s", s)
	}
}

// An admin's limits for one user apply to that user at once, and only to
// them; the user reads their own; clearing brings the defaults back.
func TestUserOwnLimits(t *testing.T) {
	clk := ratelimittest.NewClock()
	var ids *identity.Service
	lim := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 100}, Clock: clk,
		Overrides: func(ctx context.Context, id string) (ratelimit.Override, error) {
			return daemon.UserOverrides(ids)(ctx, id)
		}})
	f := newFixture(t, server.Config{Limits: lim})
	ids = f.ids
	ctx := context.Background()
	admin, _ := client.New(f.srv.URL, f.admin, client.WithRetries(0))
	tok := userToken(t, f, "alice")
	alice, _ := client.New(f.srv.URL, tok, client.WithRetries(0))
	one := 1.0
	got, err := admin.SetUserLimits(ctx, "alice", api.LimitsRequest{Requests: &one})
	if err != nil {
		t.Fatal(err)
	}
	if got.Effective.Requests != 1 || got.Defaults.Requests != 100 || *got.Own.Requests != 1 || got.Own.Bandwidth != nil {
		t.Fatalf("set: %+v", got)
	}
	for range 2 {
		if _, err := alice.Whoami(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ce *client.Error
	if _, err := alice.Whoami(ctx); !errors.As(err, &ce) || ce.Code != api.CodeRateLimited {
		t.Fatalf("alice's third request a second: %v", err)
	}
	for range 50 {
		if _, err := admin.Whoami(ctx); err != nil {
			t.Fatalf("the admin is limited by alice's limit: %v", err)
		}
	}
	clk.Advance(time.Second)
	mine, err := alice.UserLimits(ctx, "alice")
	if err != nil || mine.Effective.Requests != 1 {
		t.Fatalf("alice reads her own: %+v, %v", mine, err)
	}
	clk.Advance(time.Second)
	if _, err := alice.UserLimits(ctx, "admin"); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("alice reads the admin's: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := alice.SetUserLimits(ctx, "alice", api.LimitsRequest{}); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("alice sets her own: %v", err)
	}
	for _, bad := range []api.LimitsRequest{{Requests: ptr(-1.0)}, {Bandwidth: ptr(int64(1000))}, {Requests: ptr(2e6)}} {
		if _, err := admin.SetUserLimits(ctx, "alice", bad); !errors.Is(err, client.ErrInvalid) {
			t.Fatalf("limits %+v: %v", bad, err)
		}
	}
	if _, err := admin.SetUserLimits(ctx, "nobody", api.LimitsRequest{Requests: &one}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a missing user: %v", err)
	}
	if err := admin.ClearUserLimits(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	// The bucket fills at the default rate from the next request on.
	clk.Advance(time.Second)
	if _, err := alice.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	for range 50 {
		if _, err := alice.Whoami(ctx); err != nil {
			t.Fatalf("after clearing: %v", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// userToken creates the user name and returns a token of theirs.
func userToken(t *testing.T, f *fixture, name string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := f.ids.Authenticate(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ids.CreateUser(ctx, admin, name, false); err != nil {
		t.Fatal(err)
	}
	tok, err := f.ids.CreateToken(ctx, admin, name, "test", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}
