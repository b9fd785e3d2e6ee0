package daemon_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/internal/ratelimit/ratelimittest"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// The daemon's limiter is the one its HTTP API counts with, and it reads
// users' own limits from identity: a request counted by another entry
// point (SSH, through Daemon.Limiter) spends the same budget.
func TestOneLimiterForEveryEntryPoint(t *testing.T) {
	ctx := context.Background()
	clk := ratelimittest.NewClock()
	d, err := daemon.Open(ctx, daemon.Config{Engines: engine.Spec{DataDir: t.TempDir()},
		Limits: ratelimit.Config{User: ratelimit.Limits{Requests: 1000}, Clock: clk}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tok, _, err := d.Identity.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d.Handler())
	t.Cleanup(ts.Close)
	c, _ := client.New(ts.URL, tok, client.WithRetries(0))
	two := 2.0
	if _, err := c.SetUserLimits(ctx, "admin", api.LimitsRequest{Requests: &two}); err != nil {
		t.Fatal(err)
	}
	pr, err := d.Identity.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Limiter().Limits(ctx, pr.UserID); got.Requests != 2 {
		t.Fatalf("the limiter has %+v for the admin, want their own 2/s", got)
	}
	// Another entry point spends the burst of 4...
	for range 4 {
		if v := d.Limiter().Request(ctx, ratelimit.Subject{UserID: pr.UserID}, 1); !v.Allowed() {
			t.Fatalf("refused within the burst: %+v", v)
		}
	}
	// ...and the HTTP API has none left.
	if _, err := c.Whoami(ctx); !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("the API after another entry point spent the budget: %v", err)
	}
}
