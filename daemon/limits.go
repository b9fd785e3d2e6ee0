package daemon

import (
	"context"

	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/internal/ratelimit"
)

// UserOverrides reads users' own limits from identity, for a limiter.
func UserOverrides(ids *identity.Service) func(ctx context.Context, userID string) (ratelimit.Override, error) {
	return func(ctx context.Context, userID string) (ratelimit.Override, error) {
		l, err := ids.UserLimits(ctx, userID)
		return ratelimit.Override{Requests: l.Requests, Bandwidth: l.Bandwidth}, err
	}
}

// Limiter is the rate limiter of the running store, which every entry
// point (the HTTP API, SSH and SFTP) asks, so that a user's budgets are
// one whichever way they come in.
func (d *Daemon) Limiter() *ratelimit.Limiter { return d.limits }
